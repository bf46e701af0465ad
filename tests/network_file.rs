//! The network file `weights.bin`: round trips and every malformed class.

use hvcert::format::network::{
    read_network_file, write_network_file, FileError, Measurement, Network, NetworkError,
    SamplingInfo, MAX_ENTRIES,
};
use proptest::prelude::*;

/// A valid network with deterministic, varied entries (including -0.0 and a
/// subnormal).
fn sample(k: usize, widths: &[usize], m: Option<usize>, sampling: bool) -> Network {
    let mut counter = 0u64;
    let mut next = || {
        counter += 1;
        match counter % 7 {
            0 => -0.0,
            3 => f64::from_bits(counter), // subnormal
            _ => (counter as f64 - 20.0) / 8.0 + 1.0 / 3.0,
        }
    };
    let mut weights = Vec::new();
    let mut prev = k;
    for &n in widths {
        weights.push((0..n * prev).map(|_| next()).collect());
        prev = n;
    }
    let (measurement, a) = match m {
        None => (Measurement::Identity, None),
        Some(m) => (
            Measurement::Matrix { m },
            Some((0..m * prev).map(|_| next()).collect()),
        ),
    };
    let mut target: Vec<f64> = (0..k).map(|_| next()).collect();
    target[0] = 1.5;
    Network {
        latent: k,
        widths: widths.to_vec(),
        measurement,
        weights,
        a,
        target,
        sampling: sampling.then_some(SamplingInfo {
            generator: 1,
            seed: 0xdead_beef_0123_4567,
        }),
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Equality bit for bit (so -0.0 != 0.0 and NaN payloads would count).
fn assert_identical(a: &Network, b: &Network) {
    assert_eq!(a.latent, b.latent);
    assert_eq!(a.widths, b.widths);
    assert_eq!(a.measurement, b.measurement);
    assert_eq!(a.sampling, b.sampling);
    assert_eq!(a.weights.len(), b.weights.len());
    for (x, y) in a.weights.iter().zip(&b.weights) {
        assert_eq!(bits(x), bits(y));
    }
    assert_eq!(a.a.as_deref().map(bits), b.a.as_deref().map(bits));
    assert_eq!(bits(&a.target), bits(&b.target));
}

/// Header bytes: magic, version, flags, k, d, widths, m.
fn header(version: u32, flags: u32, k: u32, widths: &[u32], m: u32) -> Vec<u8> {
    let mut b = b"HVNETBIN".to_vec();
    for x in [version, flags, k, widths.len() as u32] {
        b.extend_from_slice(&x.to_le_bytes());
    }
    for w in widths {
        b.extend_from_slice(&w.to_le_bytes());
    }
    b.extend_from_slice(&m.to_le_bytes());
    b
}

fn err(bytes: &[u8]) -> NetworkError {
    Network::from_bytes(bytes).expect_err("malformed bytes must be rejected")
}

fn round_trip(net: &Network) {
    net.validate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weights.bin");
    let sha = write_network_file(&path, net).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes, net.to_bytes());
    assert_eq!(sha, Network::sha256_hex(&bytes));
    assert_eq!(sha.len(), 64);
    assert!(sha.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));

    let loaded = read_network_file(&path).unwrap();
    assert_eq!(loaded.sha256, sha);
    assert_eq!(loaded.path, path);
    assert_identical(&loaded.network, net);
    assert_eq!(&loaded.network, net);
    assert_eq!(loaded.network.to_bytes(), bytes);

    let parsed = Network::from_bytes(&bytes).unwrap();
    assert_identical(&parsed, net);
}

#[test]
fn round_trip_inversion_d1() {
    round_trip(&sample(2, &[5], None, false));
    round_trip(&sample(2, &[5], None, true));
}

#[test]
fn round_trip_inversion_d3() {
    round_trip(&sample(3, &[4, 6, 9], None, false));
    round_trip(&sample(3, &[4, 6, 9], None, true));
}

#[test]
fn round_trip_matrix_d1() {
    round_trip(&sample(2, &[7], Some(3), false));
    round_trip(&sample(2, &[7], Some(3), true));
}

#[test]
fn round_trip_matrix_d3() {
    round_trip(&sample(4, &[5, 3, 8], Some(6), false));
    round_trip(&sample(4, &[5, 3, 8], Some(6), true));
}

