//! `certify hunt`: a fast search for counterexamples to (P1) and (P2) in
//! binary64, every candidate confirmed *exactly* before it is reported.
//!
//! Where it looks: a great circle of directions (for `k = 2` the one
//! circle, finely: patterns are constant along rays (F1), so every linear
//! region and every crease wider than the sampling step is met; for `k >= 3`
//! random circles), and many-start descents on `f` along `-vbar` in binary64
//! (backtracking line search, a jump to the region point when it lies in the
//! current region; half of the starts near `-rho_d x*`).
//!
//! Three kinds of candidates (SPEC §6, "violated"):
//!
//! - **stationary**: for every pattern met whose binary64 region point lies
//!   in its own region, the exact region point `x_c = Q_P^{-1} b_P` (exact
//!   evaluator); confirmed when it is nonzero, has no neuron exactly zero,
//!   `vbar_{x_c} = 0` exactly, and lies outside `E` for every `rho` in the
//!   enclosure.
//! - **point**: for every crease met (two patterns `P0`, `P1` that differ in
//!   one neuron `v`, found by bisection along the circle or between descent
//!   steps) and for the neurons nearest to zero where a descent stalls:
//!   exact points of `v`'s zero set `<c_v, x> = 0` (`c_v` its row under the
//!   earlier layers' bits): the minimiser of `f` on it (a KKT system solved
//!   in rationals), the exact projection of the point met, and for each the
//!   minimiser along its ray of `<g_P0, g_P1>` (F7). Screened in binary64
//!   for a *valley* (`-g_P0` enters the `P1` side, the gradients disagree);
//!   confirmed when `D_{-vbar_x} f(x) >= 0` exactly (F3) and `x` is outside
//!   `E`.
//! - **zero_direction**: random directions `w` and, for each one's pattern
//!   `P`, the direction `-b_P`; confirmed when `D_w f(0) = -<A G(w), y> >= 0`
//!   exactly (F6, computed by F3 at 0).
//!
//! Binary64 only proposes; [`confirm`] decides, with the same exact
//! arithmetic and the same conditions as the checker. Nothing is reported
//! that [`confirm`] did not accept.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use num_rational::BigRational;
use num_traits::{Signed, Zero};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::certifier::search::approx;
use crate::checker::geometry::Excluded;
use crate::exact::dyadic::{f64_to_rational, DMat};
use crate::exact::eval::{ExactNet, Pattern};
use crate::exact::rational::rational_to_decimal;
use crate::format::certificate::{
    Certificate, Claim, ClaimMode, Counterexample, CounterexampleKind, Cover, Face, FaceCover,
    Node, Rule, Verdict,
};
use crate::format::network::Network;

/// Confirmed counterexamples kept per kind; later candidates of a kind that
/// has this many are not examined (a dead cone of directions would
/// otherwise give one per sampled direction).
pub const MAX_PER_KIND: u64 = 32;

/// Options of a hunt.
#[derive(Clone, Debug)]
pub struct HuntOptions {
    /// Number of descent starts.
    pub starts: usize,
    pub seed: u64,
    /// `(eps_x_star, eps_rho)`, relative to `|x*|`.
    pub eps: (BigRational, BigRational),
    /// The `rho_d` enclosure `[lo, hi]` to claim.
    pub rho: (BigRational, BigRational),
    /// Stop starting new descents after this long.
    pub time_limit: Option<Duration>,
    /// Descent steps per start.
    pub max_steps: usize,
}

impl HuntOptions {
    pub fn new(eps: (BigRational, BigRational), rho: (BigRational, BigRational)) -> Self {
        HuntOptions {
            starts: 64,
            seed: 1,
            eps,
            rho,
            time_limit: None,
            max_steps: 400,
        }
    }
}

/// Live counters (read by the progress display).
#[derive(Default)]
pub struct HuntProgress {
    pub starts_done: AtomicU64,
    pub candidates: AtomicU64,
    pub confirmed: AtomicU64,
    pub done: AtomicBool,
}

/// Candidates proposed in binary64 and confirmed exactly, for one kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KindCount {
    pub candidates: u64,
    pub confirmed: u64,
}

/// An exactly confirmed counterexample.
#[derive(Clone, Debug)]
pub struct Found {
    pub kind: CounterexampleKind,
    pub point: Vec<BigRational>,
    /// `||x - x*|| / ||x*||` (display only; `NaN` for a zero direction).
    pub dist_x_star: f64,
    /// `min over the enclosure of ||x + rho x*|| / ||x*||` (display only).
    pub dist_rho: f64,
    /// What [`confirm`] established, one line.
    pub why: String,
}

pub struct HuntResult {
    pub stationary: KindCount,
    pub point: KindCount,
    pub zero_direction: KindCount,
    /// Every confirmed counterexample, de-duplicated.
    pub found: Vec<Found>,
    pub starts: usize,
    pub seconds: f64,
}

impl HuntResult {
    /// The counterexample to put in a certificate: of the preferred kind if
    /// one was confirmed, else stationary, point, zero direction in that
    /// order; among one kind the farthest from both centres.
    pub fn best(&self, prefer: Option<CounterexampleKind>) -> Option<&Found> {
        let score = |f: &Found| {
            let d = f.dist_x_star.min(f.dist_rho);
            if d.is_nan() {
                0.0
            } else {
                d
            }
        };
        let order = [
            CounterexampleKind::Stationary,
            CounterexampleKind::Point,
            CounterexampleKind::ZeroDirection,
        ];
        prefer.into_iter().chain(order).find_map(|kind| {
            self.found
                .iter()
                .filter(|f| f.kind == kind)
                .max_by(|a, b| score(a).total_cmp(&score(b)))
        })
    }
}

