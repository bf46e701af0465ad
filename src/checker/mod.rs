//! The independent checker: the trusted core of `verify`.
//!
//! It depends on the file formats ([`crate::format`]) and exact arithmetic
//! ([`crate::exact`]) only — never on [`crate::certifier`] (a test enforces
//! this). Everything is recomputed from the network: coverage follows from
//! the trees' structure, each leaf's rule is decided exactly, `rho_d` is
//! enclosed independently, and a counterexample is evaluated exactly.

pub mod geometry;
pub mod patterns;
pub mod rules;
pub mod sharpness;
pub mod zero_first;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use crate::exact::dyadic::Dyadic;
use crate::exact::eval::ExactNet;
use crate::exact::rational::{rational_to_decimal, sqrt_to_decimal};
use crate::exact::rho::rho_enclosure;
use crate::format::certificate::{
    Ball, Certificate, ClaimMode, CounterexampleKind, Node, Rule, ShardInfo, Verdict,
};
use crate::format::network::Network;
use crate::limits::{Budget, Exceeded};
use geometry::{Cell, Excluded};
use patterns::{Engine, Statuses};
use rules::{BallUse, Context};

/// Below this depth the two halves of a split are checked in parallel.
const PARALLEL_DEPTH: u32 = 10;

/// Most undecided cells described in a [`Report`] (the first ones in tree
/// order); the rest are only counted, so a check's memory does not grow
/// with the number of undecided cells.
pub const RESIDUAL_LISTED: usize = 1000;

/// Cells by rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub region: u64,
    pub pairs: u64,
    pub crease: u64,
    pub cone: u64,
    pub excluded: u64,
    pub zero: u64,
    pub undecided: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.region += o.region;
        self.pairs += o.pairs;
        self.crease += o.crease;
        self.cone += o.cone;
        self.excluded += o.excluded;
        self.zero += o.zero;
        self.undecided += o.undecided;
    }
    /// (P1) cells.
    pub fn cells(&self) -> u64 {
        self.region + self.pairs + self.crease + self.cone + self.excluded
    }
}

/// The result of walking trees.
#[derive(Debug, Default)]
struct Tally {
    counts: Counts,
    uses: BallUse,
    /// Undecided cells: (face and path, description).
    residual: Vec<(String, String)>,
}

impl Tally {
    /// Adds `o`, which comes after `self` in tree order (only the first
    /// [`RESIDUAL_LISTED`] undecided cells keep their descriptions).
    fn merge(&mut self, o: Tally) {
        self.counts.add(&o.counts);
        self.uses.merge(o.uses);
        let room = RESIDUAL_LISTED.saturating_sub(self.residual.len());
        self.residual.extend(o.residual.into_iter().take(room));
    }
}

/// A valid certificate's summary.
#[derive(Debug)]
pub struct Report {
    pub verdict: Verdict,
    pub network_sha256: String,
    pub counts: Counts,
    /// Undecided cells, listed (verdicts `unknown`, `violated`): the first
    /// [`RESIDUAL_LISTED`] in tree order; `counts.undecided` counts them all.
    pub residual: Vec<(String, String)>,
    pub eps_x_star: BigRational,
    pub eps_rho: BigRational,
    pub mode: ClaimMode,
    pub counterexample: Option<String>,
    /// The listed stationary points the claim excuses (only `x*` may lie
    /// outside `E`), with their distances to the centres.
    pub excused: Vec<ExcusedPoint>,
    pub patterns_examined: usize,
    /// What the certificate's radius witnesses prove (`None` without any).
    pub sharpness: Option<sharpness::Sharpness>,
    pub seconds: f64,
    /// A shard certificate: which shard, and how many parts it covers (its
    /// verdict is about those parts only).
    pub shard: Option<(ShardInfo, usize)>,
}

/// A listed stationary point: `x*` itself, or a point inside `E`.
#[derive(Clone, Debug)]
pub struct ExcusedPoint {
    pub point: Vec<BigRational>,
    pub is_x_star: bool,
    /// `||x - x*|| / ||x*||` and `||x + rho_d x*|| / ||x*||` (the latter at the
    /// end of the rho enclosure nearer to `x`), as decimals.
    pub dist_x_star: String,
    pub dist_rho: String,
    /// Inside `E` (then listing it changes nothing).
    pub in_e: bool,
}

