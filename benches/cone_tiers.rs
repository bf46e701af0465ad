//! The Cone rule in its three arithmetic tiers, per cell, on the same cells:
//! binary64 intervals (`certifier::fast::cone::cone::<f64>`), MPFR intervals
//! at `MPFR_BITS` (`cone::<Mpfr>`) and the checker's exact rule
//! (`Context::cone`).
//!
//! Networks: `certificates/default.bin` (k = 2, widths 50/500, A = I) and
//! `certificates/k3-50-500-m100.bin` (k = 3, widths 50/500, m = 100, A != I),
//! each with its shipped certificate. Cells are taken from the certificate's
//! cover trees, in tree order (faces in certificate order, pre-order):
//! - `cone accepted`: the first [`PER_GROUP`] leaves marked Cone (the exact
//!   rule accepts each);
//! - `cone failed`: the first [`PER_GROUP`] split cells on which the branches
//!   are enumerable (at most `CONE_BRANCHES`), the certifier would try the
//!   rule (more than one branch, or a free last-layer neuron) and the exact
//!   rule fails.
//!
//! The branches of every cell are computed once, outside the timing. Before
//! timing, every tier runs on every sampled cell and its decision must agree
//! with the exact rule (`Proved` => accepted, `Failed` => rejected;
//! `Unsure` is allowed and counted: such a cell would go to the next tier),
//! so the tiers cannot silently do different work; the counts are printed.
//!
//! Caches: one `Engine` and one `Tables` per number type per network, shared
//! by every iteration, and warmed by that check. The exact and MPFR tiers
//! take `Q_b`, `b_b` from the engine's quadratic cache (MPFR converts the
//! cached exact values on every call); the binary64 tier does not use that
//! cache: it computes `Q_b`, `b_b` from the branch's neuron rows on every
//! call (for A != I through `M_b = A Lambda_b`, updated from the per-prefix
//! base its `Tables` keeps, which is warm here too). The timings are thus
//! warm per-cell costs of the rule alone (no pattern or branch enumeration);
//! every time is per cell (throughput in elements = cells).

use std::path::Path;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use hvcert::certifier::fast::cone::{cone, Decision, Tables};
use hvcert::certifier::fast::Mpfr;
use hvcert::checker::geometry::{Cell, Excluded};
use hvcert::checker::patterns::{Branch, Engine};
use hvcert::checker::rules::{Context, CONE_BRANCHES};
use hvcert::exact::dyadic::{f64_to_rational, Dyadic};
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::{Certificate, Node, Rule};
use hvcert::format::network::read_network_file;
use num_rational::BigRational;

/// Cells sampled per group and network.
const PER_GROUP: usize = 40;

/// The networks: bench name, network file, certificate.
const NETWORKS: [(&str, &str, &str); 2] = [
    ("default", "default.bin", "default.cert.json"),
    ("k3", "k3-50-500-m100.bin", "k3-50-500-m100.cert.json"),
];

/// A sampled cell with its branches.
struct Sample {
    cell: Cell,
    branches: Vec<Branch>,
}

/// The cells of one network, with what the cone rule needs.
struct Net<'a> {
    name: &'static str,
    ctx: Context<'a>,
    t64: Tables<f64>,
    tmp: Tables<Mpfr>,
    accepted: Vec<Sample>,
    failed: Vec<Sample>,
}

/// Walks a cover tree in pre-order, collecting Cone leaves and failed split
/// cells until both samples are full.
fn walk(
    ctx: &Context,
    node: &Node,
    cell: Cell,
    accepted: &mut Vec<Sample>,
    failed: &mut Vec<Sample>,
) {
    if accepted.len() >= PER_GROUP && failed.len() >= PER_GROUP {
        return;
    }
    let branches = || ctx.branches_from(&cell, CONE_BRANCHES, None).0;
    match node {
        Node::Leaf(Rule::Cone) => {
            if accepted.len() < PER_GROUP {
                let branches = branches().expect("a Cone leaf has its branches");
                ctx.cone(&cell, &branches)
                    .unwrap_or_else(|e| panic!("a Cone leaf fails the exact rule: {e}"));
                accepted.push(Sample { cell, branches });
            }
        }
        Node::Leaf(_) => {}
        Node::Split { .. } | Node::Radial { .. } => {
            if failed.len() < PER_GROUP {
                if let Ok(b) = branches() {
                    let free = b.len() > 1 || b.iter().any(|br| br.free().next().is_some());
                    if free && ctx.cone(&cell, &b).is_err() {
                        failed.push(Sample {
                            cell: cell.clone(),
                            branches: b,
                        });
                    }
                }
            }
            let (a, b, lo, hi) = match node {
                Node::Split { axis, lo, hi } => {
                    let (a, b) = cell.split(*axis);
                    (a, b, lo, hi)
                }
                Node::Radial { at, inner, outer } => {
                    let at = Dyadic::from_rational(at).expect("dyadic split point");
                    let (a, b) = cell.split_radial(&at).expect("split inside the interval");
                    (a, b, inner, outer)
                }
                Node::Leaf(_) => unreachable!(),
            };
            walk(ctx, lo, a, accepted, failed);
            walk(ctx, hi, b, accepted, failed);
        }
    }
}

