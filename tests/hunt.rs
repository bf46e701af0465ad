//! `certify hunt`: counterexamples are found on violated networks, every
//! reported one is confirmed exactly (and a perturbed one is not), the
//! written certificates pass `verify`, and on networks whose certificate
//! says `holds` the hunt finds nothing outside that certificate's `E` (a
//! cross-check of both tools).

use std::path::{Path, PathBuf};
use std::process::Command;

use hvcert::certifier::hunt::{certificate, confirm, hunt, HuntOptions, HuntProgress};
use hvcert::certifier::rho_mpfr::rho_rational_enclosure;
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::checker::check;
use hvcert::checker::geometry::Excluded;
use hvcert::exact::dyadic::f64_to_rational;
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::{Certificate, CounterexampleKind, Verdict};
use hvcert::format::network::{read_network_file, Measurement, Network};
use num_bigint::BigInt;
use num_rational::BigRational;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates")
}

fn tenth() -> BigRational {
    BigRational::new(1.into(), 10.into())
}

fn options(net: &Network, eps: (BigRational, BigRational), starts: usize) -> HuntOptions {
    let mut o = HuntOptions::new(eps, rho_rational_enclosure(net.widths.len(), 128));
    o.starts = starts;
    o
}

fn excluded(net: &Network, o: &HuntOptions) -> Excluded {
    let target = net
        .target
        .iter()
        .map(|&v| f64_to_rational(v).unwrap())
        .collect();
    Excluded::new(target, &o.eps.0, &o.eps.1, o.rho.0.clone(), o.rho.1.clone())
}