#[test]
fn layout_is_as_documented() {
    let net = sample(1, &[2], Some(1), true);
    let b = net.to_bytes();
    assert_eq!(&b[..8], b"HVNETBIN");
    assert_eq!(&b[8..12], &1u32.to_le_bytes()); // version
    assert_eq!(&b[12..16], &2u32.to_le_bytes()); // flags: sampling only
    assert_eq!(&b[16..20], &1u32.to_le_bytes()); // k
    assert_eq!(&b[20..24], &1u32.to_le_bytes()); // d
    assert_eq!(&b[24..28], &2u32.to_le_bytes()); // n_1
    assert_eq!(&b[28..32], &1u32.to_le_bytes()); // m
                                                 // W_1 (2 values), A (2 values), x* (1 value), then generator and seed.
    assert_eq!(b.len(), 32 + 8 * 5 + 12);
    assert_eq!(&b[32..40], &net.weights[0][0].to_le_bytes());
    assert_eq!(&b[48..56], &net.a.as_ref().unwrap()[0].to_le_bytes());
    assert_eq!(&b[64..72], &1.5f64.to_le_bytes());
    assert_eq!(&b[72..76], &1u32.to_le_bytes());
    assert_eq!(&b[76..84], &0xdead_beef_0123_4567u64.to_le_bytes());

    let inv = sample(1, &[2], None, false).to_bytes();
    assert_eq!(&inv[12..16], &1u32.to_le_bytes()); // flags: inversion only
    assert_eq!(&inv[28..32], &0u32.to_le_bytes()); // m = 0
    assert_eq!(inv.len(), 32 + 8 * 3);
}

#[test]
fn accessors() {
    let net = sample(3, &[4, 6, 9], Some(5), false);
    assert_eq!(net.depth(), 3);
    assert_eq!(net.m(), 5);
    assert_eq!(
        (0..=3).map(|i| net.width(i)).collect::<Vec<_>>(),
        [3, 4, 6, 9]
    );
    let inv = sample(3, &[4, 6, 9], None, false);
    assert_eq!(inv.m(), 9);
}

