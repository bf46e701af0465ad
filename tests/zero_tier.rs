//! The fast tiers of the Zero rule (P2) against the exact rule.
//!
//! - On random networks (`k` = 2, 3, 4; hand-made ones with weights that are
//!   multiples of 1/4, so that exact zeros and ties are common, and networks
//!   of the paper's random model) and random direction boxes: a binary64 or
//!   MPFR `Proved` comes with an exact acceptance (`Context::zero`), a
//!   `Failed` with an exact rejection; and where the binary64 screen of the
//!   corner test says `D_w f(0) < 0`, the exact directional derivative is
//!   negative.
//! - The same on every direction box of the shipped certificates' (P2)
//!   trees (the leaves and the boxes that were split).
//! - The binary64 screen of neuron statuses (`fast::status`): every status
//!   it proves is the exact one, and an engine with the screen installed
//!   gives the same branches, patterns and free neurons as one without, on
//!   the same boxes and on their halves (with inherited statuses).
//! - A search with the tiers writes the same (P2) trees as one with the
//!   exact rule only (`exact_only`).

mod common;

use std::path::Path;

use hvcert::certifier::fast::cone::{Decision, Tables};
use hvcert::certifier::fast::zero::{zero, Descent};
use hvcert::certifier::fast::{status, Mpfr, Tiers};
use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::checker::geometry::{Cell, Excluded};
use hvcert::checker::patterns::Engine;
use hvcert::checker::rules::Context;
use hvcert::exact::dyadic::Dyadic;
use hvcert::exact::eval::ExactNet;
use hvcert::format::certificate::{Certificate, Face, Node, Rule};
use hvcert::format::network::{read_network_file, Network};
use num_rational::BigRational as Q;
use num_traits::{Signed, Zero};
use proptest::prelude::*;

use common::certify::{certify, q, search_options};
use common::rationals::{measurement, quarter_network, Rng};

/// Branch limit of the search's (P2) (`ZERO_TRY`).
const ZERO_TRY: usize = 64;

#[derive(Debug, Default)]
struct Tally {
    boxes: usize,
    exact_accepts: usize,
    /// `[proved, unsure, failed]`.
    binary64: [usize; 3],
    mpfr: [usize; 3],
    /// Corners `[screened, left to the exact test]`.
    corners: [usize; 2],
    /// Neuron statuses `[proved by the screen, left to the exact test]`.
    statuses: [usize; 2],
}

fn slot(d: Decision) -> usize {
    match d {
        Decision::Proved => 0,
        Decision::Unsure => 1,
        Decision::Failed => 2,
    }
}

/// `(prefix, statuses)` of each branch.
type BranchKey = Vec<(Vec<Vec<bool>>, Vec<Option<bool>>)>;

fn branch_key(b: &Option<Vec<hvcert::checker::patterns::Branch>>) -> Option<BranchKey> {
    b.as_ref().map(|bs| {
        bs.iter()
            .map(|b| (b.prefix.clone(), b.status.to_vec()))
            .collect()
    })
}

/// The status screen against the exact statuses on one box and its halves.
fn compare_statuses(engine: &Engine, screened: &Engine, cell: &Cell, a: &mut Tally) {
    let corners = cell.corner_integers();
    let (exact, st_exact) = engine.branches(&corners, ZERO_TRY, None);
    let (fast, st_fast) = screened.branches(&corners, ZERO_TRY, None);
    assert_eq!(
        branch_key(&exact),
        branch_key(&fast),
        "branches differ on {cell:?}"
    );
    // Each status the screen proves is the exact one.
    for br in exact.iter().flatten() {
        let all = vec![true; br.rows.rows];
        let s = status::screen(&corners, &br.rows, &all);
        for (j, v) in s.iter().enumerate() {
            match v {
                Some(st) => {
                    assert_eq!(*st, br.status[j], "screen: neuron {j} on {cell:?}");
                    a.statuses[0] += 1;
                }
                None => a.statuses[1] += 1,
            }
        }
    }
    let (pe, _) = engine.patterns(&corners, 256, None);
    let (pf, _) = screened.patterns(&corners, 256, None);
    let key = |p: &Option<hvcert::checker::patterns::CellPatterns>| {
        p.as_ref().map(|p| {
            let free: Vec<_> = p
                .free
                .iter()
                .map(|f| (f.layer, f.index, f.row.clone()))
                .collect();
            (p.patterns.clone(), free)
        })
    };
    assert_eq!(key(&pe), key(&pf), "patterns differ on {cell:?}");
    // The halves, with the statuses inherited from this box.
    if let Some((axis, _)) = cell.widest() {
        let (lo, hi) = cell.split(axis);
        for half in [lo, hi] {
            let c = half.corner_integers();
            let (e, _) = engine.branches(&c, ZERO_TRY, Some(&st_exact));
            let (f, _) = screened.branches(&c, ZERO_TRY, Some(&st_fast));
            assert_eq!(
                branch_key(&e),
                branch_key(&f),
                "branches differ on {half:?}"
            );
        }
    }
}

