//! The exact k = 2 landscape oracle (`tests/common/oracle_k2.rs`): hand-built
//! networks whose landscape was worked out by hand, agreement with the exact
//! evaluator, and sampled networks (region counts, failure radii, timings).

mod common;

use std::time::Instant;

use common::oracle_k2::{classify, direction, failure_radii, position, Landscape};
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::exact::eval::{ExactNet, Pattern};
use hvcert::format::network::{Measurement, Network};
use num_bigint::BigInt;
use num_rational::BigRational as Q;
use num_traits::{Signed, Zero};

fn r(n: i64, d: i64) -> Q {
    Q::new(BigInt::from(n), BigInt::from(d))
}
fn pt(v: [(i64, i64); 2]) -> Vec<Q> {
    v.iter().map(|&(n, d)| r(n, d)).collect()
}
fn pat(layers: &[&str]) -> Pattern {
    Pattern {
        bits: layers
            .iter()
            .map(|l| l.chars().map(|c| c == '1').collect())
            .collect(),
    }
}
fn net(widths: &[usize], w: &[&[f64]], target: [f64; 2]) -> ExactNet {
    ExactNet::new(&Network {
        latent: 2,
        widths: widths.to_vec(),
        measurement: Measurement::Identity,
        weights: w.iter().map(|m| m.to_vec()).collect(),
        a: None,
        target: target.to_vec(),
        sampling: None,
    })
    .unwrap()
}
fn sampled(widths: &[usize], measurement: Measurement, seed: u64) -> ExactNet {
    ExactNet::new(&sample_network(&SampleSpec {
        latent: 2,
        widths: widths.to_vec(),
        measurement,
        seed,
        target: None,
    }))
    .unwrap()
}
/// rho_d (SPEC §1) for the depths used here.
fn rho(d: usize) -> f64 {
    [0.0, 0.0, std::f64::consts::FRAC_1_PI, 0.49373109020037154][d]
}

/// `G(x) = relu(x0, x1, -x0, -x1)`, `A = I`.
const SIGNS: [f64; 8] = [1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, -1.0];

/// Quadrants: regions are the open quadrants, with `Q_P = I` and
/// `b_P = Lambda_P^T y`. For `x* = (1, 1/2)`, `y = (1, 1/2, 0, 0)`; the
/// centres are `x*` (inside), `(0, 1/2)`, `0` and `(1, 0)` (on rays). On the
/// ray `t (1, 0)` the strict pattern keeps only neuron 1, whose gradient is
/// `(t - 1, 0)`, and the two zero neurons stay off along it: `D = -(t - 1)^2`,
/// zero at `(1, 0)`. Likewise `D = -(t - 1/2)^2` on `t (0, 1)`, and `-t^2` on
/// the negative axes. `<G(w), y> = 0` on the closed third quadrant.
#[test]
fn quadrant_network_by_hand() {
    let n = net(&[4], &[&SIGNS], [1.0, 0.5]);
    let land = classify(&n);
    let axes = [
        pt([(1, 1), (0, 1)]),
        pt([(0, 1), (1, 1)]),
        pt([(-1, 1), (0, 1)]),
        pt([(0, 1), (-1, 1)]),
    ];
    assert_eq!(land.breakpoints, axes);
    let patterns: Vec<Pattern> = land.regions.iter().map(|g| g.pattern.clone()).collect();
    assert_eq!(
        patterns,
        ["1100", "0110", "0011", "1001"].map(|p| pat(&[p]))
    );
    let centers: Vec<_> = land
        .regions
        .iter()
        .map(|g| g.center.clone().unwrap())
        .collect();
    let expected = [
        [(1, 1), (1, 2)],
        [(0, 1), (1, 2)],
        [(0, 1), (0, 1)],
        [(1, 1), (0, 1)],
    ];
    assert_eq!(centers, expected.map(pt));
    let inside: Vec<bool> = land.regions.iter().map(|g| g.center_inside).collect();
    assert_eq!(inside, [true, false, false, false]);
    assert_eq!(
        land.failures,
        [[(0, 1), (1, 2)], [(1, 1), (0, 1)], [(1, 1), (1, 2)]].map(pt)
    );
    let zero = [[(-1, 1), (0, 1)], [(-1, 1), (-1, 1)], [(0, 1), (-1, 1)]].map(pt);
    assert_eq!(land.zero_failures, zero);
    check_against_evaluator(&n, &land, 1, 64);
}

