//! Two rules of the certifier in their arithmetic tiers, per cell, on the
//! same cells: the Cone rule in binary64 intervals
//! (`certifier::fast::cone::cone::<f64>`), MPFR intervals at `MPFR_BITS`
//! (`cone::<Mpfr>`) and the checker's exact rule (`Context::cone`); the
//! Crease rule in the binary64 screen (`certifier::fast::cone::screen::<f64>`)
//! and the checker's exact rule (`Context::crease`).
//!
//! Networks: `certificates/default.bin` (k = 2, widths 50/500, A = I) and
//! `certificates/k3-50-500-m100.bin` (k = 3, widths 50/500, m = 100, A != I),
//! each with its shipped certificate. Cells are taken from the certificate's
//! cover trees, in tree order (faces in certificate order, pre-order), at
//! most [`PER_GROUP`] per group and network (fewer where the cover has
//! fewer; the printed counts say so):
//! - `cone accepted`: the first leaves marked Cone (the exact rule accepts
//!   each);
//! - `cone failed`: the first split cells on which the branches are
//!   enumerable (at most `CONE_BRANCHES`), the certifier would try the rule
//!   (more than one branch, or a free last-layer neuron) and the exact rule
//!   fails;
//! - `crease accepted`: the first leaves marked Crease (the exact rule
//!   accepts each);
//! - `crease failed`: the first split cells on which the certifier would try
//!   the rule (the patterns enumerable with the certifier's limit
//!   [`PATTERN_LIMIT`], a free neuron, at most `CREASE_LIMIT` patterns) and
//!   the exact rule fails.
//!
//! The branches and patterns of every cell are computed once, outside the
//! timing. Before timing, every tier runs on every sampled cell and its
//! decision must agree with the exact rule (`Proved` => accepted, `Failed`
//! => rejected; `Unsure` is allowed and counted: such a cell would go to the
//! next tier), so the tiers cannot silently do different work; the counts
//! are printed.
//!
//! Caches: one `Engine` and one `Tables` per number type per network, shared
//! by every iteration, and warmed by that check. The exact and MPFR Cone
//! tiers take `Q_b`, `b_b` from the engine's quadratic cache (MPFR converts
//! the cached exact values on every call); the binary64 tiers (Cone and the
//! Crease screen) do not use that cache: they compute `Q_b`, `b_b` (the
//! screen: `Q_P`, `b_P` of every pattern) from the neuron rows on every call
//! (for A != I through `M = A Lambda`, updated from the per-prefix base
//! their `Tables` keeps, which is warm here too). The exact Crease rule is
//! timed twice:
//! - `exact warm`: with the shared engine, every pattern's exact `Q_P`,
//!   `b_P` (and region point) cached: the rule alone;
//! - `exact cold`: every cell with a fresh `Engine` of its own (made in
//!   `iter_batched`'s setup, `BatchSize::SmallInput`, and dropped outside
//!   the timing), so each cell's exact quadratics, their region points and
//!   (for A != I) `M = A Lambda` from scratch are computed in the timing;
//!   the layer rows under the cell's patterns are put in the fresh engine in
//!   the setup, as the certifier's pattern enumeration on the cell has just
//!   done. This is what the certifier pays on a cell it meets first, none of
//!   whose patterns it has met before (on a cell whose parent tried Crease,
//!   the parent's patterns are cached and the cost is nearer the warm one).
//!
//! The timings are per-cell costs of the rules alone (no pattern or branch
//! enumeration); every time is per cell (throughput in elements = cells).

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use hvcert::certifier::fast::cone::{cone, screen, Decision, Tables};
use hvcert::certifier::fast::Mpfr;
use hvcert::checker::geometry::{Cell, Excluded};
use hvcert::checker::patterns::{Branch, CellPatterns, Engine};
use hvcert::checker::rules::{Context, CONE_BRANCHES, CREASE_LIMIT};
use hvcert::exact::dyadic::{f64_to_rational, Dyadic};
use hvcert::exact::eval::{ExactNet, Pattern};
use hvcert::format::certificate::{Certificate, Node, Rule};
use hvcert::format::network::read_network_file;
use num_rational::BigRational;

/// Cells sampled per group and network (at most).
const PER_GROUP: usize = 40;

/// The pattern limit of the certifier's enumeration before Crease (its
/// `PAIRS_TRY`).
const PATTERN_LIMIT: usize = 16;

/// The networks: bench name, network file, certificate.
const NETWORKS: [(&str, &str, &str); 2] = [
    ("default", "default.bin", "default.cert.json"),
    ("k3", "k3-50-500-m100.bin", "k3-50-500-m100.cert.json"),
];

