//! The command-line contract of issue 13: no input file is overwritten,
//! outputs are written atomically, runs that could not write a certificate
//! fail before any search, `inspect` prints norms at any magnitude, and
//! every argument error is one line.

use std::path::Path;
use std::process::Command;

use hvcert::format::network::{write_network_file, Measurement, Network};

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn run(bin: &str, args: &[&str]) -> Run {
    let out = Command::new(bin).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const CERTIFY: &str = env!("CARGO_BIN_EXE_certify");
const VERIFY: &str = env!("CARGO_BIN_EXE_verify");

/// Exit 2 and exactly one line on stderr naming `needle`.
fn one_line_error(r: &Run, prefix: &str, needle: &str, case: &str) {
    assert_eq!(r.code, 2, "{case}: {}{}", r.out, r.err);
    let lines: Vec<&str> = r.err.lines().collect();
    assert_eq!(lines.len(), 1, "{case}: not one line: {:?}", r.err);
    assert!(
        lines[0].starts_with(prefix) && lines[0].contains(needle),
        "{case}: {:?} lacks {needle:?}",
        lines[0]
    );
}

/// The "abs" network (G(x) = |x|, k = 1): certifies in milliseconds.
fn small_net(dir: &Path) -> String {
    let p = dir.join("net.bin");
    write_network_file(&p, &hvcert::fuzzing::fuzz_network()).unwrap();
    p.to_str().unwrap().to_string()
}

fn net_with_target(latent: usize, target: Vec<f64>) -> Network {
    let w1: Vec<f64> = (0..4 * latent)
        .map(|i| if i % 3 == 0 { -1.0 } else { 0.5 + i as f64 })
        .collect();
    Network {
        latent,
        widths: vec![4],
        measurement: Measurement::Identity,
        weights: vec![w1],
        a: None,
        target,
        sampling: None,
    }
}

#[test]
fn the_network_file_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let net = small_net(dir.path());
    let before = std::fs::read(&net).unwrap();
    // The same path, and the same file through another spelling.
    let other = dir.path().join(".").join("net.bin");
    for out in [net.clone(), other.to_str().unwrap().to_string()] {
        let r = run(CERTIFY, &["--net", &net, "--out", &out]);
        one_line_error(&r, "certify:", "refusing to overwrite", "certify");
        let r = run(CERTIFY, &["hunt", "--net", &net, "--out", &out]);
        one_line_error(&r, "certify:", "refusing to overwrite", "hunt");
    }
    assert_eq!(std::fs::read(&net).unwrap(), before);
}

#[test]
fn a_cut_write_keeps_the_previous_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let net = small_net(dir.path());
    let cert = dir.path().join("c.json");
    let cert_s = cert.to_str().unwrap();
    let r = run(CERTIFY, &["--net", &net, "--out", cert_s, "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let good = std::fs::read(&cert).unwrap();
    assert!(good.len() > 1024, "the certificate is larger than 1 KiB");
    // `ulimit -f 1`: files of at most 512 bytes; the write fails midway.
    let cmd = format!("ulimit -f 1; exec '{CERTIFY}' --net '{net}' --out '{cert_s}' --quiet");
    let out = Command::new("sh").args(["-c", &cmd]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nothing written"), "{err}");
    assert_eq!(std::fs::read(&cert).unwrap(), good, "the old file survives");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file is left: {names:?}");
    let r = run(VERIFY, &[cert_s]);
    assert_eq!(r.code, 0, "{}", r.out);
}

#[test]
fn unwritable_claims_fail_before_the_search() {
    let dir = tempfile::tempdir().unwrap();
    let net = small_net(dir.path());
    let out = dir.path().join("c.json");
    let out_s = out.to_str().unwrap();
    // 10^10000 has more digits than a certificate's rational may have.
    let r = run(
        CERTIFY,
        &["--net", &net, "--eps", "1e10000", "--out", out_s],
    );
    one_line_error(&r, "certify:", "no certificate can be written", "huge eps");
    assert!(!r.err.contains("internal error"), "{}", r.err);
    // k = 13 is past the certificate format's latent cap.
    let big = dir.path().join("k13.bin");
    write_network_file(&big, &net_with_target(13, vec![1.0; 13])).unwrap();
    let big_s = big.to_str().unwrap();
    let r = run(
        CERTIFY,
        &["--net", big_s, "--out", out_s, "--time-limit", "60"],
    );
    one_line_error(&r, "certify:", "latent", "k = 13");
    assert!(!r.err.contains("internal error"), "{}", r.err);
    let r = run(CERTIFY, &["hunt", "--net", big_s, "--out", out_s]);
    one_line_error(&r, "certify:", "latent", "hunt k = 13");
    assert!(!out.exists());
}

#[test]
fn inspect_prints_norms_at_any_magnitude() {
    let dir = tempfile::tempdir().unwrap();
    for (target, want) in [
        (vec![3e300, 4e300], "e300 "),
        (vec![3e-300, 4e-300], "e-300 "),
    ] {
        let p = dir.path().join("n.bin");
        write_network_file(&p, &net_with_target(2, target)).unwrap();
        let r = run(CERTIFY, &["inspect", p.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.err);
        let norm = r.out.lines().find(|l| l.starts_with("|x*|")).unwrap();
        // 3e300 and 4e300 are not exact in binary64: |x*| is 5.00000000000000xxe300.
        assert!(
            norm.starts_with("|x*|         5.00000000000000") && norm.contains(want),
            "{norm}"
        );
        let y = r.out.lines().find(|l| l.starts_with("|y|")).unwrap();
        assert!(!y.starts_with("|y|          0 "), "{y}");
    }
}

#[test]
fn argument_errors_are_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let net = small_net(dir.path());
    let cases: &[(&str, &[&str], &str)] = &[
        (CERTIFY, &[], "--net"),
        (CERTIFY, &["--net"], "--net"),
        (CERTIFY, &["--net", &net, "--bogus"], "--bogus"),
        (CERTIFY, &["--net", &net, "--threads", "x"], "--threads"),
        (
            CERTIFY,
            &["--net", &net, "--eps", "1/10", "--eps1", "1/10"],
            "--eps",
        ),
        (CERTIFY, &["sample", "--latent", "2"], "required"),
        (
            CERTIFY,
            &["hunt", "--starts", "x", "--net", &net],
            "--starts",
        ),
        (CERTIFY, &["inspect"], "FILE"),
        (VERIFY, &[], "CERT"),
        (VERIFY, &["c.json", "--nett", "x"], "--nett"),
    ];
    for (bin, args, needle) in cases {
        let r = run(bin, args);
        let name = if *bin == CERTIFY {
            "certify:"
        } else {
            "verify:"
        };
        one_line_error(&r, name, needle, &format!("{args:?}"));
    }
    // Help still prints in full, with exit 0.
    let r = run(CERTIFY, &["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.out.lines().count() > 5);
}