impl ExcusedPoint {
    pub fn new(point: &[BigRational], excluded: &Excluded) -> Self {
        let n2 = &excluded.target_norm2;
        let (a, b) = excluded.dist2_sq_ends(point);
        ExcusedPoint {
            point: point.to_vec(),
            is_x_star: point == excluded.target.as_slice(),
            dist_x_star: sqrt_to_decimal(&(excluded.dist1_sq(point) / n2), 6),
            dist_rho: sqrt_to_decimal(&(a.min(b) / n2), 6),
            in_e: excluded.contains(point),
        }
    }

    /// For `--json`: exact coordinates, decimal distances.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "point": self.point.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            "x_star": self.is_x_star,
            "inside_e": self.in_e,
            "dist_x_star": self.dist_x_star,
            "dist_rho": self.dist_rho,
        })
    }

    /// One line: `x* = (0.5, 1) (distance 0 from x*, 1.31831 from -rho_d x*)`
    /// (coordinates as decimals; the exact values are in the certificate).
    pub fn describe(&self) -> String {
        let coords: Vec<String> = self
            .point
            .iter()
            .map(|v| rational_to_decimal(v, 8))
            .collect();
        format!(
            "{}({}) (distance {} from x*, {} from -rho_d x*{})",
            if self.is_x_star { "x* = " } else { "" },
            coords.join(", "),
            self.dist_x_star,
            self.dist_rho,
            if self.in_e { ", inside E" } else { "" }
        )
    }
}

/// `(a, b, ...)` with exact coordinates.
pub fn show_point(v: &[BigRational]) -> String {
    let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("({})", s.join(", "))
}

/// Why a certificate is invalid: one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection(pub String);

fn reject<T, E: From<Rejection>>(msg: impl Into<String>) -> Result<T, E> {
    Err(Rejection(msg.into()).into())
}

/// Why [`check_within`] returned no report.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckError {
    /// The certificate is invalid.
    Rejected(Rejection),
    /// The budget ran out first: nothing is concluded about the certificate.
    Unfinished(Unfinished),
}

/// How far an unfinished check got.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unfinished {
    pub why: Exceeded,
    /// Leaves (cells) checked, of `leaves_total` in the cover.
    pub leaves_checked: u64,
    pub leaves_total: u64,
    pub seconds: f64,
}

impl std::fmt::Display for Unfinished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} after {:.1} s ({} of {} leaves checked)",
            self.why, self.seconds, self.leaves_checked, self.leaves_total
        )
    }
}

impl From<Rejection> for CheckError {
    fn from(r: Rejection) -> Self {
        CheckError::Rejected(r)
    }
}

/// What stops a tree walk: a rejection, or the budget.
#[derive(Debug)]
enum Stop {
    Rejected(Rejection),
    Budget(Exceeded),
}

impl From<Rejection> for Stop {
    fn from(r: Rejection) -> Self {
        Stop::Rejected(r)
    }
}

/// The first rejection in tree order wins over a stop for the budget (a
/// rejection found is final; an unfinished part concludes nothing).
fn first_stop(a: Stop, b: Option<Stop>) -> Stop {
    match (a, b) {
        (Stop::Budget(_), Some(r @ Stop::Rejected(_))) => r,
        (a, _) => a,
    }
}

/// Budget polling during a walk.
struct Watch<'b> {
    budget: &'b Budget,
    leaves: AtomicU64,
}

impl Watch<'_> {
    /// Before a leaf: stops when the budget is spent.
    fn poll(&self) -> Result<(), Stop> {
        match self.budget.exceeded() {
            Some(e) => Err(Stop::Budget(e)),
            None => Ok(()),
        }
    }
    /// After a leaf was checked.
    fn done(&self) {
        self.leaves.fetch_add(1, Ordering::Relaxed);
    }
}

/// Leaves of a tree (iteratively: no recursion on untrusted depth).
fn count_leaves(root: &Node) -> u64 {
    let mut n = 0;
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        match node {
            Node::Leaf(_) => n += 1,
            Node::Split { lo, hi, .. } => stack.extend([&**lo, &**hi]),
            Node::Radial { inner, outer, .. } => stack.extend([&**inner, &**outer]),
        }
    }
    n
}

