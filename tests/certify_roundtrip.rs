//! certify then verify: on random small networks the certificate written by
//! the search is accepted by the checker, and a `holds` verdict survives
//! exact spot checks of (P1) and (P2) at random rational points.

mod common;

use std::time::Duration;

use common::certify::{certify, q, search_options};
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::checker::check;
use hvcert::checker::geometry::Excluded;
use hvcert::exact::dyadic::f64_to_rational;
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::{Certificate, Verdict};
use hvcert::format::network::{Measurement, Network};
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use proptest::prelude::*;

/// Certifies, writes JSON, parses it back and checks it; returns the certificate.
fn round_trip(net: &Network, eps: Option<(BigRational, BigRational)>) -> Certificate {
    let opts = search_options(net, eps, 20, q(1, 32), Some(Duration::from_secs(1)));
    let (written, sha) = certify(net, &opts);
    let text = written.to_json();
    let cert = Certificate::from_json(&text).expect("the certificate parses");
    assert_eq!(cert.verdict, written.verdict);
    let report = check(&cert, net, &sha).unwrap_or_else(|e| panic!("checker rejects: {}", e.0));
    assert_eq!(report.verdict, cert.verdict);
    cert
}

/// Outside E for every rho in the enclosure, not zero and not listed.
fn outside(cert: &Certificate, target: &[BigRational], x: &[BigRational]) -> bool {
    let e = Excluded::new(
        target.to_vec(),
        &cert.claim.eps_x_star,
        &cert.claim.eps_rho,
        cert.claim.rho_lo.clone(),
        cert.claim.rho_hi.clone(),
    );
    e.surely_outside(x)
        && !x.iter().all(|v| v.is_zero())
        && !cert.claim.stationary_points.iter().any(|s| s == x)
}

fn spot_check(net: &Network, cert: &Certificate, points: &[Vec<BigRational>]) {
    if cert.verdict != Verdict::Holds {
        return;
    }
    let en = ExactNet::new(net).unwrap();
    let target: Vec<BigRational> = net
        .target
        .iter()
        .map(|&v| f64_to_rational(v).unwrap())
        .collect();
    let zero = vec![BigRational::zero(); net.latent];
    for x in points {
        if outside(cert, &target, x) {
            let (d, _) = en.descent_derivative(x).unwrap();
            assert!(d.is_negative(), "holds, but D_-vbar f = {d} >= 0 at {x:?}");
        }
        if x.iter().any(|v| !v.is_zero()) {
            let d0 = en.directional_derivative(&zero, x).unwrap();
            assert!(
                d0.is_negative(),
                "holds, but D_w f(0) = {d0} >= 0 for w = {x:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn certify_then_verify_k2(
        seed in 0u64..1_000_000,
        n1 in 3usize..8,
        n2 in 6usize..24,
        m in prop_oneof![Just(0usize), 3usize..16],
        sharpest in any::<bool>(),
        pts in prop::collection::vec(prop::collection::vec((-40i64..=40, 1i64..=16), 2), 40),
    ) {
        let net = sample_network(&SampleSpec {
            latent: 2,
            widths: vec![n1, n2],
            measurement: if m == 0 { Measurement::Identity } else { Measurement::Matrix { m } },
            seed,
            target: None,
        });
        let eps = if sharpest { None } else { Some((q(1, 2), q(1, 2))) };
        let cert = round_trip(&net, eps);
        let points: Vec<Vec<BigRational>> = pts.iter().map(|p| p.iter().map(|&(a, b)| q(a, b * 8)).collect()).collect();
        spot_check(&net, &cert, &points);
    }
}

#[test]
fn certify_then_verify_k1_and_k3() {
    for (k, widths, m) in [
        (1usize, vec![6usize, 20], 0usize),
        (1, vec![4, 12], 5),
        (3, vec![6, 24], 12),
    ] {
        let net = sample_network(&SampleSpec {
            latent: k,
            widths,
            measurement: if m == 0 {
                Measurement::Identity
            } else {
                Measurement::Matrix { m }
            },
            seed: 7,
            target: None,
        });
        round_trip(&net, None);
        round_trip(&net, Some((q(1, 3), q(1, 3))));
    }
}
