//! Soundness of the checker's rules, tested against the exact evaluator.
//!
//! On random small networks (hand-made ones with weights that are multiples
//! of 1/4 in [-2, 2], so ties and exact zeros are common, and networks drawn
//! by `sample_network`) and random cells (a face, a dyadic box obtained by
//! `Cell::split`, a radial interval obtained by `Cell::split_radial`, often
//! zoomed onto an interesting point: `x*`, `-rho x*`, a region point, a random
//! point), every rule of `rules::Context` is run. Whenever a rule accepts a
//! cell, exact rational points of the cell are sampled (box corners, random
//! points, large radii for unbounded cells, points where some neuron is
//! exactly zero found exactly along segments, points where two are, region
//! points and points next to them) and the rule's claim is checked there:
//!
//! - Region, Crease, Pairs: `D_{-vbar} f(x) < 0` (F3, by
//!   `ExactNet::descent_derivative`) at every sampled `x != 0` that is outside
//!   `E` for every `rho` of the enclosure and not a listed stationary point;
//! - Excluded: every sampled point is in the ball;
//! - Zero: `D_w f(0) < 0` for every sampled direction `w` of the cone.
//!
//! The cells are also enumerated with the statuses inherited from their
//! ancestors (as `verify` does), which must give the same patterns; the
//! checker's `Excluded` tests and `Cell::contains_scaled` are compared with
//! independent code, and the engine's `Q_P`, `b_P` and region points with the
//! evaluator's.
//!
//! Each test prints how often each rule accepted and how many points it
//! checked, and requires a minimum number of acceptances per rule. The
//! environment variable `RULE_SOUNDNESS_SCALE=n` runs `n` times as many
//! cases (a longer search).

mod common;

use std::cell::RefCell;
use std::sync::OnceLock;

use hvcert::certifier::sample::{sample_network, SampleSpec};
use hvcert::checker::geometry::{Cell, Excluded};
use hvcert::checker::patterns::{CellPatterns, Engine, Statuses};
use hvcert::checker::rules::{self, Context};
use hvcert::checker::zero_first::zero_first;
use hvcert::exact::dyadic::{f64_to_rational, Dyadic};
use hvcert::exact::eval::ExactNet;
use hvcert::exact::rho::{rho_enclosure, RatInterval};
use hvcert::format::certificate::{Ball, Face};
use hvcert::format::network::Network;
use num_rational::BigRational as Q;
use num_traits::{One, Signed, Zero};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use common::rationals::{
    dot, dy, in_cell, is_zero_vec, measurement, pow2, q, rationals, scale, segment_zeros, show, Rng,
};

// ---------------------------------------------------------------------------
// Networks.
// ---------------------------------------------------------------------------

fn shape(k: usize, widths: &[usize], m: usize) -> (Vec<usize>, usize) {
    let mut sizes = Vec::new();
    let mut prev = k;
    for &n in widths {
        sizes.push(n * prev);
        prev = n;
    }
    (sizes, m * prev)
}

/// Depth 1..3, widths in `lo..=hi`; `A = I` (m = 0) half of the time,
/// otherwise m in 1..6.
fn dims(lo: usize, hi: usize) -> impl Strategy<Value = (Vec<usize>, usize)> {
    (1usize..=3, prop::collection::vec(lo..=hi, 3), 0usize..=6)
        .prop_map(|(d, n, m)| (n[..d].to_vec(), if m % 2 == 0 { 0 } else { m }))
}

/// The widths for latent dimension `k`: 2..6 for `k = 2`, 3..12 for `k = 3`.
fn widths_for(k: usize) -> (usize, usize) {
    if k == 2 {
        (2, 6)
    } else {
        (3, 12)
    }
}

/// Weights that are multiples of 1/4 in [-2, 2] (ties and exact zeros).
fn handmade(k: usize) -> impl Strategy<Value = Network> {
    let (lo, hi) = widths_for(k);
    dims(lo, hi).prop_flat_map(move |(widths, m)| {
        let (sizes, a_size) = shape(k, &widths, m);
        let entry = (-8i32..=8).prop_map(|v| v as f64 / 4.0);
        let weights: Vec<_> = sizes
            .iter()
            .map(|&s| prop::collection::vec(entry.clone(), s))
            .collect();
        let a = prop::collection::vec(entry.clone(), a_size);
        let target = prop::collection::vec(entry.clone(), k)
            .prop_filter("x* must be nonzero", |t| t.iter().any(|&v| v != 0.0));
        let widths = widths.clone();
        (weights, a, target).prop_map(move |(weights, a, target)| Network {
            latent: k,
            widths: widths.clone(),
            measurement: measurement(m),
            weights,
            a: (m > 0).then_some(a),
            target,
            sampling: None,
        })
    })
}

