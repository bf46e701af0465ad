//! The cover search of `certify`: adaptive bisection of each cube face,
//! deciding every cell with the checker's rules (SPEC §5), then the
//! verdict: `holds`, `violated` with an exact counterexample, or `unknown`
//! with the residual cells. The Cone and Crease rules run in the
//! arithmetic tiers of [`crate::certifier::fast`] first (binary64, MPFR,
//! then the exact rule); the others run exactly.
//!
//! In the *sharpest* mode (no `--eps`) the search first proves what it can
//! with an empty excluded set (and `x*`, always stationary, listed), stops
//! refining cells smaller than the resolution, then refines the cells that
//! set a radius in rounds (a stopping rule on the radii, not a box size),
//! and chooses the smallest radii that contain every cell it could not
//! decide: those become Excluded leaves. The order of the whole search,
//! and its bounds, are in [`search`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use crate::certifier::fast::cone::Decision;
use crate::certifier::fast::Tiers;
use crate::certifier::witness;
use crate::checker::geometry::{Cell, Excluded};
use crate::checker::patterns::{Branch, CellPatterns, Engine, Statuses};
use crate::checker::rules::Context;
use crate::exact::dyadic::{f64_to_rational, Dyadic};
use crate::exact::eval::{ExactNet, Pattern};
use crate::format::certificate::{
    Ball, Certificate, Claim, ClaimMode, Counterexample, CounterexampleKind, Cover, Face,
    FaceCover, Node, Rule, Verdict,
};
use crate::format::network::Network;
use crate::limits::Budget;

/// How [`Search::radial_plan`] cuts a cell: the parts named are proved by
/// the Cone rule (leaves); the rest is decided as usual.
enum RadialPlan {
    /// One cut, both parts proved.
    Both(Dyadic),
    /// Two cuts `t1 < t2`: `[t_lo, t1]` and `[t2, t_hi]` proved.
    Three(Dyadic, Dyadic),
    /// The part beyond the cut proved.
    Outer(Dyadic),
    /// The part before the cut proved.
    Inner(Dyadic),
}

/// Radial plans are tried on coarse cells with at most this many free
/// neurons: on `k3-50-500-m100`, planning cells with more than 20 saved 4%
/// of the cells but made certify 1.5x and verify 2x slower (the checker's
/// Cone rule costs grow with the branches of such cells).
const PLAN_FREE: usize = 8;

/// Below this depth the halves of a split are searched in parallel.
const PARALLEL_DEPTH: u32 = 8;
/// The Pairs rule is tried on cells with at most this many patterns.
const PAIRS_TRY: usize = 16;
/// Branches examined by the Cone rule.
const CONE_BRANCHES: usize = crate::checker::rules::CONE_BRANCHES;
/// Branches the Zero rule is tried with on one direction box (the checker
/// accepts up to `rules::ZERO_LIMIT`; enumerating that many on boxes that
/// fail is slow, and splitting is cheaper).
const ZERO_TRY: usize = 64;
/// Most leaves (both trees, all faces, all rounds) one search makes: a
/// binary tree has about two tokens per leaf, so the cover stays inside the
/// format's `MAX_TOKENS` (2^22), and the tree's memory stays around a
/// gigabyte. Past it the search stops and what is left is undecided.
pub const MAX_LEAVES: u64 = 2_000_000;
/// The default deepest bisection for latent dimension `k`: 48, or 16 per
/// coordinate where that is more. A cell of directions `2^-10` wide takes
/// about `11 (k - 1)` direction splits plus the radial ones, which passed 48
/// at `k = 4` (20,000 cells of `k = 4`, 50/500, `--eps 0.5` stopped there).
pub fn default_max_depth(k: usize) -> u32 {
    u32::try_from(k)
        .map_or(u32::MAX, |k| k.saturating_mul(16))
        .clamp(48, 200)
}

/// Sharpest mode: at most this many refinement rounds after the first pass
/// (each one halves the resolution of the cells that set a radius).
pub const MAX_SHARP_ROUNDS: u32 = 16;
/// `--eps` mode: undecided cells are refined past `--resolution` down to
/// `resolution / 2^GIVEN_EXTRA_LEVELS`, one level per round.
pub const GIVEN_EXTRA_LEVELS: u32 = 8;
/// Sharpest mode: a ball's rounds stop once its radius no longer drops by
/// at least `1 / SHARP_STOP` of itself (0.5%: the drops shrink about
/// geometrically, so what is left to gain is about the last drop, well
/// under 1%), or once it is within `1 / SHARP_STOP` of the bound its radius
/// witnesses prove ([`crate::certifier::witness`]).
const SHARP_STOP: f64 = 200.0;
/// Sharpest mode: a ball's rounds stop after this many successive rounds
/// without a drop of its radius. A radius can creep (0.2% a round) for a few rounds before its
/// cells resolve: measured on `default.bin` cut into 4 shards, 2 or 3
/// stalls stop at `eps2* = 0.301`, 4 reach `eps2* = 0` (as one machine does).
const SHARP_STALLS: u32 = 4;
/// Sharpest mode: a round refines a re-opened cell at most this many levels
/// below its own depth (and not past the round's resolution), so that only
/// the cells that stay near a radius go deeper, a level or two a round.
/// Measured on `k3-50-500-m100` (searched cells, eps1*, eps2*): no cap
/// 110,215 / 0.00155 / 0.3322; 4: 94,694 / 0.00171 / 0.3340; 2: 74,196 /
/// 0.00203 / 0.3364; 1: 64,639 / 0.00299 / 0.3466. On the shipped `k = 2`
/// networks and s9002 the radii are the same with 2 as with no cap.
const ROUND_LEVELS: u32 = 2;
/// Sharpest mode: a round re-opens the undecided cells whose need is at
/// least `REOPEN` times the radius of their ball.
const REOPEN: (i64, i64) = (97, 100);

#[derive(Clone, Debug)]
pub struct Options {
    /// `(eps_x_star, eps_rho)`; `None` proves the sharpest radii it can.
    pub eps: Option<(BigRational, BigRational)>,
    pub max_depth: u32,
    /// Cells whose extent is below `resolution * ||x*||_inf` are not split
    /// further in the first pass; the refinement rounds halve it for the
    /// cells they re-open (sharpest: those that set a radius, at most
    /// [`MAX_SHARP_ROUNDS`] times; `--eps`: every undecided cell, down to
    /// `resolution / 2^GIVEN_EXTRA_LEVELS`).
    pub resolution: BigRational,
    /// Bounds the *whole* search (refinement, the sharpest radii, the
    /// Excluded assignment, the counterexample searches), from the call to
    /// [`search`]; combined with [`Options::budget`] (the earlier deadline
    /// wins).
    pub time_limit: Option<Duration>,
    /// Deadline and (soft) memory bound, polled throughout the search: past
    /// either the search stops and what is undecided stays undecided
    /// (`unknown`, never `holds`).
    pub budget: Budget,
    /// The rho_d enclosure `[lo, hi]` to claim.
    pub rho: (BigRational, BigRational),
    /// Search these parts of faces only (a shard: `(face, path)` as in
    /// [`Cell::part`]); `None` searches every whole face.
    pub parts: Option<Vec<(Face, String)>>,
    /// Continue from these whole-face trees (`face -> (tree, zero_tree)`,
    /// every face): the first pass is skipped and the refinement rounds run
    /// over their undecided leaves, from `resolution` on. Merging the shards
    /// of a sharpest-mode plan: the rounds' stopping rule follows the radii
    /// over all faces, which no shard sees. Needs `parts: None`.
    pub resume: Option<std::sync::Arc<BTreeMap<Face, (Node, Node)>>>,
    /// Decide every rule exactly, skipping the binary64 and MPFR tiers of
    /// the Cone rule and the binary64 screen of the Crease rule
    /// ([`crate::certifier::fast`]).
    pub exact_only: bool,
}

/// Depth slots of a [`Measure`]: every leaf depth the format allows.
const MEASURE_SLOTS: usize = crate::format::certificate::MAX_DEPTH_CAP as usize + 1;

/// A share of the search space, kept exactly as a count of leaves per
/// depth, in faces: a leaf at depth `d` (splits from its face's root) weighs
/// `2^-d` of a face, so `2^-d / (2k)` of the whole. A direction split halves
/// the box's area on its face (the widest side is cut in the middle), and a
/// radial split halves the radial share (the first cut of a face's
/// unbounded ray, at `4 ||x*||_inf`, gives each side half by convention;
/// later cuts are at midpoints). So the leaves of a tree weigh exactly what
/// its root does.
pub struct Measure {
    by_depth: Box<[AtomicU64]>,
}