/// Compares every tier with the exact rule on one direction box.
fn compare_box(
    net: &ExactNet,
    engine: &Engine,
    ctx: &Context,
    t: &Tables3,
    cell: &Cell,
    a: &mut Tally,
) {
    compare_statuses(engine, &t.screened, cell, a);
    let (Ok(branches), _) = ctx.branches_from(cell, ZERO_TRY, None) else {
        return;
    };
    a.boxes += 1;
    let exact = ctx.zero(cell, &branches).is_ok();
    a.exact_accepts += usize::from(exact);
    let f = zero(&t.f64, cell, &branches);
    let m = zero(&t.mpfr, cell, &branches);
    a.binary64[slot(f)] += 1;
    a.mpfr[slot(m)] += 1;
    for (tier, d) in [("binary64", f), ("mpfr", m)] {
        match d {
            Decision::Proved => {
                assert!(
                    exact,
                    "{tier} proves a box the exact rule rejects: {cell:?}"
                )
            }
            Decision::Failed => {
                assert!(
                    !exact,
                    "{tier} fails a box the exact rule accepts: {cell:?}"
                )
            }
            Decision::Unsure => {}
        }
    }
    // The tiers in sequence agree with the exact rule.
    assert_eq!(t.tiers.zero(ctx, cell, &branches, false), exact);
    assert_eq!(t.tiers.zero(ctx, cell, &branches, true), exact);
    // The corner screen.
    let origin = vec![Q::zero(); net.k];
    for w in cell.corners() {
        if w.iter().all(|v| v.num.is_zero()) {
            continue;
        }
        if t.descent.surely_descends(&w) {
            let wq: Vec<Q> = w.iter().map(Dyadic::to_rational).collect();
            let d = net.directional_derivative(&origin, &wq).unwrap();
            assert!(
                d.is_negative(),
                "screen says D_w f(0) < 0, exactly {d} at w = {wq:?}"
            );
            a.corners[0] += 1;
        } else {
            a.corners[1] += 1;
        }
    }
}

struct Tables3<'a> {
    f64: Tables<f64>,
    mpfr: Tables<Mpfr>,
    descent: Descent,
    tiers: Tiers,
    /// A second engine over the network, with the status screen.
    screened: Engine<'a>,
}

fn with_context<T>(net: &ExactNet, f: impl FnOnce(&Engine, &Context, &Tables3) -> T) -> T {
    let engine = Engine::new(net);
    let target = net.target.to_rationals();
    let half = Q::new(1.into(), 2.into());
    let ex = Excluded::new(target, &Q::zero(), &Q::zero(), half.clone(), half);
    let ctx = Context {
        engine: &engine,
        excluded: &ex,
        stationary: &[],
    };
    let t = Tables3 {
        f64: Tables::new(&engine),
        mpfr: Tables::new(&engine),
        descent: Descent::new(&engine),
        tiers: Tiers::new(&engine),
        screened: Engine::new(net),
    };
    t.screened.set_status_screen(Box::new(status::screen));
    f(&engine, &ctx, &t)
}

// ---------------------------------------------------------------------------
// Random networks and boxes.
// ---------------------------------------------------------------------------

