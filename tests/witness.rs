//! Radius witnesses (format version 3): the certifier's rounds stop once the
//! radii are within 0.5% of what exact failure points prove, the
//! certificate carries the best point per ball, and the checker re-evaluates
//! each one, rejecting a point where (P1) does not fail, `0`, `x*`, or a
//! point outside `E`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::certify::{certify, q, search_options};
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::certifier::search::approx;
use hvcert::checker::check;
use hvcert::checker::geometry::Excluded;
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::{Certificate, Verdict};
use hvcert::format::network::{read_network_file, Measurement};
use num_rational::BigRational;
use num_traits::{Signed, Zero};

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certificates")
        .join(name)
}

fn verify_json(cert: &Path) -> serde_json::Value {
    let o = Command::new(env!("CARGO_BIN_EXE_verify"))
        .args(["--json", cert.to_str().unwrap()])
        .output()
        .unwrap();
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The compressive reference network carries a witness per ball; `verify`
/// reports the bounds they prove (rounded down, below the claimed radii),
/// and the witnesses are real failures inside `E`.
#[test]
fn shipped_witnesses_bound_both_radii() {
    let path = shipped("k2-20-100-m50.cert.json");
    let cert = Certificate::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(cert.radius_witnesses.len(), 2);
    let net = read_network_file(&shipped("k2-20-100-m50.bin")).unwrap();
    let exact = ExactNet::new(&net.network).unwrap();
    let e = Excluded::of_claim(&net.network, &cert.claim);
    for x in &cert.radius_witnesses {
        assert!(!exact.descent_derivative(x).unwrap().0.is_negative());
        assert!(e.contains(x));
    }
    let v = verify_json(&path);
    assert_eq!(v["status"], "verified");
    let sh = &v["sharpness"];
    assert_eq!(sh["witnesses"], 2);
    for (bound, eps) in [
        ("eps_x_star_exceeds", &cert.claim.eps_x_star),
        ("eps_rho_exceeds", &cert.claim.eps_rho),
    ] {
        let shown: f64 = sh[bound].as_str().unwrap().parse().unwrap();
        let squared: BigRational = sh[&format!("{bound}_squared")]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let (eps, exact_bound) = (approx(eps), approx(&squared).sqrt());
        // Shown rounded down; the sharpest radius is above it, by less than
        // the 0.5% the rounds stop at (plus their last step).
        assert!(
            shown <= exact_bound && exact_bound - shown < 1e-6,
            "{bound}"
        );
        assert!(
            exact_bound < eps && eps <= exact_bound * 1.01,
            "{bound}: {eps}"
        );
    }
}

/// Tampered witnesses are rejected, each for its own reason.
#[test]
fn tampered_witnesses_are_rejected() {
    let path = shipped("k2-20-100-m50.cert.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let net = read_network_file(&shipped("k2-20-100-m50.bin")).unwrap();
    let good = Certificate::from_json(&text).unwrap();
    check(&good, &net.network, &net.sha256).unwrap();
    let x_star: Vec<BigRational> = Excluded::of_claim(&net.network, &good.claim).target;
    let w = good.radius_witnesses[0].clone();
    let moved: Vec<BigRational> = w
        .iter()
        .enumerate()
        .map(|(i, v)| if i == 0 { v + q(1, 1 << 20) } else { v.clone() })
        .collect();
    let far: Vec<BigRational> = w.iter().map(|v| v * q(8, 1)).collect();
    let cases: Vec<(Vec<BigRational>, &str)> = vec![
        (vec![BigRational::zero(); 2], "origin"),
        (x_star, "is x*"),
        (moved, "does not fail"),
        (far, ""),
    ];
    for (point, why) in cases {
        let mut bad = good.clone();
        bad.radius_witnesses[0] = point;
        let err = check(&bad, &net.network, &net.sha256).expect_err(why).0;
        assert!(err.contains(why), "{why}: {err}");
        assert!(err.contains("radius_witnesses[0]"), "{err}");
    }
}

/// The compressive `k = 2`, 50/500, `m = 100` network of issue 14: the
/// rounds stop on the witnesses (the radius within 0.5% of the bound), the
/// certificate is checked, and its witness is a failure point.
#[test]
fn rounds_stop_at_the_witnessed_radius() {
    let net = sample_network(&SampleSpec {
        latent: 2,
        widths: vec![50, 500],
        measurement: Measurement::Matrix { m: 100 },
        seed: 9002,
        target: None,
    });
    let opts = search_options(&net, None, 48, q(1, 512), None);
    let (cert, sha) = certify(&net, &opts);
    let report = check(&cert, &net, &sha).unwrap_or_else(|e| panic!("{}", e.0));
    assert_eq!(report.verdict, Verdict::Holds);
    assert!(cert.claim.eps_x_star.is_zero());
    let sh = report.sharpness.expect("a witness");
    let bound = approx(sh.below_rho.as_ref().expect("eps2 bounded")).sqrt();
    let eps = approx(&cert.claim.eps_rho);
    assert!(bound < eps && eps <= bound * 1.005, "{bound} {eps}");
    let exact = ExactNet::new(&net).unwrap();
    for x in &cert.radius_witnesses {
        assert!(!exact.descent_derivative(x).unwrap().0.is_negative());
    }
    // At most six passes (the ball around x* goes on to 0 after the other
    // settles), where the stall rule alone took nine.
    let rounds = cert.stats["refinement_rounds"].as_u64().unwrap();
    assert!(rounds <= 6, "{rounds} passes");
}
