//! Issue 13, item 3 (the search's part): degenerate and small
//! non-expansive networks end `violated` with an exact counterexample,
//! quickly, and the time limit bounds the whole search. Each verdict is
//! asserted under a time limit that the search before this change blew
//! (it refined for minutes and gigabytes, or returned `unknown`).

mod common;

use std::path::Path;
use std::time::Duration;

use common::certify::{certify, q, search_options};
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::checker::check;
use hvcert::format::certificate::{Certificate, CounterexampleKind, Verdict};
use hvcert::format::network::{read_network_file, Measurement, Network};
use num_rational::BigRational;

fn sample(widths: &[usize], m: usize, seed: u64) -> Network {
    sample_network(&SampleSpec {
        latent: 2,
        widths: widths.to_vec(),
        measurement: Measurement::Matrix { m },
        seed,
        target: None,
    })
}

/// The limit the runs below get: the search must end within it plus
/// [`SLACK`] (before this change post-processing was not bounded).
const LIMIT: Duration = Duration::from_secs(2);
const SLACK: f64 = 2.0;

/// Certifies under [`LIMIT`], checks the certificate with the checker,
/// asserts the search ended within the limit (plus [`SLACK`]) and returns
/// its verdict and counterexample kind.
fn run(
    net: &Network,
    eps: Option<(BigRational, BigRational)>,
) -> (Verdict, Option<CounterexampleKind>) {
    let opts = search_options(net, eps, 48, q(1, 512), Some(LIMIT));
    let (cert, sha) = certify(net, &opts);
    let report = check(&cert, net, &sha).unwrap_or_else(|e| panic!("checker rejects: {}", e.0));
    assert_eq!(report.verdict, cert.verdict);
    let secs = seconds(&cert);
    assert!(
        secs < LIMIT.as_secs_f64() + SLACK,
        "{}: the search took {secs} s",
        cert.verdict.name()
    );
    (cert.verdict, cert.counterexample.map(|c| c.kind))
}

fn seconds(cert: &Certificate) -> f64 {
    cert.stats["certify_seconds"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn tenth() -> Option<(BigRational, BigRational)> {
    Some((q(1, 10), q(1, 10)))
}

/// A width-1 layer kills a half-plane of directions: (P2) fails along it.
/// Before: 1.2 GB and past a minute, whatever the time limit.
#[test]
fn width_one_layer_is_violated_by_a_zero_direction() {
    let net = sample(&[1, 8], 4, 1);
    for eps in [None, tenth()] {
        let (verdict, kind) = run(&net, eps);
        assert_eq!(verdict, Verdict::Violated);
        assert_eq!(kind, Some(CounterexampleKind::ZeroDirection));
    }
}

/// A dead cone (every first-layer neuron off on a cone of directions, so
/// `G = 0` and `vbar = 0` on the whole cone): violated by a zero direction.
#[test]
fn dead_cone_is_violated_by_a_zero_direction() {
    // Rows of W_1 all in the half-plane x1 > 0: the cone x1 < 0 is dead.
    let mut net = sample(&[3, 4], 4, 3);
    for row in net.weights[0].chunks_mut(2) {
        row[0] = row[0].abs() + 0.25;
        row[1] *= 0.5;
    }
    for eps in [None, tenth()] {
        let (verdict, kind) = run(&net, eps);
        assert_eq!(verdict, Verdict::Violated);
        assert_eq!(kind, Some(CounterexampleKind::ZeroDirection));
    }
}

/// Small non-expansive networks (k = 2, widths 3/4, m = 4) with
/// `--eps 1/10`: the claim is false; one exact counterexample settles it.
#[test]
fn small_non_expansive_networks_are_violated_quickly() {
    for seed in [6, 7, 13, 16] {
        let net = sample(&[3, 4], 4, seed);
        let (verdict, kind) = run(&net, tenth());
        assert_eq!(verdict, Verdict::Violated, "seed {seed}");
        assert!(kind.is_some());
    }
}

/// The shipped k2-4-8-m4 network with `--eps 1/10` (110 s before).
#[test]
fn shipped_k2_4_8_m4_is_violated_quickly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
    let net = read_network_file(&dir.join("k2-4-8-m4.bin"))
        .unwrap()
        .network;
    let (verdict, kind) = run(&net, tenth());
    assert_eq!(verdict, Verdict::Violated);
    assert!(kind.is_some());
}

/// Sharpest mode on networks whose failure set runs to infinity along a
/// crease (the exhaustive oracle, `tests/common/oracle_k2.rs`, lists an
/// unbounded direction for both): no finite radii exist, and the search
/// ends `violated` with an exact point on that crease outside the radii it
/// reached. Before: `unknown` after a minute (seed 6).
#[test]
fn unbounded_failures_end_violated_in_sharpest_mode() {
    for seed in [6, 7] {
        let net = sample(&[3, 4], 4, seed);
        let opts = search_options(&net, None, 48, q(1, 512), Some(Duration::from_secs(20)));
        let (cert, sha) = certify(&net, &opts);
        let report =
            check(&cert, &net, &sha).unwrap_or_else(|e| panic!("checker rejects: {}", e.0));
        assert_eq!(report.verdict, Verdict::Violated, "seed {seed}");
        assert_eq!(
            cert.counterexample.map(|c| c.kind),
            Some(CounterexampleKind::Point)
        );
    }
}