// ---------------------------------------------------------------------------
// The binary64 model (proposals only).

pub(crate) struct F64Net {
    k: usize,
    /// `(rows, cols, row-major entries)` of `W_1 .. W_d`.
    layers: Vec<(usize, usize, Vec<f64>)>,
    a: Option<(usize, usize, Vec<f64>)>,
    y: Vec<f64>,
}

type Bits = Vec<Vec<bool>>;

fn mat_vec(m: &(usize, usize, Vec<f64>), v: &[f64]) -> Vec<f64> {
    let (r, c, e) = m;
    (0..*r)
        .map(|i| {
            e[i * c..(i + 1) * c]
                .iter()
                .zip(v)
                .map(|(a, b)| a * b)
                .sum()
        })
        .collect()
}

fn mat_tr_vec(m: &(usize, usize, Vec<f64>), v: &[f64]) -> Vec<f64> {
    let (r, c, e) = m;
    let mut out = vec![0.0; *c];
    for (i, vi) in v.iter().enumerate().take(*r) {
        if *vi != 0.0 {
            for (o, a) in out.iter_mut().zip(&e[i * c..(i + 1) * c]) {
                *o += a * vi;
            }
        }
    }
    out
}

fn dotf(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm2f(a: &[f64]) -> f64 {
    dotf(a, a)
}

impl F64Net {
    pub(crate) fn new(net: &Network) -> F64Net {
        let mut layers = Vec::new();
        let mut prev = net.latent;
        for (w, &n) in net.weights.iter().zip(&net.widths) {
            layers.push((n, prev, w.clone()));
            prev = n;
        }
        let a = net.a.as_ref().map(|a| (a.len() / prev, prev, a.clone()));
        let mut me = F64Net {
            k: net.latent,
            layers,
            a,
            y: Vec::new(),
        };
        let g = me.forward(&net.target, None).1;
        me.y = me.measure(&g);
        me
    }

    fn measure(&self, v: &[f64]) -> Vec<f64> {
        match &self.a {
            Some(a) => mat_vec(a, v),
            None => v.to_vec(),
        }
    }

    fn measure_tr(&self, v: &[f64]) -> Vec<f64> {
        match &self.a {
            Some(a) => mat_tr_vec(a, v),
            None => v.to_vec(),
        }
    }

    /// Pre-activations and `Lambda_P x` with `P` the strict pattern of `x`,
    /// or the forced `bits`.
    fn forward(&self, x: &[f64], bits: Option<&Bits>) -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut act = x.to_vec();
        let mut pre = Vec::with_capacity(self.layers.len());
        for (i, w) in self.layers.iter().enumerate() {
            let z = mat_vec(w, &act);
            act = match bits {
                Some(b) => z
                    .iter()
                    .zip(&b[i])
                    .map(|(&v, &on)| if on { v } else { 0.0 })
                    .collect(),
                None => z.iter().map(|&v| v.max(0.0)).collect(),
            };
            pre.push(z);
        }
        (pre, act)
    }

    fn strict(pre: &[Vec<f64>]) -> Bits {
        pre.iter()
            .map(|z| z.iter().map(|&v| v > 0.0).collect())
            .collect()
    }

    fn lambda_tr(&self, bits: &Bits, v: &[f64]) -> Vec<f64> {
        let mut e = v.to_vec();
        for (w, b) in self.layers.iter().zip(bits).rev() {
            for (ei, &on) in e.iter_mut().zip(b) {
                if !on {
                    *ei = 0.0;
                }
            }
            e = mat_tr_vec(w, &e);
        }
        e
    }

    /// `A g - y`.
    fn residual(&self, g: &[f64]) -> Vec<f64> {
        self.measure(g)
            .iter()
            .zip(&self.y)
            .map(|(a, b)| a - b)
            .collect()
    }

    fn objective(&self, x: &[f64]) -> f64 {
        let g = self.forward(x, None).1;
        let r = self.residual(&g);
        0.5 * norm2f(&r)
    }

    /// `(f(x), vbar_x, s(x), pre-activations)`.
    fn eval(&self, x: &[f64]) -> (f64, Vec<f64>, Bits, Vec<Vec<f64>>) {
        let (pre, g) = self.forward(x, None);
        let bits = Self::strict(&pre);
        let r = self.residual(&g);
        let v = self.lambda_tr(&bits, &self.measure_tr(&r));
        (0.5 * norm2f(&r), v, bits, pre)
    }

    /// `g_P(x)`.
    fn pattern_gradient(&self, bits: &Bits, x: &[f64]) -> Vec<f64> {
        let g = self.forward(x, Some(bits)).1;
        let r = self.residual(&g);
        self.lambda_tr(bits, &self.measure_tr(&r))
    }

    /// The strict pattern of `x` in binary64 (a proposal only).
    pub(crate) fn strict_bits(&self, x: &[f64]) -> Vec<Vec<bool>> {
        Self::strict(&self.forward(x, None).0)
    }

    /// Binary64 screen of a point `x` on the zero set of neuron `index` of
    /// layer `layer` (1-based), whose row is `c`: whether `-vbar_x` (with
    /// the neuron off, as in the strict pattern) enters its positive side
    /// and the gradients of the two sides disagree there, so that
    /// `D_{-vbar_x} f(x) >= 0` is likely (F3). A proposal only.
    pub(crate) fn crease_valley(&self, x: &[f64], layer: usize, index: usize, c: &[f64]) -> bool {
        let (pre, g) = self.forward(x, None);
        let mut p0 = Self::strict(&pre);
        if layer == 0 || layer > p0.len() || index >= p0[layer - 1].len() {
            return false;
        }
        p0[layer - 1][index] = false;
        let mut p1 = p0.clone();
        p1[layer - 1][index] = true;
        let r = self.residual(&g);
        let atr = self.measure_tr(&r);
        let g0 = self.lambda_tr(&p0, &atr);
        let g1 = self.lambda_tr(&p1, &atr);
        let enters = dotf(c, &g0) <= 0.0;
        let agree = dotf(&g0, &g1);
        let norms = (norm2f(&g0) * norm2f(&g1)).sqrt();
        enters && agree <= 1e-6 * norms
    }

    /// `b_P = Lambda_P^T A^T y`.
    fn b(&self, bits: &Bits) -> Vec<f64> {
        self.lambda_tr(bits, &self.measure_tr(&self.y))
    }

    /// `(Q_P, b_P)` in binary64.
    fn quadratic(&self, bits: &Bits) -> Option<Quad> {
        let k = self.k;
        // Columns of M = A Lambda_P.
        let cols: Vec<Vec<f64>> = (0..k)
            .map(|j| {
                let mut e = vec![0.0; k];
                e[j] = 1.0;
                self.measure(&self.forward(&e, Some(bits)).1)
            })
            .collect();
        let q: Vec<Vec<f64>> = (0..k)
            .map(|i| (0..k).map(|j| dotf(&cols[i], &cols[j])).collect())
            .collect();
        let b: Vec<f64> = (0..k).map(|i| dotf(&cols[i], &self.y)).collect();
        Some((q, b))
    }

    /// `x_c = Q_P^{-1} b_P` in binary64 (`None` when numerically singular).
    fn region_point(&self, bits: &Bits) -> Option<Vec<f64>> {
        let k = self.k;
        let (q, b) = self.quadratic(bits)?;
        let m = q
            .into_iter()
            .zip(b)
            .map(|(mut row, bi)| {
                row.push(bi);
                row
            })
            .collect();
        solve(m, k)
    }

    /// `c_v`: the row with `z_v(x) = <c_v, x>` under the earlier layers'
    /// bits of `bits`, for every neuron (layer by layer).
    fn rows(&self, bits: &Bits) -> Vec<Vec<Vec<f64>>> {
        let k = self.k;
        // prefix[j] = D_{l-1} W_{l-1} ... e_j for the current layer.
        let mut prefix: Vec<Vec<f64>> = (0..k)
            .map(|j| {
                let mut e = vec![0.0; k];
                e[j] = 1.0;
                e
            })
            .collect();
        let mut out = Vec::new();
        for (l, w) in self.layers.iter().enumerate() {
            let z: Vec<Vec<f64>> = prefix.iter().map(|p| mat_vec(w, p)).collect();
            let n = w.0;
            out.push((0..n).map(|v| (0..k).map(|j| z[j][v]).collect()).collect());
            prefix = z
                .into_iter()
                .map(|zj| {
                    zj.iter()
                        .zip(&bits[l])
                        .map(|(&v, &on)| if on { v } else { 0.0 })
                        .collect()
                })
                .collect();
        }
        out
    }
}