impl Default for Measure {
    fn default() -> Self {
        Measure {
            by_depth: (0..MEASURE_SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Measure {
    fn slot(&self, depth: u32) -> &AtomicU64 {
        // Depths past the format's cap (never in a valid certificate) share
        // the last slot.
        &self.by_depth[(depth as usize).min(MEASURE_SLOTS - 1)]
    }

    /// Adds a leaf (or a root) at `depth`.
    pub fn add(&self, depth: u32) {
        self.slot(depth).fetch_add(1, Ordering::Relaxed);
    }

    /// Takes back a leaf added at `depth` (a re-opened cell).
    pub fn remove(&self, depth: u32) {
        let _ = self
            .slot(depth)
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                Some(c.saturating_sub(1))
            });
    }

    /// The weight in faces, for display.
    pub fn value(&self) -> f64 {
        (self.by_depth.iter().enumerate())
            .map(|(d, c)| c.load(Ordering::Relaxed) as f64 * 0.5f64.powi(d as i32))
            .sum()
    }

    /// The weight in faces, exactly.
    pub fn exact(&self) -> BigRational {
        let top = MEASURE_SLOTS - 1;
        let num: BigInt = (self.by_depth.iter().enumerate())
            .map(|(d, c)| BigInt::from(c.load(Ordering::Relaxed)) << (top - d))
            .sum();
        BigRational::new(num, BigInt::from(1) << top)
    }
}

/// Live counters (read by the progress display).
#[derive(Default)]
pub struct Progress {
    pub cells: AtomicU64,
    pub region: AtomicU64,
    pub crease: AtomicU64,
    pub cone: AtomicU64,
    pub pairs: AtomicU64,
    pub excluded: AtomicU64,
    pub undecided: AtomicU64,
    /// Sharpest mode: cells left undecided inside the radii already forced.
    pub pruned: AtomicU64,
    pub depth: AtomicU64,
    /// The roots the search starts from (the `2k` faces at depth 0, or a
    /// shard's parts at their depths), set when it starts: the whole that
    /// the shares below are shares of.
    pub roots: Measure,
    /// (P1) leaves decided by a rule (Excluded included, once assigned).
    pub decided: Measure,
    /// (P1) leaves left undecided and not (yet) re-opened; with
    /// [`Progress::decided`], what the search has settled so far.
    pub left_undecided: Measure,
    /// (P2), which runs first: direction boxes examined, and the zero
    /// trees' leaves decided (Zero) and left undecided.
    pub zero_boxes: AtomicU64,
    pub zero_decided: Measure,
    pub zero_left_undecided: Measure,
    pub done: AtomicBool,
}

impl Progress {
    fn share(&self, m: &Measure) -> f64 {
        let whole = self.roots.value();
        if whole > 0.0 {
            m.value() / whole
        } else {
            0.0
        }
    }

    /// The decided share of the (P1) space (display).
    pub fn decided_fraction(&self) -> f64 {
        self.share(&self.decided)
    }

    /// The share of the (P1) space left undecided (display).
    pub fn undecided_fraction(&self) -> f64 {
        self.share(&self.left_undecided)
    }

    /// (P2): the decided and the left undecided shares (display).
    pub fn zero_fractions(&self) -> (f64, f64) {
        (
            self.share(&self.zero_decided),
            self.share(&self.zero_left_undecided),
        )
    }

    /// Accounts for every leaf of a tree the search did not make itself
    /// (one given to resume from, say) whose root is at `depth`: a (P1) tree,
    /// or a (P2) tree if `zero`.
    pub fn add_tree(&self, tree: &Node, depth: u32, zero: bool) {
        match tree {
            Node::Leaf(rule) => {
                let m = match (zero, rule) {
                    (false, Rule::Undecided) => &self.left_undecided,
                    (false, _) => &self.decided,
                    (true, Rule::Undecided) => &self.zero_left_undecided,
                    (true, _) => &self.zero_decided,
                };
                m.add(depth);
            }
            Node::Split { lo: a, hi: b, .. }
            | Node::Radial {
                inner: a, outer: b, ..
            } => {
                self.add_tree(a, depth + 1, zero);
                self.add_tree(b, depth + 1, zero);
            }
        }
    }
}

/// A stationary point found inside its own region.
#[derive(Clone, Debug)]
pub struct FoundStationary {
    pub point: Vec<BigRational>,
    /// `||x - x*|| / ||x*||` and `||x + rho x*|| / ||x*||` (display only).
    pub dist_x_star: f64,
    pub dist_rho: f64,
}

pub struct SearchResult {
    pub certificate: Certificate,
    /// What the arithmetic tiers decided.
    pub tiers: crate::certifier::fast::TierSnapshot,
    pub stationary: Vec<FoundStationary>,
    pub max_depth_seen: u32,
    pub seconds: f64,
    /// Of which (P2), the first step (0 on a resumed search).
    pub zero_seconds: f64,
    /// Passes of the cover search: the first one plus the refinement rounds.
    pub rounds: u32,
}

struct Search<'a> {
    ctx: Context<'a>,
    exact: &'a ExactNet,
    opts: &'a Options,
    sharpest: bool,
    target_inf: Dyadic,
    /// The balls of `E` in binary64, for [`Search::ball_cut`]'s estimate:
    /// per ball its centres (`x*`; `-rho x*` at both ends of the rho
    /// enclosure) and squared radius.
    balls_f64: [(Ball, Vec<Vec<f64>>, f64); 2],
    /// Cells are refined down to this width (`--resolution`, halved once
    /// per refinement round) ...
    resolution: BigRational,
    /// ... and this extent (`resolution * ||x*||_inf`).
    resolution_abs: BigRational,
    /// The earlier of `time_limit` and the budget's deadline.
    deadline: Option<Instant>,
    max_bytes: Option<usize>,
    /// Set once the search must stop refining (budget, leaf cap, or an
    /// exact counterexample found); every later cell is left undecided.
    stop: AtomicBool,
    stop_reason: Mutex<Option<&'static str>>,
    /// Leaves made so far (both trees), against [`MAX_LEAVES`].
    leaves: AtomicU64,
    /// A direction `w` with `D_w f(0) >= 0`, confirmed exactly.
    zero_found: Mutex<Option<Vec<BigRational>>>,
    progress: &'a Progress,
    /// Region points met inside cells (candidate stationary points).
    /// Region points noted in cells, with the pattern they solve.
    region_points: Mutex<BTreeMap<String, (Vec<BigRational>, Pattern)>>,
    /// Sharpest mode: what the binary64 pruning test needs.
    pruning: Pruning,
    tiers: &'a Tiers,
}

/// Sharpest-mode pruning. The radii are set by the undecided cells at the
/// resolution: once one of them reaches relative squared distance `L` from
/// a centre, every undecided cell closer than `L` to that centre fits in the
/// final ball anyway, so a cell whose vertices all lie within `L` of it is
/// left undecided without trying the rules or refining it. The test runs in
/// binary64 and only steers the search: the radii and the Excluded leaves
/// are computed exactly afterwards from every undecided cell.
///
/// The level `L` is never shared between tasks, so that the trees do not
/// depend on the order of the search (threads, shards): the first pass
/// decides each unit ([`unit_depth`]) alone, depth first, with its own level
/// that starts at 0 and grows with the unit's undecided cells; a refinement
/// round prunes at the fixed level that the cells it does not re-open set.
struct Pruning {
    x_star: Vec<f64>,
    /// `-rho x*` at the middle of the rho enclosure.
    minus_rho_x_star: Vec<f64>,
    norm2: f64,
}

/// `(L1, L2)`: squared radii relative to `|x*|^2`, per ball.
type Level = (f64, f64);

/// The pruning level a task (a unit of the first pass, a cell a round
/// re-opens) decides its cells with (sharpest mode). It grows with the
/// task's undecided cells at the resolution, and the task runs depth first
/// on one thread, so its tree follows from its root and its starting level.
struct Prune {
    level: Level,
    /// The depth past which the task does not split: in a refinement round
    /// [`ROUND_LEVELS`] below the re-opened cell, `u32::MAX` in the first
    /// pass.
    depth_cap: u32,
}

fn dyadic_f64(v: &Dyadic) -> f64 {
    use num_traits::ToPrimitive;
    let bits = v.num.bits() as i64;
    let shift = (bits - 60).max(0);
    let top = (&v.num >> shift as usize).to_f64().unwrap_or(f64::NAN);
    top * 2f64.powi((v.exp + shift).clamp(-2000, 2000) as i32)
}

impl Pruning {
    /// Relative squared distances of the cell's farthest vertex from `x*`
    /// and from `-rho x*`, approximately; `None` for an unbounded cell.
    fn needs(&self, cell: &Cell) -> Option<(f64, f64)> {
        let t_hi = cell.t_hi.as_ref()?;
        let ts = [dyadic_f64(&cell.t_lo), dyadic_f64(t_hi)];
        let (mut d1, mut d2) = (0f64, 0f64);
        for p in cell.corners() {
            let p: Vec<f64> = p.iter().map(dyadic_f64).collect();
            for t in ts {
                let dist =
                    |c: &[f64]| -> f64 { p.iter().zip(c).map(|(x, y)| (t * x - y).powi(2)).sum() };
                d1 = d1.max(dist(&self.x_star));
                d2 = d2.max(dist(&self.minus_rho_x_star));
            }
        }
        Some((d1 / self.norm2, d2 / self.norm2))
    }

    /// Whether an undecided cell with these needs would fit in the radii
    /// of `level` (by the same ball choice as the final assignment).
    fn covered((d1, d2): (f64, f64), (l1, l2): Level) -> bool {
        if d1 <= d2 {
            d1 <= l1
        } else {
            d2 <= l2
        }
    }

    /// Records an undecided cell at the resolution in a task's level.
    fn force(Prune { level: f, .. }: &mut Prune, (d1, d2): (f64, f64)) {
        if d1 <= d2 {
            f.0 = f.0.max(d1);
        } else {
            f.1 = f.1.max(d2);
        }
    }
}

/// A rational as the nearest-ish binary64, for display only.
pub fn approx(v: &BigRational) -> f64 {
    let s = crate::exact::rational::rational_to_decimal(v, 17);
    s.parse().unwrap_or(f64::NAN)
}

/// Smallest `m / 2^32` whose square exceeds `v` (`v >= 0`).
fn radius_above(v: &BigRational) -> BigRational {
    let scale = BigInt::from(1) << 32usize;
    let s = v.sqrt_floor_approx(&scale);
    let mut m = s;
    loop {
        let r = BigRational::new(m.clone(), scale.clone());
        if &(&r * &r) > v {
            return r;
        }
        m += 1;
    }
}

trait SqrtApprox {
    fn sqrt_floor_approx(&self, scale: &BigInt) -> BigInt;
}

impl SqrtApprox for BigRational {
    /// `floor(sqrt(self) * scale)` up to one unit, by integer square roots.
    fn sqrt_floor_approx(&self, scale: &BigInt) -> BigInt {
        let num = self.numer() * scale * scale;
        (num / self.denom()).sqrt()
    }
}

impl Search<'_> {
    /// Whether the region point `xc` of `pattern` (`Q_P xc = b_P` exactly)
    /// is a nonzero stationary point with no neuron exactly zero: with strict
    /// pattern `P` it is (F5); with another strict pattern `S`,
    /// `vbar = Q_S xc - b_S` (F2, F5) decides. One exact forward pass.
    fn is_stationary(&self, xc: &[BigRational], pattern: &Pattern) -> bool {
        match self.exact.strict_pattern_without_zeros(xc) {
            Ok(Some(strict)) => {
                &strict == pattern
                    || self
                        .ctx
                        .engine
                        .quadratic(&strict)
                        .gradient(xc)
                        .iter()
                        .all(Zero::is_zero)
            }
            _ => false,
        }
    }