fn dims(rng: &mut Rng, k: usize) -> (Vec<usize>, usize) {
    let depth = [1, 1, 2, 2, 3][rng.below(5)];
    let (lo, hi) = match k {
        2 => (2, 8),
        3 => (3, 10),
        _ => (4, 10),
    };
    let widths = (0..depth).map(|_| lo + rng.below(hi - lo + 1)).collect();
    let m = if rng.below(3) == 0 {
        0
    } else {
        1 + rng.below(7)
    };
    (widths, m)
}

/// Weights that are multiples of 1/4 in [-2, 2].
fn handmade(rng: &mut Rng, k: usize) -> Network {
    let (widths, m) = dims(rng, k);
    quarter_network(rng, k, widths, m)
}

fn sampled(rng: &mut Rng, k: usize) -> Network {
    let (widths, m) = dims(rng, k);
    sample_network(&SampleSpec {
        latent: k,
        widths,
        measurement: measurement(m),
        seed: rng.next(),
        target: None,
    })
}

/// A direction box: a face's root box halved `0..=10` times along random
/// sides (the search's boxes are all of this kind).
fn random_box(rng: &mut Rng, k: usize) -> Cell {
    let face = Face {
        axis: rng.below(k),
        positive: rng.bit(),
    };
    let mut cell = Cell::root(face, k);
    for _ in 0..rng.below(11) {
        let axis = loop {
            let a = rng.below(k);
            if a != face.axis {
                break a;
            }
        };
        let (lo, hi) = cell.split(axis);
        cell = if rng.bit() { lo } else { hi };
    }
    cell
}

fn random_case(seed: u64, k: usize, boxes: usize) -> Tally {
    let mut rng = Rng(seed);
    let network = if rng.bit() {
        handmade(&mut rng, k)
    } else {
        sampled(&mut rng, k)
    };
    let net = ExactNet::new(&network).unwrap();
    with_context(&net, |engine, ctx, t| {
        let mut a = Tally::default();
        for _ in 0..boxes {
            let cell = random_box(&mut rng, k);
            compare_box(&net, engine, ctx, t, &cell, &mut a);
        }
        a
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(debug_assertions) { 24 } else { 120 }))]

    #[test]
    fn zero_tiers_agree_with_exact_k2(seed in any::<u64>()) {
        random_case(seed, 2, 24);
    }

    #[test]
    fn zero_tiers_agree_with_exact_k3(seed in any::<u64>()) {
        random_case(seed, 3, 16);
    }

    #[test]
    fn zero_tiers_agree_with_exact_k4(seed in any::<u64>()) {
        random_case(seed, 4, 8);
    }
}

/// The random cases reach every answer of the binary64 tier and of the
/// exact rule (the comparison above is not vacuous).
#[test]
fn random_cases_cover_every_answer() {
    let mut total = Tally::default();
    for seed in 0..if cfg!(debug_assertions) { 30 } else { 120 } {
        for k in [2, 3, 4] {
            let a = random_case(seed * 7 + k as u64, k, 12);
            total.boxes += a.boxes;
            total.exact_accepts += a.exact_accepts;
            for i in 0..3 {
                total.binary64[i] += a.binary64[i];
                total.mpfr[i] += a.mpfr[i];
            }
            for i in 0..2 {
                total.corners[i] += a.corners[i];
                total.statuses[i] += a.statuses[i];
            }
        }
    }
    eprintln!("{total:?}");
    assert!(total.exact_accepts > 0 && total.exact_accepts < total.boxes);
    assert!(total.binary64[0] > 0 && total.binary64[2] > 0, "{total:?}");
    assert!(total.corners[0] > 0, "{total:?}");
    assert!(total.statuses[0] > 0 && total.statuses[1] > 0, "{total:?}");
}

// ---------------------------------------------------------------------------
// The shipped certificates' (P2) boxes.
// ---------------------------------------------------------------------------

/// Every box of a (P2) tree (leaves and split boxes), at most `limit`.
fn boxes(node: &Node, cell: Cell, out: &mut Vec<Cell>, limit: usize) {
    if out.len() >= limit {
        return;
    }
    out.push(cell.clone());
    if let Node::Split { axis, lo, hi } = node {
        let (a, b) = cell.split(*axis);
        boxes(lo, a, out, limit);
        boxes(hi, b, out, limit);
    }
}

