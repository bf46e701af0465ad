//! Where a certificate's cells are, for tuning the search: counts leaves by
//! rule, by box width (as a power of two) and by distance to the nearer of
//! `x*` and `-rho_d x*` (relative to `|x*|`, binary64, display only).
//!   usage: cargo run --release --example cover_stats -- CERT NET
use std::collections::BTreeMap;

use hvcert::checker::geometry::Cell;
use hvcert::exact::dyadic::Dyadic;
use hvcert::format::certificate::{Certificate, Node};
use hvcert::format::network::Network;

fn f(v: &Dyadic) -> f64 {
    hvcert::certifier::search::approx(&v.to_rational())
}

fn walk(node: &Node, cell: Cell, out: &mut Vec<(String, Cell)>) {
    match node {
        Node::Leaf(r) => out.push((r.name().to_string(), cell)),
        Node::Split { axis, lo, hi } => {
            let (a, b) = cell.split(*axis);
            walk(lo, a, out);
            walk(hi, b, out);
        }
        Node::Radial { at, inner, outer } => {
            let d = Dyadic::from_rational(at).expect("dyadic");
            let (a, b) = cell.split_radial(&d).expect("inside");
            walk(inner, a, out);
            walk(outer, b, out);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Err(e) = stats(&args) {
        eprintln!("cover_stats: {e}");
        std::process::exit(2);
    }
}

fn stats(args: &[String]) -> Result<(), String> {
    let [_, cert_path, net_path] = args else {
        return Err("usage: cover_stats CERT NET".into());
    };
    let bytes = std::fs::read(net_path).map_err(|e| format!("{net_path}: {e}"))?;
    let net = Network::from_bytes(&bytes).map_err(|e| format!("{net_path}: {e}"))?;
    let text = std::fs::read_to_string(cert_path).map_err(|e| format!("{cert_path}: {e}"))?;
    let cert = Certificate::from_json(&text).map_err(|e| format!("{cert_path}: {e}"))?;
    let x: Vec<f64> = net.target.clone();
    let n = x.iter().map(|v| v * v).sum::<f64>().sqrt();
    let rho = f(&Dyadic::from_rational(&cert.claim.rho_lo).unwrap_or_else(Dyadic::zero));
    let mut leaves = Vec::new();
    let cover = cert
        .cover
        .as_ref()
        .ok_or("the certificate has no cover (a counterexample)")?;
    for fc in &cover.faces {
        walk(&fc.tree, Cell::root(fc.face, net.latent), &mut leaves);
    }
    // (rule, log2 width, distance bucket of 0.25) -> count
    let mut table: BTreeMap<(String, i64, i64), u64> = BTreeMap::new();
    for (rule, c) in &leaves {
        let w = c.widest().map_or(0.0, |(_, w)| f(&w));
        let lw = w.log2().round() as i64;
        let t = match &c.t_hi {
            Some(h) => (f(&c.t_lo) + f(h)) / 2.0,
            None => f64::INFINITY,
        };
        let p: Vec<f64> =
            c.lo.iter()
                .zip(&c.hi)
                .map(|(a, b)| (f(a) + f(b)) / 2.0)
                .collect();
        let d1: f64 = p
            .iter()
            .zip(&x)
            .map(|(a, b)| (t * a - b).powi(2))
            .sum::<f64>()
            .sqrt()
            / n;
        let d2: f64 = p
            .iter()
            .zip(&x)
            .map(|(a, b)| (t * a + rho * b).powi(2))
            .sum::<f64>()
            .sqrt()
            / n;
        let bucket = if t.is_finite() {
            (d1.min(d2) * 4.0).floor() as i64
        } else {
            99
        };
        *table.entry((rule.clone(), lw, bucket.min(99))).or_default() += 1;
    }
    // Unbounded leaves: where their radial interval starts (log2 of
    // t_lo / |x*|_inf-scaled norm), by box width.
    let mut far: BTreeMap<(i64, i64), u64> = BTreeMap::new();
    for (_, c) in leaves.iter().filter(|(_, c)| c.t_hi.is_none()) {
        let w = c.widest().map_or(0.0, |(_, w)| f(&w));
        let t = f(&c.t_lo) / n;
        let lt = if t > 0.0 {
            t.log2().floor() as i64
        } else {
            -99
        };
        *far.entry((lt, w.log2().round() as i64)).or_default() += 1;
    }
    // Unbounded leaves: the angle between the ray through the box centre
    // and the nearer of `x*`, `-x*` (buckets of 10 degrees), by rule. (Every
    // ray within 90 degrees of `-x*` passes within `rho_d |x*|` of
    // `-rho_d x*`: a distance from the ray says little.)
    let mut near: BTreeMap<(String, i64), u64> = BTreeMap::new();
    for (rule, c) in leaves.iter().filter(|(_, c)| c.t_hi.is_none()) {
        let p: Vec<f64> =
            c.lo.iter()
                .zip(&c.hi)
                .map(|(a, b)| (f(a) + f(b)) / 2.0)
                .collect();
        let pn = p.iter().map(|v| v * v).sum::<f64>().sqrt();
        let cos = p.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>() / (pn * n);
        let degrees = cos.abs().min(1.0).acos().to_degrees();
        let side = if cos >= 0.0 { "x*" } else { "-x*" };
        *near
            .entry((format!("{rule} {side}"), (degrees / 10.0).floor() as i64))
            .or_default() += 1;
    }
    println!("unbounded leaves: rule, nearer of x* and -x*, angle to it (x10 degrees), count");
    for ((r, d), c) in &near {
        println!("{r:<14} {d:>5} {c:>7}");
    }
    println!("unbounded leaves: log2(t_lo/|x*|)  log2w  count");
    for ((t, w), c) in &far {
        println!("{t:>5} {w:>5} {c:>7}");
    }
    println!("rule       log2w  dist(x/4)  count");
    for ((r, w, b), c) in &table {
        println!("{r:<10} {w:>5}  {b:>9}  {c:>6}");
    }
    Ok(())
}
