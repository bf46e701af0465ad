//! The landscape property (certify, verify, then exact evaluation of (P1)
//! and (P2) at many exact points: given ones, cell vertices, points exactly
//! on creases, region points) on random tiny networks: the same check as
//! the `landscape` fuzz target (`hvcert::fuzzing::landscape`). A failure is a
//! soundness bug of certify + verify.

use std::cell::Cell;
use std::time::{Duration, Instant};

use hvcert::format::certificate::Verdict;
use hvcert::fuzzing::landscape::{check_case, decode, Limits};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Fuzzer-format bytes, biased towards `k = 2` and mirrored networks (the
/// ones that can hold).
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(vec![2u8, 2, 2, 2, 2, 2, 0, 1]),
        prop::bool::weighted(0.8),
        prop::collection::vec(any::<u8>(), 30..100),
    )
        .prop_map(|(k, mirrored, mut v)| {
            v[0] = k;
            v[2] = (v[2] & !1) | u8::from(mirrored);
            v
        })
}

#[test]
fn landscape_holds_means_descent_everywhere_checked() {
    let limits = Limits {
        time_limit: Duration::from_millis(100),
        ..Limits::default()
    };
    let config = Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let (holds, p1, crease, p2) = (Cell::new(0), Cell::new(0), Cell::new(0), Cell::new(0));
    let start = Instant::now();
    runner
        .run(&bytes(), |data| {
            if let Some(case) = decode(&data) {
                let r = check_case(&case, &limits);
                if std::env::var("LANDSCAPE_DEBUG").is_ok() {
                    eprintln!(
                        "k={} widths={:?} {:?} {:?} {:?}",
                        case.net.latent, case.net.widths, case.net.measurement, case.eps, r
                    );
                }
                if r.verdict == Verdict::Holds {
                    holds.set(holds.get() + 1);
                    p1.set(p1.get() + r.p1_points);
                    crease.set(crease.get() + r.crease_points);
                    p2.set(p2.get() + r.p2_directions);
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "{} holds cases, (P1) at {} points ({} on creases), (P2) at {} directions, {:.1}s",
        holds.get(),
        p1.get(),
        crease.get(),
        p2.get(),
        start.elapsed().as_secs_f64()
    );
    // The property must actually have been exercised.
    assert!(holds.get() >= 3, "only {} holds cases", holds.get());
    assert!(crease.get() >= 10, "only {} crease points", crease.get());
}