/// The `t > 0` minimising `<g_P0(t p), g_P1(t p)>`, from `(Q, b)` of both
/// patterns (F7), in binary64.
type Quad = (Vec<Vec<f64>>, Vec<f64>);

fn ray_minimiser(q0: &Quad, q1: &Quad, p: &[f64]) -> Option<f64> {
    let a0: Vec<f64> = q0.0.iter().map(|r| dotf(r, p)).collect();
    let a1: Vec<f64> = q1.0.iter().map(|r| dotf(r, p)).collect();
    let alpha = dotf(&a0, &a1);
    let beta = dotf(&a0, &q1.1) + dotf(&q0.1, &a1);
    let t = beta / (2.0 * alpha);
    (alpha > 0.0 && t > 0.0 && t.is_finite()).then_some(t)
}

/// Gaussian elimination with partial pivoting on an augmented `k x (k+1)`.
fn solve(mut a: Vec<Vec<f64>>, k: usize) -> Option<Vec<f64>> {
    let scale = a
        .iter()
        .flat_map(|r| r[..k].iter())
        .fold(0.0f64, |m, v| m.max(v.abs()));
    if scale == 0.0 || !scale.is_finite() {
        return None;
    }
    for c in 0..k {
        let p = (c..k).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() <= scale * 1e-13 {
            return None;
        }
        a.swap(c, p);
        let pivot = a[c].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot[c];
                if f != 0.0 {
                    for (x, p) in row.iter_mut().zip(&pivot).skip(c) {
                        *x -= f * p;
                    }
                }
            }
        }
    }
    let x: Vec<f64> = (0..k).map(|i| a[i][k] / a[i][i]).collect();
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Exact Gauss-Jordan elimination on an augmented `n x (n+1)` rational
/// system (`None` when singular).
fn solve_exact(mut a: Vec<Vec<BigRational>>, n: usize) -> Option<Vec<BigRational>> {
    for c in 0..n {
        let p = (c..n).find(|&i| !a[i][c].is_zero())?;
        a.swap(c, p);
        let pivot = a[c][c].clone();
        for v in a[c].iter_mut() {
            *v /= &pivot;
        }
        let row = a[c].clone();
        for (r, other) in a.iter_mut().enumerate() {
            if r != c && !other[c].is_zero() {
                let f = other[c].clone();
                for (o, x) in other.iter_mut().zip(&row) {
                    *o -= &f * x;
                }
            }
        }
    }
    Some(a.into_iter().map(|r| r[n].clone()).collect())
}