#[test]
fn sha256_known_value() {
    assert_eq!(
        Network::sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

// ---------------------------------------------------------------------------
// Malformed files, one test per class.
// ---------------------------------------------------------------------------

#[test]
fn bad_magic() {
    let mut b = sample(2, &[3], None, false).to_bytes();
    b[0] = b'X';
    let e = err(&b);
    assert!(matches!(e, NetworkError::BadMagic { .. }), "{e}");
    assert!(e.to_string().starts_with("bad magic"), "{e}");
    // A short file that is not a prefix of the magic is bad magic too.
    assert!(matches!(err(b"PK\x03"), NetworkError::BadMagic { .. }));
}

#[test]
fn unsupported_version() {
    let mut b = sample(2, &[3], None, false).to_bytes();
    b[8..12].copy_from_slice(&7u32.to_le_bytes());
    let e = err(&b);
    assert_eq!(e, NetworkError::UnsupportedVersion(7));
    assert!(e.to_string().starts_with("unsupported version 7"), "{e}");
}

#[test]
fn unknown_flags() {
    let mut b = sample(2, &[3], None, false).to_bytes();
    b[12..16].copy_from_slice(&5u32.to_le_bytes());
    let e = err(&b);
    assert_eq!(e, NetworkError::UnknownFlags(4));
    assert_eq!(e.to_string(), "unknown flags 0x4");
}

#[test]
fn truncated_header() {
    let b = sample(2, &[3, 4], None, false).to_bytes();
    // Cut inside the magic, the fixed fields, the widths and m.
    for cut in [0, 5, 8, 10, 20, 26, 30, 35] {
        let e = err(&b[..cut]);
        assert!(
            matches!(e, NetworkError::TruncatedHeader { actual, .. } if actual == cut as u64),
            "cut {cut}: {e}"
        );
        assert!(e.to_string().starts_with("truncated header"), "{e}");
    }
    assert_eq!(
        err(&b[..30]).to_string(),
        "truncated header: expected at least 36 bytes, file has 30"
    );
}

#[test]
fn truncated_body() {
    let b = sample(2, &[3, 4], Some(2), true).to_bytes();
    let len = b.len() as u64;
    for cut in [36, 37, b.len() - 12, b.len() - 1] {
        let e = err(&b[..cut]);
        assert_eq!(
            e,
            NetworkError::Truncated {
                expected: len,
                actual: cut as u64
            }
        );
        assert_eq!(
            e.to_string(),
            format!("truncated: expected {len} bytes, file has {cut}")
        );
    }
}

#[test]
fn trailing_bytes() {
    let mut b = sample(2, &[3, 4], None, false).to_bytes();
    let len = b.len() as u64;
    b.extend_from_slice(&[0; 3]);
    let e = err(&b);
    assert_eq!(
        e,
        NetworkError::TrailingBytes {
            expected: len,
            actual: len + 3
        }
    );
    assert!(e.to_string().starts_with("trailing bytes"), "{e}");
    assert!(e.to_string().contains("3 extra"), "{e}");
}

#[test]
fn zero_k() {
    let e = err(&header(1, 1, 0, &[3], 0));
    assert_eq!(e, NetworkError::ZeroLatent);
    let mut net = sample(2, &[3], None, false);
    net.latent = 0;
    net.target.clear();
    net.weights[0].clear();
    assert_eq!(net.validate(), Err(NetworkError::ZeroLatent));
}

#[test]
fn zero_d() {
    let e = err(&header(1, 1, 2, &[], 0));
    assert_eq!(e, NetworkError::ZeroDepth);
    assert_eq!(e.to_string(), "depth d is 0");
}

#[test]
fn zero_width() {
    let e = err(&header(1, 1, 2, &[3, 0, 4], 0));
    assert_eq!(e, NetworkError::ZeroWidth { layer: 2 });
    assert_eq!(e.to_string(), "layer 2 has width 0");
}

#[test]
fn m_zero_without_inversion() {
    let e = err(&header(1, 0, 2, &[3], 0));
    assert_eq!(e, NetworkError::ZeroMeasurements);
    let mut net = sample(2, &[3], Some(2), false);
    net.measurement = Measurement::Matrix { m: 0 };
    net.a = Some(vec![]);
    assert_eq!(net.validate(), Err(NetworkError::ZeroMeasurements));
}

#[test]
fn m_nonzero_with_inversion() {
    let e = err(&header(1, 1, 2, &[3], 3));
    assert_eq!(e, NetworkError::MeasurementsWithInversion { m: 3 });
}

#[test]
fn dimension_overflow() {
    // Products of two u32 fit in u64, their sum does not.
    let e = err(&header(1, 0, u32::MAX, &[u32::MAX, u32::MAX], u32::MAX));
    assert!(matches!(e, NetworkError::DimensionOverflow { .. }), "{e}");
    assert!(e.to_string().starts_with("dimension overflow"), "{e}");
    // The entry count fits, the byte length (8 per entry) does not.
    let e = err(&header(1, 1, 1 << 31, &[1 << 31], 0));
    assert!(matches!(e, NetworkError::DimensionOverflow { .. }), "{e}");
    // In memory, usize products overflow too (no allocation happens).
    let mut net = sample(2, &[3], None, false);
    net.latent = usize::MAX / 2;
    net.widths = vec![usize::MAX / 2];
    assert!(matches!(
        net.validate(),
        Err(NetworkError::DimensionOverflow { .. })
    ));
}

#[test]
fn exceeds_cap() {
    // A width above the cap.
    let e = err(&header(1, 1, 2, &[2_000_000], 0));
    assert_eq!(
        e,
        NetworkError::ExceedsCap {
            what: "width of layer 1".into(),
            value: 2_000_000,
            cap: 1_000_000
        }
    );
    assert_eq!(
        e.to_string(),
        "exceeds cap: width of layer 1 is 2000000, the maximum is 1000000"
    );
    // k, d and m above their caps.
    assert!(matches!(err(&header(1, 1, 4097, &[3], 0)),
        NetworkError::ExceedsCap { what, .. } if what.contains('k')));
    assert!(matches!(err(&header(1, 1, 2, &[3; 65], 0)),
        NetworkError::ExceedsCap { what, .. } if what.contains("depth")));
    assert!(matches!(err(&header(1, 0, 2, &[3], 1_000_001)),
        NetworkError::ExceedsCap { what, .. } if what == "m"));
}

#[test]
fn exceeds_total_entries_cap_fast() {
    // A 40-byte file claiming every dimension at its cap: 4096 * 10^6 +
    // 10^12 + 4096 entries (about 8 TB). Rejected from the header alone.
    let mut b = header(1, 0, 4096, &[1_000_000], 1_000_000);
    b.extend_from_slice(&[0; 8]);
    assert_eq!(b.len(), 40);
    let start = std::time::Instant::now();
    let e = err(&b);
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
    assert!(
        matches!(&e, NetworkError::ExceedsCap { cap, .. } if *cap == MAX_ENTRIES),
        "{e}"
    );
    assert!(e.to_string().contains("total number"), "{e}");

    // Through the file reader too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.bin");
    std::fs::write(&path, &b).unwrap();
    let fe = read_network_file(&path).unwrap_err();
    assert!(matches!(
        fe.network_error(),
        Some(NetworkError::ExceedsCap { .. })
    ));
}

/// Overwrites entry number `index` of the body (file order) with `v`.
fn patch_entry(bytes: &mut [u8], header_len: usize, index: usize, v: f64) {
    let at = header_len + 8 * index;
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn nan_entry() {
    // k = 2, widths [3, 4]: header 8 + 16 + 8 + 4 = 36 bytes; W_1 has 6
    // entries, W_2 is 4 x 3: W_2[3,1] is entry 6 + 3 * 3 + 1.
    let net = sample(2, &[3, 4], Some(2), false);
    let mut b = net.to_bytes();
    patch_entry(&mut b, 36, 6 + 3 * 3 + 1, f64::NAN);
    let e = err(&b);
    assert_eq!(
        e,
        NetworkError::NonFinite {
            name: "W_2[3,1]".into(),
            kind: "NaN"
        }
    );
    assert_eq!(e.to_string(), "entry W_2[3,1] is NaN");
    // A NaN with another payload in A: A[1,2] is entry 6 + 12 + 1 * 4 + 2.
    let mut b = net.to_bytes();
    patch_entry(
        &mut b,
        36,
        6 + 12 + 4 + 2,
        f64::from_bits(0x7ff0_0000_0000_0001),
    );
    assert_eq!(err(&b).to_string(), "entry A[1,2] is NaN");
    // In memory.
    let mut bad = net.clone();
    bad.weights[0][5] = f64::NAN;
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "entry W_1[2,1] is NaN"
    );
}

#[test]
fn infinite_entry() {
    let net = sample(2, &[3], None, false);
    // Header 32 bytes; W_1 has 6 entries, then x* (2 entries).
    let mut b = net.to_bytes();
    patch_entry(&mut b, 32, 7, f64::NEG_INFINITY);
    let e = err(&b);
    assert!(matches!(e, NetworkError::NonFinite { .. }), "{e}");
    assert_eq!(e.to_string(), "entry x*[1] is -infinity");
    let mut b = net.to_bytes();
    patch_entry(&mut b, 32, 0, f64::INFINITY);
    assert_eq!(err(&b).to_string(), "entry W_1[0,0] is +infinity");
}

#[test]
fn target_all_zero() {
    let net = sample(2, &[3], None, false);
    let mut b = net.to_bytes();
    patch_entry(&mut b, 32, 6, 0.0);
    patch_entry(&mut b, 32, 7, -0.0);
    let e = err(&b);
    assert_eq!(e, NetworkError::ZeroTarget);
    assert_eq!(e.to_string(), "x* is zero");
    // -0.0 next to a nonzero value is fine.
    let mut ok = net.clone();
    ok.target = vec![-0.0, 2.0];
    round_trip(&ok);
    // A subnormal is not zero.
    ok.target = vec![0.0, f64::from_bits(1)];
    round_trip(&ok);
}

#[test]
fn in_memory_shape_errors() {
    let net = sample(2, &[3, 4], Some(2), false);
    let mut bad = net.clone();
    bad.weights[1].pop();
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "wrong shape: W_2 has length 11, expected 12"
    );
    let mut bad = net.clone();
    bad.weights.pop();
    assert!(matches!(
        bad.validate(),
        Err(NetworkError::WrongShape { .. })
    ));
    let mut bad = net.clone();
    bad.a = None;
    assert!(matches!(
        bad.validate(),
        Err(NetworkError::InconsistentMeasurement(_))
    ));
    let mut bad = net.clone();
    bad.measurement = Measurement::Identity;
    assert!(matches!(
        bad.validate(),
        Err(NetworkError::InconsistentMeasurement(_))
    ));
    let mut bad = net;
    bad.target.push(1.0);
    assert!(matches!(
        bad.validate(),
        Err(NetworkError::WrongShape { .. })
    ));
}

#[test]
#[should_panic(expected = "invalid network")]
fn to_bytes_panics_on_invalid() {
    let mut net = sample(2, &[3], None, false);
    net.target = vec![0.0, 0.0];
    let _ = net.to_bytes();
}

#[test]
fn write_rejects_invalid() {
    let mut net = sample(2, &[3], None, false);
    net.weights[0][0] = f64::NAN;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.bin");
    let e = write_network_file(&path, &net).unwrap_err();
    assert!(matches!(e, FileError::Network { .. }));
    assert!(!path.exists());
}

#[test]
fn read_nonexistent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.bin");
    let e = read_network_file(&path).unwrap_err();
    assert!(matches!(e, FileError::NotFound { .. }), "{e}");
    assert_eq!(e.path(), path);
    assert_eq!(e.to_string(), format!("{}: file not found", path.display()));
}