/// A sampled cell with its branches (Cone).
struct Sample {
    cell: Cell,
    branches: Vec<Branch>,
}

/// A sampled cell with its patterns (Crease).
struct CreaseSample {
    cell: Cell,
    pats: CellPatterns,
}

/// The sampled cells of one network.
#[derive(Default)]
struct Samples {
    cone_accepted: Vec<Sample>,
    cone_failed: Vec<Sample>,
    crease_accepted: Vec<CreaseSample>,
    crease_failed: Vec<CreaseSample>,
}

impl Samples {
    fn full(&self) -> bool {
        self.cone_accepted.len() >= PER_GROUP
            && self.cone_failed.len() >= PER_GROUP
            && self.crease_accepted.len() >= PER_GROUP
            && self.crease_failed.len() >= PER_GROUP
    }
}

/// The cells of one network, with what the rules need.
struct Net<'a> {
    name: &'static str,
    ctx: Context<'a>,
    t64: Tables<f64>,
    tmp: Tables<Mpfr>,
    s: Samples,
}

/// The patterns of a cell on which the certifier tries Crease, if it does.
fn crease_patterns(ctx: &Context, cell: &Cell) -> Option<CellPatterns> {
    ctx.patterns(cell, PATTERN_LIMIT)
        .ok()
        .filter(|p| !p.free.is_empty() && p.patterns.len() <= CREASE_LIMIT)
}

