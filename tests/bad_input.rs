//! Bad input through both binaries: out-of-range arguments, unusable files
//! and paths, truncated and malformed certificates. Every case exits
//! non-zero with a clear first line on standard error (exactly one line when
//! it is the tool's own message), never panics, and never prints a VERIFIED
//! or HOLDS verdict. `verify_cli.rs`, `sample_cli.rs` and `network_file.rs`
//! cover other cases; these extend them.

use std::path::{Path, PathBuf};
use std::process::Command;

use hvcert::format::network::write_network_file;

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

fn certify(args: &[&str]) -> Run {
    run(env!("CARGO_BIN_EXE_certify"), args)
}

fn verify(args: &[&str]) -> Run {
    run(env!("CARGO_BIN_EXE_verify"), args)
}

/// A failure: exit `want`, `needle` on the only line of standard error
/// (argument errors too, issue 13), no panic, no verdict claimed.
fn fails(r: &Run, want: i32, needle: &str, case: &str) {
    let all = format!("{}{}", r.out, r.err);
    assert_eq!(r.code, want, "{case}: exit {}: {all}", r.code);
    assert!(!all.contains("panicked"), "{case}: {all}");
    assert!(
        !r.out.contains("VERIFIED") && !r.out.contains("HOLDS") && !r.out.contains("holds"),
        "{case}: {all}"
    );
    // Every error, argument errors included, is the tool's own single line.
    let first = r.err.lines().next().unwrap_or("");
    assert!(
        first.starts_with("certify:") || first.starts_with("verify:"),
        "{case}: unclear first line {first:?}"
    );
    assert!(
        first.contains(needle),
        "{case}: first line {first:?} lacks {needle:?}\n{all}"
    );
    assert_eq!(
        r.err.trim_end().lines().count(),
        1,
        "{case}: one line: {all}"
    );
}

/// The tiny `k = 1` network (`G(x) = |x|`) in a temporary folder.
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net.bin");
    write_network_file(&net, &hvcert::fuzzing::fuzz_network()).unwrap();
    (dir, net)
}

/// [`fixture`] with a valid certificate `c.json` that `certify` wrote for
/// it (and `verify` accepts).
fn certified_fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, net) = fixture();
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
    assert_eq!(verify(&[s(&cert)]).code, 0);
    (dir, net, cert)
}

