//! The checker's exact per-cell rule kernels on the shipped default network
//! (`certificates/default.bin`: k = 2, widths 50/500, A = I) with its shipped
//! certificate, over a sample of leaf cells per rule (the first
//! [`PER_RULE`] leaves of each kind in tree order, faces in certificate order).
//!
//! Groups (every time is per cell: criterion's throughput is cells/s):
//! - `warm rule`: the rule alone, patterns enumerated beforehand, engine caches
//!   (layer rows, `Q_P`, `b_P`, region points) warm;
//! - `warm leaf`: what the checker does at a leaf without inheritance:
//!   `ctx.patterns(cell, limit)` then the rule, caches warm;
//! - `cold leaf`: as `warm leaf` but with a fresh `Engine` per cell, so each
//!   pattern's `Q_P`, `b_P` and region point are computed, with the layer
//!   rows too (`all`) or with them cached (`rows warm`) (Region, Crease and
//!   Pairs, on the first [`COLD_CELLS`] leaves);
//! - `patterns`: enumeration alone (`ctx.patterns_from`), without and with
//!   the parent cell's statuses (computed as `check` does, inherited down the
//!   tree from the root), caches warm.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use hvcert::checker::geometry::{Cell, Excluded};
use hvcert::checker::patterns::{CellPatterns, Engine, Statuses};
use hvcert::checker::rules::{self, Context};
use hvcert::exact::dyadic::{f64_to_rational, Dyadic};
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::{Ball, Certificate, Node, Rule};
use num_rational::BigRational;

/// Leaves sampled per rule.
const PER_RULE: usize = 50;
/// Leaves per rule in the cold groups (each costs whole `Q_P` solves).
const COLD_CELLS: usize = 10;

/// The kinds benchmarked, in report order.
const KINDS: [Rule; 8] = [
    Rule::Region,
    Rule::Crease,
    Rule::Cone,
    Rule::Pairs,
    Rule::Excluded(Ball::XStar),
    Rule::Excluded(Ball::Rho),
    Rule::Zero,
    Rule::ZeroFirst,
];

/// A sampled leaf: its cell and the cells on the path from the root to its
/// parent (root first).
struct Leaf {
    cell: Cell,
    ancestors: Vec<Cell>,
}

fn collect(
    node: &Node,
    cell: Cell,
    ancestors: &mut Vec<Cell>,
    out: &mut BTreeMap<&'static str, Vec<Leaf>>,
) {
    if KINDS.iter().all(|r| out[r.token()].len() >= PER_RULE) {
        return;
    }
    match node {
        Node::Leaf(rule) => {
            if let Some(v) = out.get_mut(rule.token()) {
                if v.len() < PER_RULE {
                    v.push(Leaf {
                        cell,
                        ancestors: ancestors.clone(),
                    });
                }
            }
        }
        Node::Split { axis, lo, hi } => {
            let (a, b) = cell.split(*axis);
            ancestors.push(cell);
            collect(lo, a, ancestors, out);
            collect(hi, b, ancestors, out);
            ancestors.pop();
        }
        Node::Radial { at, inner, outer } => {
            let at = Dyadic::from_rational(at).expect("dyadic split point");
            let (a, b) = cell.split_radial(&at).expect("split inside the interval");
            ancestors.push(cell);
            collect(inner, a, ancestors, out);
            collect(outer, b, ancestors, out);
            ancestors.pop();
        }
    }
}

/// The pattern limit `check` uses for a rule (`None`: no patterns).
fn limit(rule: Rule) -> Option<usize> {
    match rule {
        Rule::Region | Rule::Crease => Some(2),
        Rule::Pairs => Some(rules::PAIRS_LIMIT),
        Rule::Excluded(_) | Rule::Zero | Rule::ZeroFirst | Rule::Cone | Rule::Undecided => None,
    }
}