/// Networks of the paper's random model.
fn sampled() -> impl Strategy<Value = Network> {
    (2usize..=3).prop_flat_map(|k| {
        let (lo, hi) = widths_for(k);
        (dims(lo, hi), any::<u64>()).prop_map(move |((widths, m), seed)| {
            sample_network(&SampleSpec {
                latent: k,
                widths,
                measurement: measurement(m),
                seed,
                target: None,
            })
        })
    })
}

/// How one cell is built: the kind of point it zooms onto (0 random, 1 `x*`,
/// 2 `-rho x*`, 3 a region point, 4 a point where a neuron is exactly zero,
/// 5 one where two are, 6, 8 and 9 a valley point where (P1) fails, 7 any
/// point where it fails), the number of box halvings, the radial interval's
/// kind, its resolution `2^-e`, and a seed for the other choices.
#[derive(Clone, Debug)]
struct CellSpec {
    target: u8,
    splits: usize,
    radial: u8,
    e: i64,
    seed: u64,
}

fn cell_spec() -> impl Strategy<Value = CellSpec> {
    (0u8..10, 0usize..=16, 0u8..5, -1i64..=5, any::<u64>()).prop_map(
        |(target, splits, radial, e, seed)| CellSpec {
            target,
            splits,
            radial,
            e,
            seed,
        },
    )
}

/// One case: a network, cells, radii (indices into `EPS`), whether `x*` (and
/// the exact stationary points found) are listed, and a seed.
#[derive(Clone, Debug)]
struct Case {
    net: Network,
    cells: Vec<CellSpec>,
    eps1: usize,
    eps2: usize,
    list: bool,
    /// Index into `[0, 1/16, 1/4]`: how much the rho enclosure is widened.
    widen: usize,
    seed: u64,
}

const EPS: [(i64, i64); 7] = [(0, 1), (1, 16), (1, 8), (1, 4), (1, 2), (3, 4), (1, 1)];

fn case(net: impl Strategy<Value = Network>, cells: usize) -> impl Strategy<Value = Case> {
    (
        net,
        prop::collection::vec(cell_spec(), cells),
        0..EPS.len(),
        0..EPS.len(),
        any::<bool>(),
        0usize..3,
        any::<u64>(),
    )
        .prop_map(|(net, cells, eps1, eps2, list, widen, seed)| Case {
            net,
            cells,
            eps1,
            eps2,
            list,
            widen,
            seed,
        })
}

fn rho(d: usize) -> &'static RatInterval {
    static RHO: OnceLock<Vec<RatInterval>> = OnceLock::new();
    &RHO.get_or_init(|| {
        (1..=3)
            .map(|d| rho_enclosure(d, &pow2(-16)))
            .collect::<Vec<_>>()
    })[d - 1]
}

// ---------------------------------------------------------------------------
// Cells.
// ---------------------------------------------------------------------------