#[test]
fn read_directory() {
    let dir = tempfile::tempdir().unwrap();
    let e = read_network_file(dir.path()).unwrap_err();
    assert!(matches!(e, FileError::IsDirectory { .. }), "{e}");
    assert!(e
        .to_string()
        .starts_with(&format!("{}: ", dir.path().display())));
    assert!(e.to_string().contains("is a directory"), "{e}");
}

#[test]
fn file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.bin");
    let full = sample(2, &[3], None, false).to_bytes();
    std::fs::write(&path, &full[..full.len() - 4]).unwrap();
    let e = read_network_file(&path).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: truncated: expected {} bytes, file has {}",
            path.display(),
            full.len(),
            full.len() - 4
        )
    );
    assert!(!e.to_string().contains('\n'));

    // Trailing bytes are seen by the file reader too.
    let mut long = full.clone();
    long.push(0);
    std::fs::write(&path, &long).unwrap();
    let e = read_network_file(&path).unwrap_err();
    assert!(matches!(
        e.network_error(),
        Some(NetworkError::TrailingBytes { .. })
    ));

    // A file shorter than any header.
    std::fs::write(&path, b"HVNET").unwrap();
    let e = read_network_file(&path).unwrap_err();
    assert!(matches!(
        e.network_error(),
        Some(NetworkError::TruncatedHeader { .. })
    ));
}