/// Two layers on top of the quadrant layer: `W_2 = [1 -2 0 0; 1 1 1 1]`.
/// Neuron 1 of layer 2 is `x0 - 2 x1` in the first quadrant (zero along
/// `(1, 1/2)`), `x0 > 0` in the fourth, `-2 x1 < 0` in the second, and
/// identically zero on the third quadrant, so the corner `(-1, -1)` is no
/// boundary. Neuron 2 is `|x0| + |x1| > 0`.
#[test]
fn two_layer_network_by_hand() {
    let n = net(
        &[4, 2],
        &[&SIGNS, &[1.0, -2.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]],
        [1.0, 0.25],
    );
    let land = classify(&n);
    let dirs = [
        [(1, 1), (0, 1)],
        [(1, 1), (1, 2)],
        [(0, 1), (1, 1)],
        [(-1, 1), (0, 1)],
        [(0, 1), (-1, 1)],
    ];
    assert_eq!(land.breakpoints, dirs.map(pt));
    let patterns: Vec<Pattern> = land.regions.iter().map(|g| g.pattern.clone()).collect();
    let expected = [
        ["1100", "11"],
        ["1100", "01"],
        ["0110", "01"],
        ["0011", "01"],
        ["1001", "11"],
    ];
    assert_eq!(patterns, expected.map(|p| pat(&p)));
    // G = (x0 - 2 x1, x0 + x1) on the first region: its centre is x*.
    assert_eq!(land.regions[0].center, Some(pt([(1, 1), (1, 4)])));
    assert!(land.regions[0].center_inside);
    assert!(land.failures.contains(&pt([(1, 1), (1, 4)])));
    check_against_evaluator(&n, &land, 1, 64);
}

/// The oracle against the evaluator: failures have `D >= 0` and zero
/// failures `D_w f(0) >= 0`; points strictly inside a region (every
/// `stride`-th) have its pattern and, away from its centre, `D < 0`; centres
/// reported inside are true stationary points. On every boundary ray, grid
/// points with `D >= 0` lie between reported failures of that ray (or beyond
/// them on a ray reported unbounded).
fn check_against_evaluator(n: &ExactNet, land: &Landscape, stride: usize, ray_grid: i64) {
    assert!(land.failures.contains(&n.target.to_rationals()));
    for x in &land.failures {
        assert!(!n.descent_derivative(x).unwrap().0.is_negative(), "{x:?}");
    }
    let origin = [Q::zero(), Q::zero()];
    for w in &land.zero_failures {
        assert!(!n.directional_derivative(&origin, w).unwrap().is_negative());
    }
    for g in land.regions.iter().step_by(stride) {
        let (a, b) = (position(&g.from), position(&g.to));
        let b = if b > a { b } else { b + r(4, 1) };
        for frac in [r(1, 4), r(1, 2), r(3, 4), r(1, 1000)] {
            let s = &a + (&b - &a) * frac;
            let p = direction(&if s >= r(4, 1) { s - r(4, 1) } else { s });
            for t in [r(1, 8), r(1, 2), r(1, 1), r(3, 2), r(8, 1)] {
                let x: Vec<Q> = p.iter().map(|v| v * &t).collect();
                assert_eq!(n.strict_pattern(&x).unwrap(), g.pattern);
                if g.center.is_some() && g.center.as_ref() != Some(&x) {
                    assert!(n.descent_derivative(&x).unwrap().0.is_negative(), "{x:?}");
                }
            }
        }
        if g.center_inside {
            let c = g.center.as_ref().unwrap();
            assert!(n.vbar(c).unwrap().iter().all(Zero::is_zero));
            assert_eq!(n.strict_pattern(c).unwrap(), g.pattern);
            let sc = position(c);
            assert!(
                sc != a && (if sc > a { sc } else { sc + r(4, 1) }) < b,
                "{c:?} not inside"
            );
            assert!(land.failures.contains(c));
        }
    }
    for p in land.breakpoints.iter().filter(|_| ray_grid > 0) {
        // Failures on this ray, as multiples of p.
        let on_ray: Vec<Q> = land
            .failures
            .iter()
            .filter(|x| {
                &x[0] * &p[1] == &x[1] * &p[0] && (&x[0] * &p[0] + &x[1] * &p[1]).is_positive()
            })
            .map(|x| {
                if p[0].is_zero() {
                    &x[1] / &p[1]
                } else {
                    &x[0] / &p[0]
                }
            })
            .collect();
        for i in 1..=4 * ray_grid {
            let t = r(i, ray_grid);
            let x: Vec<Q> = p.iter().map(|v| v * &t).collect();
            if n.descent_derivative(&x).unwrap().0.is_negative() {
                continue;
            }
            let slack = r(1, 1 << 39);
            let below = on_ray.iter().any(|f| *f <= &t * (r(1, 1) + &slack));
            let above =
                on_ray.iter().any(|f| *f >= &t * (r(1, 1) - &slack)) || land.unbounded.contains(p);
            assert!(
                below && above,
                "D >= 0 at {x:?}, outside the reported failures {on_ray:?}"
            );
        }
    }
}