// ---------------------------------------------------------------------------
// Exact confirmation.

/// Decides a candidate exactly, with the checker's conditions (SPEC §6,
/// `docs/certificate-format.md`, `counterexample`): `Ok` with a one-line
/// reason when `point` is a counterexample of `kind` for the claim
/// (`excluded`, and `listed` stationary points, which are not
/// counterexamples), `Err` with why not.
pub fn confirm(
    exact: &ExactNet,
    excluded: &Excluded,
    listed: &[Vec<BigRational>],
    kind: CounterexampleKind,
    point: &[BigRational],
) -> Result<String, String> {
    let err = |e: crate::exact::eval::EvalError| e.to_string();
    if point.len() != exact.k {
        return Err(format!("expected {} coordinates", exact.k));
    }
    if point.iter().all(|v| v.is_zero()) {
        return Err("the point is zero".into());
    }
    match kind {
        CounterexampleKind::ZeroDirection => {
            let zero = vec![BigRational::zero(); point.len()];
            let d = exact.directional_derivative(&zero, point).map_err(err)?;
            if d.is_negative() {
                return Err(format!("D_w f(0) = {d} < 0"));
            }
            Ok(format!("D_w f(0) = {} >= 0", short(&d)))
        }
        CounterexampleKind::Stationary | CounterexampleKind::Point => {
            if !excluded.surely_outside(point) {
                return Err("not outside E".into());
            }
            if listed.iter().any(|s| s.as_slice() == point) {
                return Err("a listed stationary point".into());
            }
            if kind == CounterexampleKind::Stationary {
                if exact.vbar(point).map_err(err)?.iter().any(|v| !v.is_zero()) {
                    return Err("vbar != 0".into());
                }
                if !exact.zero_neurons(point).map_err(err)?.is_empty() {
                    return Err("on a region boundary (a neuron is exactly zero)".into());
                }
                return Ok("vbar = 0 exactly, strictly inside its region".into());
            }
            let (d, _) = exact.descent_derivative(point).map_err(err)?;
            if d.is_negative() {
                return Err(format!("D_-vbar f = {} < 0", short(&d)));
            }
            Ok(format!("D_-vbar f(x) = {} >= 0", short(&d)))
        }
    }
}

fn short(v: &BigRational) -> String {
    if v.is_zero() {
        "0".into()
    } else {
        rational_to_decimal(v, 6)
    }
}

fn to_exact(x: &[f64]) -> Option<Vec<BigRational>> {
    x.iter().map(|&v| f64_to_rational(v)).collect()
}

/// `(||x - x*||, min_rho ||x + rho x*||)` relative to `|x*|` (display only).
fn distances(excluded: &Excluded, x: &[BigRational]) -> (f64, f64) {
    let n2 = approx(&excluded.target_norm2);
    (
        (approx(&excluded.dist1_sq(x)) / n2).sqrt(),
        (approx(&excluded.min_dist2_sq(x)) / n2).sqrt(),
    )
}

// ---------------------------------------------------------------------------
// The hunt.

struct Hunt<'a> {
    f: F64Net,
    exact: &'a ExactNet,
    excluded: Excluded,
    listed: Vec<Vec<BigRational>>,
    target: Vec<f64>,
    target_norm: f64,
    /// Patterns whose region point was tried (stationary), crease keys tried.
    seen_patterns: Mutex<HashSet<Bits>>,
    seen_creases: Mutex<HashSet<(Bits, usize, usize)>>,
    seen_points: Mutex<HashSet<Vec<BigRational>>>,
    counts: Mutex<[KindCount; 3]>,
    found: Mutex<Vec<Found>>,
    progress: &'a HuntProgress,
}

fn kind_index(kind: CounterexampleKind) -> usize {
    match kind {
        CounterexampleKind::Stationary => 0,
        CounterexampleKind::Point => 1,
        CounterexampleKind::ZeroDirection => 2,
    }
}

