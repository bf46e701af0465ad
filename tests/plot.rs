//! `certify plot` (issue 12, item 2): PNG pictures of a `k = 2` and a
//! `k = 3` shipped certificate are written, sized as asked and not blank;
//! SVG too; bad requests are one-line errors.

use std::path::Path;
use std::process::Command;

const CERTIFY: &str = env!("CARGO_BIN_EXE_certify");

fn certs(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certificates")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn plot(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(CERTIFY)
        .arg("plot")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Distinct colours and the share of non-white pixels.
fn content(png: &Path) -> (usize, f64) {
    let img = image::open(png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (900, 900));
    let mut colours = std::collections::HashSet::new();
    let mut ink = 0usize;
    for p in img.pixels() {
        colours.insert(p.0);
        if p.0 != [255, 255, 255] {
            ink += 1;
        }
    }
    (colours.len(), ink as f64 / (900.0 * 900.0))
}

#[test]
fn k2_plane_and_k3_cells_are_drawn() {
    let dir = tempfile::tempdir().unwrap();
    for (cert, kind) in [
        ("default.cert.json", "plane"),
        ("k2-4-8-m4.cert.json", "plane"),
        ("k3-50-500-m100.cert.json", "cells"),
    ] {
        let out = dir.path().join(format!("{cert}.png"));
        let (code, stdout, err) = plot(&[&certs(cert), "--out", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{cert}: {err}");
        assert!(stdout.contains(kind), "{stdout}");
        let size = std::fs::metadata(&out).unwrap().len();
        assert!(size > 10_000, "{cert}: {size} bytes");
        let (colours, ink) = content(&out);
        // The rules' colours at least, and most of a plane plot is cells.
        assert!(colours >= 5, "{cert}: {colours} colours");
        let min_ink = if kind == "plane" { 0.5 } else { 0.05 };
        assert!(ink > min_ink, "{cert}: {ink} of the pixels drawn");
    }
    // The violated k = 2 certificate shows undecided cells (red, rgb
    // 227/26/28) and the counterexample.
    let png = dir.path().join("k2-4-8-m4.cert.json.png");
    let img = image::open(&png).unwrap().to_rgb8();
    assert!(img.pixels().any(|p| p.0 == [227, 26, 28]));
    let svg = dir.path().join("d.svg");
    let (code, _, err) = plot(&[&certs("default.cert.json"), "--out", svg.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&svg).unwrap();
    // A polygon per decided cell of (P1), except the few that start beyond
    // the view (far out radially, not drawn).
    let cert: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(certs("default.cert.json")).unwrap())
            .unwrap();
    let decided: u64 = ["region", "crease", "cone", "pairs"]
        .iter()
        .map(|r| cert["stats"][r].as_u64().expect("a count in stats"))
        .sum();
    assert!(decided >= 100, "{decided} decided cells");
    let polygons = text.matches("<polygon").count() as u64;
    assert!(
        text.starts_with("<svg") && 10 * polygons >= 9 * decided,
        "{polygons} polygons"
    );
}

#[test]
fn bad_plot_requests_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.gif");
    let other_net = certs("k2-20-100-m50.bin");
    for (args, needle) in [
        (
            vec![
                certs("default.cert.json"),
                "--out".into(),
                out.to_str().unwrap().into(),
            ],
            ".png or .svg",
        ),
        (
            vec![
                certs("default.cert.json"),
                "--net".into(),
                other_net,
                "--out".into(),
                dir.path().join("x.png").to_str().unwrap().into(),
            ],
            "not this file",
        ),
        (
            vec![
                certs("nope.json"),
                "--out".into(),
                dir.path().join("y.png").to_str().unwrap().into(),
            ],
            "nope.json",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err) = plot(&args);
        assert_eq!(code, 2, "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{err:?} lacks {needle:?}");
    }
}
