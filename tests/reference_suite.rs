//! The shipped reference suite: every certificate in `certificates/` is
//! valid for its network with the expected verdict, and the two smallest
//! networks certify again to the same verdict. The large `k = 4` one
//! (`certificates/large/`) is checked by an ignored test, about 5 minutes on
//! 2 cores: `cargo test --release --test reference_suite -- --ignored`.

use std::path::Path;

use hvcert::certifier::rho_mpfr::rho_rational_enclosure;
use hvcert::certifier::search::{search, Options, Progress};
use hvcert::checker::check;
use hvcert::exact::rational::parse_rational;
use hvcert::format::certificate::{Certificate, Verdict};
use hvcert::format::network::read_network_file;

/// (certificate, expected verdict).
const SUITE: &[(&str, Verdict)] = &[
    ("default.cert.json", Verdict::Holds),
    ("k2-20-100-m50.cert.json", Verdict::Holds),
    ("k2-10-40-160-m40.cert.json", Verdict::Holds),
    ("k2-4-8-m4.cert.json", Verdict::Violated),
    ("k3-50-500-m100.cert.json", Verdict::Holds),
];

fn load(name: &str) -> (Certificate, hvcert::format::network::LoadedNetwork) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let cert = Certificate::from_json(&text).unwrap();
    // The network's path is relative to the certificate's folder.
    let folder = path.parent().expect("a folder");
    let net = read_network_file(&folder.join(cert.network_path.as_ref().unwrap())).unwrap();
    (cert, net)
}

#[test]
fn shipped_certificates_verify() {
    for (name, verdict) in SUITE {
        let (cert, net) = load(name);
        let report = check(&cert, &net.network, &net.sha256)
            .unwrap_or_else(|e| panic!("{name}: REJECTED: {}", e.0));
        assert_eq!(report.verdict, *verdict, "{name}");
        eprintln!(
            "{name}: {} in {:.2} s ({} cells)",
            report.verdict.name(),
            report.seconds,
            report.counts.cells() + report.counts.undecided
        );
    }
}

/// `k = 4`, 50/500, `A = I`, seed 1 (`certify sample --latent 4 --widths
/// 50,500 --inversion --seed 1`), `--eps 1/2`: holds.
#[test]
#[ignore = "about 5 minutes on 2 cores; CI has no time for it"]
fn large_k4_certificate_verifies() {
    let (cert, net) = load("large/k4-50-500.cert.json");
    assert_eq!(net.network.latent, 4);
    let report =
        check(&cert, &net.network, &net.sha256).unwrap_or_else(|e| panic!("k4: REJECTED: {}", e.0));
    assert_eq!(report.verdict, Verdict::Holds);
    eprintln!(
        "k4: holds in {:.1} s ({} cells)",
        report.seconds,
        report.counts.cells()
    );
}

#[test]
fn smallest_networks_certify_again() {
    for name in ["k2-20-100-m50.cert.json", "default.cert.json"] {
        let (shipped, net) = load(name);
        let (lo, hi) = rho_rational_enclosure(net.network.widths.len(), 128);
        let opts = Options {
            eps: None,
            max_depth: 48,
            resolution: parse_rational("1/512").unwrap(),
            time_limit: None,
            rho: (lo, hi),
            exact_only: false,
            parts: None,
            resume: None,
            budget: hvcert::limits::Budget::unlimited(),
        };
        let r = search(&net.network, &net.sha256, None, &opts, &Progress::default());
        assert_eq!(r.certificate.verdict, shipped.verdict, "{name}");
        assert_eq!(
            r.certificate.claim, shipped.claim,
            "{name}: same sharpest radii"
        );
        let report = check(&r.certificate, &net.network, &net.sha256).unwrap();
        assert_eq!(report.verdict, shipped.verdict);
    }
}