impl Hunt<'_> {
    /// Counts a binary64 candidate and confirms it exactly.
    fn offer(&self, kind: CounterexampleKind, point: Vec<BigRational>) {
        if self.counts.lock().expect("lock")[kind_index(kind)].confirmed >= MAX_PER_KIND {
            return;
        }
        if !self.seen_points.lock().expect("lock").insert(point.clone()) {
            return;
        }
        self.counts.lock().expect("lock")[kind_index(kind)].candidates += 1;
        self.progress.candidates.fetch_add(1, Ordering::Relaxed);
        if let Ok(why) = confirm(self.exact, &self.excluded, &self.listed, kind, &point) {
            self.counts.lock().expect("lock")[kind_index(kind)].confirmed += 1;
            self.progress.confirmed.fetch_add(1, Ordering::Relaxed);
            let (d1, d2) = match kind {
                CounterexampleKind::ZeroDirection => (f64::NAN, f64::NAN),
                _ => distances(&self.excluded, &point),
            };
            self.found.lock().expect("lock").push(Found {
                kind,
                point,
                dist_x_star: d1,
                dist_rho: d2,
                why,
            });
        }
    }

    fn near_target(&self, x: &[f64]) -> bool {
        let d: f64 = x
            .iter()
            .zip(&self.target)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        d.sqrt() <= 1e-9 * self.target_norm
    }

    /// A pattern met by a descent: its region point, if it lies in its own
    /// region in binary64, is a stationary candidate.
    fn try_pattern(&self, bits: &Bits) {
        if !self
            .seen_patterns
            .lock()
            .expect("lock")
            .insert(bits.clone())
        {
            return;
        }
        let Some(xc) = self.f.region_point(bits) else {
            return;
        };
        if self.near_target(&xc) || xc.iter().all(|&v| v == 0.0) {
            return;
        }
        let (pre, _) = self.f.forward(&xc, None);
        if &F64Net::strict(&pre) != bits {
            return;
        }
        let pattern = Pattern { bits: bits.clone() };
        if let Ok(Some(x)) = self.exact.region_point(&pattern) {
            self.offer(CounterexampleKind::Stationary, x);
        }
    }

    /// Where a descent stalled: the creases of the neurons nearest to zero.
    fn try_stall(&self, x: &[f64], bits: &Bits, pre: &[Vec<f64>]) {
        let rows = self.f.rows(bits);
        let xn = norm2f(x).sqrt();
        let mut near: Vec<(f64, usize, usize)> = Vec::new();
        for (l, layer) in rows.iter().enumerate() {
            for (v, c) in layer.iter().enumerate() {
                let cn = norm2f(c).sqrt();
                if cn > 0.0 {
                    near.push((pre[l][v].abs() / cn, l, v));
                }
            }
        }
        near.sort_by(|a, b| a.0.total_cmp(&b.0));
        for &(dist, l, v) in near.iter().take(3) {
            if dist.is_nan() || dist > 1e-3 * xn {
                break;
            }
            self.try_crease(bits, l, v, Some(x));
        }
    }

    /// The crease of neuron `(l, v)` between the patterns `bits` with `v`
    /// off (`P0`) and on (`P1`): the minimiser of `f` on the zero set
    /// `<c_v, x> = 0` (a KKT system, where `g_P0` is parallel to `c_v`), and
    /// the projection of `hint` onto it, screened in binary64 for a valley
    /// (`-g_P0` enters the `P1` side and the two gradients disagree), then
    /// built exactly and offered as a `point` candidate.
    fn try_crease(&self, bits: &Bits, l: usize, v: usize, hint: Option<&[f64]>) {
        let (mut p0, mut p1) = (bits.clone(), bits.clone());
        p0[l][v] = false;
        p1[l][v] = true;
        if !self
            .seen_creases
            .lock()
            .expect("lock")
            .insert((p0.clone(), l, v))
        {
            return;
        }
        let k = self.f.k;
        let c = self.f.rows(&p0)[l][v].clone();
        let cc = norm2f(&c);
        if cc.is_nan() || cc <= 0.0 {
            return;
        }
        // (KKT point?, point)
        let mut points: Vec<(bool, Vec<f64>)> = Vec::new();
        if let Some((q, b)) = self.f.quadratic(&p0) {
            let mut m = vec![vec![0.0; k + 2]; k + 1];
            for i in 0..k {
                m[i][..k].copy_from_slice(&q[i]);
                m[i][k] = c[i];
                m[i][k + 1] = b[i];
                m[k][i] = c[i];
            }
            if let Some(sol) = solve(m, k + 1) {
                points.push((true, sol[..k].to_vec()));
            }
        }
        if let Some(x) = hint {
            let t = dotf(&c, x) / cc;
            points.push((false, x.iter().zip(&c).map(|(a, b)| a - t * b).collect()));
        }
        let quads = (self.f.quadratic(&p0), self.f.quadratic(&p1));
        let (Some(q0), Some(q1)) = quads else {
            return;
        };
        for (kkt, xp) in &points {
            let kkt = *kkt;
            if xp.iter().all(|&a| a == 0.0) || !xp.iter().all(|a| a.is_finite()) {
                continue;
            }
            // Every other neuron as in P0 (the crease segment, not its line).
            let (pre, _) = self.f.forward(xp, None);
            let mut strict = F64Net::strict(&pre);
            strict[l][v] = false;
            if strict != p0 {
                continue;
            }
            // The point itself, and the minimiser along its ray of
            // <g_P0, g_P1> = alpha t^2 - beta t + gamma (F7; the ray stays
            // on the crease, by F1).
            let mut scales = vec![None];
            if let Some(t) = ray_minimiser(&q0, &q1, xp) {
                scales.push(Some(t));
            }
            for scale in scales {
                let x: Vec<f64> = xp.iter().map(|a| a * scale.unwrap_or(1.0)).collect();
                let g0 = self.f.pattern_gradient(&p0, &x);
                let g1 = self.f.pattern_gradient(&p1, &x);
                let enters = dotf(&c, &g0) <= 0.0;
                let agree = dotf(&g0, &g1);
                let norms = (norm2f(&g0) * norm2f(&g1)).sqrt();
                if !(enters && agree <= 1e-6 * norms) {
                    continue;
                }
                let proj = (!kkt).then_some(xp.as_slice());
                let Some(base) = self.exact_crease_point(&p0, l, v, proj) else {
                    continue;
                };
                let point = match scale {
                    None => Some(base),
                    Some(_) => self.exact_ray_minimiser(&p0, &p1, base),
                };
                if let Some(point) = point {
                    self.offer(CounterexampleKind::Point, point);
                }
            }
        }
    }

    /// `t p` with `t` the exact minimiser of `<g_P0(t p), g_P1(t p)>` over
    /// `t > 0` (when `alpha > 0`).
    fn exact_ray_minimiser(
        &self,
        p0: &Bits,
        p1: &Bits,
        p: Vec<BigRational>,
    ) -> Option<Vec<BigRational>> {
        let quad = |bits: &Bits| -> Option<(Vec<BigRational>, Vec<BigRational>)> {
            let (q, b) = self.exact.quadratic(&Pattern { bits: bits.clone() }).ok()?;
            let k = self.exact.k;
            let a = (0..k)
                .map(|i| (0..k).map(|j| q.entry(i, j).to_rational() * &p[j]).sum())
                .collect();
            Some((a, b.to_rationals()))
        };
        let (a0, b0) = quad(p0)?;
        let (a1, b1) = quad(p1)?;
        let dot = |u: &[BigRational], w: &[BigRational]| -> BigRational {
            u.iter().zip(w).map(|(a, b)| a * b).sum()
        };
        let alpha = dot(&a0, &a1);
        let beta = dot(&a0, &b1) + dot(&b0, &a1);
        if !alpha.is_positive() || !beta.is_positive() {
            return None;
        }
        let t = beta / (alpha * BigRational::from_integer(2.into()));
        Some(p.iter().map(|v| v * &t).collect())
    }

    /// An exact point on the zero set of neuron `(l, v)` under `p0`'s
    /// earlier layers: the exact KKT point (`proj = None`) or the exact
    /// projection of `proj` (rounded to its binary64 value).
    fn exact_crease_point(
        &self,
        p0: &Bits,
        l: usize,
        v: usize,
        proj: Option<&[f64]>,
    ) -> Option<Vec<BigRational>> {
        let k = self.exact.k;
        let mut prefix = DMat::identity(k);
        for (w, b) in self.exact.layers.iter().zip(p0).take(l) {
            prefix = w.mul_masked(&prefix, Some(b));
        }
        let rows = self.exact.layers[l].mul_masked(&prefix, None);
        let c: Vec<BigRational> = (0..k).map(|j| rows.entry(v, j).to_rational()).collect();
        let cc: BigRational = c.iter().map(|a| a * a).sum();
        if cc.is_zero() {
            return None;
        }
        if let Some(x) = proj {
            let x0 = to_exact(x)?;
            let cx: BigRational = c.iter().zip(&x0).map(|(a, b)| a * b).sum();
            let t = cx / cc;
            return Some(x0.iter().zip(&c).map(|(a, b)| a - &t * b).collect());
        }
        let (q, b) = self.exact.quadratic(&Pattern { bits: p0.clone() }).ok()?;
        let b = b.to_rationals();
        let mut m = vec![vec![BigRational::zero(); k + 2]; k + 1];
        for i in 0..k {
            for (j, mij) in m[i].iter_mut().take(k).enumerate() {
                *mij = q.entry(i, j).to_rational();
            }
            m[i][k] = c[i].clone();
            m[i][k + 1] = b[i].clone();
            m[k][i] = c[i].clone();
        }
        let sol = solve_exact(m, k + 1)?;
        Some(sol[..k].to_vec())
    }

    /// One descent from `x`.
    fn descend(&self, mut x: Vec<f64>, max_steps: usize) {
        let mut step = 1.0f64;
        let mut last = None;
        let mut prev_bits: Option<Bits> = None;
        for _ in 0..max_steps {
            let (fx, g, bits, pre) = self.f.eval(&x);
            if !fx.is_finite() {
                return;
            }
            self.try_pattern(&bits);
            // Crossing one crease: its valley point, if it has one.
            if let Some(prev) = &prev_bits {
                let mut diff = (0..bits.len()).flat_map(|l| {
                    let (a, b): (&Vec<bool>, &Vec<bool>) = (&bits[l], &prev[l]);
                    (0..a.len())
                        .filter(move |&v| a[v] != b[v])
                        .map(move |v| (l, v))
                });
                if let (Some((l, v)), None) = (diff.next(), diff.next()) {
                    self.try_crease(&bits, l, v, Some(&x));
                }
            }
            prev_bits = Some(bits.clone());
            let gn2 = norm2f(&g);
            last = Some((x.clone(), bits.clone(), pre));
            if gn2 == 0.0 || !gn2.is_finite() {
                break;
            }
            // Jump to the region point when it lies in this region (a local
            // minimum of f there); jumping anywhere else would skip basins.
            if let Some(xc) = self.f.region_point(&bits) {
                let same = F64Net::strict(&self.f.forward(&xc, None).0) == bits;
                if same && xc != x && self.f.objective(&xc) <= fx {
                    x = xc;
                    continue;
                }
            }
            let mut moved = false;
            while step > 1e-30 {
                let xn: Vec<f64> = x.iter().zip(&g).map(|(a, b)| a - step * b).collect();
                if self.f.objective(&xn) <= fx - 1e-4 * step * gn2 {
                    x = xn;
                    step *= 2.0;
                    moved = true;
                    break;
                }
                step *= 0.5;
            }
            if !moved {
                break;
            }
        }
        if let Some((x, bits, pre)) = last {
            self.try_stall(&x, &bits, &pre);
        }
    }

    /// Directions for (P2): `w` itself when `<A G(w), y> <= 0` in binary64
    /// (up to rounding), and `-b_P` for its pattern.
    fn try_direction(&self, w: &[f64]) {
        let (pre, g) = self.f.forward(w, None);
        let ag = self.f.measure(&g);
        let s = dotf(&ag, &self.f.y);
        let scale = norm2f(&ag).sqrt() * norm2f(&self.f.y).sqrt();
        if s <= 1e-9 * scale {
            if let Some(e) = to_exact(w) {
                self.offer(CounterexampleKind::ZeroDirection, e);
            }
        }
        let bits = F64Net::strict(&pre);
        let b: Vec<f64> = self.f.b(&bits).iter().map(|v| -v).collect();
        if b.iter().any(|&v| v != 0.0) {
            let (pre2, g2) = self.f.forward(&b, None);
            let s2 = dotf(&self.f.measure(&g2), &self.f.y);
            if F64Net::strict(&pre2) == bits && s2 <= 0.0 {
                if let Some(e) = to_exact(&b) {
                    self.offer(CounterexampleKind::ZeroDirection, e);
                }
            }
        }
    }
}