    /// The time or memory bound that is exceeded, if one is.
    fn over_budget(&self) -> Option<&'static str> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some("time limit reached");
        }
        if self
            .max_bytes
            .is_some_and(|m| crate::limits::allocated_bytes() >= m)
        {
            return Some("memory limit reached");
        }
        None
    }

    fn halt(&self, why: &'static str) {
        self.stop_reason.lock().expect("lock").get_or_insert(why);
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether refinement must stop (and records why, the first time).
    fn stopped(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return true;
        }
        let why = self.over_budget().or_else(|| {
            (self.leaves.load(Ordering::Relaxed) >= MAX_LEAVES).then_some("leaf cap reached")
        });
        if let Some(why) = why {
            self.halt(why);
            return true;
        }
        false
    }

    fn small(&self, cell: &Cell) -> bool {
        let width = cell.widest().map_or(Dyadic::zero(), |(_, w)| w);
        let Some(t_hi) = &cell.t_hi else {
            // An unbounded cell is never small, but its directions are
            // refined no further than the resolution.
            return cell.t_lo > self.target_inf && width.to_rational() <= self.resolution;
        };
        let extent = t_hi.mul(&width).max(t_hi.sub(&cell.t_lo));
        extent.to_rational() <= self.resolution_abs
    }

    /// Tries the corners of a direction box on which the Zero rule failed:
    /// a corner `w` with `D_w f(0) >= 0` (exactly) is a counterexample to
    /// (P2), and the search stops. A corner where binary64 intervals prove
    /// `D_w f(0) < 0` is not one and is skipped.
    fn zero_counterexample(&self, cell: &Cell) -> bool {
        let zero = vec![BigRational::zero(); cell.k()];
        for w in cell.corners() {
            if w.iter().all(|v| v.num.is_zero()) {
                continue;
            }
            if self.tiers.surely_descends(&w, self.opts.exact_only) {
                continue;
            }
            let w: Vec<BigRational> = w.iter().map(Dyadic::to_rational).collect();
            if self
                .exact
                .directional_derivative(&zero, &w)
                .is_ok_and(|d| !d.is_negative())
            {
                self.zero_found.lock().expect("lock").get_or_insert(w);
                self.halt("counterexample found");
                return true;
            }
        }
        false
    }

    fn count(&self, rule: Rule, depth: u32) {
        self.leaves.fetch_add(1, Ordering::Relaxed);
        let p = self.progress;
        p.cells.fetch_add(1, Ordering::Relaxed);
        p.depth.fetch_max(depth as u64, Ordering::Relaxed);
        let c = match rule {
            Rule::Region => &p.region,
            Rule::Crease => &p.crease,
            Rule::Cone => &p.cone,
            Rule::Pairs => &p.pairs,
            Rule::Excluded(_) => &p.excluded,
            Rule::Zero | Rule::ZeroFirst | Rule::Undecided => &p.undecided,
        };
        if !matches!(rule, Rule::Zero | Rule::ZeroFirst) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        match rule {
            Rule::Zero | Rule::ZeroFirst => {}
            Rule::Undecided => p.left_undecided.add(depth),
            _ => p.decided.add(depth),
        }
    }

    /// The rule that proves (P1) on the cell, if one does.
    fn prove(
        &self,
        cell: &Cell,
        branches: &Result<Vec<Branch>, String>,
        p: Result<CellPatterns, String>,
    ) -> Option<Rule> {
        if !self.sharpest && cell.t_hi.is_some() {
            for ball in [Ball::XStar, Ball::Rho] {
                if self.ctx.excluded(cell, ball).is_ok() {
                    return Some(Rule::Excluded(ball));
                }
            }
        }
        if let Ok(b) = branches {
            let free = b.len() > 1 || b.iter().any(|br| br.free().next().is_some());
            if free && self.tiers.cone(&self.ctx, cell, b, self.opts.exact_only) {
                return Some(Rule::Cone);
            }
        }
        let p = p.ok()?;
        // With every Q_P nonsingular, the Pairs rule holds only where the
        // Region or Crease rule holds (its bound for (P, P) is positive
        // only if no region point lies in the cell, and it includes every
        // pair the Crease rule needs): after those failed it is not tried.
        let nonsingular = || {
            p.patterns
                .iter()
                .all(|pat| self.ctx.engine.quadratic(pat).region_scaled().is_some())
        };
        if p.free.is_empty() {
            if self.ctx.region(cell, &p).is_ok() {
                return Some(Rule::Region);
            }
            self.note_region_point(&p.patterns[0], cell);
            if nonsingular() {
                return None;
            }
        } else if p.patterns.len() <= crate::checker::rules::CREASE_LIMIT {
            // binary64 first: the Crease rule where it decides, and no exact
            // region points certainly outside the cell.
            let screen = (!self.opts.exact_only)
                .then(|| self.tiers.screen(&self.ctx, cell, &p))
                .flatten();
            let crease = match screen.as_ref().map(|s| s.crease) {
                Some(Decision::Proved) => true,
                Some(Decision::Failed) => false,
                _ => self.ctx.crease(cell, &p).is_ok(),
            };
            if crease {
                return Some(Rule::Crease);
            }
            for (i, pat) in p.patterns.iter().enumerate() {
                if screen.as_ref().is_none_or(|s| s.may_hold_region_point[i]) {
                    self.note_region_point(pat, cell);
                }
            }
            if nonsingular() {
                return None;
            }
        }
        self.ctx.pairs(cell, &p).is_ok().then_some(Rule::Pairs)
    }

    fn note_region_point(&self, p: &Pattern, cell: &Cell) {
        let quad = self.ctx.engine.quadratic(p);
        if let Some((u, q)) = quad.region_scaled() {
            if cell.contains_scaled(u, q) && !u.iter().all(|v| v.is_zero()) {
                let xc = quad.region_point().expect("nonsingular");
                let key: Vec<String> = xc.iter().map(|v| v.to_string()).collect();
                self.region_points
                    .lock()
                    .expect("lock")
                    .insert(key.join(","), (xc.clone(), p.clone()));
            }
        }
    }

    /// `parent`: the parent cell's neuron statuses (inherited); `prune`:
    /// the pruning level (sharpest mode only).
    fn decide(
        &self,
        cell: Cell,
        depth: u32,
        parent: Option<&Statuses>,
        mut prune: Option<&mut Prune>,
    ) -> Node {
        if self.stopped() {
            self.count(Rule::Undecided, depth);
            return Node::Leaf(Rule::Undecided);
        }
        let needs = match &prune {
            Some(_) => self.pruning.needs(&cell),
            None => None,
        };
        if let (Some(n), Some(p)) = (needs, &prune) {
            if Pruning::covered(n, p.level) {
                self.count(Rule::Undecided, depth);
                self.progress.pruned.fetch_add(1, Ordering::Relaxed);
                return Node::Leaf(Rule::Undecided);
            }
        }
        let (branches, statuses) = self.ctx.branches_from(&cell, CONE_BRANCHES, parent);
        let (pats, _) = self.ctx.patterns_from(&cell, PAIRS_TRY, Some(&statuses));
        let free = pats.as_ref().map_or(usize::MAX, |p| p.free.len());
        if let Some(rule) = self.prove(&cell, &branches, pats) {
            self.count(rule, depth);
            return Node::Leaf(rule);
        }
        let capped = prune.as_ref().is_some_and(|p| depth >= p.depth_cap);
        if depth >= self.opts.max_depth || self.small(&cell) || capped {
            if let (Some(n), Some(p)) = (needs, prune.as_deref_mut()) {
                Pruning::force(p, n);
            }
            self.count(Rule::Undecided, depth);
            return Node::Leaf(Rule::Undecided);
        }
        // The part of the cell's rays inside a ball of E: excused at once.
        if depth + 1 < self.opts.max_depth {
            if let Some((at, ball)) = self.ball_cut(&cell) {
                let (_, outer) = cell.split_radial(&at).expect("inside");
                self.count(Rule::Excluded(ball), depth + 1);
                let outer = self.decide(outer, depth + 1, Some(&statuses), prune);
                return Node::Radial {
                    at: at.to_rational(),
                    inner: Box::new(Node::Leaf(Rule::Excluded(ball))),
                    outer: Box::new(outer),
                };
            }
        }
        // A coarse cell with a few free neurons: try to prove its inner or
        // outer radii at once before splitting directions.
        let coarse = cell
            .widest()
            .is_some_and(|(_, w)| w.to_rational() > self.resolution);
        let plan = match &branches {
            Ok(b) if (2..=PLAN_FREE).contains(&free) && coarse => {
                let cap = prune.as_ref().map_or(u32::MAX, |p| p.depth_cap);
                self.radial_plan(&cell, depth, cap, b)
            }
            _ => None,
        };
        if let Some(plan) = plan {
            let cone = |d: u32| {
                self.count(Rule::Cone, d);
                Box::new(Node::Leaf(Rule::Cone))
            };
            let st = Some(&statuses);
            let cut = |c: &Cell, at: &Dyadic| c.split_radial(at).expect("inside");
            return match plan {
                RadialPlan::Both(at) => Node::Radial {
                    at: at.to_rational(),
                    inner: cone(depth + 1),
                    outer: cone(depth + 1),
                },
                RadialPlan::Outer(at) => {
                    let (a, _) = cut(&cell, &at);
                    Node::Radial {
                        at: at.to_rational(),
                        inner: Box::new(self.decide(a, depth + 1, st, prune)),
                        outer: cone(depth + 1),
                    }
                }
                RadialPlan::Inner(at) => {
                    let (_, b) = cut(&cell, &at);
                    Node::Radial {
                        at: at.to_rational(),
                        inner: cone(depth + 1),
                        outer: Box::new(self.decide(b, depth + 1, st, prune)),
                    }
                }
                RadialPlan::Three(t1, t2) => {
                    let (_, rest) = cut(&cell, &t1);
                    let (middle, _) = cut(&rest, &t2);
                    Node::Radial {
                        at: t1.to_rational(),
                        inner: cone(depth + 1),
                        outer: Box::new(Node::Radial {
                            at: t2.to_rational(),
                            inner: Box::new(self.decide(middle, depth + 2, st, prune)),
                            outer: cone(depth + 2),
                        }),
                    }
                }
            };
        }
        // Split: isolate neurons by direction splits; cut radii where only
        // one neuron or none is free (the rule failed along the ray).
        let widest = cell.widest();
        let radial_at = match &cell.t_hi {
            None => {
                let far = self.target_inf.mul(&Dyadic::from_int(4));
                (cell.t_lo < far).then_some(far)
            }
            Some(t_hi) => {
                let w = widest.as_ref().map_or(Dyadic::zero(), |(_, w)| w.clone());
                (t_hi.sub(&cell.t_lo) > t_hi.mul(&w)).then(|| cell.t_lo.add(t_hi).half())
            }
        };
        let widest_len = widest.as_ref().map_or(Dyadic::zero(), |(_, w)| w.clone());
        let widest = widest.map(|(j, _)| j);
        // Several free neurons: isolate them by direction splits down to the
        // resolution; past that (or with at most one free neuron) the rule
        // failed along the ray, so cut the radius.
        let coarse = widest_len.to_rational() > self.resolution;
        let radial = match (&radial_at, widest) {
            (Some(_), None) => true,
            (Some(_), Some(_)) => free <= 1 || !coarse,
            (None, _) => false,
        };
        if radial {
            let at = radial_at.expect("radial point");
            let (a, b) = cell.split_radial(&at).expect("inside");
            let (inner, outer) = self.join(a, b, depth, &statuses, prune);
            Node::Radial {
                at: at.to_rational(),
                inner: Box::new(inner),
                outer: Box::new(outer),
            }
        } else if let Some(axis) = widest {
            let (a, b) = cell.split(axis);
            let (lo, hi) = self.join(a, b, depth, &statuses, prune);
            Node::Split {
                axis,
                lo: Box::new(lo),
                hi: Box::new(hi),
            }
        } else {
            // k = 1 and an unbounded ray beyond 4 |x*|: nothing left to split.
            self.count(Rule::Undecided, depth);
            Node::Leaf(Rule::Undecided)
        }
    }

    /// With fixed radii (not the sharpest mode): a radial cut `c` such that
    /// the part `[t_lo, c]` of the cell lies in one ball of `E` (an Excluded
    /// leaf), the largest on the grid `4 |x*|_inf m / 64` that does and at
    /// least `5/4 t_lo`. Every ray within 90 degrees of `-x*` passes within
    /// `rho_d |x*|` of `-rho_d x*`, and with `eps2 > rho_d` the origin lies in
    /// that ball, so the rays' hard stretch (where the gradient is least,
    /// near the centre) is excused at once instead of by direction splits of
    /// whole rays. A binary64 estimate picks `c` (per corner `p` the ray
    /// `t p` is in the ball for `t` between the roots of a quadratic); the
    /// exact Excluded rule confirms it.
    fn ball_cut(&self, cell: &Cell) -> Option<(Dyadic, Ball)> {
        if self.sharpest || self.opts.exact_only {
            return None;
        }
        let corners: Vec<Vec<f64>> = cell
            .corners()
            .iter()
            .map(|p| p.iter().map(dyadic_f64).collect())
            .collect();
        let t_lo = dyadic_f64(&cell.t_lo);
        let t_hi = cell.t_hi.as_ref().map_or(f64::INFINITY, dyadic_f64);
        let far = self.target_inf.mul(&Dyadic::from_int(4));
        let far_f = dyadic_f64(&far);
        for (ball, centres, r2) in &self.balls_f64 {
            let (ball, r2) = (*ball, *r2);
            // The rays t p stay in the ball for t in (c1, c2): t_lo must be
            // inside, c below every c2 (with a relative margin).
            let mut reach = f64::INFINITY;
            for p in &corners {
                for c in centres {
                    let a: f64 = p.iter().map(|v| v * v).sum();
                    let b: f64 = p.iter().zip(c).map(|(u, v)| u * v).sum();
                    let cc: f64 = c.iter().map(|v| v * v).sum::<f64>() - r2;
                    let disc = b * b - a * cc;
                    if !(disc > 0.0 && a > 0.0) {
                        reach = f64::NEG_INFINITY;
                        continue;
                    }
                    let (c1, c2) = ((b - disc.sqrt()) / a, (b + disc.sqrt()) / a);
                    // (NaN fails every test, so it never makes a cut.)
                    let inside = c1 < t_lo * (1.0 - 1e-6) - 1e-12;
                    if !inside {
                        reach = f64::NEG_INFINITY;
                    }
                    reach = reach.min(c2 * (1.0 - 1e-6));
                }
            }
            let top = reach.min(t_hi);
            if !(top > 1.25 * t_lo && top.is_finite() && far_f > 0.0) {
                continue;
            }
            let m = (top / far_f * 64.0).floor();
            if !(1.0..1e9).contains(&m) {
                continue;
            }
            let at = far.mul(&Dyadic {
                num: BigInt::from(m as u64),
                exp: -6,
            });
            if at <= cell.t_lo || cell.t_hi.as_ref().is_some_and(|h| at >= *h) {
                continue;
            }
            let (inner, _) = cell.split_radial(&at)?;
            if self.ctx.excluded(&inner, ball).is_ok() {
                return Some((at, ball));
            }
        }
        None
    }

    /// Radial cuts that prove the inner or the outer part of a cell at once
    /// (see [`RadialPlan`]), if a few candidate cuts do: where the gradient
    /// is small somewhere along the cell's rays (near a centre: with `rho_d
    /// < 1`, every ray within 90 degrees of `-x*` passes within `rho_d
    /// |x*|` of `-rho_d x*`) only a band of radii may be hard, and cutting
    /// it out replaces a subtree of direction splits of whole rays by one
    /// of the band alone. The cuts lie inside the radial interval, on the
    /// grid the radial bisection uses (`4 |x*|_inf` halved): `2^j |x*|_inf` (`j = -3 .. 2`), `2 t_lo`
    /// and `4 t_lo`, and the midpoint of a bounded interval. (Off-grid cuts,
    /// `|x*|_inf` rounded to three bits, gave 17% fewer cells on
    /// `k3-50-500-m100` but left the refinement rounds stuck at a band edge:
    /// `eps2*` 0.3466 instead of 0.3364.) Outer parts are tried from the
    /// largest cut down and inner parts from the smallest up, each until
    /// the first that is not proved. `cap`: the depth the task may not
    /// pass (a refinement round's); a plan needs two levels below `depth`.
    fn radial_plan(
        &self,
        cell: &Cell,
        depth: u32,
        cap: u32,
        branches: &[Branch],
    ) -> Option<RadialPlan> {
        if depth + 2 >= self.opts.max_depth.min(cap) || self.opts.exact_only {
            return None;
        }
        // Narrow radial intervals rarely hold such a band edge: not tried.
        if let Some(h) = &cell.t_hi {
            if cell.t_lo.is_positive() && *h < cell.t_lo.mul(&Dyadic::from_int(8)) {
                return None;
            }
        }
        let base = &self.target_inf;
        let mut cuts: Vec<Dyadic> = (-3i64..=2)
            .map(|j| Dyadic {
                num: base.num.clone(),
                exp: base.exp + j,
            })
            .collect();
        if cell.t_lo.is_positive() {
            cuts.push(cell.t_lo.mul(&Dyadic::from_int(2)));
            cuts.push(cell.t_lo.mul(&Dyadic::from_int(4)));
        }
        if let Some(h) = &cell.t_hi {
            cuts.push(cell.t_lo.add(h).half());
        }
        let inside = |t: &Dyadic| *t > cell.t_lo && cell.t_hi.as_ref().is_none_or(|h| t < h);
        cuts.retain(inside);
        cuts.sort();
        cuts.dedup();
        if cuts.is_empty() {
            return None;
        }
        let proved = self.tiers.cone_pieces(&self.ctx, cell, branches);
        let part = |i: usize, outer: bool| {
            let (a, b) = cell.split_radial(&cuts[i]).expect("inside");
            proved(if outer { &b } else { &a })
        };
        // The smallest cut whose outer part is proved, scanning down from
        // the largest, and the largest cut not above it whose inner part is
        // proved, scanning up from the smallest; each until the first miss.
        let mut outer = None;
        for i in (0..cuts.len()).rev() {
            if !part(i, true) {
                break;
            }
            outer = Some(i);
        }
        let mut inner = None;
        for i in 0..outer.map_or(cuts.len(), |i| i + 1) {
            if !part(i, false) {
                break;
            }
            inner = Some(i);
        }
        Some(match (inner, outer) {
            (Some(i), Some(j)) if i == j => RadialPlan::Both(cuts[i].clone()),
            (Some(i), Some(j)) => RadialPlan::Three(cuts[i].clone(), cuts[j].clone()),
            (None, Some(j)) => RadialPlan::Outer(cuts[j].clone()),
            (Some(i), None) => RadialPlan::Inner(cuts[i].clone()),
            (None, None) => return None,
        })
    }

    /// Decides both halves: in parallel near the root without pruning, else
    /// depth first with the task's level, farther half first.
    fn join(
        &self,
        a: Cell,
        b: Cell,
        depth: u32,
        st: &Statuses,
        prune: Option<&mut Prune>,
    ) -> (Node, Node) {
        let st = Some(st);
        match prune {
            Some(p) => {
                // The half whose undecided cells would force the larger
                // radius first: the level grows sooner, so more of the other
                // half is pruned (the final level is the same either way).
                let reach = |c: &Cell| {
                    self.pruning
                        .needs(c)
                        .map_or(f64::INFINITY, |(d1, d2)| d1.min(d2))
                };
                if reach(&b) > reach(&a) {
                    let hi = self.decide(b, depth + 1, st, Some(&mut *p));
                    (self.decide(a, depth + 1, st, Some(p)), hi)
                } else {
                    let lo = self.decide(a, depth + 1, st, Some(&mut *p));
                    (lo, self.decide(b, depth + 1, st, Some(p)))
                }
            }
            None if depth < PARALLEL_DEPTH => rayon::join(
                || self.decide(a, depth + 1, st, None),
                || self.decide(b, depth + 1, st, None),
            ),
            None => (
                self.decide(a, depth + 1, st, None),
                self.decide(b, depth + 1, st, None),
            ),
        }
    }

    /// (P2) on direction boxes: Zero rule, else split down to `2^-24`; a
    /// box where the rule fails has its corners tried as counterexamples.
    fn decide_zero(&self, cell: Cell, depth: u32, parent: Option<&Statuses>) -> Node {
        self.leaves.fetch_add(1, Ordering::Relaxed);
        self.progress.zero_boxes.fetch_add(1, Ordering::Relaxed);
        let undecided = || {
            self.progress.zero_left_undecided.add(depth);
            Node::Leaf(Rule::Undecided)
        };
        if self.stopped() {
            return undecided();
        }
        if self.tiers.zero_first(&self.ctx, &cell) {
            self.progress.zero_decided.add(depth);
            return Node::Leaf(Rule::ZeroFirst);
        }
        let (branches, statuses) = self.ctx.branches_from(&cell, ZERO_TRY, parent);
        let proved = match &branches {
            Ok(b) => self.tiers.zero(&self.ctx, &cell, b, self.opts.exact_only),
            Err(_) => self.tiers.broken_zero(self.opts.exact_only),
        };
        if proved {
            self.progress.zero_decided.add(depth);
            return Node::Leaf(Rule::Zero);
        }
        if self.zero_counterexample(&cell) {
            return undecided();
        }
        let tiny = Dyadic {
            num: BigInt::from(1),
            exp: -24,
        };
        match cell.widest() {
            Some((axis, w)) if depth < self.opts.max_depth && w > tiny && !self.stopped() => {
                let (a, b) = cell.split(axis);
                Node::Split {
                    axis,
                    lo: Box::new(self.decide_zero(a, depth + 1, Some(&statuses))),
                    hi: Box::new(self.decide_zero(b, depth + 1, Some(&statuses))),
                }
            }
            _ => undecided(),
        }
    }
}

