//! Sharded certification through the binaries (issue 11): `certify plan`,
//! `certify --plan P --shard I/S`, `certify merge`, `verify` on shards and on
//! merged certificates, and every kind of bad merge (exit 1, one line naming
//! the shard).

use std::path::{Path, PathBuf};
use std::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(bin: &str, args: &[&str]) -> Out {
    let o = Command::new(bin).args(args).output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn certify(args: &[&str]) -> Out {
    run(env!("CARGO_BIN_EXE_certify"), args)
}

fn verify(args: &[&str]) -> Out {
    run(env!("CARGO_BIN_EXE_verify"), args)
}

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("certificates")
        .join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `certify plan` into `dir/plan-<tag>.json`, then every shard; returns the
/// plan and the shard certificates.
fn plan_and_shards(
    dir: &Path,
    net: &Path,
    shards: u32,
    tag: &str,
    extra: &[&str],
) -> (PathBuf, Vec<PathBuf>) {
    let plan = dir.join(format!("plan-{tag}.json"));
    let n = shards.to_string();
    let mut args = vec![
        "plan",
        "--net",
        s(net),
        "--shards",
        &n,
        "--out",
        s(&plan),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let o = certify(&args);
    assert_eq!(o.code, 0, "plan: {}", o.stderr);
    let files: Vec<PathBuf> = (0..shards)
        .map(|i| {
            let out = dir.join(format!("{tag}-shard-{i}.cert.json"));
            let which = format!("{i}/{shards}");
            let o = certify(&[
                "--net",
                s(net),
                "--plan",
                s(&plan),
                "--shard",
                &which,
                "--out",
                s(&out),
                "--quiet",
                "--threads",
                "2",
            ]);
            assert_eq!(o.code, 0, "shard {which}: {}", o.stderr);
            assert!(o.stdout.contains(&format!("shard        {which} of plan")));
            out
        })
        .collect();
    (plan, files)
}

fn merge(plan: Option<&Path>, out: &Path, shards: &[&Path]) -> Out {
    let mut args = vec!["merge", "--out", s(out)];
    if let Some(p) = plan {
        args.extend_from_slice(&["--plan", s(p)]);
    }
    args.extend(shards.iter().map(|p| s(p)));
    certify(&args)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.trim()).unwrap()
}

/// `(verdict, eps_x_star, eps_rho)` of `verify --json`, which must accept.
fn verified(cert: &Path) -> (String, String, String) {
    let o = verify(&["--json", s(cert)]);
    assert_eq!(
        o.code,
        0,
        "verify {}: {}{}",
        cert.display(),
        o.stdout,
        o.stderr
    );
    let v = json(&o.stdout);
    let f = |k: &str| v[k].as_str().unwrap().to_string();
    (f("verdict"), f("eps_x_star"), f("eps_rho"))
}

/// The one-machine run.
fn single(dir: &Path, net: &Path) -> (String, String, String) {
    let out = dir.join("single.cert.json");
    let o = certify(&["--net", s(net), "--out", s(&out), "--quiet"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    verified(&out)
}

/// A `k = 2` suite network cut into 1, 2, 4 and 16 shards: every merge is
/// verified, with the verdict and the sharpest radii of one machine.
#[test]
fn k2_shards_merge_to_the_one_machine_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let net = shipped("k2-20-100-m50.bin");
    let one = single(dir.path(), &net);
    assert_eq!(one.0, "holds");
    assert_ne!(one.2, "0", "a network with a real ball around -rho_d x*");
    for shards in [1, 2, 4, 16] {
        let tag = format!("s{shards}");
        let (plan, files) = plan_and_shards(dir.path(), &net, shards, &tag, &[]);
        // Every shard alone is a certificate about its parts.
        let o = verify(&[s(&files[shards as usize - 1])]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert!(
            o.stdout
                .starts_with(&format!("VERIFIED holds on shard {}/{shards}", shards - 1)),
            "{}",
            o.stdout
        );
        let merged = dir.path().join(format!("{tag}.cert.json"));
        let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let o = merge(Some(&plan), &merged, &refs);
        assert_eq!(o.code, 0, "{shards} shards: {}", o.stderr);
        assert!(o.stdout.contains("self-check VERIFIED"), "{}", o.stdout);
        assert_eq!(verified(&merged), one, "{shards} shards");
        // The very trees of one machine, not just its radii: the search
        // decides the same units whatever the plan deals out.
        let faces = |p: &Path| json(&std::fs::read_to_string(p).unwrap())["cover"]["faces"].clone();
        assert!(
            faces(&merged) == faces(&dir.path().join("single.cert.json")),
            "{shards} shards: the merged trees differ from one machine's"
        );
        // An ordinary certificate: no shard field, whole faces.
        let text = std::fs::read_to_string(&merged).unwrap();
        let c = json(&text);
        assert!(c.get("shard").is_none());
        assert!(c["cover"]["faces"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f.get("path").is_none()));
    }
}

/// One machine makes the same certificate with 1, 2 and 3 threads (the
/// sharpest mode prunes each unit with its own level, and the rounds at a
/// fixed one): not only the radii, the very trees; and they are the shipped
/// certificate's.
#[test]
fn one_machine_trees_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let net = shipped("k2-20-100-m50.bin");
    let cover = |threads: &str| {
        let out = dir.path().join(format!("t{threads}.cert.json"));
        let o = certify(&[
            "--net",
            s(&net),
            "--out",
            s(&out),
            "--quiet",
            "--no-verify",
            "--threads",
            threads,
        ]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        json(&std::fs::read_to_string(&out).unwrap())["cover"].clone()
    };
    let one = cover("1");
    assert!(one == cover("2"), "1 and 2 threads: different trees");
    assert!(one == cover("3"), "1 and 3 threads: different trees");
    // And the shipped certificate is exactly what this build makes (after a
    // change to the search: scripts/regenerate-certificates.sh).
    let shipped_cover = json(&std::fs::read_to_string(shipped("k2-20-100-m50.cert.json")).unwrap())
        ["cover"]
        .clone();
    assert!(
        one == shipped_cover,
        "certify no longer makes the shipped k2-20-100-m50 certificate: run scripts/regenerate-certificates.sh"
    );
}

/// The case that needed the merge to run the refinement rounds over the
/// whole sphere: the shard holding `-rho_d x*` alone stops at a radius
/// 0.301; one machine refines it away to 0.
#[test]
fn default_network_in_four_shards_keeps_its_zero_radii() {
    let dir = tempfile::tempdir().unwrap();
    let net = shipped("default.bin");
    let one = single(dir.path(), &net);
    assert_eq!(one, ("holds".into(), "0".into(), "0".into()));
    let (plan, files) = plan_and_shards(dir.path(), &net, 4, "d4", &[]);
    let merged = dir.path().join("merged.cert.json");
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    // Without --plan too: the shards record their settings.
    let o = merge(None, &merged, &refs);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(verified(&merged), one);
    let _ = plan;
}

/// A given claim (`--eps`) goes through the plan to every shard and the
/// merge keeps it.
#[test]
fn given_claim_through_a_plan() {
    let dir = tempfile::tempdir().unwrap();
    let net = shipped("default.bin");
    let (plan, files) = plan_and_shards(dir.path(), &net, 3, "g", &["--eps", "1/10"]);
    let merged = dir.path().join("merged.cert.json");
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let o = merge(Some(&plan), &merged, &refs);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        verified(&merged),
        ("holds".into(), "1/10".into(), "1/10".into())
    );
    // A shard's settings come from the plan alone.
    let o = certify(&[
        "--net",
        s(&net),
        "--plan",
        s(&plan),
        "--shard",
        "0/3",
        "--eps",
        "1/5",
    ]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("--eps"), "{}", o.stderr);
}

fn one_line_rejection(o: &Out, want: &[&str]) {
    assert_eq!(o.code, 1, "stdout {} stderr {}", o.stdout, o.stderr);
    assert_eq!(o.stderr.trim_end().lines().count(), 1, "{}", o.stderr);
    assert!(
        o.stderr.starts_with("certify merge: REJECTED: "),
        "{}",
        o.stderr
    );
    for w in want {
        assert!(o.stderr.contains(w), "{:?} not in {}", w, o.stderr);
    }
}

#[test]
fn bad_merges_are_rejected_naming_the_shard() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let net = shipped("default.bin");
    let (plan, files) = plan_and_shards(d, &net, 4, "a", &[]);
    let out = d.join("merged.cert.json");
    let f: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let name = |p: &Path| p.file_name().unwrap().to_str().unwrap().to_string();

    // Missing shard.
    let o = merge(Some(&plan), &out, &[f[0], f[1], f[3]]);
    one_line_rejection(&o, &["shard 2/4 is missing"]);

    // Duplicate shard (the same file under another name).
    let copy = d.join("copy.cert.json");
    std::fs::copy(f[1], &copy).unwrap();
    let o = merge(Some(&plan), &out, &[f[0], f[1], &copy, f[2], f[3]]);
    one_line_rejection(&o, &["the same shard", &name(f[1]), "copy.cert.json"]);

    // A shard of another network.
    let other_net = shipped("k2-20-100-m50.bin");
    let (plan_b, other) = plan_and_shards(d, &other_net, 4, "b", &[]);
    let o = merge(None, &out, &[f[0], f[1], &other[2], f[3]]);
    one_line_rejection(&o, &["another network", &name(&other[2])]);
    // ... and a plan of another network.
    let o = merge(Some(&plan_b), &out, &f);
    one_line_rejection(&o, &["the plan is for network"]);

    // A shard of another plan of the same network.
    let (plan_c, third) = plan_and_shards(d, &net, 4, "c", &["--resolution", "1/256"]);
    let o = merge(None, &out, &[f[0], f[1], f[2], &third[3]]);
    one_line_rejection(&o, &["another plan", &name(&third[3])]);
    // ... and shards of one plan merged with another plan given.
    let o = merge(Some(&plan_c), &out, &f);
    one_line_rejection(&o, &["made from another plan", &name(f[0])]);

    // A tampered shard: a proved leaf changed to another rule. The checker
    // rejects the merged cell and the merge names the shard it came from.
    let text = std::fs::read_to_string(f[2]).unwrap();
    let mut c = json(&text);
    let faces = c["cover"]["faces"].as_array_mut().unwrap();
    let face = faces
        .iter_mut()
        .find(|f| f["tree"].as_str().unwrap().split(' ').any(|t| t == "K"))
        .expect("the shard has a Cone leaf to tamper with");
    let mut tokens: Vec<String> = face["tree"]
        .as_str()
        .unwrap()
        .split(' ')
        .map(String::from)
        .collect();
    let at = tokens.iter().position(|t| t == "K").unwrap();
    tokens[at] = "R".into();
    face["tree"] = tokens.join(" ").into();
    let bad = d.join("tampered.cert.json");
    std::fs::write(&bad, serde_json::to_string(&c).unwrap()).unwrap();
    let o = verify(&[s(&bad)]);
    assert_eq!(o.code, 1, "verify rejects the tampered shard alone");
    let o = merge(Some(&plan), &out, &[f[0], f[1], &bad, f[3]]);
    one_line_rejection(&o, &["tampered.cert.json (shard 2)", "rule region"]);

    // A tree that breaks the format (a split with one child).
    let mut c = json(&text);
    let tree = c["cover"]["faces"][0]["tree"].as_str().unwrap().to_string();
    c["cover"]["faces"][0]["tree"] = format!("x1 {tree}").into();
    let broken = d.join("broken.cert.json");
    std::fs::write(&broken, serde_json::to_string(&c).unwrap()).unwrap();
    let o = merge(Some(&plan), &out, &[f[0], f[1], &broken, f[3]]);
    one_line_rejection(&o, &["broken.cert.json"]);

    // A shard whose parts are not the plan's.
    let mut c = json(&text);
    c["cover"]["faces"].as_array_mut().unwrap().pop();
    let short = d.join("short.cert.json");
    std::fs::write(&short, serde_json::to_string(&c).unwrap()).unwrap();
    let o = merge(Some(&plan), &out, &[f[0], f[1], &short, f[3]]);
    one_line_rejection(&o, &["short.cert.json", "not the ones the plan gives"]);
    // ... and without the plan, the parts do not tile the faces.
    let o = merge(None, &out, &[f[0], f[1], &short, f[3]]);
    one_line_rejection(&o, &["do not tile"]);

    // An ordinary certificate is not a shard.
    let o = merge(None, &out, &[&shipped("default.cert.json")]);
    one_line_rejection(&o, &["not a shard certificate"]);
    assert!(!out.exists(), "nothing written by a rejected merge");
}

#[test]
fn shard_arguments_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let net = shipped("default.bin");
    let plan = d.join("plan.json");
    let o = certify(&[
        "plan",
        "--net",
        s(&net),
        "--shards",
        "2",
        "--out",
        s(&plan),
        "--quiet",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let try_shard = |net: &Path, which: &str| {
        certify(&[
            "--net",
            s(net),
            "--plan",
            s(&plan),
            "--shard",
            which,
            "--out",
            s(&d.join("x.cert.json")),
        ])
    };
    for bad in ["2/2", "0/3", "1", "a/2", "-1/2"] {
        let o = try_shard(&net, bad);
        assert_eq!(o.code, 2, "--shard {bad}");
        assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    }
    let o = try_shard(&shipped("k2-20-100-m50.bin"), "0/2");
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("the plan is for network"), "{}", o.stderr);
    // A plan whose parts do not tile the faces.
    let mut p = json(&std::fs::read_to_string(&plan).unwrap());
    p["parts"].as_array_mut().unwrap().remove(0);
    let bad = d.join("bad-plan.json");
    std::fs::write(&bad, serde_json::to_string(&p).unwrap()).unwrap();
    let shard_of_bad_plan = || {
        certify(&[
            "--net",
            s(&net),
            "--plan",
            s(&bad),
            "--shard",
            "0/2",
            "--out",
            s(&d.join("x.cert.json")),
        ])
    };
    let o = shard_of_bad_plan();
    assert_eq!(o.code, 2);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(!d.join("x.cert.json").exists());
    // A plan that tiles the faces with parts deeper than the search's units
    // (a part of a unit would make trees one machine does not make).
    let mut p = json(&std::fs::read_to_string(&plan).unwrap());
    let parts = p["parts"].as_array_mut().unwrap();
    let first = parts.remove(0);
    let deep = hvcert::certifier::search::unit_depth(2) + 1;
    let mut paths = vec![first["path"].as_str().unwrap().to_string()];
    while paths[0].len() < deep {
        paths = paths
            .into_iter()
            .flat_map(|q| [format!("{q}0"), format!("{q}1")])
            .collect();
    }
    for q in paths {
        let mut part = first.clone();
        part["path"] = q.into();
        parts.push(part);
    }
    std::fs::write(&bad, serde_json::to_string(&p).unwrap()).unwrap();
    let o = shard_of_bad_plan();
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("deeper than the search's units"),
        "{}",
        o.stderr
    );
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
}

