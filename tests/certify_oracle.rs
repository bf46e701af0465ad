//! Soundness against the exhaustive k = 2 oracle: `certify` never says
//! `holds` where the oracle has found an exact point with `D_{-vbar} f >= 0`
//! outside the excluded set, or a direction with `D_w f(0) >= 0`; and a
//! `violated` certificate's counterexample is a real failure.

mod common;

use std::time::Duration;

use common::certify::{certify, q, search_options};
use common::oracle_k2::{classify, failure_radii};
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::certifier::search::approx;
use hvcert::checker::check;
use hvcert::checker::geometry::Excluded;
use hvcert::exact::dyadic::f64_to_rational;
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::Verdict;
use hvcert::format::network::{Measurement, Network};
use num_rational::BigRational;
use num_traits::Signed;
use proptest::prelude::*;

fn agree(net: &Network, eps: Option<(BigRational, BigRational)>, thorough: bool) -> Verdict {
    let opts = search_options(
        net,
        eps,
        if thorough { 48 } else { 24 },
        if thorough { q(1, 512) } else { q(1, 64) },
        (!thorough).then(|| Duration::from_secs(2)),
    );
    let (cert, sha) = certify(net, &opts);
    check(&cert, net, &sha).unwrap_or_else(|e| panic!("checker rejects: {}", e.0));
    let exact = ExactNet::new(net).unwrap();
    let land = classify(&exact);
    let target: Vec<BigRational> = net
        .target
        .iter()
        .map(|&v| f64_to_rational(v).unwrap())
        .collect();
    let e = Excluded::new(
        target,
        &cert.claim.eps_x_star,
        &cert.claim.eps_rho,
        cert.claim.rho_lo.clone(),
        cert.claim.rho_hi.clone(),
    );
    if cert.verdict == Verdict::Holds {
        for x in &land.failures {
            let listed = cert.claim.stationary_points.iter().any(|s| s == x);
            assert!(
                listed || !e.surely_outside(x),
                "holds, but the oracle's failure {x:?} lies outside E"
            );
        }
        assert!(
            land.zero_failures.is_empty(),
            "holds, but (P2) fails at {:?}",
            land.zero_failures[0]
        );
        assert!(
            land.unbounded.is_empty(),
            "holds, but failures run to infinity"
        );
    }
    cert.verdict
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    #[test]
    fn certify_agrees_with_the_oracle(
        seed in 0u64..1_000_000,
        n1 in 3usize..8,
        n2 in 6usize..24,
        m in prop_oneof![Just(0usize), 2usize..12],
        sharpest in any::<bool>(),
    ) {
        let net = sample_network(&SampleSpec {
            latent: 2,
            widths: vec![n1, n2],
            measurement: if m == 0 { Measurement::Identity } else { Measurement::Matrix { m } },
            seed,
            target: None,
        });
        let eps = if sharpest { None } else { Some((q(1, 4), q(1, 4))) };
        agree(&net, eps, false);
    }
}

#[test]
fn reference_like_networks_agree() {
    // The compressive reference network: holds with the sharpest radii, and
    // every oracle failure lies inside them.
    let net = sample_network(&SampleSpec {
        latent: 2,
        widths: vec![20, 100],
        measurement: Measurement::Matrix { m: 50 },
        seed: 1,
        target: None,
    });
    assert_eq!(agree(&net, None, true), Verdict::Holds);
    // With eps = 1/10 the spurious stationary points are outside E: never holds.
    assert_ne!(
        agree(&net, Some((q(1, 10), q(1, 10))), false),
        Verdict::Holds
    );
}

/// Radii about `x*` and about `-rho x*`.
type Radii = (f64, f64);

/// Certifies `net` in the sharpest mode (default resolution 1/512) and
/// returns the certified and the true radii (about `x*`, about `-rho x*`),
/// the true ones from the exhaustive oracle, and the lower bounds the
/// certificate's radius witnesses prove (as the checker reports them).
fn sharpest_and_true_radii(net: &Network) -> (Radii, Radii, (Option<f64>, Option<f64>)) {
    let opts = search_options(net, None, 48, q(1, 512), None);
    let (cert, sha) = certify(net, &opts);
    let report = check(&cert, net, &sha).unwrap_or_else(|e| panic!("checker rejects: {}", e.0));
    assert_eq!(report.verdict, Verdict::Holds, "{:?}", cert.stats);
    let exact = ExactNet::new(net).unwrap();
    let land = classify(&exact);
    let rho = approx(&cert.claim.rho_lo);
    let truth = failure_radii(&exact, &land, rho);
    let got = (approx(&cert.claim.eps_x_star), approx(&cert.claim.eps_rho));
    // Every witness is a failure the oracle's exact evaluator confirms.
    for x in &cert.radius_witnesses {
        assert!(!exact.descent_derivative(x).unwrap().0.is_negative());
    }
    let sqrt = |v: &Option<BigRational>| v.as_ref().map(|v| approx(v).sqrt());
    let witnessed = report.sharpness.as_ref().map_or((None, None), |sh| {
        (sqrt(&sh.below_x_star), sqrt(&sh.below_rho))
    });
    eprintln!(
        "{:?}: certified ({:.5}, {:.5}), true ({:.5}, {:.5}), witnessed {witnessed:?}, rounds {:?}",
        net.widths,
        got.0,
        got.1,
        truth.0,
        truth.1,
        cert.stats.get("refinement_rounds")
    );
    (got, truth, witnessed)
}

/// Issue 13, item 2: the sharpest radii are within 2% of the true ones
/// (the radii of the smallest balls that hold every exact failure point),
/// and never below them.
#[test]
fn sharpest_radii_are_within_two_percent_of_the_truth() {
    let nets = [
        (vec![50, 500], Measurement::Matrix { m: 100 }, 2u64),
        (vec![20, 100], Measurement::Matrix { m: 50 }, 1),
        (vec![50, 500], Measurement::Identity, 1),
    ];
    for (widths, measurement, seed) in nets {
        let net = sample_network(&SampleSpec {
            latent: 2,
            widths,
            measurement,
            seed,
            target: None,
        });
        let (got, truth, witnessed) = sharpest_and_true_radii(&net);
        for (g, t, w) in [(got.0, truth.0, witnessed.0), (got.1, truth.1, witnessed.1)] {
            assert!(g >= t, "certified {g} below the true radius {t}");
            assert!(
                g <= 1.02 * t,
                "certified {g} more than 2% above the true {t}"
            );
            // A witness's bound is a true failure's distance: never above
            // the true radius (up to binary64 display).
            if let Some(w) = w {
                assert!(
                    w <= t * (1.0 + 1e-9),
                    "witnessed {w} above the true radius {t}"
                );
            }
        }
    }
}