/// Walks a cover tree in pre-order, collecting accepted leaves and failed
/// split cells of both rules until every sample is full.
fn walk(ctx: &Context, node: &Node, cell: Cell, s: &mut Samples) {
    if s.full() {
        return;
    }
    let branches = || ctx.branches_from(&cell, CONE_BRANCHES, None).0;
    match node {
        Node::Leaf(Rule::Cone) => {
            if s.cone_accepted.len() < PER_GROUP {
                let branches = branches().expect("a Cone leaf has its branches");
                ctx.cone(&cell, &branches)
                    .unwrap_or_else(|e| panic!("a Cone leaf fails the exact rule: {e}"));
                s.cone_accepted.push(Sample { cell, branches });
            }
        }
        Node::Leaf(Rule::Crease) => {
            if s.crease_accepted.len() < PER_GROUP {
                let pats = crease_patterns(ctx, &cell)
                    .expect("the certifier tries Crease on a Crease leaf");
                ctx.crease(&cell, &pats)
                    .unwrap_or_else(|e| panic!("a Crease leaf fails the exact rule: {e}"));
                s.crease_accepted.push(CreaseSample { cell, pats });
            }
        }
        Node::Leaf(_) => {}
        Node::Split { .. } | Node::Radial { .. } => {
            if s.cone_failed.len() < PER_GROUP {
                if let Ok(b) = branches() {
                    let free = b.len() > 1 || b.iter().any(|br| br.free().next().is_some());
                    if free && ctx.cone(&cell, &b).is_err() {
                        s.cone_failed.push(Sample {
                            cell: cell.clone(),
                            branches: b,
                        });
                    }
                }
            }
            if s.crease_failed.len() < PER_GROUP {
                if let Some(pats) = crease_patterns(ctx, &cell) {
                    if ctx.crease(&cell, &pats).is_err() {
                        s.crease_failed.push(CreaseSample {
                            cell: cell.clone(),
                            pats,
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
            walk(ctx, lo, a, s);
            walk(ctx, hi, b, s);
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

/// A fast tier's decision agrees with the exact rule.
fn agree(net: &str, rule: &str, tier: &str, d: Decision, exact: bool) {
    match d {
        Decision::Proved => assert!(
            exact,
            "{net}: {rule} {tier} proves a cell the exact rule rejects"
        ),
        Decision::Failed => assert!(
            !exact,
            "{net}: {rule} {tier} fails a cell the exact rule accepts"
        ),
        Decision::Unsure => {}
    }
}

impl Net<'_> {
    /// Every Cone tier on every sampled cell agrees with the exact rule;
    /// returns the decision counts per tier.
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
                agree(self.name, "cone", tier, d, exact);
            }
        }
        counts
    }

    /// The Crease screen on every sampled cell agrees with the exact rule;
    /// returns its decision counts.
    fn check_crease(&self, samples: &[CreaseSample], accept: bool) -> [usize; 3] {
        let mut counts = [0; 3];
        for s in samples {
            let exact = self.ctx.crease(&s.cell, &s.pats).is_ok();
            assert_eq!(exact, accept, "{}: sampled as the wrong kind", self.name);
            let d = screen(self.ctx.engine, &self.t64, &s.cell, &s.pats).crease;
            counts[slot(d)] += 1;
            agree(self.name, "crease", "binary64", d, exact);
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

/// `n cells` or, short of [`PER_GROUP`], `n cells (all the cover has)`.
fn cells(n: usize) -> String {
    if n < PER_GROUP {
        format!("{n} cells (all the cover has; fewer than {PER_GROUP})")
    } else {
        format!("{n} cells")
    }
}

/// A fresh engine per sampled cell, holding the layer rows under the
/// cell's patterns (as after the certifier's pattern enumeration) and no
/// quadratic.
fn fresh_engines<'a>(exact: &'a ExactNet, samples: &[CreaseSample]) -> Vec<Engine<'a>> {
    samples
        .iter()
        .map(|s| {
            let engine = Engine::new(exact);
            for p in &s.pats.patterns {
                for i in 0..p.bits.len() {
                    engine.layer_rows(&p.bits[..i]);
                }
            }
            engine
        })
        .collect()
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
        let mut s = Samples::default();
        for f in &l.cert.cover.as_ref().expect("a cover").faces {
            let cell = Cell::root(f.face, l.exact.k);
            walk(&ctx, &f.tree, cell, &mut s);
        }
        let net = Net {
            name: l.name,
            ctx,
            t64: Tables::new(engine),
            tmp: Tables::new(engine),
            s,
        };
        for (group, samples, accept) in [
            ("accepted", &net.s.cone_accepted, true),
            ("failed", &net.s.cone_failed, false),
        ] {
            assert!(!samples.is_empty(), "{}: no cone {group} cells", net.name);
            let counts = net.check(samples, accept);
            let nb: usize = samples.iter().map(|s| s.branches.len()).sum();
            eprintln!(
                "{} cone {group}: {}, {:.1} branches per cell; [proved, unsure, failed] binary64 {:?}, mpfr {:?}",
                net.name,
                cells(samples.len()),
                nb as f64 / samples.len() as f64,
                counts[0],
                counts[1]
            );
        }
        for (group, samples, accept) in [
            ("accepted", &net.s.crease_accepted, true),
            ("failed", &net.s.crease_failed, false),
        ] {
            assert!(!samples.is_empty(), "{}: no crease {group} cells", net.name);
            let counts = net.check_crease(samples, accept);
            let np: usize = samples.iter().map(|s| s.pats.patterns.len()).sum();
            let distinct: HashSet<&Pattern> =
                samples.iter().flat_map(|s| &s.pats.patterns).collect();
            eprintln!(
                "{} crease {group}: {}, {:.1} patterns per cell ({} distinct of {np}); [proved, unsure, failed] binary64 {:?}",
                net.name,
                cells(samples.len()),
                np as f64 / samples.len() as f64,
                distinct.len(),
                counts
            );
        }
        nets.push(net);
    }

    for (group, failed) in [("cone accepted", false), ("cone failed", true)] {
        let mut g = c.benchmark_group(group);
        config(&mut g);
        for net in &nets {
            let samples = if failed {
                &net.s.cone_failed
            } else {
                &net.s.cone_accepted
            };
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

    for (group, failed) in [("crease accepted", false), ("crease failed", true)] {
        let mut g = c.benchmark_group(group);
        config(&mut g);
        for (net, l) in nets.iter().zip(&loaded) {
            let samples = if failed {
                &net.s.crease_failed
            } else {
                &net.s.crease_accepted
            };
            let engine = net.ctx.engine;
            g.throughput(Throughput::Elements(samples.len() as u64));
            g.bench_function(format!("{}/binary64", net.name), |b| {
                b.iter(|| {
                    for s in samples {
                        std::hint::black_box(screen(engine, &net.t64, &s.cell, &s.pats));
                    }
                })
            });
            g.bench_function(format!("{}/exact warm", net.name), |b| {
                b.iter(|| {
                    for s in samples {
                        let _ = std::hint::black_box(net.ctx.crease(&s.cell, &s.pats));
                    }
                })
            });
            g.bench_function(format!("{}/exact cold", net.name), |b| {
                b.iter_batched(
                    || fresh_engines(&l.exact, samples),
                    |fresh| {
                        for (s, engine) in samples.iter().zip(&fresh) {
                            let ctx = Context {
                                engine,
                                excluded: net.ctx.excluded,
                                stationary: net.ctx.stationary,
                            };
                            let _ = std::hint::black_box(ctx.crease(&s.cell, &s.pats));
                        }
                        // Dropped outside the timing.
                        fresh
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
