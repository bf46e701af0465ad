//! The sampler's reproducibility and the `certify` command line.

use std::process::Command;

use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::format::network::{read_network_file, Measurement, Network};

fn sha(spec: &SampleSpec) -> String {
    Network::sha256_hex(&sample_network(spec).to_bytes())
}

#[test]
fn fixed_seeds_give_fixed_bytes() {
    // These hashes pin generator hvcert-sample-v1: any change to the stream,
    // the Box-Muller evaluation, the rounding or the file layout shows here.
    assert_eq!(
        sha(&SampleSpec {
            latent: 2,
            widths: vec![50, 500],
            measurement: Measurement::Identity,
            seed: 1,
            target: None,
        }),
        "2b850abc70b3fc355dbadb82622d7e86577e6ab7286ec92ad63d7143e5c4561f"
    );
    assert_eq!(
        sha(&SampleSpec {
            latent: 3,
            widths: vec![10, 40],
            measurement: Measurement::Matrix { m: 20 },
            seed: 42,
            target: None,
        }),
        HASH_K3
    );
}

const HASH_K3: &str = "c47b4db52300e543b7aae7c16db6eb85f744057b6110b811ea5ccb54db47519e";

#[test]
fn the_shipped_default_network_is_the_sampled_one() {
    let loaded = read_network_file(std::path::Path::new("certificates/default.bin")).unwrap();
    assert_eq!(
        loaded.sha256,
        "2b850abc70b3fc355dbadb82622d7e86577e6ab7286ec92ad63d7143e5c4561f"
    );
}

fn certify(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_certify"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sample_then_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.bin");
    let p = path.to_str().unwrap();
    let (code, out, err) = certify(&[
        "sample",
        "--latent",
        "2",
        "--widths",
        "3,4",
        "--measurements",
        "2",
        "--seed",
        "5",
        "--target=0.5,-1",
        "--out",
        p,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("sha256"));
    let net = read_network_file(&path).unwrap().network;
    assert_eq!(net.target, vec![0.5, -1.0]);
    assert_eq!(net.sampling.unwrap().seed, 5);
    let (code, out, err) = certify(&["inspect", p, "--at=1/2,-1"]);
    assert_eq!(code, 0, "{err}");
    // At x = x* the objective is exactly zero and x* is stationary.
    assert!(out.contains("f(x)         0\n"), "{out}");
    assert!(out.contains("x is a stationary point"), "{out}");
    assert!(
        out.contains("rho_d        3.18309886183790671537767"),
        "{out}"
    );
}

#[test]
fn bad_arguments_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("n.bin");
    let p = p.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["inspect", "/nonexistent/file.bin"],
            "/nonexistent/file.bin",
        ),
        (vec!["inspect", dir.path().to_str().unwrap()], "directory"),
        (
            vec![
                "sample",
                "--latent",
                "2",
                "--widths",
                "2000000",
                "--inversion",
                "--seed",
                "1",
                "--out",
                p,
            ],
            "exceeds cap",
        ),
        (
            vec![
                "sample",
                "--latent",
                "2",
                "--widths",
                "3,0",
                "--inversion",
                "--seed",
                "1",
                "--out",
                p,
            ],
            "width 0",
        ),
        (
            vec![
                "sample",
                "--latent",
                "2",
                "--widths",
                "3",
                "--inversion",
                "--seed",
                "1",
                "--target=1",
                "--out",
                p,
            ],
            "--target",
        ),
        (
            vec![
                "sample",
                "--latent",
                "2",
                "--widths",
                "3",
                "--inversion",
                "--seed",
                "1",
                "--target=0,0",
                "--out",
                p,
            ],
            "zero",
        ),
        (
            vec![
                "sample",
                "--latent",
                "1",
                "--widths",
                "3",
                "--inversion",
                "--seed",
                "1",
                "--out",
                "/nonexistent/dir/x.bin",
            ],
            "/nonexistent/dir/x.bin",
        ),
    ];
    for (args, needle) in cases {
        let (code, _, err) = certify(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    // Inspect with a point of the wrong size or malformed coordinates.
    let (code, _, _) = certify(&[
        "sample",
        "--latent",
        "2",
        "--widths",
        "3",
        "--inversion",
        "--seed",
        "1",
        "--out",
        p,
    ]);
    assert_eq!(code, 0);
    for at in ["--at=1", "--at=1,2,3", "--at=1,x", "--at=1/0,1"] {
        let (code, _, err) = certify(&["inspect", p, at]);
        assert_eq!(code, 2, "{at}: {err}");
        assert!(err.starts_with("certify: --at"), "{at}: {err}");
    }
}