impl Hunt<'_> {
    /// A scan of the great circle through `u` and `w` (orthonormal): every
    /// pattern met is tried for a stationary point, every boundary between
    /// two patterns that differ in one neuron for a valley (bisecting where
    /// several neurons flip between samples). For `k = 2` one circle meets
    /// every linear region (cones, by F1) wider than the sampling step.
    fn scan_circle(&self, u: &[f64], w: &[f64], samples: usize) {
        let at = |th: f64| -> Vec<f64> {
            let (s, c) = th.sin_cos();
            u.iter().zip(w).map(|(a, b)| c * a + s * b).collect()
        };
        let bits_at = |th: f64| F64Net::strict(&self.f.forward(&at(th), None).0);
        let step = std::f64::consts::TAU / samples as f64;
        let mut prev = bits_at(0.0);
        self.try_pattern(&prev);
        for i in 1..=samples {
            let th = i as f64 * step;
            let bits = bits_at(th);
            if bits != prev {
                self.try_pattern(&bits);
                self.boundary(&at, &bits_at, (th - step, &prev), (th, &bits), 0);
            }
            prev = bits;
        }
    }

    fn boundary(
        &self,
        at: &dyn Fn(f64) -> Vec<f64>,
        bits_at: &dyn Fn(f64) -> Bits,
        (ta, a): (f64, &Bits),
        (tb, b): (f64, &Bits),
        depth: u32,
    ) {
        let diff: Vec<(usize, usize)> = (0..a.len())
            .flat_map(|l| {
                (0..a[l].len())
                    .filter(move |&v| a[l][v] != b[l][v])
                    .map(move |v| (l, v))
            })
            .collect();
        match diff.as_slice() {
            [] => {}
            [(l, v)] => {
                self.try_crease(a, *l, *v, Some(&at(0.5 * (ta + tb))));
            }
            _ if depth < 40 => {
                let tm = 0.5 * (ta + tb);
                let m = bits_at(tm);
                self.try_pattern(&m);
                self.boundary(at, bits_at, (ta, a), (tm, &m), depth + 1);
                self.boundary(at, bits_at, (tm, &m), (tb, b), depth + 1);
            }
            _ => {}
        }
    }
}