/// `[proved, unsure, failed]`.
fn slot(d: Decision) -> usize {
    match d {
        Decision::Proved => 0,
        Decision::Unsure => 1,
        Decision::Failed => 2,
    }
}

impl Net<'_> {
    /// Every tier on every sampled cell agrees with the exact rule; returns
    /// the decision counts per tier.
    fn check(&self, samples: &[Sample], accept: bool) -> [[usize; 3]; 2] {
        let mut counts = [[0; 3]; 2];
        for s in samples {
            let exact = self.ctx.cone(&s.cell, &s.branches).is_ok();
            assert_eq!(exact, accept, "{}: sampled as the wrong kind", self.name);
            let engine = self.ctx.engine;
            let f = cone(engine, &self.t64, &s.cell, &s.branches);
            let m = cone(engine, &self.tmp, &s.cell, &s.branches);
            for (i, (tier, d)) in [("binary64", f), ("mpfr", m)].into_iter().enumerate() {
                counts[i][slot(d)] += 1;
                match d {
                    Decision::Proved => assert!(
                        exact,
                        "{}: {tier} proves a cell the exact rule rejects",
                        self.name
                    ),
                    Decision::Failed => assert!(
                        !exact,
                        "{}: {tier} fails a cell the exact rule accepts",
                        self.name
                    ),
                    Decision::Unsure => {}
                }
            }
        }
        counts
    }
}

fn config(g: &mut BenchmarkGroup<criterion::measurement::WallTime>) {
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
    // Everything the contexts borrow, per network.
    struct Loaded {
        name: &'static str,
        cert: Certificate,
        exact: ExactNet,
        excluded: Excluded,
    }
    let loaded: Vec<Loaded> = NETWORKS
        .iter()
        .map(|&(name, bin, json)| {
            let text = std::fs::read_to_string(root.join(json)).expect("certificate");
            let cert = Certificate::from_json(&text).expect("valid certificate");
            let file = read_network_file(&root.join(bin)).expect("network");
            assert_eq!(
                cert.network_sha256, file.sha256,
                "{name}: certificate is for the network"
            );
            let net = &file.network;
            let exact = ExactNet::new(net).expect("exact network");
            let target: Vec<BigRational> = net
                .target
                .iter()
                .map(|&v| f64_to_rational(v).expect("finite"))
                .collect();
            let claim = &cert.claim;
            let excluded = Excluded::new(
                target,
                &claim.eps_x_star,
                &claim.eps_rho,
                claim.rho_lo.clone(),
                claim.rho_hi.clone(),
            );
            Loaded {
                name,
                cert,
                exact,
                excluded,
            }
        })
        .collect();
    let engines: Vec<Engine> = loaded.iter().map(|l| Engine::new(&l.exact)).collect();

    let mut nets = Vec::new();
    for (l, engine) in loaded.iter().zip(&engines) {
        let ctx = Context {
            engine,
            excluded: &l.excluded,
            stationary: &l.cert.claim.stationary_points,
        };
        let (mut accepted, mut failed) = (Vec::new(), Vec::new());
        for f in &l.cert.cover.as_ref().expect("a cover").faces {
            let cell = Cell::root(f.face, l.exact.k);
            walk(&ctx, &f.tree, cell, &mut accepted, &mut failed);
        }
        let net = Net {
            name: l.name,
            ctx,
            t64: Tables::new(engine),
            tmp: Tables::new(engine),
            accepted,
            failed,
        };
        for (group, samples, accept) in [
            ("accepted", &net.accepted, true),
            ("failed", &net.failed, false),
        ] {
            assert!(!samples.is_empty(), "{}: no {group} cells", net.name);
            let counts = net.check(samples, accept);
            let nb: usize = samples.iter().map(|s| s.branches.len()).sum();
            eprintln!(
                "{} {group}: {} cells, {:.1} branches per cell; [proved, unsure, failed] binary64 {:?}, mpfr {:?}",
                net.name,
                samples.len(),
                nb as f64 / samples.len() as f64,
                counts[0],
                counts[1]
            );
        }
        nets.push(net);
    }

    for (group, failed) in [("cone accepted", false), ("cone failed", true)] {
        let mut g = c.benchmark_group(group);
        config(&mut g);
        for net in &nets {
            let samples = if failed { &net.failed } else { &net.accepted };
            let engine = net.ctx.engine;
            g.throughput(Throughput::Elements(samples.len() as u64));
            g.bench_function(format!("{}/binary64", net.name), |b| {
                b.iter(|| {
                    for s in samples {
                        std::hint::black_box(cone(engine, &net.t64, &s.cell, &s.branches));
                    }
                })
            });
            g.bench_function(format!("{}/mpfr", net.name), |b| {
                b.iter(|| {
                    for s in samples {
                        std::hint::black_box(cone(engine, &net.tmp, &s.cell, &s.branches));
                    }
                })
            });
            g.bench_function(format!("{}/exact", net.name), |b| {
                b.iter(|| {
                    for s in samples {
                        let _ = std::hint::black_box(net.ctx.cone(&s.cell, &s.branches));
                    }
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