fn run(bin: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn small(widths: &[usize], m: usize, seed: u64) -> (Network, String) {
    let net = sample_network(&SampleSpec {
        latent: 2,
        widths: widths.to_vec(),
        measurement: Measurement::Matrix { m },
        seed,
        target: None,
    });
    let sha = Network::sha256_hex(&net.to_bytes());
    (net, sha)
}

/// Every reported counterexample is confirmed again here, and each one's
/// certificate is accepted by the checker with verdict violated.
fn all_confirmed_and_certified(
    net: &Network,
    sha: &str,
    o: &HuntOptions,
) -> Vec<CounterexampleKind> {
    let r = hunt(net, o, &HuntProgress::default());
    let exact = ExactNet::new(net).unwrap();
    let e = excluded(net, o);
    let mut kinds = Vec::new();
    for f in &r.found {
        confirm(&exact, &e, &[], f.kind, &f.point)
            .unwrap_or_else(|why| panic!("reported but not confirmed: {why}"));
        let cert = certificate(net, sha, None, o, f, &r);
        let parsed = Certificate::from_json(&cert.to_json()).unwrap();
        let report = check(&parsed, net, sha).unwrap_or_else(|e| panic!("REJECTED: {}", e.0));
        assert_eq!(report.verdict, Verdict::Violated);
        kinds.push(f.kind);
    }
    let confirmed = r.stationary.confirmed + r.point.confirmed + r.zero_direction.confirmed;
    assert_eq!(confirmed as usize, r.found.len());
    kinds
}

#[test]
fn finds_every_kind_on_small_sampled_networks() {
    let o = |net: &Network| options(net, (tenth(), tenth()), 16);
    // widths 4/8, m = 3, seed 3: stationary points and valley points.
    let (net, sha) = small(&[4, 8], 3, 3);
    let kinds = all_confirmed_and_certified(&net, &sha, &o(&net));
    assert!(kinds.contains(&CounterexampleKind::Stationary), "{kinds:?}");
    assert!(kinds.contains(&CounterexampleKind::Point), "{kinds:?}");
    // widths 3/8, m = 3, seed 1: a dead cone of directions, (P2) fails.
    let (net, sha) = small(&[3, 8], 3, 1);
    let kinds = all_confirmed_and_certified(&net, &sha, &o(&net));
    assert!(
        kinds.contains(&CounterexampleKind::ZeroDirection),
        "{kinds:?}"
    );
}

#[test]
fn perturbed_candidates_are_rejected() {
    let loaded = read_network_file(&dir().join("k2-4-8-m4.bin")).unwrap();
    let net = &loaded.network;
    let o = options(net, (tenth(), tenth()), 16);
    let r = hunt(net, &o, &HuntProgress::default());
    let exact = ExactNet::new(net).unwrap();
    let e = excluded(net, &o);
    let tiny = BigRational::new(1.into(), BigInt::from(1) << 70usize);
    let mut tried = 0;
    for f in &r.found {
        assert!(confirm(&exact, &e, &[], f.kind, &f.point).is_ok());
        if f.kind == CounterexampleKind::ZeroDirection {
            continue;
        }
        // Off the exact stationary point vbar != 0; off the crease the
        // point is inside one region where D = -|g|^2 < 0.
        for j in 0..2 {
            let mut p = f.point.clone();
            p[j] += &tiny;
            let why = confirm(&exact, &e, &[], f.kind, &p);
            assert!(why.is_err(), "perturbed {:?} still confirmed", f.kind);
            tried += 1;
        }
        // A radius that swallows the point: inside E, rejected.
        let big = BigRational::from_integer(100.into());
        let inside = Excluded::new(
            e.target.clone(),
            &big,
            &big,
            o.rho.0.clone(),
            o.rho.1.clone(),
        );
        assert!(confirm(&exact, &inside, &[], f.kind, &f.point).is_err());
        // Listed as an excluded stationary point: not a counterexample.
        let listed = [f.point.clone()];
        assert!(confirm(&exact, &e, &listed, f.kind, &f.point).is_err());
    }
    assert!(
        tried >= 2,
        "no stationary or point counterexample to perturb"
    );
    // x* itself is never a zero-direction counterexample (<A G(x*), y> = |y|^2).
    assert!(confirm(
        &exact,
        &e,
        &[],
        CounterexampleKind::ZeroDirection,
        &e.target
    )
    .is_err());
}

/// On networks whose shipped certificate says `holds`, nothing the hunt
/// finds may lie outside that certificate's `E` (both tools would be wrong).
#[test]
fn holds_networks_have_no_counterexample_outside_their_e() {
    for name in ["default.cert.json", "k2-20-100-m50.cert.json"] {
        let text = std::fs::read_to_string(dir().join(name)).unwrap();
        let cert = Certificate::from_json(&text).unwrap();
        assert_eq!(cert.verdict, Verdict::Holds);
        let loaded = read_network_file(&dir().join(cert.network_path.unwrap())).unwrap();
        let net = &loaded.network;
        let eps = (cert.claim.eps_x_star.clone(), cert.claim.eps_rho.clone());
        let mut o = options(net, eps, 16);
        o.rho = (cert.claim.rho_lo.clone(), cert.claim.rho_hi.clone());
        let r = hunt(net, &o, &HuntProgress::default());
        assert!(r.found.is_empty(), "{name}: hunt found {:?}", r.found[0]);
        // The same hunt with empty balls does find the stationary points
        // that the certificate's radii exclude (the check above is not
        // vacuous) on the compressive network.
        if name.starts_with("k2-20") {
            let zero = BigRational::from_integer(0.into());
            let o0 = options(net, (zero.clone(), zero), 16);
            let r0 = hunt(net, &o0, &HuntProgress::default());
            assert!(r0.stationary.confirmed > 0);
            assert_eq!(r.stationary.candidates, r0.stationary.candidates);
        }
    }
}

#[test]
fn cli_writes_a_certificate_verify_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("h.cert.json");
    let net = dir().join("k2-4-8-m4.bin");
    let (code, stdout, stderr) = run(
        env!("CARGO_BIN_EXE_certify"),
        &[
            "hunt",
            "--net",
            net.to_str().unwrap(),
            "--starts",
            "8",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("VIOLATED"), "{stdout}");
    assert!(stdout.contains("candidates   stationary"), "{stdout}");
    let (code, stdout, _) = run(env!("CARGO_BIN_EXE_verify"), &[out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.starts_with("VERIFIED violated"), "{stdout}");
    // --json: one object naming the certificate.
    let (code, stdout, _) = run(
        env!("CARGO_BIN_EXE_certify"),
        &[
            "hunt",
            "--net",
            net.to_str().unwrap(),
            "--starts",
            "8",
            "--out",
            out.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["verdict"], "violated");
    assert!(v["stationary"]["confirmed"].as_u64().unwrap() > 0);
}

#[test]
fn cli_no_counterexample_and_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("none.cert.json");
    let net = dir().join("default.bin");
    // Radii 1 around both centres: the hunt finds nothing, writes nothing.
    let (code, stdout, stderr) = run(
        env!("CARGO_BIN_EXE_certify"),
        &[
            "hunt",
            "--net",
            net.to_str().unwrap(),
            "--eps",
            "1",
            "--starts",
            "4",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("no counterexample found"), "{stdout}");
    assert!(!out.exists());
    for args in [
        vec!["hunt", "--net", "/nonexistent/net.bin"],
        vec!["hunt", "--net", net.to_str().unwrap(), "--eps=-1"],
        vec!["hunt", "--net", net.to_str().unwrap(), "--eps", "x"],
        vec![
            "hunt",
            "--net",
            net.to_str().unwrap(),
            "--time-limit",
            "nan",
        ],
        // Finite but past what a Duration holds: an error, not a panic.
        vec![
            "hunt",
            "--net",
            net.to_str().unwrap(),
            "--time-limit",
            "1e300",
        ],
    ] {
        let (code, stdout, stderr) = run(env!("CARGO_BIN_EXE_certify"), &args);
        assert_eq!(code, 2, "{args:?}: {stdout}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn shipped_counterexamples_verify() {
    let d = dir().join("counterexamples");
    for (cert, kind) in [
        ("stationary.cert.json", "stationary point"),
        ("point.cert.json", "D_-vbar f(x) ="),
        ("zero_direction.cert.json", "(P2) fails"),
    ] {
        let path = d.join(cert);
        let (code, stdout, stderr) = run(env!("CARGO_BIN_EXE_verify"), &[path.to_str().unwrap()]);
        assert_eq!(code, 0, "{cert}: {stdout}{stderr}");
        assert!(stdout.starts_with("VERIFIED violated"), "{cert}: {stdout}");
        assert!(stdout.contains(kind), "{cert}: {stdout}");
    }
}