/// The cell zoomed onto `z != 0` (ties broken at random), and its ancestors.
fn zoom(k: usize, z: &[Q], spec: &CellSpec, rng: &mut Rng) -> (Vec<Cell>, Cell) {
    let a = (0..k)
        .max_by(|&i, &j| z[i].abs().cmp(&z[j].abs()).then(j.cmp(&i)))
        .expect("k >= 1");
    let tz = z[a].abs();
    let face = Face {
        axis: a,
        positive: z[a].is_positive(),
    };
    let p: Vec<Q> = z.iter().map(|v| v / &tz).collect();
    let others: Vec<usize> = (0..k).filter(|&j| j != a).collect();
    let mut chain = Vec::new();
    let mut cell = Cell::root(face, k);
    for _ in 0..spec.splits {
        let j = others[rng.below(others.len())];
        let (lo, hi) = cell.split(j);
        let mid = lo.hi[j].to_rational();
        let upper = match p[j].cmp(&mid) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => rng.bit(),
        };
        chain.push(cell);
        cell = if upper { hi } else { lo };
    }
    // A dyadic bracket [lo, lo + h] of the radius, h = 2^-e.
    let h = pow2(-spec.e);
    let m = (&tz / &h).floor();
    let mut lo = m * &h;
    if lo == tz && lo.is_positive() && rng.bit() {
        lo -= &h;
    }
    let hi = &lo + &h;
    let (lo, hi) = (dy(&lo), dy(&hi));
    let mut cut = |cell: &mut Cell, at: &Dyadic, outer: bool| {
        if let Some((i, o)) = cell.split_radial(at) {
            chain.push(cell.clone());
            *cell = if outer { o } else { i };
        }
    };
    match spec.radial {
        0 => {}
        1 => {
            cut(&mut cell, &lo, true);
            cut(&mut cell, &hi, false);
        }
        2 => cut(&mut cell, &lo, true),
        3 => cut(&mut cell, &hi, false),
        _ => cut(&mut cell, &hi, true),
    }
    (chain, cell)
}

/// The test's own description of `E` (not the checker's `Excluded`): the
/// ball around `x*`, and the balls around `-rho x*` for `rho` in `[lo, hi]`.
struct Balls {
    target: Vec<Q>,
    /// `|x*|^2`.
    tt: Q,
    r1_sq: Q,
    r2_sq: Q,
    lo: Q,
    hi: Q,
}

impl Balls {
    fn in_ball1(&self, x: &[Q]) -> bool {
        let d: Vec<Q> = x.iter().zip(&self.target).map(|(a, b)| a - b).collect();
        dot(&d, &d) < self.r1_sq
    }
    /// `phi(rho) = |x + rho x*|^2 = xx + 2 rho xt + rho^2 tt`.
    fn phi(&self, xx: &Q, xt: &Q, rho: &Q) -> Q {
        xx + rho * (q(2, 1) * xt + rho * &self.tt)
    }
    /// In `B(-rho x*, r2)` for every `rho` of the enclosure (convex in `rho`).
    fn in_ball2_all(&self, x: &[Q]) -> bool {
        let (xx, xt) = (dot(x, x), dot(x, &self.target));
        self.phi(&xx, &xt, &self.lo) < self.r2_sq && self.phi(&xx, &xt, &self.hi) < self.r2_sq
    }
    /// Outside `E` for every `rho` of the enclosure: `phi >= r2^2` at both
    /// ends and at its vertex when that lies between them.
    fn outside(&self, x: &[Q]) -> bool {
        if self.in_ball1(x) {
            return false;
        }
        let (xx, xt) = (dot(x, x), dot(x, &self.target));
        let vertex = -&xt / &self.tt;
        let mut ok = self.phi(&xx, &xt, &self.lo) >= self.r2_sq
            && self.phi(&xx, &xt, &self.hi) >= self.r2_sq;
        if ok && vertex > self.lo && vertex < self.hi {
            ok = self.phi(&xx, &xt, &vertex) >= self.r2_sq;
        }
        ok
    }
}

// ---------------------------------------------------------------------------
// Sample points.
// ---------------------------------------------------------------------------

/// Points of the direction box: corners, centre, random points.
fn box_points(cell: &Cell, rng: &mut Rng, random: usize) -> Vec<Vec<Q>> {
    let lo = rationals(&cell.lo);
    let hi = rationals(&cell.hi);
    let mut pts: Vec<Vec<Q>> = cell.corners().iter().map(|c| rationals(c)).collect();
    pts.push(lo.iter().zip(&hi).map(|(l, h)| (l + h) / q(2, 1)).collect());
    for _ in 0..random {
        pts.push(
            lo.iter()
                .zip(&hi)
                .map(|(l, h)| l + (h - l) * rng.unit())
                .collect(),
        );
    }
    pts
}

