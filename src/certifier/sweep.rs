//! `certify sweep` (issue 12, item 3): a grid of sampled networks through
//! sample, certify (sharpest radii) and the independent checker, with a
//! table and figures of what was proved. Resumable: a network whose
//! certificate exists and verifies is not certified again.
//!
//! What the table claims is what the certificates prove: `eps1*`, `eps2*`
//! are the sharpest radii of a verified `holds` certificate, and the
//! paper's claim with `eps = 1/10` is proved exactly when such a
//! certificate has both radii at most `1/10` (a larger ball is a weaker
//! claim). Anything else (violated, unknown, out of time) is "not proved".

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use num_rational::BigRational;
use num_traits::Zero;
use plotters::prelude::*;

use crate::certifier::rho_mpfr::rho_rational_enclosure;
use crate::certifier::sample::{sample_network, SampleSpec};
use crate::certifier::search::{approx, search, Options, Progress};
use crate::checker::check;
use crate::format::certificate::{Certificate, Verdict};
use crate::format::network::{Measurement, Network};

/// The grid.
#[derive(Clone, Debug)]
pub struct SweepSpec {
    pub latent: usize,
    /// One entry per architecture (widths `n_1..n_d`).
    pub widths: Vec<Vec<usize>>,
    /// `None`: `A = I`.
    pub measurements: Vec<Option<usize>>,
    pub seeds: Vec<u64>,
    /// Per network, for the search.
    pub time_limit: Duration,
    pub resolution: BigRational,
    pub max_depth: u32,
}

/// One row of the table.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    pub name: String,
    pub latent: usize,
    pub widths: Vec<usize>,
    /// The least `n_i / n_(i-1)` over the layers (`n_0 = k`).
    pub expansivity: f64,
    /// `"I"` or the number of measurements.
    pub m: String,
    /// `m / k` (`n_d / k` for `A = I`).
    pub m_over_k: f64,
    pub seed: u64,
    pub sha256: String,
    pub verdict: String,
    pub eps_x_star: String,
    pub eps_rho: String,
    pub eps_x_star_approx: f64,
    pub eps_rho_approx: f64,
    pub paper_claim_proved: bool,
    pub cells: u64,
    pub certify_seconds: f64,
    pub verify_seconds: f64,
    /// `certified` now or `reused` (an existing verified certificate).
    pub status: String,
}

fn expansivity(k: usize, widths: &[usize]) -> f64 {
    let mut prev = k as f64;
    let mut least = f64::INFINITY;
    for &n in widths {
        least = least.min(n as f64 / prev);
        prev = n as f64;
    }
    least
}

fn name(k: usize, widths: &[usize], m: Option<usize>, seed: u64) -> String {
    let w: Vec<String> = widths.iter().map(|n| n.to_string()).collect();
    let m = m.map_or("I".to_string(), |m| m.to_string());
    format!("k{k}-w{}-m{m}-s{seed}", w.join("-"))
}

/// Runs the grid into `dir` (`nets/`, `certs/`, `sweep.csv`, `sweep.json`,
/// `paper-claim.png`, `eps2.png`); `log` gets one line per network.
pub fn run(spec: &SweepSpec, dir: &Path, log: &mut dyn FnMut(&str)) -> Result<Vec<Row>, String> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    for sub in ["nets", "certs"] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| io(&p, e))?;
    }
    let mut grid = Vec::new();
    for w in &spec.widths {
        for &m in &spec.measurements {
            for &seed in &spec.seeds {
                grid.push((w.clone(), m, seed));
            }
        }
    }
    let total = grid.len();
    let start = Instant::now();
    let mut rows = Vec::new();
    for (i, (widths, m, seed)) in grid.into_iter().enumerate() {
        let row = one(spec, dir, &widths, m, seed)?;
        let done = i + 1;
        let eta = start.elapsed().as_secs_f64() / done as f64 * (total - done) as f64;
        log(&format!(
            "[{done}/{total}, ETA {eta:.0} s] {}: {} eps1* = {:.4}, eps2* = {:.4}, {} cells ({})",
            row.name, row.verdict, row.eps_x_star_approx, row.eps_rho_approx, row.cells, row.status
        ));
        rows.push(row);
    }
    write_tables(&rows, dir)?;
    figures(&rows, dir)?;
    Ok(rows)
}

