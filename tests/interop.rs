//! `certify import` and `certify export` (issue 12, item 1) on real files
//! written by the Python `safetensors` and `numpy` packages
//! (`tests/fixtures/interop/make_fixtures.py`).

use std::path::{Path, PathBuf};
use std::process::Command;

use hvcert::format::network::read_network_file;
use hvcert::interop::{read_tensors, FileKind};

const CERTIFY: &str = env!("CARGO_BIN_EXE_certify");
const VERIFY: &str = env!("CARGO_BIN_EXE_verify");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/interop")
        .join(name)
}

fn run(bin: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn saved_networks_import_exactly_and_certify() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.bin");
    let b = dir.path().join("b.bin");
    // float32 safetensors with zero biases, and the same values as float64
    // in an .npz (W1 in Fortran order, names under a prefix): one network.
    let st = fixture("seq.safetensors");
    let (code, out, err) = run(
        CERTIFY,
        &[
            "import",
            s(&st),
            "--measurements-tensor",
            "A",
            "--target-tensor",
            "x_star",
            "--out",
            s(&a),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("(safetensors): k = 2, widths 10/40, m = 20"),
        "{out}"
    );
    let npz = fixture("seq.npz");
    let (code, out, err) = run(
        CERTIFY,
        &[
            "import",
            s(&npz),
            "--measurements-tensor",
            "A",
            "--target-tensor",
            "x_star",
            "--out",
            s(&b),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("(npz)"), "{out}");
    let (na, nb) = (
        read_network_file(&a).unwrap(),
        read_network_file(&b).unwrap(),
    );
    assert_eq!(na.sha256, nb.sha256, "f32 and f64 copies give one network");
    // The values are the float32 values exactly (first entry of W1 checked
    // against the file's own bytes).
    let (_, tensors) = read_tensors(&std::fs::read(&st).unwrap()).unwrap();
    assert_eq!(na.network.weights[0], tensors["0.weight"].values);
    // It certifies, and verify accepts the certificate.
    let cert = dir.path().join("a.cert.json");
    let (code, _, err) = run(CERTIFY, &["--net", s(&a), "--out", s(&cert), "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = run(VERIFY, &[s(&cert)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("VERIFIED"), "{out}");
    // float16, compressed, A = I.
    let h = dir.path().join("h.bin");
    let (code, out, err) = run(
        CERTIFY,
        &[
            "import",
            s(&fixture("half.npz")),
            "--inversion",
            "--target-tensor",
            "x_star",
            "--out",
            s(&h),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("A = I"), "{out}");
}

#[test]
fn export_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("n.bin");
    let (code, _, err) = run(
        CERTIFY,
        &[
            "sample",
            "--latent",
            "3",
            "--widths",
            "7,19,33",
            "--measurements",
            "11",
            "--seed",
            "5",
            "--out",
            s(&net),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let npz = dir.path().join("n.npz");
    let (code, out, err) = run(CERTIFY, &["export", s(&net), "--npz", s(&npz)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("0.weight, 1.weight, 2.weight, A, x_star"),
        "{out}"
    );
    let back = dir.path().join("back.bin");
    let (code, _, err) = run(
        CERTIFY,
        &[
            "import",
            s(&npz),
            "--measurements-tensor",
            "A",
            "--target-tensor",
            "x_star",
            "--out",
            s(&back),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (orig, back) = (
        read_network_file(&net).unwrap().network,
        read_network_file(&back).unwrap().network,
    );
    assert_eq!(orig.latent, back.latent);
    assert_eq!(orig.widths, back.widths);
    assert_eq!(orig.measurement, back.measurement);
    // Bit for bit (the sampling record is not part of the matrices).
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for (w, v) in orig.weights.iter().zip(&back.weights) {
        assert_eq!(bits(w), bits(v));
    }
    assert_eq!(
        bits(orig.a.as_ref().unwrap()),
        bits(back.a.as_ref().unwrap())
    );
    assert_eq!(bits(&orig.target), bits(&back.target));
    // Refuses to overwrite its input.
    let (code, _, err) = run(CERTIFY, &["export", s(&net), "--npz", s(&net)]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn bad_files_are_one_line_errors_naming_the_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.bin");
    let truncated = dir.path().join("cut.safetensors");
    let full = std::fs::read(fixture("seq.safetensors")).unwrap();
    std::fs::write(&truncated, &full[..full.len() - 100]).unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, b"HVNETBIN but not really").unwrap();
    let cases: Vec<(PathBuf, Vec<&str>, &str)> = vec![
        (
            fixture("bias.safetensors"),
            vec![],
            "tensor '0.bias': entry 0 is 0.5",
        ),
        (
            fixture("nan.npz"),
            vec![],
            "tensor '2.weight': entry 34 is NaN",
        ),
        (
            fixture("int.npz"),
            vec![],
            "tensor '0.weight': dtype '<i4' is not supported",
        ),
        (
            fixture("shape.npz"),
            vec![],
            "tensor '2.weight': shape [10, 40] does not follow",
        ),
        (
            fixture("single.npy"),
            vec![],
            "no layers named like nn.Sequential",
        ),
        (
            fixture("seq.npz"),
            vec!["--layers", "nope.weight"],
            "no tensor 'nope.weight'",
        ),
        (
            fixture("seq.npz"),
            vec!["--layers", "net.0.weight,A"],
            "tensor 'A': shape [20, 40] does not follow",
        ),
        (truncated, vec![], "safetensors:"),
        (junk, vec![], "not a safetensors, .npz or .npy file"),
        (PathBuf::from("/dev/zero"), vec![], "not a regular file"),
    ];
    for (file, extra, needle) in cases {
        let mut args = vec![
            "import",
            s(&file),
            "--inversion",
            "--target",
            "1,0",
            "--out",
            s(&out),
        ];
        args.extend(extra);
        let (code, stdout, err) = run(CERTIFY, &args);
        assert_eq!(code, 2, "{file:?}: {stdout}{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{file:?}: {err}");
        assert!(err.contains(needle), "{file:?}: {err:?} lacks {needle:?}");
        assert!(!out.exists());
    }
}

#[test]
fn half_precision_safetensors_convert_exactly() {
    use safetensors::tensor::{serialize, TensorView};
    use safetensors::Dtype;
    // bf16 and f16 bit patterns, among them the smallest subnormals and the
    // largest finite values; each is exactly a binary64 value.
    let bf: Vec<u16> = vec![0x3f80, 0xc000, 0x0001, 0x7f7f, 0x8001, 0x0000];
    let hf: Vec<u16> = vec![0x3c00, 0xc000, 0x0001, 0x7bff, 0x8001, 0x0000];
    let bytes = |v: &[u16]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let (b, h) = (bytes(&bf), bytes(&hf));
    let views = vec![
        ("b", TensorView::new(Dtype::BF16, vec![2, 3], &b).unwrap()),
        ("h", TensorView::new(Dtype::F16, vec![2, 3], &h).unwrap()),
    ];
    let file = serialize(views, None).unwrap();
    let (kind, t) = read_tensors(&file).unwrap();
    assert_eq!(kind, FileKind::Safetensors);
    let bf_want = [
        1.0,
        -2.0,
        2f64.powi(-133),
        (2.0 - 2f64.powi(-7)) * 2f64.powi(127),
        -(2f64.powi(-133)),
        0.0,
    ];
    let hf_want = [1.0, -2.0, 2f64.powi(-24), 65504.0, -(2f64.powi(-24)), 0.0];
    assert_eq!(t["b"].values, bf_want);
    assert_eq!(t["h"].values, hf_want);
    assert_eq!(t["b"].shape, vec![2, 3]);
}
