//! Issue 13, item 3 and two format items of item 5: bounded work and
//! memory for `verify` and the `certify` self-check, and inputs that used to
//! cost unbounded time or memory (oversized stats, repeated stationary
//! points, duplicate JSON keys, `/dev/zero` as a file, many undecided
//! cells). Each case asserts on exit status, messages and output size.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hvcert::format::certificate::{MAX_CERT_BYTES, MAX_STATS_BYTES};
use hvcert::format::network::{write_network_file, Measurement, Network};
use serde_json::Value;

struct Run {
    code: i32,
    out: String,
    err: String,
    secs: f64,
}

/// Runs a binary with `args` and kills it after `limit`; with `capped`,
/// under a memory cap (`ulimit -v`, 4 GiB), so that a run that reads
/// without bound fails cleanly instead of exhausting the machine.
fn run(bin: &str, args: &[&str], limit: Duration, capped: bool) -> Run {
    let start = Instant::now();
    let cap = if capped { "ulimit -v 4194304; " } else { "" };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{cap}exec \"$@\""))
        .arg("sh")
        .arg(bin)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Drained while it runs (a full pipe would stall the child).
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = r.read_to_end(&mut b);
            String::from_utf8_lossy(&b).into_owned()
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        out: out.join().unwrap(),
        err: err.join().unwrap(),
        secs: start.elapsed().as_secs_f64(),
    }
}

fn verify(args: &[&str]) -> Run {
    let capped = args.contains(&"/dev/zero");
    run(
        env!("CARGO_BIN_EXE_verify"),
        args,
        Duration::from_secs(120),
        capped,
    )
}