// ---------------------------------------------------------------------------
// Property: random small valid networks round-trip bit for bit.
// ---------------------------------------------------------------------------

/// Any finite binary64: normal, subnormal, +-0, either sign.
fn finite() -> impl Strategy<Value = f64> {
    use proptest::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    prop_oneof![
        POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO,
        Just(-0.0),
        Just(0.0),
        (1u64..(1 << 52), any::<bool>())
            .prop_map(|(m, neg)| f64::from_bits(m | if neg { 1 << 63 } else { 0 })),
    ]
}

fn arb_network() -> impl Strategy<Value = Network> {
    (
        1usize..4,
        prop::collection::vec(1usize..5, 1..4),
        prop::option::of(1usize..4),
        prop::option::of((any::<u32>(), any::<u64>())),
    )
        .prop_flat_map(|(k, widths, m, sampling)| {
            let mut sizes: Vec<usize> = Vec::new();
            let mut prev = k;
            for &n in &widths {
                sizes.push(n * prev);
                prev = n;
            }
            let weights: Vec<_> = sizes
                .iter()
                .map(|&s| prop::collection::vec(finite(), s))
                .collect();
            let a = prop::collection::vec(finite(), m.unwrap_or(0) * prev);
            let target = prop::collection::vec(finite(), k);
            (weights, a, target).prop_map(move |(weights, a, mut target)| {
                if target.iter().all(|&v| v == 0.0) {
                    target[0] = f64::MIN_POSITIVE / 4.0; // subnormal, nonzero
                }
                Network {
                    latent: k,
                    widths: widths.clone(),
                    measurement: match m {
                        None => Measurement::Identity,
                        Some(m) => Measurement::Matrix { m },
                    },
                    weights,
                    a: m.map(|_| a),
                    target,
                    sampling: sampling.map(|(generator, seed)| SamplingInfo { generator, seed }),
                }
            })
        })
}

proptest! {
    #[test]
    fn prop_round_trip(net in arb_network()) {
        prop_assert!(net.validate().is_ok());
        let bytes = net.to_bytes();
        let back = Network::from_bytes(&bytes).unwrap();
        assert_identical(&back, &net);
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn prop_mangled_never_panics(net in arb_network(), cut in 0usize..200, flip in 0usize..200, bit in 0u8..8) {
        let mut bytes = net.to_bytes();
        if flip < bytes.len() {
            bytes[flip] ^= 1 << bit;
        }
        bytes.truncate(cut.max(1).min(bytes.len()));
        let _ = Network::from_bytes(&bytes);
    }
}
