//! The first-layer Zero rule (`checker::zero_first`, leaf `ZF`) against the
//! exact evaluator, on random depth-2 networks with `k = 2, 3, 4`: networks
//! whose weights are multiples of 1/4 in [-2, 2] (ties, exact zeros and
//! boxes where `<A G(w), y>` vanishes are common) and networks of the
//! paper's random model, with `A = I` and with a random `A`. Whenever the
//! rule accepts a direction box, `D_w f(0) < 0` must hold, exactly, at its
//! corners, its centre, random points and the points between them where a
//! neuron of either layer is exactly zero.
//!
//! The test also requires that the rule accepts a fair share of the boxes
//! (for each `k`, and with `A != I`), so that it is exercised, and that it
//! rejects every box holding a sampled direction where (P2) fails.

mod common;

use common::rationals::{measurement, quarter_network, rationals, segment_zeros, show, Rng};
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::checker::geometry::Cell;
use hvcert::checker::patterns::Engine;
use hvcert::checker::zero_first::zero_first;
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::Face;
use num_rational::BigRational as Q;
use num_traits::{Signed, Zero};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Acceptances and checked points, per `k` (index `k - 2`), and with `A !=
/// I`; boxes holding a failure of (P2).
#[derive(Default, Debug)]
struct Tally {
    tried: [usize; 3],
    accepted: [usize; 3],
    accepted_a: usize,
    points: usize,
    failing_boxes: usize,
}

#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    k: usize,
    sampled: bool,
    measured: bool,
    face: usize,
    depth: usize,
}

fn cases() -> impl Strategy<Value = Case> {
    // Mostly quarter networks with a random `A`: there the rule's bound of
    // the neurons with `(A^T y)_j < 0` is tight most often.
    (
        any::<u64>(),
        2usize..=4,
        0u8..4,
        0u8..4,
        0usize..8,
        0usize..9,
    )
        .prop_map(|(seed, k, sampled, measured, face, depth)| Case {
            seed,
            k,
            sampled: sampled == 0,
            measured: measured != 0,
            face: face % (2 * k),
            depth,
        })
}

fn run_case(c: &Case, t: &mut Tally) -> Result<(), TestCaseError> {
    let mut rng = Rng(c.seed);
    let widths = vec![3 + rng.below(8), 4 + rng.below(16)];
    let m = if c.measured { 2 + rng.below(10) } else { 0 };
    let net = if c.sampled {
        sample_network(&SampleSpec {
            latent: c.k,
            widths,
            measurement: measurement(m),
            seed: c.seed,
            target: None,
        })
    } else {
        quarter_network(&mut rng, c.k, widths, m)
    };
    let exact = ExactNet::new(&net).expect("a valid network");
    let engine = Engine::new(&exact);
    let face = Face {
        axis: c.face / 2,
        positive: c.face % 2 == 0,
    };
    let path: String = (0..c.depth)
        .map(|_| if rng.bit() { '1' } else { '0' })
        .collect();
    let cell = Cell::part(face, c.k, &path).expect("a part of the face");
    // Directions of the box: corners, centre, random points, and the
    // points between them where a neuron is exactly zero.
    let lo = rationals(&cell.lo);
    let hi = rationals(&cell.hi);
    let mut dirs: Vec<Vec<Q>> = cell.corners().iter().map(|p| rationals(p)).collect();
    dirs.push(
        lo.iter()
            .zip(&hi)
            .map(|(l, h)| (l + h) / Q::from_integer(2.into()))
            .collect(),
    );
    for _ in 0..6 {
        dirs.push(
            lo.iter()
                .zip(&hi)
                .map(|(l, h)| l + (h - l) * rng.unit())
                .collect(),
        );
    }
    let mut zeros = Vec::new();
    for _ in 0..6 {
        let (i, j) = (rng.below(dirs.len()), rng.below(dirs.len()));
        if i != j {
            segment_zeros(&exact, &dirs[i], &dirs[j], &mut zeros);
        }
    }
    dirs.extend(zeros);
    let origin = vec![Q::zero(); c.k];
    let failure = dirs.iter().find(|w| {
        !exact
            .directional_derivative(&origin, w)
            .expect("a direction")
            .is_negative()
    });
    t.tried[c.k - 2] += 1;
    t.failing_boxes += usize::from(failure.is_some());
    if zero_first(&engine, &cell).is_err() {
        return Ok(());
    }
    t.accepted[c.k - 2] += 1;
    t.accepted_a += usize::from(c.measured);
    t.points += dirs.len();
    match failure {
        Some(w) => Err(TestCaseError::fail(format!(
            "ZF accepted {} ({c:?}) but D_w f(0) >= 0 at w = {}",
            cell.describe(),
            show(w)
        ))),
        None => Ok(()),
    }
}

#[test]
fn zero_first_is_sound() {
    let tally = std::cell::RefCell::new(Tally::default());
    let mut runner = TestRunner::new(Config {
        cases: 8000,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&cases(), |c| run_case(&c, &mut tally.borrow_mut()));
    let tally = tally.into_inner();
    eprintln!("zero_first: {tally:?}");
    if let Err(e) = result {
        panic!("{e}");
    }
    for (i, (&a, &n)) in tally.accepted.iter().zip(&tally.tried).enumerate() {
        assert!(
            a * 5 >= n,
            "k = {}: the rule accepted {a} of {n} boxes (want a fifth): not exercised",
            i + 2
        );
    }
    assert!(
        tally.accepted_a >= 100,
        "too few boxes accepted with A != I: {tally:?}"
    );
    assert!(
        tally.failing_boxes >= 20,
        "too few boxes hold a (P2) failure: {tally:?}"
    );
}