/// The depth of the units the first pass decides one by one: every search
/// (one machine, or a shard's parts) starts from the same cells, so that the
/// trees do not depend on how the faces were dealt out. Deep enough for
/// plans to balance shards (384 units at `k = 3`) and for the threads to
/// share the work, shallow enough to cost little (the search halves these
/// cells anyway).
pub fn unit_depth(k: usize) -> usize {
    (3 * k.saturating_sub(1)).min(6)
}

/// The units (paths from the face's root) of the part at `path`: the part
/// itself if it is as deep as [`unit_depth`], else its sub-parts there.
pub fn units_of(k: usize, path: &str) -> Vec<String> {
    let mut out = vec![path.to_string()];
    while out[0].len() < unit_depth(k) {
        out = out
            .into_iter()
            .flat_map(|p| [format!("{p}0"), format!("{p}1")])
            .collect();
    }
    out
}

/// A face's tree from the part at `path` down: the tree in `parts` where it
/// has one, else the split of [`Cell::part`] (the cell's widest side) over
/// both halves. The caller checks that `parts` tiles the cell.
pub(crate) fn graft(
    parts: &mut BTreeMap<(Face, String), Node>,
    face: Face,
    cell: &Cell,
    path: String,
) -> Node {
    if let Some(tree) = parts.remove(&(face, path.clone())) {
        return tree;
    }
    let (axis, _) = cell.widest().expect("a tiled face with k >= 2");
    let (a, b) = cell.split(axis);
    let lo = graft(parts, face, &a, format!("{path}0"));
    let hi = graft(parts, face, &b, format!("{path}1"));
    Node::Split {
        axis,
        lo: Box::new(lo),
        hi: Box::new(hi),
    }
}