/// The format's rules for parts (`cover.faces[].path`), read through
/// `Certificate::from_json` (what `verify` reads).
#[test]
fn shard_cover_format() {
    use hvcert::format::certificate::Certificate;
    let dir = tempfile::tempdir().unwrap();
    let (_, files) = plan_and_shards(dir.path(), &shipped("default.bin"), 2, "f", &[]);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(Certificate::from_json(&text).unwrap().shard.is_some());
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = json(&text);
        f(&mut c);
        Certificate::from_json(&serde_json::to_string(&c).unwrap())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    // Parts of faces without a shard field: not an ordinary certificate.
    let e = edit(&|c| {
        c.as_object_mut().unwrap().remove("shard");
    });
    assert!(e.contains("only a shard certificate"), "{e}");
    // A part inside another part.
    let e = edit(&|c| {
        let faces = c["cover"]["faces"].as_array_mut().unwrap();
        let mut inner = faces[0].clone();
        inner["path"] = format!("{}0", inner["path"].as_str().unwrap()).into();
        faces.push(inner);
    });
    assert!(e.contains("overlap"), "{e}");
    // The same part twice.
    let e = edit(&|c| {
        let faces = c["cover"]["faces"].as_array_mut().unwrap();
        let again = faces[0].clone();
        faces.push(again);
    });
    assert!(e.contains("appears twice"), "{e}");
    // Not a 0/1 path.
    let e = edit(&|c| c["cover"]["faces"][0]["path"] = "012".into());
    assert!(e.contains("0/1 steps"), "{e}");
    // No part at all.
    let e = edit(&|c| c["cover"]["faces"] = serde_json::json!([]));
    assert!(e.contains("no part"), "{e}");
    // A shard index outside its count, a bad plan hash.
    let e = edit(&|c| c["shard"]["index"] = 2.into());
    assert!(!e.is_empty(), "index 2 of 2 shards is refused");
    let e = edit(&|c| c["shard"]["plan_sha256"] = "abc".into());
    assert!(
        !e.is_empty(),
        "a plan hash that is not sha256 hex is refused"
    );
}

/// `k = 1`: a face of the 1-cube has no parts. Shards claiming halves of one
/// are refused (exit 1, one line), not a panic.
#[test]
fn k1_parts_are_rejected_by_the_merge() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let net = d.join("abs.bin");
    hvcert::format::network::write_network_file(&net, &hvcert::fuzzing::fuzz_network()).unwrap();
    let (_, files) = plan_and_shards(d, &net, 2, "k1", &[]);
    let mut c = json(&std::fs::read_to_string(&files[0]).unwrap());
    c["cover"]["max_depth"] = 100.into();
    let faces = c["cover"]["faces"].as_array_mut().unwrap();
    assert_eq!(faces.len(), 1, "one whole face per shard");
    let mut halves = faces[0].clone();
    faces[0]["path"] = "0".into();
    halves["path"] = "1".into();
    faces.push(halves);
    let halved = d.join("halved.cert.json");
    std::fs::write(&halved, serde_json::to_string(&c).unwrap()).unwrap();
    let o = merge(None, &d.join("merged.cert.json"), &[&halved, &files[1]]);
    one_line_rejection(&o, &["halved.cert.json", "no parts"]);
}