fn compare_shipped(name: &str, limit: usize) -> Tally {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
    let cert = Certificate::from_json(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
    let loaded = read_network_file(&dir.join(cert.network_path.as_ref().unwrap())).unwrap();
    let net = ExactNet::new(&loaded.network).unwrap();
    let a = with_context(&net, |engine, ctx, t| {
        let mut a = Tally::default();
        for face in &cert.cover.as_ref().expect("a cover").faces {
            let mut all = Vec::new();
            boxes(
                &face.zero_tree,
                Cell::root(face.face, net.k),
                &mut all,
                limit,
            );
            for cell in all {
                compare_box(&net, engine, ctx, t, &cell, &mut a);
            }
        }
        a
    });
    eprintln!("{name}: {a:?}");
    assert!(a.boxes > 0 && a.exact_accepts > 0, "{name}: {a:?}");
    // binary64 settles the shipped boxes on its own.
    assert_eq!(a.binary64[1], 0, "{name}: {a:?}");
    a
}

#[test]
fn shipped_zero_boxes_k2() {
    for name in [
        "default.cert.json",
        "k2-4-8-m4.cert.json",
        "k2-20-100-m50.cert.json",
        "k2-10-40-160-m40.cert.json",
    ] {
        compare_shipped(name, usize::MAX);
    }
}

#[test]
fn shipped_zero_boxes_k3() {
    let limit = if cfg!(debug_assertions) { 8 } else { 40 };
    compare_shipped("k3-50-500-m100.cert.json", limit);
}

// ---------------------------------------------------------------------------
// The search: the same (P2) trees with and without the tiers.
// ---------------------------------------------------------------------------

fn zero_trees(net: &Network, exact_only: bool) -> Vec<Node> {
    let mut opts = search_options(net, None, 24, q(1, 64), None);
    opts.exact_only = exact_only;
    let (cert, _) = certify(net, &opts);
    cert.cover
        .expect("a cover")
        .faces
        .into_iter()
        .map(|f| f.zero_tree)
        .collect()
}

fn undecided(n: &Node) -> bool {
    match n {
        Node::Leaf(r) => *r == Rule::Undecided,
        Node::Split { lo, hi, .. }
        | Node::Radial {
            inner: lo,
            outer: hi,
            ..
        } => undecided(lo) || undecided(hi),
    }
}

fn split_count(n: &Node) -> usize {
    match n {
        Node::Leaf(_) => 0,
        Node::Split { lo, hi, .. }
        | Node::Radial {
            inner: lo,
            outer: hi,
            ..
        } => 1 + split_count(lo) + split_count(hi),
    }
}

/// Where (P2) holds: a counterexample stops the search, and which boxes
/// are left undecided then depends on the threads' timing.
#[test]
fn search_writes_the_same_zero_trees_as_exact_only() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("certificates");
    let mut nets = vec![
        read_network_file(&dir.join("k2-4-8-m4.bin"))
            .unwrap()
            .network,
        read_network_file(&dir.join("k2-20-100-m50.bin"))
            .unwrap()
            .network,
    ];
    // Fewer in a debug build (CI's `cargo test`).
    let (ks, per_k, want): (&[usize], usize, usize) = if cfg!(debug_assertions) {
        (&[2], 1, 2)
    } else {
        (&[2, 3, 4], 3, 4)
    };
    let mut rng = Rng(20261205);
    for &k in ks {
        for _ in 0..per_k {
            nets.push(sampled(&mut rng, k));
        }
    }
    let (mut compared, mut splits) = (0, 0);
    for (i, net) in nets.iter().enumerate() {
        let fast = zero_trees(net, false);
        if fast.iter().any(undecided) {
            eprintln!("network {i} (k = {}): (P2) fails, skipped", net.latent);
            continue;
        }
        let exact = zero_trees(net, true);
        assert_eq!(fast, exact, "(P2) trees differ");
        compared += 1;
        splits += fast.iter().map(split_count).sum::<usize>();
    }
    eprintln!("{compared} networks compared, {splits} splits");
    assert!(
        compared >= want && splits > 0,
        "{compared} networks, {splits} splits"
    );
}