fn one(
    spec: &SweepSpec,
    dir: &Path,
    widths: &[usize],
    m: Option<usize>,
    seed: u64,
) -> Result<Row, String> {
    let k = spec.latent;
    let name = name(k, widths, m, seed);
    let net_path = dir.join("nets").join(format!("{name}.bin"));
    let cert_path: PathBuf = dir.join("certs").join(format!("{name}.cert.json"));
    let net = sample_network(&SampleSpec {
        latent: k,
        widths: widths.to_vec(),
        measurement: m.map_or(Measurement::Identity, |m| Measurement::Matrix { m }),
        seed,
        target: None,
    });
    net.validate().map_err(|e| format!("{name}: {e}"))?;
    let bytes = net.to_bytes();
    let sha = Network::sha256_hex(&bytes);
    if std::fs::read(&net_path).ok().as_deref() != Some(bytes.as_slice()) {
        crate::cli::write_atomically(&net_path, &bytes)?;
    }
    // Resume: an existing certificate for this network that verifies.
    if let Ok(text) = crate::format::certificate::read_certificate_file(&cert_path) {
        if let Ok(cert) = Certificate::from_json(&text) {
            let t = Instant::now();
            if let Ok(report) = check(&cert, &net, &sha) {
                let verify = t.elapsed().as_secs_f64();
                let certify = cert
                    .stats
                    .get("certify_seconds")
                    .and_then(|v| v.as_str())
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(f64::NAN);
                let cells = report.counts.cells() + report.counts.undecided;
                return Ok(row(
                    &name, k, widths, m, seed, &sha, &cert, cells, certify, verify, "reused",
                ));
            }
        }
    }
    let (rho_lo, rho_hi) = rho_rational_enclosure(widths.len(), 128);
    let opts = Options {
        eps: None,
        max_depth: spec.max_depth,
        resolution: spec.resolution.clone(),
        time_limit: Some(spec.time_limit),
        rho: (rho_lo, rho_hi),
        exact_only: false,
        parts: None,
        resume: None,
        budget: crate::limits::Budget::new(
            Some(spec.time_limit),
            Some(crate::limits::DEFAULT_MAX_MEMORY),
        ),
    };
    let hint = Some(format!("../nets/{name}.bin"));
    let result = search(&net, &sha, hint, &opts, &Progress::default());
    let text = result.certificate.to_json();
    let cert = Certificate::from_json(&text).map_err(|e| format!("{name}: {e}"))?;
    let t = Instant::now();
    let report = check(&cert, &net, &sha)
        .map_err(|r| format!("{name}: the checker rejects the certificate: {}", r.0))?;
    let verify = t.elapsed().as_secs_f64();
    crate::cli::write_atomically(&cert_path, text.as_bytes())?;
    let cells = report.counts.cells() + report.counts.undecided;
    Ok(row(
        &name,
        k,
        widths,
        m,
        seed,
        &sha,
        &cert,
        cells,
        result.seconds,
        verify,
        "certified",
    ))
}

#[allow(clippy::too_many_arguments)]
fn row(
    name: &str,
    k: usize,
    widths: &[usize],
    m: Option<usize>,
    seed: u64,
    sha: &str,
    cert: &Certificate,
    cells: u64,
    certify: f64,
    verify: f64,
    status: &str,
) -> Row {
    let c = &cert.claim;
    let tenth = BigRational::new(1.into(), 10.into());
    let holds = cert.verdict == Verdict::Holds;
    Row {
        name: name.to_string(),
        latent: k,
        widths: widths.to_vec(),
        expansivity: expansivity(k, widths),
        m: m.map_or("I".into(), |m| m.to_string()),
        m_over_k: m.unwrap_or(*widths.last().expect("a layer")) as f64 / k as f64,
        seed,
        sha256: sha.to_string(),
        verdict: cert.verdict.name().to_string(),
        eps_x_star: c.eps_x_star.to_string(),
        eps_rho: c.eps_rho.to_string(),
        eps_x_star_approx: if holds {
            approx(&c.eps_x_star)
        } else {
            f64::NAN
        },
        eps_rho_approx: if holds { approx(&c.eps_rho) } else { f64::NAN },
        paper_claim_proved: holds && c.eps_x_star <= tenth && c.eps_rho <= tenth,
        cells,
        certify_seconds: certify,
        verify_seconds: verify,
        status: status.to_string(),
    }
}

fn write_tables(rows: &[Row], dir: &Path) -> Result<(), String> {
    let mut csv = String::from(
        "name,latent,widths,expansivity,m,m_over_k,seed,sha256,verdict,eps_x_star,eps_rho,eps_x_star_approx,eps_rho_approx,paper_claim_proved,cells,certify_seconds,verify_seconds\n",
    );
    for r in rows {
        let w: Vec<String> = r.widths.iter().map(|n| n.to_string()).collect();
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{:.3}\n",
            r.name,
            r.latent,
            w.join("/"),
            r.expansivity,
            r.m,
            r.m_over_k,
            r.seed,
            r.sha256,
            r.verdict,
            r.eps_x_star,
            r.eps_rho,
            r.eps_x_star_approx,
            r.eps_rho_approx,
            r.paper_claim_proved,
            r.cells,
            r.certify_seconds,
            r.verify_seconds
        ));
    }
    crate::cli::write_atomically(&dir.join("sweep.csv"), csv.as_bytes())?;
    let json = serde_json::to_string_pretty(rows).map_err(|e| e.to_string())?;
    crate::cli::write_atomically(&dir.join("sweep.json"), json.as_bytes())
}

