//! Entry points shared by the cargo-fuzz targets (`fuzz/`) and the corpus
//! replay test (`tests/fuzz_corpus.rs`): each takes arbitrary bytes and must
//! return without panicking.

pub mod landscape;

pub use landscape::landscape;

use crate::checker::check;
use crate::format::certificate::Certificate;
use crate::format::network::{Measurement, Network};

/// Parses bytes as a network file; a valid one must round-trip exactly.
pub fn network_reader(data: &[u8]) {
    if let Ok(net) = Network::from_bytes(data) {
        assert_eq!(net.to_bytes(), data, "a valid network file round-trips");
    }
}

/// The tiny network certificates are checked against: `k = 1`,
/// `W_1 = [1; -1]`, `W_2 = [1 1]`, `A = I`, `x* = 1` (so `G(x) = |x|`).
pub fn fuzz_network() -> Network {
    Network {
        latent: 1,
        widths: vec![2, 1],
        measurement: Measurement::Identity,
        weights: vec![vec![1.0, -1.0], vec![1.0, 1.0]],
        a: None,
        target: vec![1.0],
        sampling: None,
    }
}

/// Parses text as a certificate and, if it parses, checks it against
/// [`fuzz_network`] under its own hash (so the rules run).
pub fn certificate_reader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut cert) = Certificate::from_json(text) else {
        return;
    };
    let net = fuzz_network();
    let sha = Network::sha256_hex(&net.to_bytes());
    cert.network_sha256 = sha.clone();
    let _ = check(&cert, &net, &sha);
}