/// Radii of the cell: the ends, random ones, and large ones when unbounded.
fn radii(cell: &Cell, rng: &mut Rng) -> Vec<Q> {
    let t_lo = cell.t_lo.to_rational();
    let mut ts = Vec::new();
    if t_lo.is_positive() {
        ts.push(t_lo.clone());
    }
    match &cell.t_hi {
        Some(h) => {
            let h = h.to_rational();
            ts.push(h.clone());
            ts.push((&t_lo + &h) / q(2, 1));
            for _ in 0..2 {
                let u = rng.unit();
                if u.is_positive() {
                    ts.push(&t_lo + (&h - &t_lo) * u);
                }
            }
        }
        None => {
            for e in [-3, 0, 1, 3, 10, 40] {
                ts.push(&t_lo + pow2(e));
            }
            ts.push(&t_lo + rng.unit() * q(4, 1) + q(1, 16));
        }
    }
    ts.sort();
    ts.dedup();
    ts
}

/// How many random segments to search for zeros: between the given points,
/// then between the zeros found.
type Segments = (usize, usize);

/// Points where neurons are exactly zero: along random segments between the
/// given points, then along segments between such points (two zeros).
fn boundary_points(
    net: &ExactNet,
    base: &[Vec<Q>],
    rng: &mut Rng,
    segments: Segments,
) -> Vec<Vec<Q>> {
    let mut first = Vec::new();
    if base.len() >= 2 {
        for _ in 0..segments.0 {
            let i = rng.below(base.len());
            let j = rng.below(base.len());
            if i != j {
                segment_zeros(net, &base[i], &base[j], &mut first);
            }
        }
    }
    let mut second = Vec::new();
    if first.len() >= 2 {
        for _ in 0..segments.1 {
            let i = rng.below(first.len());
            let j = rng.below(first.len());
            if i != j {
                segment_zeros(net, &first[i], &first[j], &mut second);
            }
        }
    }
    first.truncate(60);
    second.truncate(60);
    first.extend(second);
    first
}

/// Exact points of the cell (P1 rules).
fn cell_points(
    net: &ExactNet,
    engine: &Engine,
    cell: &Cell,
    pats: Option<&CellPatterns>,
    rng: &mut Rng,
    segments: Segments,
) -> Vec<Vec<Q>> {
    let boxp = box_points(cell, rng, 5);
    let ts = radii(cell, rng);
    let n_corners = 1usize << (cell.k() - 1);
    let mut base = Vec::new();
    for (i, p) in boxp.iter().enumerate() {
        if i < n_corners {
            // Corners at the ends of the radial interval.
            base.push(scale(&ts[0], p));
            base.push(scale(ts.last().unwrap(), p));
        } else {
            for _ in 0..2 {
                base.push(scale(&ts[rng.below(ts.len())], p));
            }
        }
    }
    let centre = &boxp[n_corners];
    for t in &ts {
        base.push(scale(t, centre));
    }
    let mut pts = boundary_points(net, &base, rng, segments);
    pts.extend(base);
    // Region points of the cell's patterns and points next to them.
    if let Some(pats) = pats {
        for p in &pats.patterns {
            let quad = engine.quadratic(p);
            // The engine's Q_P, b_P (cached, incremental M = A D R) and its
            // Cramer region point agree with the evaluator's.
            let (q_ref, b_ref) = net.quadratic(p).unwrap();
            let q_eng: Vec<Vec<Q>> = quad.q.iter().map(|row| rationals(row)).collect();
            assert_eq!(q_eng, q_ref.to_rationals(), "Q_P of {p}");
            assert_eq!(rationals(&quad.b), b_ref.to_rationals(), "b_P of {p}");
            assert_eq!(
                quad.region_point(),
                net.region_point(p).unwrap().as_ref(),
                "region point of {p}"
            );
            let (Some(xc), Some((u, d))) = (quad.region_point(), quad.region_scaled()) else {
                continue;
            };
            let inside = in_cell(cell, xc);
            assert_eq!(
                cell.contains_scaled(u, d),
                inside,
                "contains_scaled disagrees at {} on {}",
                show(xc),
                cell.describe()
            );
            assert_eq!(cell.contains(xc), inside);
            if !inside {
                continue;
            }
            pts.push(xc.clone());
            for i in 0..xc.len() {
                for s in [-1, 1] {
                    let mut y = xc.clone();
                    y[i] += q(s, 1) * pow2(-12);
                    if in_cell(cell, &y) {
                        pts.push(y);
                    }
                }
            }
        }
    }
    pts.sort();
    pts.dedup();
    pts
}

// ---------------------------------------------------------------------------
// The checks.
// ---------------------------------------------------------------------------