/// Per (m, expansivity): the fraction of seeds with the paper's claim
/// proved, and the median eps2* over the `holds` seeds.
pub fn summary(rows: &[Row]) -> Vec<(String, f64, f64, f64)> {
    let mut keys: Vec<(String, u64)> = rows
        .iter()
        .map(|r| (r.m.clone(), r.expansivity.to_bits()))
        .collect();
    keys.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(f64::from_bits(a.1).total_cmp(&f64::from_bits(b.1)))
    });
    keys.dedup();
    keys.into_iter()
        .map(|(m, e)| {
            let group: Vec<&Row> = rows
                .iter()
                .filter(|r| r.m == m && r.expansivity.to_bits() == e)
                .collect();
            let proved =
                group.iter().filter(|r| r.paper_claim_proved).count() as f64 / group.len() as f64;
            let mut eps2: Vec<f64> = group
                .iter()
                .map(|r| r.eps_rho_approx)
                .filter(|v| v.is_finite())
                .collect();
            eps2.sort_by(f64::total_cmp);
            let median = if eps2.is_empty() {
                f64::NAN
            } else {
                eps2[eps2.len() / 2]
            };
            (m, f64::from_bits(e), proved, median)
        })
        .collect()
}

fn figures(rows: &[Row], dir: &Path) -> Result<(), String> {
    let s = summary(rows);
    let ms: Vec<String> = {
        let mut v: Vec<String> = s.iter().map(|x| x.0.clone()).collect();
        v.dedup();
        v
    };
    let xmax = s.iter().map(|x| x.1).fold(1.0, f64::max) * 1.1;
    let palette = [
        RGBColor(31, 120, 180),
        RGBColor(227, 26, 28),
        RGBColor(51, 160, 44),
        RGBColor(255, 127, 0),
        RGBColor(106, 61, 154),
    ];
    let k = rows.first().map_or(0, |r| r.latent);
    for (file, title, ylabel, pick) in [
        (
            "paper-claim.png",
            format!("k = {k}: seeds where eps = 1/10 is proved"),
            "fraction of seeds",
            2usize,
        ),
        (
            "eps2.png",
            format!("k = {k}: median sharpest eps2* (holds seeds)"),
            "eps2* / |x*|",
            3usize,
        ),
    ] {
        let out = dir.join(file);
        let err = |e: &dyn std::fmt::Display| format!("{}: {e}", out.display());
        let ymax = if pick == 2 {
            1.05
        } else {
            s.iter()
                .map(|x| x.3)
                .filter(|v| v.is_finite())
                .fold(0.1, f64::max)
                * 1.15
        };
        let root = BitMapBackend::new(&out, (800, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let labels = crate::certifier::plot::font_available();
        let mut b = ChartBuilder::on(&root);
        b.margin(20);
        if labels {
            b.caption(title, ("sans-serif", 22))
                .x_label_area_size(40)
                .y_label_area_size(60);
        }
        let mut chart = b
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)
            .map_err(|e| err(&e))?;
        if labels {
            chart
                .configure_mesh()
                .x_desc("expansivity: least n_i / n_(i-1)")
                .y_desc(ylabel)
                .draw()
                .map_err(|e| err(&e))?;
        }
        for (i, m) in ms.iter().enumerate() {
            let colour = palette[i % palette.len()];
            let pts: Vec<(f64, f64)> = s
                .iter()
                .filter(|x| &x.0 == m)
                .map(|x| (x.1, if pick == 2 { x.2 } else { x.3 }))
                .filter(|p| p.1.is_finite())
                .collect();
            let legend = if m == "I" {
                "A = I".to_string()
            } else {
                format!("m = {m}")
            };
            let series = chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
                .map_err(|e| err(&e))?;
            if labels {
                series
                    .label(legend)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
            }
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                .map_err(|e| err(&e))?;
        }
        if labels {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
    }
    Ok(())
}

/// `true` when the grid has nothing to run.
pub fn is_empty(spec: &SweepSpec) -> bool {
    spec.widths.is_empty() || spec.measurements.is_empty() || spec.seeds.is_empty()
}

/// Sanity of the arguments before any work.
pub fn validate(spec: &SweepSpec) -> Result<(), String> {
    if is_empty(spec) {
        return Err("the grid is empty: give --widths, --measurements and --seeds".into());
    }
    if spec.resolution.is_zero() {
        return Err("--resolution: must be > 0".into());
    }
    let n = spec.widths.len() * spec.measurements.len() * spec.seeds.len();
    if n > 100_000 {
        return Err(format!("{n} networks: at most 100000 in one sweep"));
    }
    Ok(())
}
