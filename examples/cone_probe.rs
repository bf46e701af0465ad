//! Why the Cone rule fails one, two and three levels above the Cone leaves
//! of a certificate, for tuning the rule: on about SAMPLES ancestors per
//! level (spread over the leaves), the exact rule's answer by kind of cell
//! (bounded, a whole ray `[0, inf)`, a far ray `[t, inf)`): proved, failed
//! within a branch, failed between two branches, or too many branches.
//!   usage: cargo run --release --example cone_probe -- CERT NET [SAMPLES]
use std::collections::BTreeMap;

use hvcert::checker::geometry::{Cell, Excluded};
use hvcert::checker::patterns::Engine;
use hvcert::checker::rules::{Context, CONE_BRANCHES};
use hvcert::exact::dyadic::Dyadic;
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::{Certificate, Node, Rule};

fn walk(node: &Node, cell: Cell, path: &mut Vec<Cell>, out: &mut Vec<Vec<Cell>>) {
    match node {
        Node::Leaf(Rule::Cone) => {
            let mut p = path.clone();
            p.push(cell);
            out.push(p);
        }
        Node::Leaf(_) => {}
        Node::Split { axis, lo, hi } => {
            let (a, b) = cell.split(*axis);
            path.push(cell);
            walk(lo, a, path, out);
            walk(hi, b, path, out);
            path.pop();
        }
        Node::Radial { at, inner, outer } => {
            let d = Dyadic::from_rational(at).expect("dyadic");
            let (a, b) = cell.split_radial(&d).expect("inside");
            path.push(cell);
            walk(inner, a, path, out);
            walk(outer, b, path, out);
            path.pop();
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let samples: usize = args.get(3).map_or(150, |s| s.parse().expect("count"));
    let cert = Certificate::from_json(&std::fs::read_to_string(&args[1]).expect("cert"))
        .expect("certificate");
    let loaded = hvcert::format::network::read_network_file(std::path::Path::new(&args[2]))
        .expect("network");
    let net = &loaded.network;
    let exact = ExactNet::new(net).expect("exact");
    let claim = &cert.claim;
    let excluded = Excluded::of_claim(net, claim);
    let engine = Engine::new(&exact);
    let ctx = Context {
        engine: &engine,
        excluded: &excluded,
        stationary: &claim.stationary_points,
    };
    let mut paths = Vec::new();
    for f in &cert.cover.as_ref().expect("cover").faces {
        walk(
            &f.tree,
            Cell::root(f.face, net.latent),
            &mut Vec::new(),
            &mut paths,
        );
    }
    println!("{} Cone leaves", paths.len());
    for up in 1..=3usize {
        let mut seen = std::collections::BTreeSet::new();
        let mut tally: BTreeMap<String, usize> = BTreeMap::new();
        let step = (paths.len() / samples).max(1);
        let mut n = 0;
        for p in paths.iter().step_by(step) {
            if p.len() <= up {
                continue;
            }
            let cell = &p[p.len() - 1 - up];
            let key = format!("{:?}{:?}{:?}{:?}", cell.face, cell.lo, cell.hi, cell.t_lo);
            if !seen.insert(key) {
                continue;
            }
            n += 1;
            let kind = if cell.t_hi.is_some() {
                "bounded"
            } else if cell.t_lo.is_zero() {
                "ray"
            } else {
                "far"
            };
            let (br, _) = ctx.branches_from(cell, CONE_BRANCHES, None);
            let why = match br {
                Err(_) => "too many branches".to_string(),
                Ok(b) => match ctx.cone(cell, &b) {
                    Ok(_) => "proved".to_string(),
                    Err(e) if e.contains("gradients of branch") => "within".to_string(),
                    Err(e) if e.contains("branches") => "between".to_string(),
                    Err(e) => e,
                },
            };
            *tally.entry(format!("{kind:<8} {why}")).or_default() += 1;
        }
        println!("{up} level(s) up, {n} cells:");
        for (k, v) in tally {
            println!("  {k:<40} {v}");
        }
    }
}