/// Every undecided leaf's cell with its depth.
fn undecided_at(node: &Node, cell: Cell, depth: u32, out: &mut Vec<(Cell, u32)>) {
    match node {
        Node::Leaf(Rule::Undecided) => out.push((cell, depth)),
        Node::Leaf(_) => {}
        Node::Split { axis, lo, hi } => {
            let (a, b) = cell.split(*axis);
            undecided_at(lo, a, depth + 1, out);
            undecided_at(hi, b, depth + 1, out);
        }
        Node::Radial { at, inner, outer } => {
            let (a, b) = split_at(&cell, at);
            undecided_at(inner, a, depth + 1, out);
            undecided_at(outer, b, depth + 1, out);
        }
    }
}

/// Rewrites every undecided leaf as `f` says (the rest of the tree as is).
fn map_undecided(node: Node, cell: Cell, f: &mut dyn FnMut(&Cell) -> Node) -> Node {
    match node {
        Node::Leaf(Rule::Undecided) => f(&cell),
        Node::Leaf(r) => Node::Leaf(r),
        Node::Split { axis, lo, hi } => {
            let (a, b) = cell.split(axis);
            Node::Split {
                axis,
                lo: Box::new(map_undecided(*lo, a, f)),
                hi: Box::new(map_undecided(*hi, b, f)),
            }
        }
        Node::Radial { at, inner, outer } => {
            let (a, b) = split_at(&cell, &at);
            Node::Radial {
                at,
                inner: Box::new(map_undecided(*inner, a, f)),
                outer: Box::new(map_undecided(*outer, b, f)),
            }
        }
    }
}

/// Replaces the undecided leaves named (by [`CellKey`]) in `new`.
fn replace_leaves(node: Node, cell: Cell, new: &mut HashMap<CellKey, Node>) -> Node {
    map_undecided(node, cell, &mut |c| {
        new.remove(&CellKey::of(c))
            .unwrap_or(Node::Leaf(Rule::Undecided))
    })
}

/// Rewrites undecided leaves whose cell `assign` maps to a ball.
pub(crate) fn exclude_leaves(
    node: Node,
    cell: Cell,
    assign: &dyn Fn(&Cell) -> Option<Ball>,
) -> Node {
    map_undecided(node, cell, &mut |c| {
        Node::Leaf(assign(c).map_or(Rule::Undecided, Rule::Excluded))
    })
}

/// A radial split the search itself made (dyadic, inside the interval).
fn split_at(cell: &Cell, at: &BigRational) -> (Cell, Cell) {
    Dyadic::from_rational(at)
        .and_then(|d| cell.split_radial(&d))
        .expect("the search makes valid dyadic splits")
}

/// The centre of a bounded cell (a rational point of it).
fn centre(cell: &Cell) -> Option<Vec<BigRational>> {
    let t = cell.t_lo.add(cell.t_hi.as_ref()?).half();
    Some(
        (0..cell.k())
            .map(|j| cell.lo[j].add(&cell.hi[j]).half().mul(&t).to_rational())
            .collect(),
    )
}

/// Exact squared distances, relative to `|x*|^2`, of a bounded cell's
/// farthest vertex from `x*` and from `-rho x*` (the farther end of the rho
/// enclosure); `None` for an unbounded cell.
fn exact_needs(excluded: &Excluded, c: &Cell) -> Option<(BigRational, BigRational)> {
    let n2 = &excluded.target_norm2;
    // Dyadic distances (no gcd) when the balls' data are dyadic.
    let ds: Option<Vec<_>> = c
        .vertices()?
        .iter()
        .map(|v| excluded.dyadic_dists(v))
        .collect();
    if let Some(ds) = ds {
        let d1 = ds.iter().map(|d| d.0.clone()).max()?;
        let d2 = ds.iter().map(|d| d.1.clone().max(d.2.clone())).max()?;
        return Some((d1.to_rational() / n2, d2.to_rational() / n2));
    }
    let vs = c.rational_vertices()?;
    let d1 = vs.iter().map(|v| excluded.dist1_sq(v)).max()?;
    let d2 = vs
        .iter()
        .map(|v| {
            let (a, b) = excluded.dist2_sq_ends(v);
            a.max(b)
        })
        .max()?;
    Some((d1 / n2, d2 / n2))
}

type Needs = HashMap<CellKey, (BigRational, BigRational)>;

/// A cell as a map key: its face and bounds as normalized dyadics (the
/// same cell reached by different splits has the same key; cheaper than
/// [`Cell::describe`], which reduces fractions).
#[derive(Clone, PartialEq, Eq, Hash)]
struct CellKey(Face, Vec<(BigInt, i64)>);

impl CellKey {
    fn of(c: &Cell) -> CellKey {
        let norm = |d: &Dyadic| {
            let d = d.clone().normalized();
            (d.num, d.exp)
        };
        let mut v: Vec<(BigInt, i64)> =
            c.lo.iter()
                .chain(&c.hi)
                .chain([&c.t_lo])
                .map(norm)
                .collect();
        // An unbounded cell: no dyadic has exponent `i64::MAX`.
        v.push(c.t_hi.as_ref().map_or((BigInt::zero(), i64::MAX), norm));
        CellKey(c.face, v)
    }
}

/// Adds the needs of the cells not yet in `needs` (in parallel: exact
/// rational distances are the costly part). Past the budget a cell gets no
/// need, so it can never be excluded: it stays undecided.
fn add_needs(s: &Search, excluded: &Excluded, cells: &[(Cell, u32)], needs: &mut Needs) {
    use rayon::prelude::*;
    let new: Vec<(CellKey, (BigRational, BigRational))> = cells
        .par_iter()
        .filter_map(|(c, _)| {
            let key = CellKey::of(c);
            if needs.contains_key(&key) || s.over_budget().is_some() {
                return None;
            }
            exact_needs(excluded, c).map(|n| (key, n))
        })
        .collect();
    needs.extend(new);
}

/// The largest need of the cells nearer to `x*` (about `x*`) and of those
/// nearer to `-rho x*` (about it): the squared sharpest radii.
fn max_needs(cells: &[(Cell, u32)], needs: &Needs) -> (Option<BigRational>, Option<BigRational>) {
    let (mut m1, mut m2) = (None::<BigRational>, None::<BigRational>);
    for (c, _) in cells {
        let Some((d1, d2)) = needs.get(&CellKey::of(c)) else {
            continue;
        };
        if d1 <= d2 {
            m1 = Some(m1.map_or(d1.clone(), |m| m.max(d1.clone())));
        } else {
            m2 = Some(m2.map_or(d2.clone(), |m| m.max(d2.clone())));
        }
    }
    (m1, m2)
}