/// Checks `cert` against `net` (whose file has SHA-256 `net_sha256`),
/// without limits.
pub fn check(cert: &Certificate, net: &Network, net_sha256: &str) -> Result<Report, Rejection> {
    match check_within(cert, net, net_sha256, &Budget::unlimited()) {
        Ok(r) => Ok(r),
        Err(CheckError::Rejected(r)) => Err(r),
        // An unlimited budget is never exceeded; should it be, no verdict.
        Err(CheckError::Unfinished(u)) => Err(Rejection(format!("not checked: {u}"))),
    }
}

/// Checks `cert` against `net` (whose file has SHA-256 `net_sha256`) within
/// `budget`, polled before every leaf: past it the check stops with
/// [`CheckError::Unfinished`], never with a report.
pub fn check_within(
    cert: &Certificate,
    net: &Network,
    net_sha256: &str,
    budget: &Budget,
) -> Result<Report, CheckError> {
    let start = Instant::now();
    let leaves_total = cert.cover.as_ref().map_or(0, |c| {
        c.faces
            .iter()
            .map(|f| count_leaves(&f.tree) + count_leaves(&f.zero_tree))
            .sum()
    });
    let watch = Watch {
        budget,
        leaves: AtomicU64::new(0),
    };
    let unfinished = |why| {
        CheckError::Unfinished(Unfinished {
            why,
            leaves_checked: watch.leaves.load(Ordering::Relaxed),
            leaves_total,
            seconds: start.elapsed().as_secs_f64(),
        })
    };
    if let Some(e) = budget.exceeded() {
        return Err(unfinished(e));
    }
    if cert.network_sha256 != net_sha256 {
        return reject(format!(
            "network hash mismatch: certificate is for {}, file is {net_sha256}",
            cert.network_sha256
        ));
    }
    if cert.latent != net.latent {
        return reject(format!(
            "latent dimension mismatch: certificate says {}, network has {}",
            cert.latent, net.latent
        ));
    }
    let exact = ExactNet::new(net).map_err(|e| Rejection(format!("network: {e}")))?;
    let claim = &cert.claim;
    check_rho_enclosure(net.widths.len(), &claim.rho_lo, &claim.rho_hi)?;
    let excluded = Excluded::of_claim(net, claim);
    for (i, s) in claim.stationary_points.iter().enumerate() {
        // Only x* may be excused by listing it: a nonzero stationary point
        // has D_{-vbar} f = 0, so one outside E is a counterexample to (P1)
        // and a claim that excuses it is not the paper's form (SPEC §2).
        // Points inside E are harmless (and need no listing).
        if s != &excluded.target && !excluded.contains(s) {
            return reject(format!(
                "claim.stationary_points[{i}] = {} is not x* and lies outside E: a stationary point there is a counterexample to (P1), not an excusable point",
                show_point(s)
            ));
        }
        let vbar = exact.vbar(s).map_err(|e| Rejection(e.to_string()))?;
        if s.iter().all(|v| v.is_zero()) || vbar.iter().any(|v| !v.is_zero()) {
            return reject(format!(
                "claim.stationary_points[{i}] is not a nonzero stationary point (vbar != 0)"
            ));
        }
    }

    let engine = Engine::new(&exact);
    let ctx = Context {
        engine: &engine,
        excluded: &excluded,
        stationary: &claim.stationary_points,
    };
    let w = Walk { ctx, watch: &watch };
    let mut tally = Tally::default();
    if let Some(cover) = &cert.cover {
        use rayon::prelude::*;
        let results: Vec<Result<Tally, Stop>> = cover
            .faces
            .par_iter()
            .flat_map(|f| {
                let name = f.face.to_string();
                // A part's cells are named by their path from the face's
                // root, as in the merged certificate.
                let Some(root) = Cell::part(f.face, net.latent, &f.path) else {
                    let r = Rejection(format!(
                        "face {name}: part {:?} of a face with no side to halve (k = 1)",
                        f.path
                    ));
                    return vec![Err(Stop::Rejected(r))];
                };
                let p = &f.path;
                vec![
                    walk(
                        &w,
                        &f.tree,
                        root.clone(),
                        0,
                        &format!("{name} tree {p}"),
                        None,
                    ),
                    walk(
                        &w,
                        &f.zero_tree,
                        root,
                        0,
                        &format!("{name} zero_tree {p}"),
                        None,
                    ),
                ]
            })
            .collect();
        let mut stop = None;
        for r in results {
            match (r, stop.take()) {
                (Ok(t), None) => tally.merge(t),
                (Ok(_), s) => stop = s,
                (Err(e), None) => stop = Some(e),
                (Err(e), Some(s)) => stop = Some(first_stop(s, Some(e))),
            }
        }
        match stop {
            Some(Stop::Rejected(r)) => return Err(r.into()),
            Some(Stop::Budget(e)) => return Err(unfinished(e)),
            None => {}
        }
    }
    if let Some(e) = budget.exceeded() {
        return Err(unfinished(e));
    }

    let counterexample = match &cert.counterexample {
        Some(c) => Some(check_counterexample(&exact, &excluded, claim, c)?),
        None => None,
    };
    let sharpness = if cert.radius_witnesses.is_empty() {
        None
    } else {
        Some(
            sharpness::check_witnesses(&exact, &excluded, &cert.radius_witnesses)
                .map_err(Rejection)?,
        )
    };
    match cert.verdict {
        Verdict::Holds | Verdict::Unknown => {
            if cert.cover.is_none() {
                return reject(format!("verdict {} needs a cover", cert.verdict.name()));
            }
            if counterexample.is_some() {
                return reject(format!(
                    "verdict {} with a counterexample: the verdict should be violated",
                    cert.verdict.name()
                ));
            }
            let undecided = tally.counts.undecided > 0;
            if cert.verdict == Verdict::Holds && undecided {
                return reject(format!(
                    "verdict holds but {} cell(s) are undecided, first: {}",
                    tally.counts.undecided, tally.residual[0].0
                ));
            }
            if cert.verdict == Verdict::Unknown && !undecided {
                return reject(
                    "verdict unknown but every cell is decided: the verdict should be holds",
                );
            }
        }
        Verdict::Violated => {
            if counterexample.is_none() {
                return reject("verdict violated without a counterexample");
            }
        }
    }
    if claim.mode == ClaimMode::Sharpest {
        check_sharp(&tally.uses, &claim.eps_x_star, Ball::XStar)?;
        check_sharp(&tally.uses, &claim.eps_rho, Ball::Rho)?;
    }
    Ok(Report {
        verdict: cert.verdict,
        network_sha256: net_sha256.to_string(),
        counts: tally.counts,
        residual: tally.residual,
        eps_x_star: claim.eps_x_star.clone(),
        eps_rho: claim.eps_rho.clone(),
        mode: claim.mode,
        counterexample,
        excused: claim
            .stationary_points
            .iter()
            .map(|s| ExcusedPoint::new(s, &excluded))
            .collect(),
        patterns_examined: w.ctx.engine.cached_patterns(),
        sharpness,
        seconds: start.elapsed().as_secs_f64(),
        shard: cert
            .shard
            .clone()
            .map(|sh| (sh, cert.cover.as_ref().map_or(0, |c| c.faces.len()))),
    })
}

