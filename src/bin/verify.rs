//! `verify`: the independent exact checker of certificates.
//!
//! Exit status: 0 the certificate is valid (whatever verdict it certifies),
//! 1 it is rejected, 2 the input is unusable.

#[global_allocator]
static ALLOC: hvcert::limits::CountingAlloc = hvcert::limits::CountingAlloc;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;
use hvcert::checker::{check, Report};
use hvcert::exact::rational::rational_to_decimal;
use hvcert::format::certificate::{CertError, Certificate, Verdict};
use hvcert::format::network::read_network_file;

#[derive(Parser)]
#[command(
    name = "verify",
    version,
    about = "Check an hvcert certificate exactly against its network"
)]
struct Cli {
    /// The certificate (JSON).
    cert: PathBuf,
    /// The network file (default: the certificate's path hint, relative to
    /// the certificate's folder).
    #[arg(long)]
    net: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

enum Outcome {
    Valid(Box<Report>),
    Rejected(String),
    Unusable(String),
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn run(cli: &Cli) -> Outcome {
    let text = match std::fs::read_to_string(&cli.cert) {
        Ok(t) => t,
        Err(e) => return Outcome::Unusable(format!("{}: {e}", cli.cert.display())),
    };
    let cert = match Certificate::from_json(&text) {
        Ok(c) => c,
        Err(e @ (CertError::Tree { .. } | CertError::Coverage(_))) => {
            return Outcome::Rejected(e.to_string())
        }
        Err(e) => return Outcome::Unusable(format!("{}: {e}", cli.cert.display())),
    };
    let net_path = match (&cli.net, &cert.network_path) {
        (Some(p), _) => p.clone(),
        (None, Some(hint)) => cli.cert.parent().unwrap_or(Path::new(".")).join(hint),
        (None, None) => {
            return Outcome::Unusable(
                "the certificate names no network path: give --net FILE".into(),
            )
        }
    };
    let loaded = match read_network_file(&net_path) {
        Ok(l) => l,
        Err(e) => return Outcome::Unusable(e.to_string()),
    };
    match check(&cert, &loaded.network, &loaded.sha256) {
        Ok(r) => Outcome::Valid(Box::new(r)),
        Err(r) => Outcome::Rejected(r.0),
    }
}

fn summary(r: &Report) -> String {
    let c = &r.counts;
    let e1 = rational_to_decimal(&r.eps_x_star, 6);
    let e2 = rational_to_decimal(&r.eps_rho, 6);
    // Listed points outside E (only x* can be) are named on the verdict line.
    let except = if r.excused.iter().any(|p| !p.in_e) {
        " and x* itself"
    } else {
        ""
    };
    let mut s = format!(
        "VERIFIED {}: network {}, outside B(x*, {e1}|x*|) u B(-rho_d x*, {e2}|x*|){except}, {} cells (region {} / crease {} / cone {} / pairs {} / excluded {} / undecided {}), (P2) {} boxes, {:.2} s",
        r.verdict.name(),
        r.network_sha256,
        thousands(c.cells() + c.undecided),
        thousands(c.region),
        thousands(c.crease),
        thousands(c.cone),
        thousands(c.pairs),
        thousands(c.excluded),
        thousands(c.undecided),
        thousands(c.zero),
        r.seconds
    );
    for p in &r.excused {
        s.push_str(&format!("\nexcused stationary point: {}", p.describe()));
    }
    if let Some(ce) = &r.counterexample {
        s.push_str(&format!("\ncounterexample: {ce}"));
    }
    if r.verdict != Verdict::Holds && !r.residual.is_empty() {
        s.push_str(&format!("\nundecided cells ({}):", r.residual.len()));
        for (path, desc) in &r.residual {
            s.push_str(&format!("\n  {path}: {desc}"));
        }
    }
    s
}

/// Prints a line; a closed pipe (`verify … | head`) is not an error.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn main() -> ExitCode {
    let cli = match hvcert::cli::parse_args::<Cli>("verify") {
        Ok(a) => a,
        Err(code) => return code,
    };
    let outcome = run(&cli);
    if cli.json {
        let v = match &outcome {
            Outcome::Valid(r) => serde_json::json!({
                "status": "verified",
                "verdict": r.verdict.name(),
                "network": r.network_sha256,
                "eps_x_star": r.eps_x_star.to_string(),
                "eps_rho": r.eps_rho.to_string(),
                "cells": {
                    "region": r.counts.region, "crease": r.counts.crease, "cone": r.counts.cone, "pairs": r.counts.pairs,
                    "excluded": r.counts.excluded, "undecided": r.counts.undecided, "zero": r.counts.zero,
                },
                "residual": r.residual.iter().map(|(p, d)| serde_json::json!({"path": p, "cell": d})).collect::<Vec<_>>(),
                "counterexample": r.counterexample,
                "excused_points": r.excused.iter().map(|p| serde_json::json!({
                    "point": p.point.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                    "x_star": p.is_x_star,
                    "inside_e": p.in_e,
                    "dist_x_star": p.dist_x_star,
                    "dist_rho": p.dist_rho,
                })).collect::<Vec<_>>(),
                "seconds": r.seconds,
            }),
            Outcome::Rejected(m) => serde_json::json!({"status": "rejected", "reason": m}),
            Outcome::Unusable(m) => serde_json::json!({"status": "error", "reason": m}),
        };
        print_out(&v.to_string());
    } else {
        match &outcome {
            Outcome::Valid(r) => print_out(&summary(r)),
            Outcome::Rejected(m) => print_out(&format!("REJECTED: {m}")),
            Outcome::Unusable(m) => eprintln!("verify: {m}"),
        }
    }
    match outcome {
        Outcome::Valid(_) => ExitCode::SUCCESS,
        Outcome::Rejected(_) => ExitCode::from(1),
        Outcome::Unusable(_) => ExitCode::from(2),
    }
}