/// Decides `cell` by `rule` given its patterns; panics when the rule fails
/// (every sampled leaf of a valid certificate passes).
fn decide(ctx: &Context, rule: Rule, cell: &Cell, pats: Option<&CellPatterns>) {
    let r = match rule {
        Rule::Region => ctx.region(cell, pats.unwrap()).map(drop),
        Rule::Crease => ctx.crease(cell, pats.unwrap()).map(drop),
        Rule::Pairs => ctx.pairs(cell, pats.unwrap()).map(drop),
        Rule::Zero => ctx
            .branches_from(cell, rules::ZERO_LIMIT, None)
            .0
            .and_then(|b| ctx.zero(cell, &b)),
        Rule::ZeroFirst => hvcert::checker::zero_first::zero_first(ctx.engine, cell),
        Rule::Excluded(ball) => ctx.excluded(cell, ball).map(drop),
        Rule::Cone => ctx
            .branches_from(cell, rules::CONE_BRANCHES, None)
            .0
            .and_then(|b| ctx.cone(cell, &b))
            .map(drop),
        Rule::Undecided => unreachable!("not sampled"),
    };
    r.unwrap_or_else(|e| panic!("rule {} fails: {e}", rule.name()));
}

/// Patterns (when the rule uses them) and the rule, as `check` does at a leaf.
fn leaf(ctx: &Context, rule: Rule, cell: &Cell) {
    let pats = limit(rule).map(|l| ctx.patterns(cell, l).expect("within the limit"));
    decide(ctx, rule, cell, pats.as_ref());
}