/// Walks one tree; `path` names the node (`0`/`1`: lower/upper half of a
/// direction split, `i`/`o`: inner/outer part of a radial split).
/// `parent` holds the neuron statuses of the parent cell (inherited: only
/// its free neurons are re-examined here).
fn walk(
    w: &Walk,
    node: &Node,
    cell: Cell,
    depth: u32,
    path: &str,
    parent: Option<&Statuses>,
) -> Result<Tally, Stop> {
    // Every node (not only leaves) polls: a split's statuses cost work too.
    w.watch.poll()?;
    if let Node::Leaf(rule) = node {
        let t = leaf(&w.ctx, *rule, &cell, path, parent)?;
        w.watch.done();
        return Ok(t);
    }
    let own = w.ctx.patterns_from(&cell, rules::PAIRS_LIMIT, parent).1;
    let st = Some(&own);
    match node {
        Node::Leaf(_) => unreachable!("handled above"),
        Node::Split { axis, lo, hi } => {
            let (a, b) = cell.split(*axis);
            both(w, (lo, a, '0'), (hi, b, '1'), depth, path, st)
        }
        Node::Radial { at, inner, outer } => {
            // The format admits dyadic split points only.
            let split = Dyadic::from_rational(at).and_then(|d| cell.split_radial(&d));
            let Some((a, b)) = split else {
                return reject(format!(
                    "{path}: radial split at {at} is not inside [{}, {}]",
                    cell.t_lo.to_rational(),
                    cell.t_hi
                        .as_ref()
                        .map_or("inf".into(), |t| t.to_rational().to_string())
                ));
            };
            both(w, (inner, a, 'i'), (outer, b, 'o'), depth, path, st)
        }
    }
}