const RULES: [&str; 8] = [
    "region",
    "crease",
    "pairs",
    "excluded1",
    "excluded2",
    "zero",
    "cone",
    "zero-first",
];

#[derive(Debug, Default)]
struct Tally {
    cells: usize,
    tried: [usize; 8],
    accepted: [usize; 8],
    /// Points checked per rule.
    points: [usize; 8],
    /// P1 points with a neuron exactly zero, with two, and where the F3
    /// pattern of `-vbar` differs from the strict pattern (crossing).
    zero1: usize,
    zero2: usize,
    crossing: usize,
    /// Accepted crease cells with several free neurons, and those the Pairs
    /// rule rejects (a ridge excused a pair).
    crease_multi: usize,
    crease_ridge: usize,
    /// Points found where (P1) fails, and cells holding one outside `E`
    /// (which every P1 rule must reject).
    bad_points: usize,
    bad_cells: usize,
    valley_points: usize,
    valley_cells: usize,
}

impl Tally {
    fn report(&self, name: &str, secs: f64) {
        eprintln!("rule_soundness {name}: {} cells, {secs:.1} s", self.cells);
        for (i, r) in RULES.iter().enumerate() {
            eprintln!(
                "  {r:10} accepted {:5} of {:5} tried ({:5.1}%), {:7} points checked",
                self.accepted[i],
                self.tried[i],
                100.0 * self.accepted[i] as f64 / self.tried[i].max(1) as f64,
                self.points[i]
            );
        }
        eprintln!(
            "  crease accepted with >1 free neuron: {}, where Pairs fails (a ridge): {}; P1 points with a zero neuron: {}, with two: {}, where -vbar crosses into another pattern: {}",
            self.crease_multi, self.crease_ridge, self.zero1, self.zero2, self.crossing
        );
        eprintln!(
            "  points found where (P1) fails: {} ({} in valleys); cells holding one outside E (all rejected): {} ({} valley)",
            self.bad_points, self.valley_points, self.bad_cells, self.valley_cells
        );
    }
}

struct World<'a> {
    net: &'a ExactNet,
    ctx: &'a Context<'a>,
    balls: &'a Balls,
    network: &'a Network,
}

