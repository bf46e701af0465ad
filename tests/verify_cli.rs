//! Whole certificates for a tiny `k = 1` network, written by hand, through
//! the `verify` binary: every verdict, coverage defects, tampering, bad input.
//!
//! Network "abs": W_1 = [1; -1], W_2 = [1 1], A = I, x* = 1, so G(x) = |x|,
//! y = 1 and f(x) = (|x| - 1)^2 / 2: stationary at 1 (= x*), at -1 (a second
//! global minimum) and 0. d = 2, rho_2 = 1/pi; |-1 + 1/pi| = 0.6817...
//! Face +1: pattern (1,0|1), Q = 1, b = 1, x_c = 1. Face -1: pattern
//! (0,1|1), Q = 1, b = -1, x_c = -1. (P2): <p, b> = 1 on both faces.

use std::path::{Path, PathBuf};
use std::process::Command;

use hvcert::exact::rho::rho_enclosure;
use hvcert::format::network::{write_network_file, Measurement, Network};
use num_bigint::BigInt;
use num_rational::BigRational;

/// The "abs" network: `hvcert::fuzzing::fuzz_network()`.
fn abs_net() -> Network {
    hvcert::fuzzing::fuzz_network()
}

/// W_1 = [1; -2], A = I, x* = 1: (P2) fails along w = -1 (G(-1) = (0, 2) is
/// orthogonal to y = (1, 0)).
fn line_net() -> Network {
    Network {
        latent: 1,
        widths: vec![2],
        measurement: Measurement::Identity,
        weights: vec![vec![1.0, -2.0]],
        a: None,
        target: vec![1.0],
        sampling: None,
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    sha: String,
    rho: (String, String),
}

impl Fixture {
    fn new(net: &Network) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let sha = write_network_file(&dir.path().join("net.bin"), net).unwrap();
        let w = BigRational::new(BigInt::from(1), BigInt::from(1u64 << 60));
        let e = rho_enclosure(net.widths.len(), &w);
        Fixture {
            dir,
            sha,
            rho: (e.lo.to_string(), e.hi.to_string()),
        }
    }

    /// A certificate from its parts (JSON fragments).
    #[allow(clippy::too_many_arguments)]
    fn cert(
        &self,
        mode: &str,
        eps1: &str,
        eps2: &str,
        verdict: &str,
        cover: &str,
        cx: &str,
        extra_claim: &str,
    ) -> String {
        format!(
            r#"{{"format": "hvcert-certificate", "version": 1,
  "network": {{"sha256": "{}", "path": "net.bin", "latent": 1}},
  "claim": {{"mode": "{mode}", "eps_x_star": "{eps1}", "eps_rho": "{eps2}",
            "rho": {{"lo": "{}", "hi": "{}"}}{extra_claim}}},
  "verdict": "{verdict}", "cover": {cover}, "counterexample": {cx}, "stats": {{}}}}"#,
            self.sha, self.rho.0, self.rho.1
        )
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

fn verify(path: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_verify"))
        .arg(path)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cover(plus_tree: &str, plus_zero: &str, minus_tree: &str, minus_zero: &str) -> String {
    format!(
        r#"{{"max_depth": 8, "faces": [
      {{"face": "+1", "tree": "{plus_tree}", "zero_tree": "{plus_zero}"}},
      {{"face": "-1", "tree": "{minus_tree}", "zero_tree": "{minus_zero}"}}]}}"#
    )
}

/// The holds cover: face +1 Pairs on [0, 1/2] ((t-1)^2 > 0 there), Region
/// beyond (x_c = x*, in B(x*)); face -1 Region on [0, 1/2] (x_c = -1 not in
/// it), Excluded(-rho x*) on [1/2, 1] (vertices -1/2, -1 within 0.7), Region
/// beyond (x_c = -1 in B(-rho x*, 0.7)).
const PLUS: &str = "t1/2 P R";
const MINUS: &str = "t1/2 R t1 E2 R";