/// `--eps` mode: a short `certify hunt` before the cover search. One exact
/// counterexample settles `violated`, and on small non-expansive networks
/// (where the claim is false along whole creases) the cover search would
/// otherwise refine for minutes. Its candidates are confirmed exactly with
/// the checker's conditions (same claim, same listed points).
fn hunt_first(net: &Network, opts: &Options, deadline: Option<Instant>) -> Option<Counterexample> {
    use crate::certifier::hunt::{hunt, HuntOptions, HuntProgress};
    let mut h = HuntOptions::new(opts.eps.clone()?, opts.rho.clone());
    h.starts = 16;
    let cap = Duration::from_secs(3);
    h.time_limit = Some(deadline.map_or(cap, |d| {
        (d.saturating_duration_since(Instant::now()) / 4).min(cap)
    }));
    let r = hunt(net, &h, &HuntProgress::default());
    r.best(None).map(|f| Counterexample {
        kind: f.kind,
        point: f.point.clone(),
    })
}

/// Exact points of undecided cells tried as counterexamples to (P1):
/// vertices and centres of bounded cells, and for an unbounded cell (beyond
/// `4 ||x*||_inf`) its corner directions at `t_lo` and `4 t_lo`. A point
/// counts when it is surely outside `E`, not a listed stationary point, and
/// `D_{-vbar} f >= 0` there exactly. Stops after `limit` or at the deadline.
fn residual_counterexample(
    s: &Search,
    excluded: &Excluded,
    listed: &[Vec<BigRational>],
    cells: &[(Cell, u32)],
    limit: Duration,
) -> Option<Counterexample> {
    let began = Instant::now();
    for (c, _) in cells {
        if began.elapsed() > limit || s.over_budget().is_some() {
            return None;
        }
        let mut points: Vec<Vec<BigRational>> = c.rational_vertices().unwrap_or_default();
        points.extend(centre(c));
        if c.t_hi.is_none() {
            for scale in [1, 4] {
                let t = c.t_lo.mul(&Dyadic::from_int(scale));
                points.extend(
                    c.corners()
                        .iter()
                        .map(|p| p.iter().map(|v| v.mul(&t).to_rational()).collect()),
                );
            }
            // A valley to infinity runs along a crease: the ray where a
            // free neuron is exactly zero. Its points far out, exactly on
            // the crease (the cell's centre direction projected onto the
            // neuron's zero set), at `t_lo` times 1, 4, 64, 1024.
            if let (Ok(p), _) = s.ctx.patterns_from(c, PAIRS_TRY, None) {
                let dir: Vec<BigRational> = (0..c.k())
                    .map(|j| c.lo[j].add(&c.hi[j]).half().to_rational())
                    .collect();
                for neuron in &p.free {
                    let row: Vec<BigRational> =
                        neuron.row.iter().map(Dyadic::to_rational).collect();
                    let rr: BigRational = row.iter().map(|a| a * a).sum();
                    if rr.is_zero() {
                        continue;
                    }
                    let rd: BigRational = row.iter().zip(&dir).map(|(a, b)| a * b).sum();
                    let h = rd / rr;
                    let on: Vec<BigRational> =
                        dir.iter().zip(&row).map(|(d, r)| d - &h * r).collect();
                    for scale in [1, 4, 64, 1024] {
                        let t = c.t_lo.mul(&Dyadic::from_int(scale)).to_rational();
                        points.push(on.iter().map(|v| v * &t).collect());
                    }
                }
            }
        }
        for x in points {
            if x.iter().all(|v| v.is_zero()) || !excluded.surely_outside(&x) || listed.contains(&x)
            {
                continue;
            }
            if s.exact
                .descent_derivative(&x)
                .is_ok_and(|(d, _)| !d.is_negative())
            {
                return Some(Counterexample {
                    kind: CounterexampleKind::Point,
                    point: x,
                });
            }
        }
    }
    None
}