impl World<'_> {
    fn fail(&self, rule: &str, cell: &Cell, msg: String) -> TestCaseError {
        TestCaseError::fail(format!(
            "SOUNDNESS: rule {rule} accepted cell {} but {msg}\nnetwork: {:?}\neps1^2 = {}/|x*|^2, eps2^2 = {}/|x*|^2, rho in [{}, {}], listed: {:?}",
            cell.describe(),
            self.network,
            self.ctx.excluded.r1_sq,
            self.ctx.excluded.r2_sq,
            self.ctx.excluded.rho_lo,
            self.ctx.excluded.rho_hi,
            self.ctx.stationary.iter().map(|s| show(s)).collect::<Vec<_>>(),
        ))
    }

    /// The checker's ball tests agree with the test's own.
    fn same_balls(&self, x: &[Q]) -> Result<(), TestCaseError> {
        let ex = self.ctx.excluded;
        let b = self.balls;
        let checks = [
            ("in_ball1", ex.in_ball1(x), b.in_ball1(x)),
            ("in_ball2", ex.in_ball2(x), b.in_ball2_all(x)),
            ("surely_outside", ex.surely_outside(x), b.outside(x)),
        ];
        for (name, got, want) in checks {
            if got != want {
                return Err(TestCaseError::fail(format!(
                    "Excluded::{name}({}) = {got}, expected {want} (r1^2 = {}, r2^2 = {}, rho in [{}, {}], x* = {})",
                    show(x),
                    ex.r1_sq,
                    ex.r2_sq,
                    ex.rho_lo,
                    ex.rho_hi,
                    show(&b.target)
                )));
            }
        }
        Ok(())
    }

    /// (P1) at every point: `D_{-vbar} f(x) < 0` unless excused.
    fn check_p1(
        &self,
        rule: usize,
        cell: &Cell,
        pts: &[Vec<Q>],
        t: &mut Tally,
    ) -> Result<(), TestCaseError> {
        for x in pts {
            assert!(in_cell(cell, x), "test bug: {} not in the cell", show(x));
            self.same_balls(x)?;
            if is_zero_vec(x) || !self.balls.outside(x) || self.ctx.stationary.contains(x) {
                continue;
            }
            let (d, pattern) = self.net.descent_derivative(x).unwrap();
            t.points[rule] += 1;
            let zeros = self.net.zero_neurons(x).unwrap().len();
            t.zero1 += usize::from(zeros >= 1);
            t.zero2 += usize::from(zeros >= 2);
            t.crossing += usize::from(pattern != self.net.strict_pattern(x).unwrap());
            if !d.is_negative() {
                return Err(self.fail(
                    RULES[rule],
                    cell,
                    format!(
                        "D_-vbar f(x) = {d} >= 0 at x = {} (strict pattern {}, F3 pattern {pattern}, {zeros} zero neuron(s))",
                        show(x),
                        self.net.strict_pattern(x).unwrap()
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn patterns_agree(a: &Result<CellPatterns, String>, b: &Result<CellPatterns, String>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            let (mut x, mut y) = (a.patterns.clone(), b.patterns.clone());
            x.sort();
            y.sort();
            x == y
        }
        (Err(_), Err(_)) => true,
        _ => false,
    }
}

fn run_case(c: &Case, t: &mut Tally) -> Result<(), TestCaseError> {
    let net = ExactNet::new(&c.net).unwrap();
    let k = c.net.latent;
    let engine = Engine::new(&net);
    let target: Vec<Q> = c
        .net
        .target
        .iter()
        .map(|&v| f64_to_rational(v).unwrap())
        .collect();
    let enc = rho(c.net.widths.len());
    // The tight enclosure, or a wider one (still an enclosure of rho_d).
    let widen = [q(0, 1), q(1, 16), q(1, 4)][c.widen].clone();
    let (rho_lo, rho_hi) = (&enc.lo - &widen, &enc.hi + &widen);
    let (eps1, eps2) = (
        q(EPS[c.eps1].0, EPS[c.eps1].1),
        q(EPS[c.eps2].0, EPS[c.eps2].1),
    );
    let ex = Excluded::new(target.clone(), &eps1, &eps2, rho_lo.clone(), rho_hi.clone());
    let tt = dot(&target, &target);
    let balls = Balls {
        target: target.clone(),
        tt: tt.clone(),
        r1_sq: &eps1 * &eps1 * &tt,
        r2_sq: &eps2 * &eps2 * &tt,
        lo: rho_lo,
        hi: rho_hi,
    };
    let mut rng = Rng(c.seed);
    // Region points of random points' patterns (zoom targets); the nonzero
    // exact stationary points among them may be listed, with x*.
    let mut region_points = Vec::new();
    for _ in 0..6 {
        let x0: Vec<Q> = (0..k).map(|_| rng.small()).collect();
        if is_zero_vec(&x0) {
            continue;
        }
        let s = net.strict_pattern(&x0).unwrap();
        if let Some(xc) = net.region_point(&s).unwrap() {
            if !is_zero_vec(&xc) {
                region_points.push(xc);
            }
        }
    }
    // Points where one neuron, and where two neurons, are exactly zero.
    // Sampled weights have 53-bit mantissas: exact points grow fast there,
    // so the search is shorter.
    let (search, segments) = if c.net.sampling.is_some() {
        ((12, 12), (6, 3))
    } else {
        ((30, 30), (10, 10))
    };
    let far: Vec<Vec<Q>> = (0..12)
        .map(|_| (0..k).map(|_| rng.small()).collect())
        .collect();
    let crease_points = boundary_points(&net, &far, &mut rng, search);
    let mut zeros1 = Vec::new();
    let mut zeros2 = Vec::new();
    for x in crease_points {
        if is_zero_vec(&x) {
            continue;
        }
        match net.zero_neurons(&x).unwrap().len() {
            0 => {}
            1 => zeros1.push(x),
            _ => zeros2.push(x),
        }
    }
    // Points where (P1) genuinely fails (D_-vbar f >= 0): no P1 rule may
    // accept a cell that holds one outside E.
    // Valleys (-vbar crosses into another pattern) apart: the crease logic.
    let mut bad = Vec::new();
    let mut valleys = Vec::new();
    for x in zeros1.iter().chain(&zeros2).chain(&far) {
        if is_zero_vec(x) {
            continue;
        }
        let (d, pattern) = net.descent_derivative(x).unwrap();
        if !d.is_negative() {
            bad.push(x.clone());
            if pattern != net.strict_pattern(x).unwrap() {
                valleys.push(x.clone());
            }
        }
    }
    t.bad_points += bad.len();
    t.valley_points += valleys.len();
    let mut stationary = Vec::new();
    if c.list {
        stationary.push(target.clone());
        for xc in &region_points {
            if net.vbar(xc).unwrap().iter().all(Q::is_zero) && !stationary.contains(xc) {
                stationary.push(xc.clone());
            }
        }
    }
    let ctx = Context {
        engine: &engine,
        excluded: &ex,
        stationary: &stationary,
    };
    let world = World {
        net: &net,
        ctx: &ctx,
        balls: &balls,
        network: &c.net,
    };
    for spec in &c.cells {
        let mut r = Rng(spec.seed);
        let mut z: Vec<Q> = match spec.target {
            1 => target.clone(),
            2 => target.iter().map(|v| -(v * &enc.lo)).collect(),
            3 if !region_points.is_empty() => region_points[r.below(region_points.len())].clone(),
            5 if !zeros2.is_empty() => zeros2[r.below(zeros2.len())].clone(),
            6 | 8 | 9 if !valleys.is_empty() => valleys[r.below(valleys.len())].clone(),
            6..=9 if !bad.is_empty() => bad[r.below(bad.len())].clone(),
            4..=9 if !zeros1.is_empty() => zeros1[r.below(zeros1.len())].clone(),
            _ => (0..k).map(|_| r.small()).collect(),
        };
        if is_zero_vec(&z) {
            z = (0..k).map(|_| r.small()).collect();
            if is_zero_vec(&z) {
                z[0] = Q::one();
            }
        }
        let (chain, cell) = zoom(k, &z, spec, &mut r);
        t.cells += 1;
        // The zoom target and the known failure points in the cell are
        // sampled too.
        let mut special: Vec<Vec<Q>> = bad.iter().filter(|b| in_cell(&cell, b)).cloned().collect();
        let harmful = |b: &Vec<Q>| in_cell(&cell, b) && balls.outside(b) && !stationary.contains(b);
        t.bad_cells += usize::from(bad.iter().any(harmful));
        t.valley_cells += usize::from(valleys.iter().any(harmful));
        if in_cell(&cell, &z) {
            special.push(z.clone());
        }
        // Statuses inherited down the chain, as `verify` walks a tree.
        let mut st: Option<Statuses> = None;
        for anc in &chain {
            st = Some(ctx.patterns_from(anc, rules::PAIRS_LIMIT, st.as_ref()).1);
        }
        let pats = |limit: usize| -> Result<Result<CellPatterns, String>, TestCaseError> {
            let fresh = ctx.patterns(&cell, limit);
            let inherited = ctx.patterns_from(&cell, limit, st.as_ref()).0;
            if !patterns_agree(&fresh, &inherited) {
                return Err(TestCaseError::fail(format!(
                    "inherited statuses change the patterns of cell {} (limit {limit}): {:?} vs {:?}",
                    cell.describe(),
                    fresh.map(|p| p.patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()),
                    inherited.map(|p| p.patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()),
                )));
            }
            Ok(inherited)
        };

        let p2 = pats(2)?;
        let pc = pats(rules::CREASE_LIMIT)?;
        let pp = pats(rules::PAIRS_LIMIT)?;
        let mut accepted = [false; 8];
        for (i, ok) in [
            p2.as_ref().map(|p| ctx.region(&cell, p).is_ok()),
            pc.as_ref().map(|p| ctx.crease(&cell, p).is_ok()),
            pp.as_ref().map(|p| ctx.pairs(&cell, p).is_ok()),
        ]
        .into_iter()
        .enumerate()
        {
            t.tried[i] += 1;
            accepted[i] = ok.unwrap_or(false);
        }
        if let (true, Ok(p)) = (accepted[1], &pc) {
            t.crease_multi += usize::from(p.free.len() > 1);
            // Accepted thanks to a ridge: the Pairs bound alone fails.
            t.crease_ridge += usize::from(ctx.pairs(&cell, p).is_err());
        }
        for (i, ball) in [(3, Ball::XStar), (4, Ball::Rho)] {
            t.tried[i] += 1;
            accepted[i] = ctx.excluded(&cell, ball).is_ok();
        }
        t.tried[5] += 1;
        accepted[5] = ctx
            .branches_from(&cell, rules::ZERO_LIMIT, st.as_ref())
            .0
            .is_ok_and(|b| ctx.zero(&cell, &b).is_ok());
        t.tried[6] += 1;
        accepted[6] = ctx
            .branches_from(&cell, rules::CONE_BRANCHES, st.as_ref())
            .0
            .is_ok_and(|b| ctx.cone(&cell, &b).is_ok());
        t.tried[7] += 1;
        accepted[7] = zero_first(&engine, &cell).is_ok();
        for (n, &a) in t.accepted.iter_mut().zip(&accepted) {
            *n += usize::from(a);
        }

        if [0, 1, 2, 6].iter().any(|&i| accepted[i]) {
            let mut pts = cell_points(&net, &engine, &cell, pp.as_ref().ok(), &mut r, segments);
            pts.extend(special.iter().cloned());
            for i in [0, 1, 2, 6] {
                if accepted[i] {
                    world.check_p1(i, &cell, &pts, t)?;
                }
            }
        }
        for (i, ball) in [(3, Ball::XStar), (4, Ball::Rho)] {
            if !accepted[i] {
                continue;
            }
            let pts = cell_points(&net, &engine, &cell, None, &mut r, segments);
            for x in &pts {
                t.points[i] += 1;
                world.same_balls(x)?;
                let inside = match ball {
                    Ball::XStar => balls.in_ball1(x),
                    Ball::Rho => balls.in_ball2_all(x),
                };
                if !inside {
                    return Err(world.fail(
                        RULES[i],
                        &cell,
                        format!("x = {} is not in the ball", show(x)),
                    ));
                }
            }
        }
        for i in [5, 7].into_iter().filter(|&i| accepted[i]) {
            // Directions of the cone: box points and points where neurons
            // are exactly zero between them.
            let mut dirs = box_points(&cell, &mut r, 8);
            let extra = boundary_points(&net, &dirs, &mut r, segments);
            dirs.extend(extra);
            let zero = vec![Q::zero(); k];
            for w in &dirs {
                t.points[i] += 1;
                let d = net.directional_derivative(&zero, w).unwrap();
                if !d.is_negative() {
                    return Err(world.fail(
                        RULES[i],
                        &cell,
                        format!("D_w f(0) = {d} >= 0 for w = {}", show(w)),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn run(name: &str, cases: u32, strategy: impl Strategy<Value = Case>, least: [usize; 8]) {
    let start = std::time::Instant::now();
    let tally = RefCell::new(Tally::default());
    // RULE_SOUNDNESS_SCALE=n runs n times as many cases (a longer search).
    let scale: u32 = std::env::var("RULE_SOUNDNESS_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut runner = TestRunner::new(Config {
        cases: cases * scale,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    });
    let result = runner.run(&strategy, |c| run_case(&c, &mut tally.borrow_mut()));
    let t = tally.into_inner();
    t.report(name, start.elapsed().as_secs_f64());
    if let Err(e) = result {
        panic!("{e}");
    }
    for i in 0..8 {
        assert!(
            t.accepted[i] >= least[i],
            "{name}: rule {} accepted only {} cells (want at least {}): the test would not exercise it",
            RULES[i],
            t.accepted[i],
            least[i]
        );
    }
    // The crease rule's ridge excuse, and cells holding a point where (P1)
    // genuinely fails in a valley, must be exercised too.
    assert!(t.crease_ridge > 0, "{name}: no crease cell needed a ridge");
    assert!(t.valley_cells > 0, "{name}: no cell held a valley point");
}

#[test]
fn rules_are_sound_k2() {
    run(
        "k=2",
        600,
        case(handmade(2), 12),
        [200, 120, 400, 25, 100, 800, 600, 500],
    );
}

#[test]
fn rules_are_sound_k3() {
    run(
        "k=3",
        400,
        case(handmade(3), 12),
        [80, 120, 250, 12, 50, 600, 300, 400],
    );
}

#[test]
fn rules_are_sound_sampled() {
    run(
        "sampled",
        160,
        case(sampled(), 12),
        [35, 30, 80, 3, 6, 180, 150, 120],
    );
}