fn expect(code: i32, out: &str, err: &str, want: i32, needle: &str) {
    assert_eq!(code, want, "stdout: {out}\nstderr: {err}");
    let text = format!("{out}{err}");
    assert!(text.contains(needle), "missing {needle:?} in: {text}");
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn holds_given_and_sharpest() {
    let fx = Fixture::new(&abs_net());
    let c = fx.cert(
        "given",
        "1/10",
        "7/10",
        "holds",
        &cover(PLUS, "Z", MINUS, "Z"),
        "null",
        "",
    );
    let (code, out, err) = verify(&fx.write("c.json", &c), &[]);
    expect(code, &out, &err, 0, "VERIFIED holds");
    assert!(
        out.contains(
            "5 cells (region 3 / crease 0 / cone 0 / pairs 1 / excluded 1 / undecided 0), (P2) 2 boxes"
        ),
        "{out}"
    );
    // --json gives the same verdict for scripts.
    let (code, out, _) = verify(&fx.write("c.json", &c), &["--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "verified");
    assert_eq!(v["verdict"], "holds");
    assert_eq!(v["cells"]["region"], 3);

    // Sharpest form: x* listed as a stationary point (eps1 = 0), eps2 just
    // above 0.6817 and reached (0.6817 >= 683/1000 * 255/256).
    let sharp = fx.cert(
        "sharpest",
        "0",
        "683/1000",
        "holds",
        &cover(PLUS, "Z", MINUS, "Z"),
        "null",
        r#", "stationary_points": [["1"]]"#,
    );
    let (code, out, err) = verify(&fx.write("s.json", &sharp), &[]);
    expect(code, &out, &err, 0, "VERIFIED holds");
    // eps raised after the fact: a sharpest claim is no longer sharp.
    let raised = sharp.replace("683/1000", "7/10");
    let (code, out, err) = verify(&fx.write("r.json", &raised), &[]);
    expect(code, &out, &err, 1, "could be smaller");
    // eps lowered: the vertex -1 and x_c = -1 fall outside the ball.
    let lowered = sharp.replace("683/1000", "68/100");
    let (code, out, err) = verify(&fx.write("l.json", &lowered), &[]);
    expect(code, &out, &err, 1, "REJECTED");
    // Without the listed stationary point, x_c = x* is unexcused.
    let unlisted = sharp.replace(r#", "stationary_points": [["1"]]"#, "");
    let (code, out, err) = verify(&fx.write("u.json", &unlisted), &[]);
    expect(code, &out, &err, 1, "region point x_c = (1)");
    // A listed point that is not stationary is refused.
    // (-1/2 lies in B(-rho x*, 0.683), where listing is allowed.)
    let bogus = sharp.replace(r#"[["1"]]"#, r#"[["1"], ["-1/2"]]"#);
    let (code, out, err) = verify(&fx.write("b.json", &bogus), &[]);
    expect(code, &out, &err, 1, "not a nonzero stationary point");
    // A listed point other than x* outside E is never an excuse.
    let outside = sharp.replace(r#"[["1"]]"#, r#"[["1"], ["2"]]"#);
    let (code, out, err) = verify(&fx.write("o.json", &outside), &[]);
    expect(code, &out, &err, 1, "is not x* and lies outside E");
}

#[test]
fn unknown_and_violated() {
    let fx = Fixture::new(&abs_net());
    // Unknown: face -1 left undecided, listed in the output.
    let c = fx.cert(
        "given",
        "1/10",
        "7/10",
        "unknown",
        &cover(PLUS, "Z", "t1 U R", "Z"),
        "null",
        "",
    );
    let (code, out, err) = verify(&fx.write("u.json", &c), &[]);
    expect(code, &out, &err, 0, "VERIFIED unknown");
    assert!(
        out.contains("undecided cells (1):\n  -1 tree i: face -1, t∈[0, 1]"),
        "{out}"
    );
    // The same cover claimed as holds is rejected, and a fully decided
    // cover claimed as unknown too.
    let (code, out, err) = verify(
        &fx.write("h.json", &c.replace("\"unknown\"", "\"holds\"")),
        &[],
    );
    expect(code, &out, &err, 1, "undecided");
    let full = fx.cert(
        "given",
        "1/10",
        "7/10",
        "unknown",
        &cover(PLUS, "Z", MINUS, "Z"),
        "null",
        "",
    );
    let (code, out, err) = verify(&fx.write("f.json", &full), &[]);
    expect(code, &out, &err, 1, "should be holds");

    // Violated: with eps2 = 1/10 the minimum at -1 is a counterexample.
    let cx = r#"{"kind": "stationary", "point": ["-1"]}"#;
    let v = fx.cert("given", "1/10", "1/10", "violated", "null", cx, "");
    let (code, out, err) = verify(&fx.write("v.json", &v), &[]);
    expect(code, &out, &err, 0, "VERIFIED violated");
    assert!(out.contains("stationary point (-1)"), "{out}");
    // Moved by one ulp it is no longer stationary, and -vbar descends there.
    let moved = v.replace(r#"["-1"]"#, r#"["-4503599627370495/4503599627370496"]"#);
    let (code, out, err) = verify(&fx.write("m.json", &moved), &[]);
    expect(code, &out, &err, 1, "vbar != 0");
    let moved_point = moved.replace("\"stationary\"", "\"point\"");
    let (code, out, err) = verify(&fx.write("mp.json", &moved_point), &[]);
    expect(code, &out, &err, 1, "< 0");
    // Inside E it is no counterexample.
    let inside = fx.cert("given", "1/10", "7/10", "violated", "null", cx, "");
    let (code, out, err) = verify(&fx.write("i.json", &inside), &[]);
    expect(code, &out, &err, 1, "not outside E");
    // A holds verdict carrying a counterexample is inconsistent.
    let mixed = fx.cert(
        "given",
        "1/10",
        "1/10",
        "holds",
        &cover(PLUS, "Z", MINUS, "Z"),
        cx,
        "",
    );
    let (code, out, err) = verify(&fx.write("x.json", &mixed), &[]);
    expect(code, &out, &err, 1, "REJECTED");

    // (P2) violated on the line network along w = -1; a holds claim fails.
    let fl = Fixture::new(&line_net());
    let zero_cx = r#"{"kind": "zero_direction", "point": ["-3"]}"#;
    let v = fl.cert("given", "1/10", "1/10", "violated", "null", zero_cx, "");
    let (code, out, err) = verify(&fl.write("z.json", &v), &[]);
    expect(code, &out, &err, 0, "(P2) fails");
    let wrong_dir = v.replace(r#"["-3"]"#, r#"["3"]"#);
    let (code, out, err) = verify(&fl.write("zw.json", &wrong_dir), &[]);
    expect(code, &out, &err, 1, "< 0");
    // Face +1: Q = 1, b = 1 (x_c = 1 = x*); face -1: Q = 4, b = 0 (x_c = 0).
    let h = fl.cert(
        "given",
        "1/10",
        "1/10",
        "holds",
        &cover("R", "Z", "R", "Z"),
        "null",
        "",
    );
    let (code, out, err) = verify(&fl.write("zh.json", &h), &[]);
    expect(
        code,
        &out,
        &err,
        1,
        "rule zero: <p_v, b_P> <= 0 at corner (-1)",
    );
}

#[test]
fn coverage_defects_and_tampering() {
    let fx = Fixture::new(&abs_net());
    let good = fx.cert(
        "given",
        "1/10",
        "7/10",
        "holds",
        &cover(PLUS, "Z", MINUS, "Z"),
        "null",
        "",
    );
    let cases: Vec<(String, &str)> = vec![
        // A missing child, an extra child, a missing face, a duplicated face.
        (good.replace("t1/2 P R", "t1/2 P"), "missing child"),
        (good.replace("t1/2 P R", "t1/2 P R R"), "extra token"),
        (
            good.replace(
                r#"{"face": "-1", "tree": "t1/2 R t1 E2 R", "zero_tree": "Z"}"#,
                r#"{"face": "+1", "tree": "R", "zero_tree": "Z"}"#,
            ),
            "appears twice",
        ),
        // A leaf below the depth limit.
        (
            good.replace("\"max_depth\": 8", "\"max_depth\": 1"),
            "below max_depth",
        ),
        // A rule tag changed, a radial split outside its interval.
        (good.replace("t1/2 P R", "t1/2 P P"), "rule pairs"),
        (
            good.replace("t1/2 R t1 E2 R", "t1/2 R t1/4 E2 R"),
            "not inside",
        ),
        (
            good.replace("t1/2 R t1 E2 R", "t1/2 R t1 E1 R"),
            "rule excluded(x*)",
        ),
        // Swapping the faces' trees.
        (
            good.replace("\"+1\"", "\"@\"")
                .replace("\"-1\"", "\"+1\"")
                .replace("\"@\"", "\"-1\""),
            "REJECTED",
        ),
        // The rho enclosure moved off rho_2.
        (
            good.replace(&format!("\"lo\": \"{}\"", fx.rho.0), "\"lo\": \"1/4\"")
                .replace(&format!("\"hi\": \"{}\"", fx.rho.1), "\"hi\": \"3/10\""),
            "does not contain rho_2",
        ),
        // A different network hash.
        (good.replace(&fx.sha, &"0".repeat(64)), "hash mismatch"),
        // The verdict changed.
        (
            good.replace("\"holds\"", "\"violated\""),
            "without a counterexample",
        ),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let (code, out, err) = verify(&fx.write(&format!("t{i}.json"), text), &[]);
        expect(code, &out, &err, 1, needle);
    }
    // One bit of one weight flipped in the network file: the hash changes.
    let net_path = fx.dir.path().join("net.bin");
    let mut bytes = std::fs::read(&net_path).unwrap();
    let n = bytes.len();
    bytes[n - 9] ^= 1;
    std::fs::write(&net_path, &bytes).unwrap();
    let (code, out, err) = verify(&fx.write("g.json", &good), &[]);
    expect(code, &out, &err, 1, "hash mismatch");
}

#[test]
fn unusable_input() {
    let fx = Fixture::new(&abs_net());
    let good = fx.cert(
        "given",
        "1/10",
        "7/10",
        "holds",
        &cover(PLUS, "Z", MINUS, "Z"),
        "null",
        "",
    );
    let cases: Vec<(String, &str)> = vec![
        (good[..good.len() / 2].to_string(), "malformed JSON"),
        (String::new(), "malformed JSON"),
        ("[1, 2]".into(), "not an object"),
        (
            good.replace("hvcert-certificate", "other"),
            "not an hvcert certificate",
        ),
        (
            good.replace("\"version\": 1", "\"version\": 6"),
            "unsupported certificate version 6 (this checker reads versions 1 to 5)",
        ),
        (
            good.replace("\"stats\": {}", "\"stats\": {}, \"bonus\": 1"),
            "unknown field",
        ),
        (good.replace("\"1/10\"", "0.1"), "malformed JSON"),
        (good.replace("\"1/10\"", "\"1/0\""), "not an exact rational"),
        (good.replace("\"latent\": 1", "\"latent\": 99"), "latent"),
        (good.replace("net.bin", "missing.bin"), "missing.bin"),
    ];
    for (i, (text, needle)) in cases.iter().enumerate() {
        let (code, out, err) = verify(&fx.write(&format!("b{i}.json"), text), &[]);
        expect(code, &out, &err, 2, needle);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
    let (code, out, err) = verify(Path::new("/nonexistent/c.json"), &[]);
    expect(code, &out, &err, 2, "/nonexistent/c.json");
    let (code, out, err) = verify(fx.dir.path(), &[]);
    expect(code, &out, &err, 2, "verify:");
    // --net overrides the path hint; a network of the wrong size is refused.
    let p = fx.write("ok.json", &good);
    let other = fx.dir.path().join("other.bin");
    write_network_file(&other, &line_net()).unwrap();
    let (code, out, err) = verify(&p, &["--net", other.to_str().unwrap()]);
    expect(code, &out, &err, 1, "hash mismatch");
}

/// W_1 = [1; -1], W_2 = [[1, 1/2], [1/4, 1]], A = I, x* = 1 (issue 13): on
/// face -1, G(-s) = (s/2, s), y = (1, 1/4), so f has a strict local minimum at
/// x = -3/5, 1.6|x*| from x* and 0.28|x*| from -rho_2 x* = -1/pi.
fn minimum_net() -> Network {
    Network {
        latent: 1,
        widths: vec![2, 2],
        measurement: Measurement::Identity,
        weights: vec![vec![1.0, -1.0], vec![1.0, 0.5, 0.25, 1.0]],
        a: None,
        target: vec![1.0],
        sampling: None,
    }
}

#[test]
fn only_x_star_is_excused() {
    let fx = Fixture::new(&minimum_net());
    // Face +1: one region, x_c = x* inside B(x*, 1/10); face -1: one region,
    // x_c = -3/5. Listing -3/5 used to make this "holds" for eps = 1/10,
    // which is false at -3/5: it is a counterexample, not an excuse.
    let listed = r#", "stationary_points": [["-3/5"]]"#;
    let c = fx.cert(
        "given",
        "1/10",
        "1/10",
        "holds",
        &cover("R", "Z", "R", "Z"),
        "null",
        listed,
    );
    let (code, out, err) = verify(&fx.write("h.json", &c), &[]);
    expect(code, &out, &err, 1, "is not x* and lies outside E");
    // The same point as a counterexample: violated, verified.
    let cx = r#"{"kind": "stationary", "point": ["-3/5"]}"#;
    let v = fx.cert("given", "1/10", "1/10", "violated", "null", cx, "");
    let (code, out, err) = verify(&fx.write("v.json", &v), &[]);
    expect(code, &out, &err, 0, "VERIFIED violated");
    // With eps2 = 3/10 the point lies in B(-rho_d x*) (0.2817 < 0.3): listing
    // it changes nothing, and verify names it with its distances.
    let inside = fx.cert(
        "given",
        "1/10",
        "3/10",
        "holds",
        &cover("R", "Z", "R", "Z"),
        "null",
        listed,
    );
    let (code, out, err) = verify(&fx.write("i.json", &inside), &[]);
    expect(code, &out, &err, 0, "VERIFIED holds");
    assert!(
        out.contains("excused stationary point: (-6e-1) (distance 1.6 from x*, 2.8169e-1 from -rho_d x*, inside E)"),
        "{out}"
    );
    assert!(!out.contains("x* itself"), "{out}");
    let (code, out, _) = verify(&fx.write("i.json", &inside), &["--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["excused_points"][0]["point"][0], "-3/5");
    assert_eq!(j["excused_points"][0]["inside_e"], true);
    assert_eq!(j["excused_points"][0]["x_star"], false);
}

#[test]
fn sharpest_verdict_names_x_star() {
    // eps1 = 0: the ball around x* is empty and x* (where (P1) fails, vbar = 0)
    // is excused by listing: the verdict line must say so.
    let fx = Fixture::new(&abs_net());
    let sharp = fx.cert(
        "sharpest",
        "0",
        "683/1000",
        "holds",
        &cover(PLUS, "Z", MINUS, "Z"),
        "null",
        r#", "stationary_points": [["1"]]"#,
    );
    let (code, out, err) = verify(&fx.write("s.json", &sharp), &[]);
    expect(
        code,
        &out,
        &err,
        0,
        "u B(-rho_d x*, 6.83e-1|x*|) and x* itself,",
    );
    assert!(
        out.contains(
            "excused stationary point: x* = (1) (distance 0 from x*, 1.31831 from -rho_d x*)"
        ),
        "{out}"
    );
    let (_, out, _) = verify(&fx.write("s.json", &sharp), &["--json"]);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["excused_points"][0]["x_star"], true);
    assert_eq!(j["excused_points"][0]["dist_x_star"], "0");
}