/// Runs the search and builds the certificate (not yet checked).
///
/// In order:
///
/// 1. (P2): the Zero rule on direction boxes of every face. Where it fails
///    the box's corners are tried exactly; one corner `w` with
///    `D_w f(0) >= 0` is a counterexample and ends the search (`violated`,
///    the (P1) trees left undecided). This is how degenerate networks end
///    quickly: a dead cone of directions (`G(w) = 0`, e.g. behind a width-1
///    layer) has `vbar = 0` on the whole cone, so (P1) fails at every
///    radius there, and (P2) fails along it too.
/// 2. `--eps` mode: a short hunt ([`hunt_first`]); a confirmed
///    counterexample ends the search (`violated`).
/// 3. (P1): adaptive bisection of each face down to `--resolution`.
/// 4. Refinement rounds. Sharpest mode: compute the radii (the smallest
///    containing every undecided bounded cell), re-open the undecided cells
///    whose need is within 3% of their ball's radius, refine them one
///    resolution level finer (ignoring `--resolution` for them) and at most
///    [`ROUND_LEVELS`] levels below their own depth, and repeat
///    while a ball is unsettled: its radius is not 0, not within 0.5% of
///    what its radius witnesses prove, and dropped by 0.5% within the last
///    [`SHARP_STALLS`] rounds; only unsettled balls' cells are re-opened
///    (at most [`MAX_SHARP_ROUNDS`]; the depth limit, the budget). A shard
///    ([`Options::parts`]) stops after computing its radii: its rounds run
///    in the merge ([`Options::resume`]). `--eps` mode: while undecided cells
///    remain, try their points as counterexamples, then refine them one
///    level finer, down to `resolution / 2^GIVEN_EXTRA_LEVELS`.
/// 5. Post-processing: the sharpest radii and Excluded leaves, stationary
///    points, counterexample searches on what is left. Every step polls the
///    deadline and the memory bound; past them a cell stays undecided (a
///    cell without a computed need is never excluded), so a budget only
///    ever turns `holds` into `unknown`.
///
/// Sharpest mode and unbounded failures: a failure set that runs to
/// infinity cannot fit in any finite radii. The unbounded cells beyond
/// `4 ||x*||_inf` are never excluded. In every round, while some of them are
/// undecided, [`residual_counterexample`] tries their exact crease points
/// far out (`t_lo` times 1 to 1024, exactly on a free neuron's zero set: a
/// valley to infinity runs along a crease) and their corners, against the
/// radii reached so far; one with `D_{-vbar} f >= 0` ends the run
/// `violated`, claiming those radii (a dead cone is caught earlier, in step
/// 1, by a zero direction). Otherwise the verdict is `unknown`, never finite
/// radii that exclude part of the failure set.
pub fn search(
    net: &Network,
    sha256: &str,
    path_hint: Option<String>,
    opts: &Options,
    progress: &Progress,
) -> SearchResult {
    use rayon::prelude::*;
    let start = Instant::now();
    let exact = ExactNet::new(net).expect("a validated network");
    let engine = Engine::new(&exact);
    if !opts.exact_only {
        // The neuron statuses, screened in binary64 (exact where it cannot
        // decide): the same statuses, faster.
        engine.set_status_screen(Box::new(crate::certifier::fast::status::screen));
    }
    let k = net.latent;
    let target: Vec<BigRational> = net
        .target
        .iter()
        .map(|&v| f64_to_rational(v).expect("finite"))
        .collect();
    let target_inf = net
        .target
        .iter()
        .map(|&v| {
            Dyadic::from_rational(&f64_to_rational(v.abs()).expect("finite")).expect("dyadic")
        })
        .max()
        .expect("k >= 1");
    let sharpest = opts.eps.is_none();
    let (eps1, eps2) = opts
        .eps
        .clone()
        .unwrap_or((BigRational::zero(), BigRational::zero()));
    let excluded = Excluded::new(
        target.clone(),
        &eps1,
        &eps2,
        opts.rho.0.clone(),
        opts.rho.1.clone(),
    );
    // x* is always stationary (vbar = 0 there); list it when its ball is empty.
    let stationary: Vec<Vec<BigRational>> = if eps1.is_zero() {
        vec![target.clone()]
    } else {
        Vec::new()
    };
    let deadline = [
        opts.time_limit.and_then(|t| start.checked_add(t)),
        opts.budget.deadline,
    ]
    .into_iter()
    .flatten()
    .min();
    let balls_f64 = {
        let x: Vec<f64> = target.iter().map(approx).collect();
        let scaled = |r: &BigRational| -> Vec<f64> { x.iter().map(|v| -approx(r) * v).collect() };
        [
            (
                Ball::Rho,
                vec![scaled(&excluded.rho_lo), scaled(&excluded.rho_hi)],
                approx(&excluded.r2_sq),
            ),
            (Ball::XStar, vec![x.clone()], approx(&excluded.r1_sq)),
        ]
    };
    let tiers = Tiers::new(&engine);
    let mut s = Search {
        tiers: &tiers,
        ctx: Context {
            engine: &engine,
            excluded: &excluded,
            stationary: &stationary,
        },
        exact: &exact,
        opts,
        sharpest,
        resolution: opts.resolution.clone(),
        resolution_abs: &opts.resolution * target_inf.to_rational(),
        target_inf,
        balls_f64,
        deadline,
        max_bytes: opts.budget.max_bytes,
        stop: AtomicBool::new(false),
        stop_reason: Mutex::new(None),
        leaves: AtomicU64::new(0),
        zero_found: Mutex::new(None),
        progress,
        region_points: Mutex::new(BTreeMap::new()),
        pruning: Pruning {
            x_star: net.target.clone(),
            minus_rho_x_star: {
                let rho = (approx(&opts.rho.0) + approx(&opts.rho.1)) / 2.0;
                net.target.iter().map(|v| -rho * v).collect()
            },
            norm2: net.target.iter().map(|v| v * v).sum(),
        },
    };

    // The roots: every whole face, or a shard's parts (depth counted from
    // the face's root, so `max_depth` means the same in both).
    let parts: Vec<(Face, String)> = opts.parts.clone().unwrap_or_else(|| {
        (0..k)
            .flat_map(|axis| [true, false].map(|positive| (Face { axis, positive }, String::new())))
            .collect()
    });
    let roots: Vec<(Cell, u32)> = parts
        .iter()
        .map(|(face, path)| {
            let cell = Cell::part(*face, k, path).expect("a part of a face with k >= 2");
            (cell, path.len() as u32)
        })
        .collect();
    for (_, d) in &roots {
        progress.roots.add(*d);
    }
    // The first pass decides units ([`unit_depth`]) one by one and grafts
    // their trees back into the parts: the same trees whether a part is
    // searched by one machine or by a shard, with any number of threads.
    let units: Vec<(Face, String)> = parts
        .iter()
        .flat_map(|(face, path)| units_of(k, path).into_iter().map(|u| (*face, u)))
        .collect();
    let by_units = |decide: &(dyn Fn(Cell, u32) -> Node + Sync)| -> Vec<Node> {
        let done: Vec<Node> = units
            .par_iter()
            .map(|(face, path)| {
                let cell = Cell::part(*face, k, path).expect("a unit of a face with k >= 2");
                decide(cell, path.len() as u32)
            })
            .collect();
        let mut done: BTreeMap<(Face, String), Node> = units.iter().cloned().zip(done).collect();
        roots
            .iter()
            .zip(&parts)
            .map(|((root, _), (face, path))| graft(&mut done, *face, root, path.clone()))
            .collect()
    };
    let all_undecided = |trees: &[Node]| {
        let mut cells = Vec::new();
        for ((root, d), tree) in roots.iter().zip(trees) {
            undecided_at(tree, root.clone(), *d, &mut cells);
        }
        cells
    };

    // Resuming: the given trees stand for steps 1 to 3.
    let resumed: Option<Vec<(Node, Node)>> = opts.resume.as_ref().map(|r| {
        parts
            .iter()
            .map(|(face, path)| {
                assert!(path.is_empty(), "resume needs whole faces");
                r.get(face).cloned().expect("resume: every face")
            })
            .collect()
    });
    // What a resumed search starts from counts as settled already.
    for (t, z) in resumed.iter().flatten() {
        progress.add_tree(t, 0, false);
        progress.add_tree(z, 0, true);
    }
    // 1. (P2) first: a zero direction settles `violated` at once.
    let zero_start = Instant::now();
    let zero_trees: Vec<Node> = match &resumed {
        Some(r) => r.iter().map(|t| t.1.clone()).collect(),
        None => by_units(&|unit, d| s.decide_zero(unit, d, None)),
    };
    let zero_seconds = zero_start.elapsed().as_secs_f64();
    let mut counterexample = s
        .zero_found
        .lock()
        .expect("lock")
        .take()
        .map(|w| Counterexample {
            kind: CounterexampleKind::ZeroDirection,
            point: w,
        });
    // 2. --eps: hunt first.
    let mut hunt_found = false;
    if counterexample.is_none() && !sharpest && !s.stopped() && resumed.is_none() {
        counterexample = hunt_first(net, opts, deadline);
        hunt_found = counterexample.is_some();
    }
    // 3. (P1).
    let mut rounds = 0u32;
    let mut trees: Vec<Node> = if let Some(r) = resumed {
        // The shards' first pass counts as this search's (the same round
        // limit as one machine's).
        rounds = 1;
        r.into_iter().map(|t| t.0).collect()
    } else if counterexample.is_some() {
        roots.iter().map(|_| Node::Leaf(Rule::Undecided)).collect()
    } else {
        rounds = 1;
        // Sharpest: each unit with its own growing pruning level.
        by_units(&|unit, d| {
            let mut prune = Prune {
                level: (0.0, 0.0),
                depth_cap: u32::MAX,
            };
            s.decide(unit, d, None, sharpest.then_some(&mut prune))
        })
    };

    // 4. Refinement rounds.
    let mut needs: Needs = HashMap::new();
    let (mut m1, mut m2) = (None, None);
    // Sharpest mode: exact failure points met by the rounds.
    let mut witnesses = witness::Witnesses::default();
    // Whether the (P1) trees come from the search (not left undecided
    // after an early counterexample): only then are there radii to set.
    let searched = counterexample.is_none();
    if searched && sharpest {
        // Per ball: its radius at its last drop, and the rounds since.
        let mut prev: [Option<f64>; 2] = [None, None];
        let mut stalls = [0u32; 2];
        let screen = crate::certifier::hunt::F64Net::new(net);
        loop {
            let cells = all_undecided(&trees);
            add_needs(&s, &excluded, &cells, &mut needs);
            (m1, m2) = max_needs(&cells, &needs);
            // Failures past `4 ||x*||_inf` (undecided unbounded cells): try
            // their crease points against the radii reached so far; one
            // exact failure outside them settles `violated` without more
            // rounds (a failure set that runs to infinity fits no radii).
            let far: Vec<(Cell, u32)> = cells
                .iter()
                .filter(|(c, _)| c.t_hi.is_none())
                .cloned()
                .collect();
            if !far.is_empty() {
                let e1 = m1.as_ref().map_or(BigRational::zero(), radius_above);
                let e2 = m2.as_ref().map_or(BigRational::zero(), radius_above);
                let reached = Excluded::new(
                    target.clone(),
                    &e1,
                    &e2,
                    opts.rho.0.clone(),
                    opts.rho.1.clone(),
                );
                counterexample = residual_counterexample(
                    &s,
                    &reached,
                    &stationary,
                    &far,
                    Duration::from_secs(2),
                );
                if counterexample.is_some() {
                    break;
                }
            }
            // A shard's radii are its first pass's: the rounds run where the
            // shards are merged, over the whole sphere ([`Options::resume`]).
            if opts.parts.is_some() {
                break;
            }
            let r = (
                m1.as_ref().map_or(0.0, |m| approx(m).sqrt()),
                m2.as_ref().map_or(0.0, |m| approx(m).sqrt()),
            );
            // Exact failure points near the radii: a ball within
            // `1 / SHARP_STOP` of what such points prove unreachable settles
            // (refining it cannot gain more).
            let zero = BigRational::zero();
            let radii_sq = (m1.as_ref().unwrap_or(&zero), m2.as_ref().unwrap_or(&zero));
            let with_needs: Vec<(&Cell, &BigRational, &BigRational)> = cells
                .iter()
                .filter_map(|(c, _)| {
                    let (d1, d2) = needs.get(&CellKey::of(c))?;
                    Some((c, d1, d2))
                })
                .collect();
            witness::search_round(
                &witness::Sources {
                    exact: &exact,
                    screen: &screen,
                    ctx: &s.ctx,
                    is_stationary: &|x: &[BigRational], p: &Pattern| s.is_stationary(x, p),
                },
                &excluded,
                &with_needs,
                radii_sq,
                s.deadline,
                &mut witnesses,
            );
            let (l1, l2) = crate::checker::sharpness::bounds(
                &witness::at_radii(&excluded, radii_sq.0, radii_sq.1),
                &witnesses.points,
            );
            let near = |r: f64, l: &Option<BigRational>| {
                r == 0.0
                    || l.as_ref()
                        .is_some_and(|l| approx(l).sqrt() * (1.0 + 1.0 / SHARP_STOP) >= r)
            };
            // Each ball settles on its own: radius 0, within 1 / SHARP_STOP
            // of its witnessed bound, or SHARP_STALLS rounds without a drop
            // of 1 / SHARP_STOP (one round may not move a radius: the
            // sub-cell holding the failure can keep the old farthest
            // vertex). The rounds re-open the cells of unsettled balls only.
            let keep = 1.0 - 1.0 / SHARP_STOP;
            let mut settled = [false; 2];
            for (b, (r, l)) in [(r.0, &l1), (r.1, &l2)].into_iter().enumerate() {
                let dropped = prev[b].is_none_or(|p| p > 0.0 && r <= keep * p);
                stalls[b] = if dropped { 0 } else { stalls[b] + 1 };
                if dropped {
                    prev[b] = Some(r);
                }
                settled[b] = near(r, l) || stalls[b] >= SHARP_STALLS;
            }
            if settled == [true; 2] || rounds > MAX_SHARP_ROUNDS || s.stopped() {
                break;
            }
            // Re-open the cells that set a radius (within 3% of it).
            let f = BigRational::new(
                BigInt::from(REOPEN.0 * REOPEN.0),
                BigInt::from(REOPEN.1 * REOPEN.1),
            );
            let t1 = m1.as_ref().map(|m| m * &f);
            let t2 = m2.as_ref().map(|m| m * &f);
            let mut reopen = Vec::new();
            let mut kept = (0f64, 0f64);
            for (c, d) in cells {
                let Some((d1, d2)) = needs.get(&CellKey::of(&c)) else {
                    continue;
                };
                let near1 = d1 <= d2;
                let hot = if near1 {
                    !settled[0] && t1.as_ref().is_some_and(|t| d1 >= t)
                } else {
                    !settled[1] && t2.as_ref().is_some_and(|t| d2 >= t)
                };
                if hot && d < opts.max_depth {
                    reopen.push((c, d));
                } else if near1 {
                    kept.0 = kept.0.max(approx(d1));
                } else {
                    kept.1 = kept.1.max(approx(d2));
                }
            }
            if reopen.is_empty() {
                break;
            }
            for (_, d) in &reopen {
                progress.left_undecided.remove(*d);
            }
            s.resolution = &s.resolution / BigRational::from_integer(BigInt::from(2));
            s.resolution_abs = &s.resolution_abs / BigRational::from_integer(BigInt::from(2));
            let mut new: HashMap<CellKey, Node> = reopen
                .par_iter()
                .map(|(c, d)| {
                    // Each cell with its own level, from the one the
                    // cells not re-opened set.
                    let mut prune = Prune {
                        level: kept,
                        depth_cap: d.saturating_add(ROUND_LEVELS),
                    };
                    (
                        CellKey::of(c),
                        s.decide(c.clone(), *d, None, Some(&mut prune)),
                    )
                })
                .collect();
            trees = trees
                .into_iter()
                .zip(&roots)
                .map(|(t, (root, _))| replace_leaves(t, root.clone(), &mut new))
                .collect();
            rounds += 1;
        }
    } else if counterexample.is_none() {
        for _ in 0..GIVEN_EXTRA_LEVELS {
            let cells = all_undecided(&trees);
            if cells.is_empty() || s.stopped() {
                break;
            }
            counterexample =
                residual_counterexample(&s, &excluded, &stationary, &cells, Duration::from_secs(1));
            let reopen: Vec<(Cell, u32)> = cells
                .into_iter()
                .filter(|(_, d)| *d < opts.max_depth)
                .collect();
            if counterexample.is_some() || reopen.is_empty() {
                break;
            }
            for (_, d) in &reopen {
                progress.left_undecided.remove(*d);
            }
            s.resolution = &s.resolution / BigRational::from_integer(BigInt::from(2));
            s.resolution_abs = &s.resolution_abs / BigRational::from_integer(BigInt::from(2));
            let mut new: HashMap<CellKey, Node> = reopen
                .par_iter()
                .map(|(c, d)| (CellKey::of(c), s.decide(c.clone(), *d, None, None)))
                .collect();
            trees = trees
                .into_iter()
                .zip(&roots)
                .map(|(t, (root, _))| replace_leaves(t, root.clone(), &mut new))
                .collect();
            rounds += 1;
        }
    }

    // 5. Sharpest: the smallest radii containing every undecided bounded
    // cell that has a need (computed in the last round).
    let (mut eps1, mut eps2) = (eps1, eps2);
    if sharpest && searched {
        eps1 = m1.as_ref().map_or(BigRational::zero(), radius_above);
        eps2 = m2.as_ref().map_or(BigRational::zero(), radius_above);
        let (e1sq, e2sq) = (&eps1 * &eps1, &eps2 * &eps2);
        let assign = |c: &Cell| -> Option<Ball> {
            let (d1, d2) = needs.get(&CellKey::of(c))?;
            if d1 <= d2 && d1 < &e1sq {
                Some(Ball::XStar)
            } else if d2 < &e2sq {
                Some(Ball::Rho)
            } else if d1 < &e1sq {
                Some(Ball::XStar)
            } else {
                None
            }
        };
        for (c, d) in all_undecided(&trees) {
            if assign(&c).is_some() {
                progress.left_undecided.remove(d);
                progress.decided.add(d);
                progress.excluded.fetch_add(1, Ordering::Relaxed);
            }
        }
        trees = trees
            .into_iter()
            .zip(&roots)
            .map(|(tree, (root, _))| exclude_leaves(tree, root.clone(), &assign))
            .collect();
    }
    let final_excluded = Excluded::new(
        target.clone(),
        &eps1,
        &eps2,
        opts.rho.0.clone(),
        opts.rho.1.clone(),
    );

    // Stationary points strictly inside their own region.
    let mut found = Vec::new();
    let region_points: Vec<(Vec<BigRational>, Pattern)> = s
        .region_points
        .lock()
        .expect("lock")
        .values()
        .cloned()
        .collect();
    // A region point `x_c` of pattern `P` (`Q_P x_c = b_P` exactly) whose
    // strict pattern is `P` is stationary (F5); with another strict pattern
    // `S` (no zero pre-activation), `vbar = Q_S x_c - b_S` (F2, F5) decides.
    // In parallel: each costs one exact forward pass.
    let stationary_found: Vec<&Vec<BigRational>> = {
        use rayon::prelude::*;
        region_points
            .par_iter()
            .filter(|(xc, pattern)| {
                s.over_budget().is_none() && xc != &target && s.is_stationary(xc, pattern)
            })
            .map(|(xc, _)| xc)
            .collect()
    };
    // Failure points for the radius witnesses: those of the rounds and the
    // stationary points found (`vbar = 0`, so `D_{-vbar} f = 0`, F3).
    let mut failures = witnesses.points.clone();
    failures.extend(stationary_found.iter().map(|x| x.to_vec()));
    for xc in stationary_found {
        let (a, b) = final_excluded.dist2_sq_ends(xc);
        let n2 = approx(&final_excluded.target_norm2);
        found.push(FoundStationary {
            point: xc.clone(),
            dist_x_star: (approx(&final_excluded.dist1_sq(xc)) / n2).sqrt(),
            dist_rho: (approx(&a.min(b)) / n2).sqrt(),
        });
    }

    // A counterexample, if the cover left cells undecided.
    let residual = all_undecided(&trees);
    if counterexample.is_none() && !residual.is_empty() {
        if let Some(f) = found
            .iter()
            .find(|f| final_excluded.surely_outside(&f.point))
        {
            counterexample = Some(Counterexample {
                kind: CounterexampleKind::Stationary,
                point: f.point.clone(),
            });
        }
        // Exact evaluations cost milliseconds each on large networks: try the
        // residual cells' points within a small budget.
        if counterexample.is_none() {
            counterexample = residual_counterexample(
                &s,
                &final_excluded,
                &stationary,
                &residual,
                Duration::from_secs(5),
            );
        }
    }
    let zero_residual = all_undecided(&zero_trees);
    if counterexample.is_none() {
        'outer: for (c, _) in &zero_residual {
            for w in c.corners() {
                if s.over_budget().is_some() {
                    break 'outer;
                }
                let w: Vec<BigRational> = w.iter().map(Dyadic::to_rational).collect();
                let zero = vec![BigRational::zero(); k];
                if exact
                    .directional_derivative(&zero, &w)
                    .is_ok_and(|d| !d.is_negative())
                {
                    counterexample = Some(Counterexample {
                        kind: CounterexampleKind::ZeroDirection,
                        point: w,
                    });
                    break 'outer;
                }
            }
        }
    }
    // The best witness per ball, inside the final E. A failure point
    // outside it is a counterexample (the cells that held it were left
    // undecided: `unknown` becomes `violated`).
    let mut radius_witnesses = Vec::new();
    if sharpest && searched && counterexample.is_none() {
        if let Some(x) = failures
            .iter()
            .find(|x| final_excluded.surely_outside(x) && !stationary.contains(x))
        {
            counterexample = Some(Counterexample {
                kind: CounterexampleKind::Point,
                point: x.clone(),
            });
        } else {
            // x* is excused: it bounds no radius.
            failures.retain(|x| final_excluded.contains(x) && x != &target);
            radius_witnesses = witness::best(&final_excluded, &failures);
        }
    }
    let undecided = !residual.is_empty() || !zero_residual.is_empty();
    let verdict = match (&counterexample, undecided) {
        (Some(_), _) => Verdict::Violated,
        (None, true) => Verdict::Unknown,
        (None, false) => Verdict::Holds,
    };
    let trees: Vec<(&(Face, String), Node, Node)> = parts
        .iter()
        .zip(trees)
        .zip(zero_trees)
        .map(|((part, t), z)| (part, t, z))
        .collect();
    let max_depth_seen = trees
        .iter()
        .map(|((_, path), t, z)| t.depth().max(z.depth()) + path.len() as u32)
        .max()
        .unwrap_or(0);
    let seconds = start.elapsed().as_secs_f64();
    let mut stats = serde_json::Map::new();
    let p = progress;
    for (name, v) in [
        ("searched_cells", &p.cells),
        ("region", &p.region),
        ("crease", &p.crease),
        ("cone", &p.cone),
        ("pairs", &p.pairs),
        ("undecided", &p.undecided),
        ("pruned", &p.pruned),
    ] {
        stats.insert(name.into(), v.load(Ordering::Relaxed).into());
    }
    stats.insert("max_depth".into(), max_depth_seen.into());
    stats.insert("refinement_rounds".into(), rounds.into());
    // The settings (a merge of shards re-runs the rounds with them).
    stats.insert("resolution".into(), opts.resolution.to_string().into());
    stats.insert("max_depth_limit".into(), opts.max_depth.into());
    stats.insert("final_resolution".into(), s.resolution.to_string().into());
    stats.insert("hunt_first_found".into(), hunt_found.into());
    if let Some(why) = *s.stop_reason.lock().expect("lock") {
        stats.insert("stopped".into(), why.into());
    }
    stats.insert("patterns".into(), engine.cached_patterns().into());
    stats.insert("certify_seconds".into(), format!("{seconds:.3}").into());
    stats.insert(
        "stationary_points_found".into(),
        found
            .iter()
            .map(|f| {
                serde_json::json!({
                    "point": f.point.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
                    "dist_x_star": format!("{:.6}", f.dist_x_star),
                    "dist_rho": format!("{:.6}", f.dist_rho),
                })
            })
            .collect::<Vec<_>>()
            .into(),
    );
    progress.done.store(true, Ordering::Relaxed);
    let certificate = Certificate {
        network_sha256: sha256.to_string(),
        network_path: path_hint,
        latent: k,
        claim: Claim {
            mode: if sharpest {
                ClaimMode::Sharpest
            } else {
                ClaimMode::Given
            },
            eps_x_star: eps1,
            eps_rho: eps2,
            rho_lo: opts.rho.0.clone(),
            rho_hi: opts.rho.1.clone(),
            stationary_points: stationary.clone(),
        },
        verdict,
        shard: None,
        cover: Some(Cover {
            max_depth: max_depth_seen,
            faces: trees
                .into_iter()
                .map(|((face, path), tree, zero_tree)| FaceCover {
                    face: *face,
                    path: path.clone(),
                    tree,
                    zero_tree,
                })
                .collect(),
        }),
        counterexample,
        radius_witnesses,
        stats,
    };
    SearchResult {
        certificate,
        tiers: tiers.counts.snapshot(),
        stationary: found,
        max_depth_seen,
        seconds,
        zero_seconds,
        rounds,
    }
}

#[cfg(test)]
mod tests {
    use super::default_max_depth;

    #[test]
    fn default_depth_grows_with_the_latent_dimension() {
        // 48 up to k = 3 (the shipped certificates' setting), then 16 per
        // coordinate, within the CLI's range 1..=200.
        let got: Vec<u32> = [1, 2, 3, 4, 5, 6, 13, usize::MAX]
            .iter()
            .map(|&k| default_max_depth(k))
            .collect();
        assert_eq!(got, [48, 48, 48, 64, 80, 96, 200, 200]);
    }
}