fn config(g: &mut BenchmarkGroup<criterion::measurement::WallTime>, samples: usize, secs: u64) {
    g.sample_size(samples)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(secs));
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
    let text = std::fs::read_to_string(root.join("default.cert.json")).expect("certificate");
    let cert = Certificate::from_json(&text).expect("valid certificate");
    let loaded =
        hvcert::format::network::read_network_file(&root.join("default.bin")).expect("network");
    assert_eq!(
        cert.network_sha256, loaded.sha256,
        "certificate is for the network"
    );
    let net = &loaded.network;
    let exact = ExactNet::new(net).expect("exact network");
    let claim = &cert.claim;
    let target: Vec<BigRational> = net
        .target
        .iter()
        .map(|&v| f64_to_rational(v).expect("finite"))
        .collect();
    let excluded = Excluded::new(
        target,
        &claim.eps_x_star,
        &claim.eps_rho,
        claim.rho_lo.clone(),
        claim.rho_hi.clone(),
    );
    let engine = Engine::new(&exact);
    let ctx = Context {
        engine: &engine,
        excluded: &excluded,
        stationary: &claim.stationary_points,
    };

    // Sample leaves: cover trees for the (P1) rules, zero trees for Z.
    let mut samples: BTreeMap<&'static str, Vec<Leaf>> =
        KINDS.iter().map(|r| (r.token(), Vec::new())).collect();
    let cover = cert.cover.as_ref().expect("a cover");
    for f in &cover.faces {
        let root = Cell::root(f.face, net.latent);
        collect(&f.tree, root.clone(), &mut Vec::new(), &mut samples);
        collect(&f.zero_tree, root, &mut Vec::new(), &mut samples);
    }

    // Per kind: the cells, their patterns (computed once: warms the caches
    // and checks every leaf passes) and their parents' statuses.
    struct Kind {
        rule: Rule,
        cells: Vec<Cell>,
        pats: Vec<Option<CellPatterns>>,
        parents: Vec<Statuses>,
    }
    let mut kinds = Vec::new();
    for rule in KINDS {
        let leaves = &samples[rule.token()];
        if leaves.is_empty() {
            eprintln!("no {} leaves in the certificate: skipped", rule.token());
            continue;
        }
        let cells: Vec<Cell> = leaves.iter().map(|l| l.cell.clone()).collect();
        let parents: Vec<Statuses> = leaves
            .iter()
            .map(|l| {
                let mut st: Option<Statuses> = None;
                for a in &l.ancestors {
                    st = Some(ctx.patterns_from(a, rules::PAIRS_LIMIT, st.as_ref()).1);
                }
                st.unwrap_or_default()
            })
            .collect();
        let pats: Vec<Option<CellPatterns>> = cells
            .iter()
            .zip(&parents)
            .map(|(cell, st)| {
                let l = limit(rule)?;
                let own = ctx.patterns(cell, l).expect("within the limit");
                let inherited = ctx.patterns_from(cell, l, Some(st)).0.expect("within");
                assert_eq!(own.patterns, inherited.patterns, "inheritance is exact");
                Some(own)
            })
            .collect();
        for (cell, p) in cells.iter().zip(&pats) {
            decide(&ctx, rule, cell, p.as_ref());
        }
        let npats: Vec<usize> = pats.iter().flatten().map(|p| p.patterns.len()).collect();
        let depth: usize = leaves.iter().map(|l| l.ancestors.len()).sum();
        eprintln!(
            "{:>2}: {} cells, mean depth {:.1}, patterns per cell: mean {:.1}, max {}",
            rule.token(),
            cells.len(),
            depth as f64 / cells.len() as f64,
            npats.iter().sum::<usize>() as f64 / npats.len().max(1) as f64,
            npats.iter().max().copied().unwrap_or(0)
        );
        kinds.push(Kind {
            rule,
            cells,
            pats,
            parents,
        });
    }

    // (a) The rule alone and the leaf (patterns + rule), caches warm.
    let mut g = c.benchmark_group("warm rule");
    config(&mut g, 10, 2);
    for k in &kinds {
        g.throughput(Throughput::Elements(k.cells.len() as u64));
        g.bench_function(k.rule.token(), |b| {
            b.iter(|| {
                for (cell, p) in k.cells.iter().zip(&k.pats) {
                    decide(&ctx, k.rule, cell, p.as_ref());
                }
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("warm leaf");
    config(&mut g, 10, 2);
    for k in kinds.iter().filter(|k| limit(k.rule).is_some()) {
        g.throughput(Throughput::Elements(k.cells.len() as u64));
        g.bench_function(k.rule.token(), |b| {
            b.iter(|| {
                for cell in &k.cells {
                    leaf(&ctx, k.rule, cell);
                }
            })
        });
    }
    g.finish();

    // (b) Cold: a fresh engine per cell. `all`: layer rows, then `Q_P`,
    // `b_P` and the region point of each pattern; `rows warm`: the engine has
    // enumerated the cell's patterns (its layer rows are cached) but has no
    // quadratic yet. Engines are built and dropped outside the timing.
    let mut g = c.benchmark_group("cold leaf");
    config(&mut g, 10, 3);
    for k in kinds
        .iter()
        .filter(|k| matches!(k.rule, Rule::Region | Rule::Crease | Rule::Pairs))
    {
        let cells = &k.cells[..k.cells.len().min(COLD_CELLS)];
        let l = limit(k.rule).expect("a pattern rule");
        g.throughput(Throughput::Elements(cells.len() as u64));
        for warm_rows in [false, true] {
            let name = format!(
                "{} {}",
                k.rule.token(),
                if warm_rows { "rows warm" } else { "all" }
            );
            g.bench_function(name, |b| {
                b.iter_batched_ref(
                    || {
                        let engines: Vec<Engine> =
                            cells.iter().map(|_| Engine::new(&exact)).collect();
                        if warm_rows {
                            for (engine, cell) in engines.iter().zip(cells) {
                                let cx = Context { engine, ..ctx };
                                cx.patterns(cell, l).expect("within the limit");
                            }
                        }
                        engines
                    },
                    |engines| {
                        for (engine, cell) in engines.iter().zip(cells) {
                            leaf(&Context { engine, ..ctx }, k.rule, cell);
                        }
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();

    // (c) Pattern enumeration alone, without and with inherited statuses.
    let mut g = c.benchmark_group("patterns");
    config(&mut g, 10, 2);
    for k in &kinds {
        let Some(l) = limit(k.rule) else { continue };
        g.throughput(Throughput::Elements(k.cells.len() as u64));
        g.bench_function(format!("{} fresh", k.rule.token()), |b| {
            b.iter(|| {
                for cell in &k.cells {
                    ctx.patterns_from(cell, l, None)
                        .0
                        .expect("within the limit");
                }
            })
        });
        g.bench_function(format!("{} inherited", k.rule.token()), |b| {
            b.iter(|| {
                for (cell, st) in k.cells.iter().zip(&k.parents) {
                    ctx.patterns_from(cell, l, Some(st))
                        .0
                        .expect("within the limit");
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