/// The rules' context and the budget of one check.
struct Walk<'a> {
    ctx: Context<'a>,
    watch: &'a Watch<'a>,
}

type Child<'n> = (&'n Node, Cell, char);

fn both(
    w: &Walk,
    a: Child,
    b: Child,
    depth: u32,
    path: &str,
    st: Option<&Statuses>,
) -> Result<Tally, Stop> {
    let (pa, pb) = (format!("{path}{}", a.2), format!("{path}{}", b.2));
    let (ra, rb) = if depth < PARALLEL_DEPTH {
        rayon::join(
            || walk(w, a.0, a.1, depth + 1, &pa, st),
            || walk(w, b.0, b.1, depth + 1, &pb, st),
        )
    } else {
        // After a rejection or past the budget the second half is not
        // started: the outcome is the first half's.
        let ra = walk(w, a.0, a.1, depth + 1, &pa, st)?;
        (Ok(ra), walk(w, b.0, b.1, depth + 1, &pb, st))
    };
    // The first rejection in tree order, whatever finished first.
    match (ra, rb) {
        (Ok(mut t), Ok(u)) => {
            t.merge(u);
            Ok(t)
        }
        (Err(e), rb) => Err(first_stop(e, rb.err())),
        (Ok(_), Err(e)) => Err(e),
    }
}

fn leaf(
    ctx: &Context,
    rule: Rule,
    cell: &Cell,
    path: &str,
    parent: Option<&Statuses>,
) -> Result<Tally, Rejection> {
    let mut t = Tally::default();
    let patterns = |limit| ctx.patterns_from(cell, limit, parent).0;
    let outcome = match rule {
        Rule::Region => patterns(2).and_then(|p| ctx.region(cell, &p)).map(|u| {
            t.counts.region = 1;
            t.uses = u;
        }),
        Rule::Pairs => patterns(rules::PAIRS_LIMIT)
            .and_then(|p| ctx.pairs(cell, &p))
            .map(|_| t.counts.pairs = 1),
        Rule::Crease => patterns(rules::CREASE_LIMIT)
            .and_then(|p| ctx.crease(cell, &p))
            .map(|u| {
                t.counts.crease = 1;
                t.uses = u;
            }),
        Rule::Cone => ctx
            .branches_from(cell, rules::CONE_BRANCHES, parent)
            .0
            .and_then(|b| ctx.cone(cell, &b))
            .map(|_| t.counts.cone = 1),
        Rule::Excluded(ball) => ctx.excluded(cell, ball).map(|u| {
            t.counts.excluded = 1;
            t.uses = u;
        }),
        Rule::Zero => ctx
            .branches_from(cell, rules::ZERO_LIMIT, parent)
            .0
            .and_then(|b| ctx.zero(cell, &b))
            .map(|_| t.counts.zero = 1),
        Rule::ZeroFirst => zero_first::zero_first(ctx.engine, cell).map(|_| t.counts.zero = 1),
        Rule::Undecided => {
            t.counts.undecided = 1;
            t.residual.push((path.to_string(), cell.describe()));
            Ok(())
        }
    };
    outcome.map_err(|e| {
        Rejection(format!(
            "cell {} ({}), rule {}: {e}",
            path.trim_end(),
            cell.describe(),
            rule.name()
        ))
    })?;
    Ok(t)
}

/// Narrowest `claim.rho` enclosure accepted: `2^-RHO_FLOOR_BITS`. The
/// independent enclosure is computed to `2^-40` of the claimed width, and
/// its cost grows faster than the square of the bits (`d` bisections of
/// `arccos`): at `2^-1000` with `d = 64` it took minutes, at `2^-256` it
/// takes seconds. `certify` writes enclosures about `2^-120` wide.
pub const RHO_FLOOR_BITS: usize = 256;