fn certify(args: &[&str]) -> Run {
    let capped = args.contains(&"/dev/zero");
    run(
        env!("CARGO_BIN_EXE_certify"),
        args,
        Duration::from_secs(300),
        capped,
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// An unusable input: exit 2, one line on stderr naming `needle`, no
/// verdict, no panic.
fn unusable(r: &Run, needle: &str, case: &str) {
    let all = format!("{}{}", r.out, r.err);
    assert_eq!(r.code, 2, "{case}: exit {}: {all}", r.code);
    assert!(!all.contains("panicked"), "{case}: {all}");
    assert!(!r.out.contains("VERIFIED"), "{case}: {all}");
    assert_eq!(r.err.trim_end().lines().count(), 1, "{case}: {all}");
    assert!(r.err.contains(needle), "{case}: {needle:?} missing: {all}");
}

/// The tiny `k = 1` network with a valid certificate `c.json` written by
/// `certify` (`--eps 7/10`).
fn k1_fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.bin");
    write_network_file(&net, &hvcert::fuzzing::fuzz_network()).unwrap();
    let cert = dir.path().join("c.json");
    let r = certify(&[
        "--net",
        s(&net),
        "--out",
        s(&cert),
        "--quiet",
        "--eps",
        "7/10",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let v = verify(&[s(&cert)]);
    assert_eq!(v.code, 0, "{}{}", v.out, v.err);
    (dir, net, cert)
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn write_json(p: &Path, v: &Value) {
    std::fs::write(p, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certificates")
        .join(name)
}

#[test]
fn stats_over_the_cap_are_rejected() {
    let (dir, _, cert) = k1_fixture();
    let mut v = read_json(&cert);
    // A few MB over the cap, well under the file cap.
    let blob = "a".repeat(MAX_STATS_BYTES + (3 << 20));
    v["stats"]["blob"] = Value::String(blob);
    let big = dir.path().join("big_stats.json");
    write_json(&big, &v);
    unusable(&verify(&[s(&big)]), "stats", "stats over the cap");
    // Just under the cap is fine.
    v["stats"]["blob"] = Value::String("a".repeat(MAX_STATS_BYTES / 2));
    write_json(&big, &v);
    let r = verify(&[s(&big)]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
}

#[test]
fn repeated_stationary_points_are_rejected() {
    let (dir, _, cert) = k1_fixture();
    let mut v = read_json(&cert);
    // x* = 1 is a stationary point: listed once it is accepted ...
    v["claim"]["stationary_points"] = serde_json::json!([["1"]]);
    let once = dir.path().join("once.json");
    write_json(&once, &v);
    let r = verify(&[s(&once)]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    // ... listed twice (in two spellings of the same rational) it is not.
    v["claim"]["stationary_points"] = serde_json::json!([["1"], ["2/2"]]);
    let twice = dir.path().join("twice.json");
    write_json(&twice, &v);
    unusable(&verify(&[s(&twice)]), "repeats", "x* twice");
    // 100,000 copies are refused at once, not evaluated one by one.
    let many: Vec<Value> = (0..100_000).map(|_| serde_json::json!(["1"])).collect();
    v["claim"]["stationary_points"] = Value::Array(many);
    let many = dir.path().join("many.json");
    write_json(&many, &v);
    let r = verify(&[s(&many)]);
    unusable(&r, "stationary_points", "x* 100,000 times");
    assert!(r.secs < 10.0, "took {} s", r.secs);
}

#[test]
fn duplicate_json_keys_are_rejected() {
    let (dir, _, cert) = k1_fixture();
    let text = std::fs::read_to_string(&cert).unwrap();
    // The last key would win: a first "verdict" naming something else,
    // the same for a nested key and a key inside stats.
    let cases = [
        (
            "\"verdict\":",
            "\"verdict\": \"violated\",\n  \"verdict\":",
            "verdict",
        ),
        (
            "\"eps_x_star\":",
            "\"eps_x_star\": \"5\", \"eps_x_star\":",
            "eps_x_star",
        ),
        ("\"stats\": {", "\"stats\": {\"a\": 1, \"a\": 2,", "\"a\""),
    ];
    for (i, (from, to, key)) in cases.iter().enumerate() {
        assert!(text.contains(from), "{from} not in the certificate");
        let bad = dir.path().join(format!("dup{i}.json"));
        std::fs::write(&bad, text.replacen(from, to, 1)).unwrap();
        let r = verify(&[s(&bad)]);
        unusable(&r, "duplicate key", &format!("duplicate {key}"));
        assert!(r.err.contains(key), "{}", r.err);
    }
}

#[test]
fn dev_zero_is_refused_as_network_and_certificate() {
    let (dir, net, cert) = k1_fixture();
    // As the certificate.
    let r = verify(&["/dev/zero", "--net", s(&net)]);
    unusable(&r, "not a regular file", "verify /dev/zero");
    assert!(r.secs < 10.0, "took {} s", r.secs);
    // As the network: --net, and the certificate's path hint.
    let r = verify(&[s(&cert), "--net", "/dev/zero"]);
    unusable(&r, "not a regular file", "verify --net /dev/zero");
    assert!(r.secs < 10.0, "took {} s", r.secs);
    let mut v = read_json(&cert);
    v["network"]["path"] = Value::String("/dev/zero".into());
    let hinted = dir.path().join("hint.json");
    write_json(&hinted, &v);
    let r = run(
        env!("CARGO_BIN_EXE_verify"),
        &[s(&hinted)],
        Duration::from_secs(120),
        true,
    );
    unusable(&r, "not a regular file", "path hint /dev/zero");
    assert!(r.secs < 10.0, "took {} s", r.secs);
    let out = dir.path().join("o.json");
    for args in [
        vec!["--net", "/dev/zero", "--out", s(&out), "--quiet"],
        vec!["inspect", "/dev/zero"],
    ] {
        let r = certify(&args);
        let all = format!("{}{}", r.out, r.err);
        assert_eq!(r.code, 2, "certify {args:?}: {all}");
        assert!(r.err.contains("not a regular file"), "{all}");
        assert!(r.secs < 10.0, "took {} s", r.secs);
    }
}

#[test]
fn certificate_over_the_size_cap_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(MAX_CERT_BYTES + 1).unwrap();
    let r = verify(&[s(&big), "--net", "/nonexistent"]);
    unusable(&r, "cap", "certificate over the size cap");
}

#[test]
fn verify_time_limit_stops_the_check() {
    let cert = shipped("k3-50-500-m100.cert.json");
    for json in [false, true] {
        let mut args = vec![s(&cert), "--time-limit", "0.5"];
        if json {
            args.push("--json");
        }
        let r = verify(&args);
        let all = format!("{}{}", r.out, r.err);
        assert_eq!(r.code, 3, "{all}");
        assert!(
            !all.contains("VERIFIED") && !all.contains("REJECTED"),
            "{all}"
        );
        // The whole check takes a minute or more; stopped, a few seconds.
        assert!(r.secs < 20.0, "took {} s: {all}", r.secs);
        if json {
            let v: Value = serde_json::from_str(r.out.trim()).unwrap();
            assert_eq!(v["status"], "not_checked", "{all}");
            assert_eq!(v["reason"], "time limit reached", "{all}");
            assert!(v["leaves_checked"].as_u64().unwrap() < v["leaves_total"].as_u64().unwrap());
        } else {
            let line = r.out.trim_end();
            assert_eq!(line.lines().count(), 1, "{all}");
            assert!(
                line.starts_with("NOT CHECKED: time limit reached after"),
                "{all}"
            );
            assert!(line.contains("leaves checked)"), "{all}");
        }
    }
    // A memory bound far below what the check needs: not checked either
    // (the soft bound stops the walk, or the allocator exits), exit 3.
    let r = verify(&[s(&cert), "--max-memory", "8M"]);
    let all = format!("{}{}", r.out, r.err);
    assert_eq!(r.code, 3, "{all}");
    assert!(all.contains("memory limit reached"), "{all}");
    assert!(
        !all.contains("VERIFIED") && !all.contains("panicked"),
        "{all}"
    );
    // Bad values are unusable input.
    for bad in [
        ["--time-limit", "0"],
        ["--time-limit", "nan"],
        ["--max-memory", "12"],
        ["--max-memory", "-1G"],
    ] {
        let mut args = vec![s(&cert)];
        args.extend(bad);
        let r = verify(&args);
        unusable(&r, bad[0], &format!("verify {bad:?}"));
    }
}

#[test]
fn certify_time_limit_bounds_the_self_check() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("k3.bin");
    std::fs::copy(shipped("k3-50-500-m100.bin"), &net).unwrap();
    let out = dir.path().join("k3.cert.json");
    let limit = 2.0;
    let r = certify(&[
        "--net",
        s(&net),
        "--out",
        s(&out),
        "--time-limit",
        "2",
        "--json",
        "--quiet",
    ]);
    let all = format!("{}{}", r.out, r.err);
    assert_eq!(r.code, 0, "{all}");
    // Refinement, post-processing and self-check within the limit plus a
    // margin for a loaded machine (without a bound the self-check of the
    // unfinished cover alone takes longer).
    assert!(r.secs < limit + 15.0, "took {} s: {all}", r.secs);
    let v: Value = serde_json::from_str(r.out.trim()).unwrap();
    assert_eq!(v["verdict"], "unknown", "{all}");
    let checked = v["self_check"].as_str().unwrap();
    assert!(checked == "not_finished" || checked == "verified", "{all}");
    if checked == "verified" {
        // A self-check that finished did so within the limit (one leaf's
        // time and the parse past it at most).
        let used = v["certify_seconds"].as_f64().unwrap() + v["verify_seconds"].as_f64().unwrap();
        assert!(
            used < limit + 1.0,
            "search and self-check took {used} s: {all}"
        );
    } else {
        assert!(
            v["self_check_note"]
                .as_str()
                .unwrap()
                .contains("time limit reached"),
            "{all}"
        );
    }
    // Written either way, and valid.
    let c = verify(&[s(&out), "--net", s(&net)]);
    assert_eq!(c.code, 0, "{}{}", c.out, c.err);
    assert!(c.out.starts_with("VERIFIED unknown"), "{}", c.out);
}

/// A `k = 2` network (`G(x) = relu(x)`, `A = I`, `x* = (1, 0)`) and a
/// `given` certificate for it whose face `+1` is a complete tree of depth
/// `depth` with every leaf undecided (every other tree a single undecided
/// leaf); returns the number of undecided cells.
fn many_undecided(depth: u32) -> (tempfile::TempDir, PathBuf, u64) {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.bin");
    let network = Network {
        latent: 2,
        widths: vec![2],
        measurement: Measurement::Identity,
        weights: vec![vec![1.0, 0.0, 0.0, 1.0]],
        a: None,
        target: vec![1.0, 0.0],
        sampling: None,
    };
    write_network_file(&net, &network).unwrap();
    let first = dir.path().join("first.json");
    let r = certify(&[
        "--net",
        s(&net),
        "--out",
        s(&first),
        "--quiet",
        "--eps",
        "1/10",
        "--max-depth",
        "4",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    let mut v = read_json(&first);
    let mut tree = Vec::new();
    fn rec(t: &mut Vec<&str>, d: u32) {
        if d == 0 {
            t.push("U");
        } else {
            t.push("x2");
            rec(t, d - 1);
            rec(t, d - 1);
        }
    }
    rec(&mut tree, depth);
    let faces: Vec<Value> = ["+1", "-1", "+2", "-2"]
        .iter()
        .map(|f| {
            let t = if *f == "+1" {
                tree.join(" ")
            } else {
                "U".into()
            };
            serde_json::json!({"face": f, "tree": t, "zero_tree": "U"})
        })
        .collect();
    v["verdict"] = "unknown".into();
    v["counterexample"] = Value::Null;
    v["cover"] = serde_json::json!({"max_depth": depth, "faces": faces});
    let cert = dir.path().join("u.json");
    write_json(&cert, &v);
    // The tree's leaves, three more main trees and four zero trees.
    (dir, cert, (1u64 << depth) + 7)
}

#[test]
fn undecided_cells_listing_is_capped() {
    let (_dir, cert, undecided) = many_undecided(12);
    let r = verify(&[s(&cert)]);
    let all = format!("{}{}", r.out, r.err);
    assert_eq!(r.code, 0, "{all}");
    assert!(r.out.starts_with("VERIFIED unknown"), "{all}");
    let listed = r
        .out
        .lines()
        .filter(|l| l.starts_with("  +") || l.starts_with("  -"))
        .count();
    assert_eq!(listed, hvcert::checker::RESIDUAL_LISTED, "{all}");
    let more = undecided - listed as u64;
    assert_eq!(more, 3103);
    assert!(r.out.contains("undecided cells (4,103):"), "{all}");
    assert!(
        r.out.trim_end().ends_with("  3,103 more not listed"),
        "{all}"
    );
    // The output stays small: about a line per listed cell.
    assert!(r.out.len() < 200 * listed, "{} bytes", r.out.len());
    let r = verify(&[s(&cert), "--json"]);
    let v: Value = serde_json::from_str(r.out.trim()).unwrap();
    assert_eq!(v["cells"]["undecided"].as_u64(), Some(undecided));
    assert_eq!(
        v["residual"].as_array().unwrap().len(),
        hvcert::checker::RESIDUAL_LISTED
    );
    assert_eq!(v["residual_not_listed"].as_u64(), Some(more));
}

#[test]
fn latent_dimension_above_the_cap_is_refused() {
    let (dir, _, cert) = k1_fixture();
    let mut v = read_json(&cert);
    // k = 7 to 12 used to be accepted (a k = 12 box has 2048 corners, and
    // a 0.14 MB certificate took 37 s); the cap is now 6.
    for k in [7, 12] {
        v["network"]["latent"] = k.into();
        let p = dir.path().join(format!("k{k}.json"));
        write_json(&p, &v);
        unusable(&verify(&[s(&p)]), "1..=6", &format!("latent {k}"));
    }
    assert_eq!(hvcert::format::certificate::MAX_LATENT, 6);
}

#[test]
fn too_many_json_values_are_refused_while_parsing() {
    let (dir, _, cert) = k1_fixture();
    let text = std::fs::read_to_string(&cert).unwrap();
    // 15 million numbers (30 MB, under the file cap) would take about half
    // a gigabyte as parsed values; parsing stops at the cap instead.
    let zeros = vec!["0"; 15_000_000].join(",");
    let bad = dir.path().join("values.json");
    std::fs::write(
        &bad,
        text.replacen(
            "\"stats\": {",
            &format!("\"stats\": {{\"z\": [{zeros}],"),
            1,
        ),
    )
    .unwrap();
    let r = verify(&[s(&bad)]);
    unusable(&r, "JSON values", "15 million values");
}

#[test]
fn certify_max_memory_argument() {
    let (dir, net, _) = k1_fixture();
    let out = dir.path().join("o.json");
    for bad in ["12", "lots", "-1G"] {
        let r = certify(&[
            "--net",
            s(&net),
            "--out",
            s(&out),
            "--quiet",
            "--max-memory",
            bad,
        ]);
        let all = format!("{}{}", r.out, r.err);
        assert_eq!(r.code, 2, "--max-memory {bad}: {all}");
        assert!(r.err.contains("--max-memory"), "{all}");
        assert!(!out.exists(), "--max-memory {bad} wrote a certificate");
    }
    let r = certify(&[
        "--net",
        s(&net),
        "--out",
        s(&out),
        "--quiet",
        "--eps",
        "7/10",
        "--max-memory",
        "512M",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.contains("self-check VERIFIED"), "{}", r.out);
}

#[test]
fn rho_enclosure_narrower_than_the_floor_is_rejected_at_once() {
    let (dir, _, cert) = k1_fixture();
    let mut v = read_json(&cert);
    // Checking a claimed enclosure 2^-w wide computes rho_d to 2^-(w+40):
    // at w = 1000 with d = 64 that took minutes. The floor is 2^-256.
    let lo = v["claim"]["rho"]["lo"].as_str().unwrap().to_string();
    let (n, d) = lo.split_once('/').unwrap_or((&lo, "1"));
    let n: num_bigint::BigInt = n.parse().unwrap();
    let d: num_bigint::BigInt = d.parse().unwrap();
    let one = num_bigint::BigInt::from(1);
    for bits in [300usize, 1000] {
        let w = num_rational::BigRational::new(one.clone(), &one << bits);
        let hi = num_rational::BigRational::new(n.clone(), d.clone()) + w;
        v["claim"]["rho"]["hi"] = Value::String(hi.to_string());
        let p = dir.path().join(format!("rho{bits}.json"));
        write_json(&p, &v);
        let r = verify(&[s(&p)]);
        let all = format!("{}{}", r.out, r.err);
        assert_eq!(r.code, 1, "{all}");
        assert!(
            all.contains("the enclosure is narrower than 2^-256"),
            "{all}"
        );
        assert!(r.secs < 10.0, "took {} s", r.secs);
    }
}
