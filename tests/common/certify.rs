//! Search options and a one-call certify for tests that run the cover search
//! through the library (`certify_roundtrip`, `certify_oracle`, `mutation`).

use std::time::Duration;

use hvcert::certifier::rho_mpfr::rho_rational_enclosure;
use hvcert::certifier::search::{search, Options, Progress};
use hvcert::format::certificate::Certificate;
use hvcert::format::network::Network;
use num_bigint::BigInt;
use num_rational::BigRational;

/// `n / d`.
pub fn q(n: i64, d: i64) -> BigRational {
    BigRational::new(BigInt::from(n), BigInt::from(d))
}

/// Search options with the 128-bit MPFR `rho_d` enclosure `certify` claims.
pub fn search_options(
    net: &Network,
    eps: Option<(BigRational, BigRational)>,
    max_depth: u32,
    resolution: BigRational,
    time_limit: Option<Duration>,
) -> Options {
    let (lo, hi) = rho_rational_enclosure(net.widths.len(), 128);
    Options {
        eps,
        max_depth,
        resolution,
        time_limit,
        rho: (lo, hi),
        exact_only: false,
        parts: None,
        resume: None,
        budget: hvcert::limits::Budget::unlimited(),
    }
}

/// Runs the search on `net` (under its own file hash); returns the
/// certificate and that hash.
pub fn certify(net: &Network, opts: &Options) -> (Certificate, String) {
    let sha = Network::sha256_hex(&net.to_bytes());
    let r = search(net, &sha, None, opts, &Progress::default());
    (r.certificate, sha)
}