/// The claimed enclosure must contain an independent one (so it contains
/// `rho_d`).
fn check_rho_enclosure(d: usize, lo: &BigRational, hi: &BigRational) -> Result<(), Rejection> {
    let width = hi - lo;
    let floor = BigRational::new(BigInt::from(1), BigInt::from(1) << RHO_FLOOR_BITS);
    let tries = if d == 1 {
        vec![BigRational::from_integer(BigInt::from(1))]
    } else {
        if width < floor {
            return reject(format!(
                "claim.rho: the enclosure is narrower than 2^-{RHO_FLOOR_BITS}"
            ));
        }
        vec![
            &width / BigRational::from_integer(BigInt::from(16)),
            &width / BigRational::from_integer(BigInt::from(1u64 << 40)),
        ]
    };
    let mut own = None;
    for w in tries {
        let e = rho_enclosure(d, &w);
        if &e.lo >= lo && &e.hi <= hi {
            return Ok(());
        }
        own = Some(e);
    }
    let own = own.expect("at least one try");
    reject(format!(
        "claim.rho [{lo}, {hi}] does not contain rho_{d} (independent enclosure [{}, {}])",
        own.lo, own.hi
    ))
}

/// In sharpest mode each nonzero radius must be reached: some use of the
/// ball is at least `255/256` of the radius away from its centre.
fn check_sharp(uses: &BallUse, eps: &BigRational, ball: Ball) -> Result<(), Rejection> {
    if eps.is_zero() {
        return Ok(());
    }
    let used = match ball {
        Ball::XStar => &uses.x_star,
        Ball::Rho => &uses.rho,
    };
    let factor = BigRational::new(BigInt::from(255 * 255), BigInt::from(256 * 256));
    let need = eps * eps * factor;
    match used {
        Some(d2) if d2 >= &need => Ok(()),
        _ => reject(format!(
            "claim.mode sharpest: the radius {eps} of ball {} is not reached by any cell (it could be smaller)",
            match ball {
                Ball::XStar => "B(x*)",
                Ball::Rho => "B(-rho x*)",
            }
        )),
    }
}

fn check_counterexample(
    exact: &ExactNet,
    excluded: &Excluded,
    claim: &crate::format::certificate::Claim,
    c: &crate::format::certificate::Counterexample,
) -> Result<String, Rejection> {
    let x = &c.point;
    let err = |e: crate::exact::eval::EvalError| Rejection(format!("counterexample: {e}"));
    if x.iter().all(|v| v.is_zero()) {
        return reject("counterexample: the point is zero");
    }
    let show = |v: &[BigRational]| {
        let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        format!("({})", s.join(", "))
    };
    match c.kind {
        CounterexampleKind::ZeroDirection => {
            // D_w f(0) = -<A G(w), y> (F6), computed by F3 at x = 0.
            let zero = vec![BigRational::zero(); x.len()];
            let d = exact.directional_derivative(&zero, x).map_err(err)?;
            if d.is_negative() {
                return reject(format!(
                    "counterexample: D_w f(0) = {d} < 0 for w = {}",
                    show(x)
                ));
            }
            Ok(format!(
                "(P2) fails: D_w f(0) = {d} >= 0 for w = {}",
                show(x)
            ))
        }
        CounterexampleKind::Stationary | CounterexampleKind::Point => {
            if !excluded.surely_outside(x) {
                return reject(format!("counterexample: {} is not outside E", show(x)));
            }
            if claim.stationary_points.iter().any(|s| s == x) {
                return reject("counterexample: the point is a listed stationary point");
            }
            if c.kind == CounterexampleKind::Stationary {
                let vbar = exact.vbar(x).map_err(err)?;
                if vbar.iter().any(|v| !v.is_zero()) {
                    return reject(format!("counterexample: vbar != 0 at {}", show(x)));
                }
                if !exact.zero_neurons(x).map_err(err)?.is_empty() {
                    return reject(format!(
                        "counterexample: {} is on a region boundary, not strictly inside its region",
                        show(x)
                    ));
                }
                return Ok(format!(
                    "stationary point {} strictly inside its region, outside E",
                    show(x)
                ));
            }
            let (d, _) = exact.descent_derivative(x).map_err(err)?;
            if d.is_negative() {
                return reject(format!(
                    "counterexample: D_-vbar f = {d} < 0 at {}",
                    show(x)
                ));
            }
            Ok(format!(
                "D_-vbar f(x) = {d} >= 0 at x = {}, outside E",
                show(x)
            ))
        }
    }
}