fn report(name: &str, n: &ExactNet, land: &Landscape, secs: f64) {
    let (r_star, r_rho) = failure_radii(n, land, rho(n.depth()));
    let xs = Some(n.target.to_rationals());
    let spurious = land
        .regions
        .iter()
        .filter(|g| g.center_inside && g.center != xs)
        .count();
    eprintln!(
        "{name}: {} regions, {} failures, {} zero failures, {spurious} interior stationary points \
         besides x*, radii {r_star:.4} (x*) {r_rho:.4} (-rho x*), {secs:.2} s",
        land.regions.len(),
        land.failures.len(),
        land.zero_failures.len()
    );
}

/// Small non-expansive networks with `m = 4` have spurious stationary points
/// strictly inside their regions (SPEC §2); the oracle finds them, and each is
/// a true stationary point of `f` in its region.
#[test]
fn small_networks_have_spurious_stationary_points() {
    let mut spurious = 0;
    for seed in 1..=6 {
        let n = sampled(&[4, 8], Measurement::Matrix { m: 4 }, seed);
        let t = Instant::now();
        let land = classify(&n);
        report(
            &format!("(4, 8) m = 4 seed {seed}"),
            &n,
            &land,
            t.elapsed().as_secs_f64(),
        );
        check_against_evaluator(&n, &land, 1, 64);
        let xs = n.target.to_rationals();
        spurious += land
            .regions
            .iter()
            .filter(|g| g.center_inside && g.center.as_ref() != Some(&xs))
            .count();
    }
    assert!(spurious > 0, "no spurious stationary point in six seeds");
}

#[test]
fn sampled_networks_in_seconds() {
    let cases = [
        (
            "20/100 m = 50",
            sampled(&[20, 100], Measurement::Matrix { m: 50 }, 1),
        ),
        (
            "20/100 A = I",
            sampled(&[20, 100], Measurement::Identity, 1),
        ),
        (
            "50/500 A = I",
            sampled(&[50, 500], Measurement::Identity, 1),
        ),
    ];
    for (name, n) in &cases {
        let t = Instant::now();
        let land = classify(n);
        let secs = t.elapsed().as_secs_f64();
        report(name, n, &land, secs);
        check_against_evaluator(n, &land, 25, 0);
        assert!(land.regions.len() > 50, "{name}: too few regions");
    }
}