/// A network header (version 1, inversion) with the given dimensions and
/// no body.
fn header(k: u32, widths: &[u32]) -> Vec<u8> {
    let mut b = b"HVNETBIN".to_vec();
    for v in [1u32, 1, k, widths.len() as u32] {
        b.extend(v.to_le_bytes());
    }
    for w in widths {
        b.extend(w.to_le_bytes());
    }
    b.extend(0u32.to_le_bytes());
    b
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn certify_out_of_range_arguments() {
    let (dir, net) = fixture();
    let net = s(&net);
    let out = dir.path().join("c.json");
    let out = s(&out);
    let base = ["--net", net, "--out", out, "--quiet"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--threads", "0"], "--threads"),
        (vec!["--threads", "100000"], "--threads"),
        (vec!["--threads", "-1"], "--threads"),
        (vec!["--max-depth", "0"], "--max-depth"),
        (vec!["--max-depth", "1000000"], "--max-depth"),
        (vec!["--max-depth", "99999999999999999999"], "--max-depth"),
        (vec!["--max-depth", "-3"], "--max-depth"),
        (vec!["--eps", "-1/10"], "--eps"),
        (vec!["--eps=-0.1"], "--eps"),
        (vec!["--eps", "1/0"], "--eps"),
        (vec!["--eps", "abc"], "--eps"),
        (vec!["--eps", "0.1.2"], "--eps"),
        (vec!["--eps", "nan"], "--eps"),
        (vec!["--eps", "inf"], "--eps"),
        (vec!["--eps", "1e99999"], "--eps"),
        (vec!["--eps", ""], "--eps"),
        (vec!["--eps1", "1/10"], "--eps2"),
        (vec!["--eps2", "1/10"], "--eps1"),
        (vec!["--eps1", "1/10", "--eps2", "x"], "--eps2"),
        (
            vec!["--eps", "1/10", "--eps1", "1/10", "--eps2", "1/10"],
            "--eps",
        ),
        (vec!["--resolution", "0"], "--resolution"),
        (vec!["--resolution", "-1/2"], "--resolution"),
        (vec!["--resolution", "zero"], "--resolution"),
        (vec!["--time-limit", "-1"], "--time-limit"),
        (vec!["--time-limit", "0"], "--time-limit"),
        (vec!["--time-limit", "nan"], "--time-limit"),
        (vec!["--time-limit", "inf"], "--time-limit"),
        (vec!["--time-limit", "1e300"], "--time-limit"),
        (vec!["--time-limit", "soon"], "--time-limit"),
        (vec!["--progress"], "--progress"),
    ];
    for (extra, needle) in cases {
        let mut args = base.to_vec();
        args.extend(&extra);
        let r = certify(&args);
        fails(&r, 2, needle, &format!("certify {extra:?}"));
        assert!(!Path::new(out).exists(), "{extra:?} wrote a certificate");
    }
    // No --net at all.
    fails(&certify(&["--quiet"]), 2, "--net", "certify without --net");
    // eps = 0 is a legitimate claim (empty balls), not bad input.
    let r = certify(&[
        "--net",
        net,
        "--out",
        out,
        "--quiet",
        "--eps",
        "0",
        "--max-depth",
        "8",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
}

#[test]
fn certify_unusable_files_and_paths() {
    let (dir, net) = fixture();
    let d = dir.path();
    let empty = d.join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let huge = d.join("huge.bin");
    std::fs::write(&huge, header(2, &[u32::MAX])).unwrap();
    let huge_k = d.join("huge_k.bin");
    std::fs::write(&huge_k, header(u32::MAX, &[4])).unwrap();
    let deep = d.join("deep.bin");
    std::fs::write(&deep, header(2, &vec![3; 100_000])).unwrap();
    let sub = d.join("sub");
    std::fs::create_dir(&sub).unwrap();
    let out = d.join("c.json");
    let cases: Vec<(PathBuf, &str)> = vec![
        (d.join("missing.bin"), "missing.bin"),
        (sub.clone(), "sub"),
        (empty, "empty.bin"),
        (huge, "huge.bin"),
        (huge_k, "huge_k.bin"),
        (deep, "deep.bin"),
    ];
    for (path, needle) in &cases {
        let r = certify(&["--net", s(path), "--out", s(&out), "--quiet"]);
        fails(&r, 2, needle, &format!("certify --net {}", path.display()));
        let r = certify(&["inspect", s(path)]);
        fails(&r, 2, needle, &format!("inspect {}", path.display()));
    }
    // Unwritable outputs (tests may run as root: no permission bits).
    let net = s(&net);
    let outs = [
        d.join("no/such/dir/c.json"),
        sub.clone(),
        PathBuf::from("/proc/version"),
    ];
    for o in &outs {
        let r = certify(&["--net", net, "--out", s(o), "--quiet", "--max-depth", "4"]);
        fails(&r, 2, s(o), &format!("certify --out {}", o.display()));
    }
}

#[test]
fn sample_and_inspect_bad_arguments() {
    let (dir, net) = fixture();
    let d = dir.path();
    let out = d.join("s.bin");
    let out = s(&out);
    let sample = |extra: &[&str]| {
        let mut a = vec!["sample", "--seed", "1", "--out", out];
        a.extend(extra);
        certify(&a)
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--latent", "0", "--widths", "4", "--inversion"],
            "sample",
        ),
        (
            vec!["--latent", "4000000000", "--widths", "4", "--inversion"],
            "sample",
        ),
        (
            vec!["--latent", "2", "--widths", "4000000000", "--inversion"],
            "sample",
        ),
        (
            vec![
                "--latent",
                "2",
                "--widths",
                "99999999999999999999999",
                "--inversion",
            ],
            "--widths",
        ),
        (
            vec!["--latent", "2", "--widths", "20000,20000", "--inversion"],
            "sample",
        ),
        (
            vec!["--latent", "2", "--widths", "4", "--measurements", "0"],
            "sample",
        ),
        (
            vec![
                "--latent",
                "2",
                "--widths",
                "4",
                "--measurements",
                "5000000000",
            ],
            "sample",
        ),
        (
            vec![
                "--latent",
                "2",
                "--widths",
                "100000",
                "--measurements",
                "100000",
            ],
            "sample",
        ),
        (vec!["--latent", "2", "--widths", "4"], "--measurements"),
        (
            vec![
                "--latent",
                "2",
                "--widths",
                "4",
                "--inversion",
                "--measurements",
                "3",
            ],
            "--measurements",
        ),
        (
            vec![
                "--latent",
                "2",
                "--widths",
                "4",
                "--inversion",
                "--target=nan,1",
            ],
            "sample",
        ),
        (
            vec![
                "--latent",
                "2",
                "--widths",
                "4",
                "--inversion",
                "--target=inf,1",
            ],
            "sample",
        ),
        (
            vec![
                "--latent",
                "2",
                "--widths",
                "4",
                "--inversion",
                "--target=1e400,1",
            ],
            "sample",
        ),
        (
            vec!["--latent", "-2", "--widths", "4", "--inversion"],
            "--latent",
        ),
        (
            vec!["--latent", "2", "--widths", "", "--inversion"],
            "--widths",
        ),
    ];
    for (extra, needle) in &cases {
        fails(&sample(extra), 2, needle, &format!("sample {extra:?}"));
        assert!(!Path::new(out).exists(), "{extra:?} wrote a network");
    }
    for o in [d.to_path_buf(), PathBuf::from("/proc/version")] {
        let r = certify(&[
            "sample",
            "--seed",
            "1",
            "--latent",
            "2",
            "--widths",
            "4",
            "--inversion",
            "--out",
            s(&o),
        ]);
        fails(&r, 2, s(&o), &format!("sample --out {}", o.display()));
    }
    // inspect --at on the k = 1 network.
    let net = s(&net);
    for at in [
        "--at=",
        "--at=1,",
        "--at=,",
        "--at=nan",
        "--at=inf",
        "--at=1e99999",
        "--at=1/0",
        "--at=0x10",
        "--at=1 2",
    ] {
        fails(&certify(&["inspect", net, at]), 2, "--at", at);
    }
    fails(
        &certify(&["inspect"]),
        2,
        "<FILE>",
        "inspect without a file",
    );
}

#[test]
fn verify_unusable_networks_and_arguments() {
    let (dir, _net, cert) = certified_fixture();
    let d = dir.path();
    let empty = d.join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    let huge = d.join("huge.bin");
    std::fs::write(&huge, header(1, &[u32::MAX, u32::MAX])).unwrap();
    let nets: Vec<(PathBuf, &str)> = vec![
        (d.join("missing.bin"), "missing.bin"),
        (d.to_path_buf(), s(d)),
        (empty, "empty.bin"),
        (huge, "huge.bin"),
    ];
    for (p, needle) in &nets {
        let r = verify(&[s(&cert), "--net", s(p)]);
        fails(&r, 2, needle, &format!("verify --net {}", p.display()));
        // --json: one object with status error, still exit 2.
        let r = verify(&[s(&cert), "--net", s(p), "--json"]);
        assert_eq!(r.code, 2, "{}", r.out);
        let v: serde_json::Value = serde_json::from_str(r.out.trim()).unwrap();
        assert_eq!(v["status"], "error", "{}", r.out);
    }
    fails(&verify(&[]), 2, "<CERT>", "verify without arguments");
    fails(
        &verify(&[s(&cert), "--bogus"]),
        2,
        "--bogus",
        "unknown flag",
    );
    fails(
        &verify(&[s(&cert), "--net"]),
        2,
        "--net",
        "--net without value",
    );
}

#[test]
fn verify_truncated_and_malformed_certificates() {
    let (dir, net, cert) = certified_fixture();
    let d = dir.path();
    let text = std::fs::read_to_string(&cert).unwrap();
    let bad = d.join("bad.json");
    let net = s(&net);
    // Every truncation (a stride through the file, and near its end).
    let n = text.len();
    let mut cuts: Vec<usize> = (0..n).step_by((n / 60).max(1)).collect();
    cuts.extend(n.saturating_sub(8)..n - 1);
    for cut in cuts {
        if !text.is_char_boundary(cut) {
            continue;
        }
        std::fs::write(&bad, &text[..cut]).unwrap();
        let r = verify(&[s(&bad), "--net", net]);
        // Cutting only trailing whitespace leaves a valid file.
        if text[cut..].trim().is_empty() {
            continue;
        }
        fails(&r, 2, "verify:", &format!("truncated at {cut}"));
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let set = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut m = v.clone();
        f(&mut m);
        serde_json::to_string(&m).unwrap()
    };
    let deep_tree = format!("{}R", "x2 ".repeat(300));
    let long_tree = vec!["t1"; 2_000_000].join(" ");
    // One word past the token cap (`MAX_TOKENS`, counted as words).
    let many_tokens = vec!["R"; (1 << 22) + 1].join(" ");
    let cases: Vec<(String, i32, &str)> = vec![
        ("\u{feff}{}".into(), 2, "malformed JSON"),
        (
            format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
            2,
            "malformed JSON",
        ),
        ("null".into(), 2, "not an object"),
        ("\u{0}".into(), 2, "malformed JSON"),
        (set(&|m| m["network"]["latent"] = 0.into()), 2, "latent"),
        (set(&|m| m["network"]["latent"] = 13.into()), 2, "latent"),
        (
            set(&|m| m["network"]["latent"] = (-1).into()),
            2,
            "malformed JSON",
        ),
        (set(&|m| m["network"]["sha256"] = "ABC".into()), 2, "sha256"),
        (set(&|m| m["claim"]["eps_rho"] = "-1/10".into()), 2, "radii"),
        (
            set(&|m| m["claim"]["eps_rho"] = "9".repeat(5000).into()),
            2,
            "not an exact rational",
        ),
        (
            set(&|m| m["claim"]["eps_rho"] = "1e99999".into()),
            2,
            "not an exact rational",
        ),
        (
            set(&|m| {
                let (lo, hi) = (
                    m["claim"]["rho"]["lo"].clone(),
                    m["claim"]["rho"]["hi"].clone(),
                );
                m["claim"]["rho"]["lo"] = hi;
                m["claim"]["rho"]["hi"] = lo;
            }),
            2,
            "lo > hi",
        ),
        (
            set(&|m| m["claim"]["stationary_points"] = serde_json::json!([["1", "2"]])),
            2,
            "coordinates",
        ),
        (
            set(&|m| m["radius_witnesses"] = serde_json::json!([["1", "2"]])),
            2,
            "coordinates",
        ),
        (
            set(&|m| {
                m["version"] = 2.into();
                m["radius_witnesses"] = serde_json::json!([["1/3"]]);
            }),
            2,
            "version 3 added them",
        ),
        (
            // The fixture's (P2) boxes are decided by the first-layer Zero
            // rule, which a version 4 file cannot name.
            set(&|m| m["version"] = 4.into()),
            2,
            "version 5 added the first-layer Zero rule",
        ),
        (
            set(&|m| m["radius_witnesses"] = serde_json::json!([["1/3"], ["2/6"]])),
            2,
            "repeats an earlier point",
        ),
        (
            set(&|m| {
                m["radius_witnesses"] = (1..=65)
                    .map(|i| serde_json::json!([format!("1/{i}")]))
                    .collect::<Vec<_>>()
                    .into()
            }),
            2,
            "at most 64",
        ),
        (set(&|m| m["claim"]["mode"] = "best".into()), 2, "mode"),
        (set(&|m| m["verdict"] = "HOLDS".into()), 2, "verdict"),
        (
            set(&|m| m["cover"]["max_depth"] = 5_000_000_000u64.into()),
            2,
            "malformed JSON",
        ),
        (set(&|m| m["cover"]["max_depth"] = 100_000.into()), 2, "cap"),
        (
            set(&|m| m["cover"]["faces"][0]["tree"] = many_tokens.clone().into()),
            2,
            "more than 4194304 tokens",
        ),
        (
            set(&|m| m["cover"]["faces"] = serde_json::json!([])),
            1,
            "missing face",
        ),
        (
            set(&|m| m["cover"]["faces"][0]["tree"] = deep_tree.clone().into()),
            1,
            "",
        ),
        (
            set(&|m| m["cover"]["faces"][0]["tree"] = long_tree.clone().into()),
            1,
            "deeper than the cap",
        ),
        (set(&|m| m["cover"]["faces"][0]["tree"] = "".into()), 1, ""),
        (
            set(&|m| m["cover"]["faces"][0]["face"] = "+0".into()),
            2,
            "face",
        ),
        (
            set(&|m| m["counterexample"] = serde_json::json!({"kind": "spurious", "point": ["1"]})),
            2,
            "counterexample.kind",
        ),
        (
            set(&|m| {
                m["counterexample"] = serde_json::json!({"kind": "point", "point": ["1", "2"]})
            }),
            2,
            "coordinates",
        ),
        (
            set(&|m| m["stats"] = serde_json::json!([1])),
            2,
            "malformed JSON",
        ),
    ];
    for (i, (body, want, needle)) in cases.iter().enumerate() {
        std::fs::write(&bad, body).unwrap();
        let r = verify(&[s(&bad), "--net", net]);
        let case = format!("malformed case {i} ({needle})");
        if *want == 2 {
            fails(&r, 2, needle, &case);
        } else {
            // Rejected (exit 1): one REJECTED line on standard output.
            assert_eq!(r.code, 1, "{case}: {}{}", r.out, r.err);
            assert!(r.out.starts_with("REJECTED:"), "{case}: {}", r.out);
            assert!(r.out.contains(needle), "{case}: {}", r.out);
            assert!(!r.out.contains("panicked") && !r.err.contains("panicked"));
        }
    }
}
