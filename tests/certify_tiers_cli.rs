//! `certify` with and without the fast tiers, from the command line.
//!
//! - `--exact-only` and the default (binary64, MPFR, exact) prove the same
//!   radii on the default network, and both certificates verify.
//! - With a deliberately broken fast tier (the test hook
//!   `HVCERT_TEST_BROKEN_TIER`, which makes the Cone rule's tiers "prove"
//!   every cell, or with the value `zero` the Zero rule's tiers every
//!   direction box) the self-check rejects the first certificate, `certify`
//!   searches again with the exact rules, and what it writes is still a
//!   certificate `verify` accepts: a wrong fast tier costs time, never a
//!   wrong verdict.
//! - The first-layer Zero rule decides every (P2) box of the default network
//!   (so the tests above switch it off with the test hook
//!   `HVCERT_TEST_NO_ZERO_FIRST` to reach the Zero rule's tiers).

use std::path::Path;
use std::process::Command;

fn default_net() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates/default.bin")
}

/// `broken`: the value of the test hook, if set.
fn certify(out: &Path, extra: &[&str], broken: Option<&str>) -> (serde_json::Value, String) {
    certify_net(&default_net(), out, extra, broken)
}

fn certify_net(
    net: &Path,
    out: &Path,
    extra: &[&str],
    broken: Option<&str>,
) -> (serde_json::Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_certify"));
    cmd.arg("--net")
        .arg(net)
        .arg("--out")
        .arg(out)
        .args(["--quiet", "--json"])
        .args(extra);
    if let Some(v) = broken {
        cmd.env("HVCERT_TEST_BROKEN_TIER", v);
    } else {
        cmd.env_remove("HVCERT_TEST_BROKEN_TIER");
    }
    cmd.env("HVCERT_TEST_NO_ZERO_FIRST", "1");
    let o = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "certify failed: {stderr}");
    (serde_json::from_slice(&o.stdout).unwrap(), stderr)
}

fn verify(cert: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_verify"))
        .arg(cert)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "verify failed: {stdout}");
    stdout
}

#[test]
fn exact_only_and_tiers_prove_the_same_radii() {
    let dir = tempfile::tempdir().unwrap();
    let (fast_path, exact_path) = (dir.path().join("fast.json"), dir.path().join("exact.json"));
    let (fast, _) = certify(&fast_path, &[], None);
    let (exact, _) = certify(&exact_path, &["--exact-only"], None);
    for key in ["verdict", "eps_x_star", "eps_rho"] {
        assert_eq!(fast[key], exact[key], "{key}");
    }
    assert_eq!(fast["verdict"], "holds");
    // The default path decides the Cone rule in binary64; --exact-only never
    // uses a fast tier.
    assert!(fast["cone_tiers"]["binary64"]["proved"].as_u64().unwrap() > 0);
    for tier in ["binary64", "mpfr"] {
        for what in ["proved", "failed"] {
            assert_eq!(exact["cone_tiers"][tier][what], 0, "{tier} {what}");
        }
    }
    assert!(exact["cone_tiers"]["exact"]["proved"].as_u64().unwrap() > 0);
    // The same for the Zero rule of (P2).
    assert!(fast["zero_tiers"]["binary64"]["proved"].as_u64().unwrap() > 0);
    for tier in ["binary64", "mpfr"] {
        for what in ["proved", "failed"] {
            assert_eq!(exact["zero_tiers"][tier][what], 0, "{tier} {what}");
        }
    }
    assert!(exact["zero_tiers"]["exact"]["proved"].as_u64().unwrap() > 0);
    assert_eq!(exact["zero_corners"]["descent_binary64"], 0);
    assert!(verify(&fast_path).starts_with("VERIFIED holds"));
    assert!(verify(&exact_path).starts_with("VERIFIED holds"));
}

fn broken_tier_falls_back(hook: &str, net: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cert.json");
    let (summary, stderr) = certify_net(net, &path, &[], Some(hook));
    assert!(
        stderr.contains("searching again with the exact rules"),
        "{hook}: no fallback: {stderr}"
    );
    assert_eq!(summary["verdict"], "holds");
    assert!(summary["verify_seconds"].is_number(), "self-checked");
    assert!(verify(&path).starts_with("VERIFIED holds"));
}

#[test]
fn a_broken_fast_tier_costs_a_second_search_not_a_wrong_certificate() {
    // Any value but `zero` breaks the Cone rule's tiers (as before there
    // was a Zero tier).
    broken_tier_falls_back("1", &default_net());
    broken_tier_falls_back("cone", &default_net());
}

#[test]
fn a_broken_zero_tier_costs_a_second_search_not_a_wrong_certificate() {
    // On default.bin every (P2) box the search starts from (its units)
    // holds the Zero rule, so a broken tier changes nothing there; here a
    // box has too many branches for the exact rule.
    let net = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates/k2-10-40-160-m40.bin");
    broken_tier_falls_back("zero", &net);
}

#[test]
fn the_first_layer_zero_rule_decides_the_default_networks_boxes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cert.json");
    let o = Command::new(env!("CARGO_BIN_EXE_certify"))
        .arg("--net")
        .arg(default_net())
        .arg("--out")
        .arg(&path)
        .args(["--quiet", "--json"])
        .env_remove("HVCERT_TEST_BROKEN_TIER")
        .env_remove("HVCERT_TEST_NO_ZERO_FIRST")
        .output()
        .unwrap();
    assert!(o.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["verdict"], "holds");
    // Every unit box of (P2) (8 per face) holds it; no box is split, and
    // the Zero rule over branches is never tried.
    assert_eq!(summary["zero_first_layer"]["proved"], 32);
    assert_eq!(summary["zero_first_layer"]["failed"], 0);
    for tier in ["binary64", "mpfr", "exact"] {
        for what in ["proved", "failed"] {
            assert_eq!(summary["zero_tiers"][tier][what], 0, "{tier} {what}");
        }
    }
    let cert = std::fs::read_to_string(&path).unwrap();
    assert!(cert.contains("\"version\": 5") || cert.contains("\"version\":5"));
    assert!(verify(&path).starts_with("VERIFIED holds"));
}