/// A standard normal from the stream (Box-Muller; proposals only).
fn normal(rng: &mut ChaCha20Rng) -> f64 {
    let u = |r: &mut ChaCha20Rng| ((r.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let (u1, u2) = (u(rng), u(rng));
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn random_direction(rng: &mut ChaCha20Rng, k: usize) -> Vec<f64> {
    loop {
        let v: Vec<f64> = (0..k).map(|_| normal(rng)).collect();
        let n = norm2f(&v).sqrt();
        if n > 1e-6 {
            return v.into_iter().map(|x| x / n).collect();
        }
    }
}

/// Runs the hunt on a validated network.
pub fn hunt(net: &Network, opts: &HuntOptions, progress: &HuntProgress) -> HuntResult {
    let start = Instant::now();
    let exact = ExactNet::new(net).expect("a validated network");
    let target_exact: Vec<BigRational> = net
        .target
        .iter()
        .map(|&v| f64_to_rational(v).expect("finite"))
        .collect();
    let excluded = Excluded::new(
        target_exact.clone(),
        &opts.eps.0,
        &opts.eps.1,
        opts.rho.0.clone(),
        opts.rho.1.clone(),
    );
    let listed = listed_points(&opts.eps.0, &target_exact);
    let target_norm = norm2f(&net.target).sqrt();
    let h = Hunt {
        f: F64Net::new(net),
        exact: &exact,
        excluded,
        listed,
        target: net.target.clone(),
        target_norm,
        seen_patterns: Mutex::new(HashSet::new()),
        seen_creases: Mutex::new(HashSet::new()),
        seen_points: Mutex::new(HashSet::new()),
        counts: Mutex::new([KindCount::default(); 3]),
        found: Mutex::new(Vec::new()),
        progress,
    };
    let k = net.latent;
    let mut rng = ChaCha20Rng::seed_from_u64(opts.seed);
    // Starts: every other one near -rho_d x* (where the paper predicts a
    // second stationary point, and where (P1) fails on small networks),
    // Gaussian with deviation 0.3 |x*|; the others anywhere, random
    // directions with radii spread over (0.05, 2.5) |x*|.
    let rho = approx(&opts.rho.0);
    let starts: Vec<Vec<f64>> = (0..opts.starts)
        .map(|i| {
            if i % 2 == 1 {
                let sd = 0.3 * target_norm;
                net.target
                    .iter()
                    .map(|&t| -rho * t + sd * normal(&mut rng))
                    .collect()
            } else {
                let d = random_direction(&mut rng, k);
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                let r = target_norm * (0.05 + 2.45 * u);
                d.into_iter().map(|v| v * r).collect()
            }
        })
        .collect();
    let directions: Vec<Vec<f64>> = (0..(16 * opts.starts).max(256))
        .map(|_| random_direction(&mut rng, k))
        .collect();
    // Great circles: for k = 2 the one circle, finely; else random ones.
    let circles: Vec<(Vec<f64>, Vec<f64>)> = if k == 2 {
        vec![(vec![1.0, 0.0], vec![0.0, 1.0])]
    } else if k == 1 {
        Vec::new()
    } else {
        (0..(opts.starts / 4).max(1))
            .map(|_| {
                let u = random_direction(&mut rng, k);
                let r = random_direction(&mut rng, k);
                let ur = dotf(&u, &r);
                let w: Vec<f64> = r.iter().zip(&u).map(|(a, b)| a - ur * b).collect();
                let n = norm2f(&w).sqrt().max(1e-300);
                (u, w.into_iter().map(|v| v / n).collect())
            })
            .collect()
    };
    let samples = if k == 2 { 1 << 14 } else { 1 << 12 };
    let out_of_time = || opts.time_limit.is_some_and(|t| start.elapsed() >= t);
    use rayon::prelude::*;
    circles.par_iter().for_each(|(u, w)| {
        if !out_of_time() {
            h.scan_circle(u, w, samples);
        }
    });
    directions.par_iter().for_each(|w| {
        if !out_of_time() {
            h.try_direction(w);
        }
    });
    starts.par_iter().for_each(|x| {
        if !out_of_time() {
            h.descend(x.clone(), opts.max_steps);
        }
        progress.starts_done.fetch_add(1, Ordering::Relaxed);
    });
    progress.done.store(true, Ordering::Relaxed);
    let counts = *h.counts.lock().expect("lock");
    let mut found = h.found.into_inner().expect("lock");
    // Deterministic order whatever the threads did.
    found.sort_by(|a, b| {
        (kind_index(a.kind), a.point.clone()).cmp(&(kind_index(b.kind), b.point.clone()))
    });
    HuntResult {
        stationary: counts[0],
        point: counts[1],
        zero_direction: counts[2],
        found,
        starts: opts.starts,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// `x*` is listed as an excluded stationary point when its ball is empty
/// (as the main search does).
fn listed_points(eps1: &BigRational, target: &[BigRational]) -> Vec<Vec<BigRational>> {
    if eps1.is_zero() {
        vec![target.to_vec()]
    } else {
        Vec::new()
    }
}

/// A `violated` certificate for `found`, with the trivial cover (every tree
/// one undecided leaf), mode `given`. Not yet checked.
pub fn certificate(
    net: &Network,
    sha256: &str,
    path_hint: Option<String>,
    opts: &HuntOptions,
    found: &Found,
    result: &HuntResult,
) -> Certificate {
    let k = net.latent;
    let target: Vec<BigRational> = net
        .target
        .iter()
        .map(|&v| f64_to_rational(v).expect("finite"))
        .collect();
    let faces = (0..k)
        .flat_map(|axis| [true, false].map(|positive| Face { axis, positive }))
        .map(|face| FaceCover {
            path: String::new(),
            face,
            tree: Node::Leaf(Rule::Undecided),
            zero_tree: Node::Leaf(Rule::Undecided),
        })
        .collect();
    let mut stats = serde_json::Map::new();
    stats.insert("tool".into(), "certify hunt".into());
    stats.insert("starts".into(), opts.starts.into());
    stats.insert("seed".into(), opts.seed.into());
    for (name, c) in [
        ("stationary", result.stationary),
        ("point", result.point),
        ("zero_direction", result.zero_direction),
    ] {
        stats.insert(
            format!("{name}_candidates"),
            serde_json::Value::from(c.candidates),
        );
        stats.insert(
            format!("{name}_confirmed"),
            serde_json::Value::from(c.confirmed),
        );
    }
    if !found.dist_x_star.is_nan() {
        stats.insert(
            "dist_x_star".into(),
            format!("{:.6}", found.dist_x_star).into(),
        );
        stats.insert("dist_rho".into(), format!("{:.6}", found.dist_rho).into());
    }
    stats.insert(
        "hunt_seconds".into(),
        format!("{:.3}", result.seconds).into(),
    );
    Certificate {
        network_sha256: sha256.to_string(),
        network_path: path_hint,
        latent: k,
        claim: Claim {
            mode: ClaimMode::Given,
            eps_x_star: opts.eps.0.clone(),
            eps_rho: opts.eps.1.clone(),
            rho_lo: opts.rho.0.clone(),
            rho_hi: opts.rho.1.clone(),
            stationary_points: listed_points(&opts.eps.0, &target),
        },
        verdict: Verdict::Violated,
        shard: None,
        cover: Some(Cover {
            max_depth: 0,
            faces,
        }),
        counterexample: Some(Counterexample {
            kind: found.kind,
            point: found.point.clone(),
        }),
        radius_witnesses: Vec::new(),
        stats,
    }
}
