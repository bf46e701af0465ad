//! `certify sweep` (issue 12, item 3) on a tiny grid: every network is
//! sampled, certified and verified; the table's rows match the certificates;
//! a second run reuses every verified certificate and certifies again one
//! that was tampered with; the figures are written.

use std::process::Command;

use hvcert::checker::check;
use hvcert::format::certificate::{Certificate, Verdict};
use hvcert::format::network::read_network_file;

fn sweep(dir: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_certify"))
        .args([
            "sweep", "--latent", "2", "--widths", "5,20", "--widths", "10,40",
        ])
        .args(["--measurements", "6,I", "--seeds", "1", "--time-limit", "5"])
        .arg("--out-dir")
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_small_grid_is_certified_tabulated_and_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = sweep(dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sweep        4 networks"), "{out}");
    assert_eq!(err.matches("(certified)").count(), 4, "{err}");
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sweep.json")).unwrap())
            .unwrap();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        let name = r["name"].as_str().unwrap();
        let net = read_network_file(&dir.path().join(format!("nets/{name}.bin"))).unwrap();
        assert_eq!(r["sha256"], net.sha256.as_str());
        let text =
            std::fs::read_to_string(dir.path().join(format!("certs/{name}.cert.json"))).unwrap();
        let cert = Certificate::from_json(&text).unwrap();
        let report = check(&cert, &net.network, &net.sha256).unwrap();
        assert_eq!(r["verdict"], report.verdict.name());
        assert_eq!(r["eps_rho"], cert.claim.eps_rho.to_string());
        // The paper's claim counts as proved only on holds with both radii
        // at most 1/10.
        let tenth = num_rational::BigRational::new(1.into(), 10.into());
        let proved = report.verdict == Verdict::Holds
            && cert.claim.eps_x_star <= tenth
            && cert.claim.eps_rho <= tenth;
        assert_eq!(r["paper_claim_proved"], proved, "{name}");
    }
    let csv = std::fs::read_to_string(dir.path().join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5);
    for fig in ["paper-claim.png", "eps2.png"] {
        assert!(std::fs::metadata(dir.path().join(fig)).unwrap().len() > 5_000);
    }
    // Tamper with one certificate: it no longer verifies and is redone;
    // the other three are reused.
    let victim = dir.path().join("certs/k2-w10-40-mI-s1.cert.json");
    let text = std::fs::read_to_string(&victim).unwrap();
    std::fs::write(
        &victim,
        text.replacen("\"R\"", "\"C\"", 1).replacen(" R ", " C ", 1),
    )
    .unwrap();
    let (code, _, err) = sweep(dir.path());
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("(reused)").count(), 3, "{err}");
    assert!(
        err.contains("k2-w10-40-mI-s1: holds") || err.contains("k2-w10-40-mI-s1:"),
        "{err}"
    );
    assert_eq!(err.matches("(certified)").count(), 1, "{err}");
}

#[test]
fn bad_grids_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (
            vec!["--widths", "4,x", "--measurements", "4", "--seeds", "1"],
            "--widths",
        ),
        (
            vec!["--widths", "4,8", "--measurements", "q", "--seeds", "1"],
            "--measurements",
        ),
        (
            vec!["--widths", "4,8", "--measurements", "4", "--seeds", "9-1"],
            "--seeds",
        ),
        (
            vec!["--widths", "0,8", "--measurements", "4", "--seeds", "1"],
            "sweep:",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_certify"))
            .args(["sweep", "--latent", "2"])
            .args(&args)
            .arg("--out-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    }
}
