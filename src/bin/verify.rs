//! `verify`: the independent exact checker of certificates.
//!
//! Exit status: 0 the certificate is valid (whatever verdict it certifies),
//! 1 it is rejected, 2 the input is unusable, 3 the check did not finish
//! (`--time-limit`, `--max-memory`): nothing is concluded.

#[global_allocator]
static ALLOC: hvcert::limits::CountingAlloc = hvcert::limits::CountingAlloc;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use hvcert::checker::{check_within, CheckError, Report, Unfinished};
use hvcert::cli::{thousands, threads_arg, time_limit_arg};
use hvcert::exact::rational::rational_to_decimal;
use hvcert::format::certificate::{read_certificate_file, CertError, Certificate, Verdict};
use hvcert::format::network::read_network_file;
use hvcert::limits::{self, Budget};

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
    /// Stop after this many seconds (reading included): NOT CHECKED, exit 3.
    #[arg(long, allow_hyphen_values = true)]
    time_limit: Option<f64>,
    /// Memory bound in bytes (e.g. 2G, 512M): the check stops when it is
    /// reached (NOT CHECKED, exit 3), and no allocation may pass a quarter
    /// more.
    #[arg(long, default_value = "2G", allow_hyphen_values = true)]
    max_memory: String,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

enum Outcome {
    Valid(Box<Report>),
    Rejected(String),
    Unusable(String),
    /// The budget ran out: nothing concluded.
    NotChecked(Unfinished),
}

fn run(cli: &Cli, budget: &Budget, start: Instant) -> Outcome {
    let not_checked = |why| {
        Outcome::NotChecked(Unfinished {
            why,
            leaves_checked: 0,
            leaves_total: 0,
            seconds: start.elapsed().as_secs_f64(),
        })
    };
    let text = match read_certificate_file(&cli.cert) {
        Ok(t) => t,
        Err(e) => return Outcome::Unusable(e),
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
    if let Some(e) = budget.exceeded() {
        return not_checked(e);
    }
    match check_within(&cert, &loaded.network, &loaded.sha256, budget) {
        Ok(r) => Outcome::Valid(Box::new(r)),
        Err(CheckError::Rejected(r)) => Outcome::Rejected(r.0),
        Err(CheckError::Unfinished(u)) => Outcome::NotChecked(Unfinished {
            seconds: start.elapsed().as_secs_f64(),
            ..u
        }),
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
    // A shard's verdict is about its parts only.
    let scope = match &r.shard {
        Some((sh, parts)) => format!(
            " on shard {}/{} ({parts} part{} of plan {}…)",
            sh.index,
            sh.count,
            if *parts == 1 { "" } else { "s" },
            &sh.plan_sha256[..12]
        ),
        None => String::new(),
    };
    let mut s = format!(
        "VERIFIED {}{scope}: network {}, outside B(x*, {e1}|x*|) u B(-rho_d x*, {e2}|x*|){except}, {} cells (region {} / crease {} / cone {} / pairs {} / excluded {} / undecided {}), (P2) {} boxes, {:.2} s",
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
    if let Some(sh) = &r.sharpness {
        s.push_str(&format!(
            "\nradius witnesses: {}",
            sh.describe(&r.eps_x_star, &r.eps_rho)
        ));
    }
    if let Some(ce) = &r.counterexample {
        s.push_str(&format!("\ncounterexample: {ce}"));
    }
    if r.verdict != Verdict::Holds && !r.residual.is_empty() {
        s.push_str(&format!(
            "\nundecided cells ({}):",
            thousands(r.counts.undecided)
        ));
        for (path, desc) in &r.residual {
            s.push_str(&format!("\n  {path}: {desc}"));
        }
        let more = not_listed(r);
        if more > 0 {
            s.push_str(&format!("\n  {} more not listed", thousands(more)));
        }
    }
    s
}

/// Undecided cells counted but not described.
fn not_listed(r: &Report) -> u64 {
    r.counts.undecided.saturating_sub(r.residual.len() as u64)
}

/// Prints a line; a closed pipe (`verify … | head`) is not an error.
fn print_out(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn main() -> ExitCode {
    let start = Instant::now();
    let cli = match hvcert::cli::parse_args::<Cli>("verify") {
        Ok(a) => a,
        Err(code) => return code,
    };
    let limits = threads_arg(cli.threads)
        .and_then(|()| time_limit_arg(cli.time_limit))
        .and_then(|t| {
            Ok((
                t,
                limits::parse_bytes(&cli.max_memory).map_err(|e| format!("--max-memory: {e}"))?,
            ))
        });
    let outcome = match limits {
        Ok((time, max_bytes)) => {
            limits::set_hard_limit(Some(max_bytes));
            let budget = Budget {
                deadline: time.and_then(|t| start.checked_add(t)),
                max_bytes: Some(max_bytes),
            };
            run(&cli, &budget, start)
        }
        Err(e) => Outcome::Unusable(e),
    };
    if cli.json {
        let v = match &outcome {
            Outcome::Valid(r) => serde_json::json!({
                "status": "verified",
                "verdict": r.verdict.name(),
                "shard": r.shard.as_ref().map(|(sh, parts)| serde_json::json!({
                    "index": sh.index, "count": sh.count, "plan_sha256": sh.plan_sha256, "parts": parts,
                })),
                "network": r.network_sha256,
                "eps_x_star": r.eps_x_star.to_string(),
                "eps_rho": r.eps_rho.to_string(),
                "cells": {
                    "region": r.counts.region, "crease": r.counts.crease, "cone": r.counts.cone, "pairs": r.counts.pairs,
                    "excluded": r.counts.excluded, "undecided": r.counts.undecided, "zero": r.counts.zero,
                },
                "residual": r.residual.iter().map(|(p, d)| serde_json::json!({"path": p, "cell": d})).collect::<Vec<_>>(),
                "residual_not_listed": not_listed(r),
                "counterexample": r.counterexample,
                "excused_points": r.excused.iter().map(hvcert::checker::ExcusedPoint::to_json).collect::<Vec<_>>(),
                "sharpness": r.sharpness.as_ref().map(|sh| sh.to_json(&r.eps_x_star, &r.eps_rho)),
                "seconds": r.seconds,
            }),
            Outcome::Rejected(m) => serde_json::json!({"status": "rejected", "reason": m}),
            Outcome::Unusable(m) => serde_json::json!({"status": "error", "reason": m}),
            Outcome::NotChecked(u) => serde_json::json!({
                "status": "not_checked",
                "reason": u.why.to_string(),
                "seconds": u.seconds,
                "leaves_checked": u.leaves_checked,
                "leaves_total": u.leaves_total,
            }),
        };
        print_out(&v.to_string());
    } else {
        match &outcome {
            Outcome::Valid(r) => print_out(&summary(r)),
            Outcome::Rejected(m) => print_out(&format!("REJECTED: {m}")),
            Outcome::Unusable(m) => eprintln!("verify: {m}"),
            Outcome::NotChecked(u) => print_out(&format!("NOT CHECKED: {u}")),
        }
    }
    match outcome {
        Outcome::Valid(_) => ExitCode::SUCCESS,
        Outcome::Rejected(_) => ExitCode::from(1),
        Outcome::Unusable(_) => ExitCode::from(2),
        Outcome::NotChecked(_) => ExitCode::from(3),
    }
}
