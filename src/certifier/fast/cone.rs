//! The Cone rule's bound arithmetic in a fast tier: the same proof as the
//! checker's `rules::Context::cone` (read its comment for the mathematics),
//! with the cell's data (`Q_b`, `b_b`, neuron rows, `A^T y`, columns of
//! `A^T A`) enclosed in intervals of a [`Real`] type and every bound rounded
//! outward. [`Data`] says where `Q_b`, `b_b` come from: binary64 computes
//! them from the exact neuron rows with an a priori error bound, MPFR
//! converts the engine's exact ones. [`screen`] applies the same kernel to
//! the Crease rule (`Context::crease`) and to the question which region
//! points may lie in a cell.
//!
//! The answer is three-valued. `Proved` is rigorous and robust: the final
//! quadratic stays positive with its margin lowered by `2^-ROBUST_BITS` of
//! its magnitude, so the checker's exact recomputation (96-bit directed
//! rounding) agrees. `Failed` means the rule fails even with the margin
//! raised by `2^-UNSURE_BITS`: the exact rule is then expected to fail too
//! (not guaranteed: the slack does not cover every interval width, and a
//! cell widened to representable coordinates is a little larger; a wrong
//! `Failed` costs a split, never soundness, and `tests/fast_tiers.rs`
//! finds none on the shipped covers). Anything in between, a NaN, or a sign
//! that intervals cannot settle (a ridge test at an exact zero) is `Unsure`
//! and goes to the next tier.

// foldhash: the keys are long bit vectors, hashed a bit at a time; SipHash
// was 1.7% of `verify`.
use foldhash::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::real::{
    approx_f64, approx_f64_fx, dot, dot_exact, nonpos, rmax, rmin, sum, Iv, Mp, Real,
};
use crate::checker::geometry::Cell;
use crate::checker::patterns::{Branch, CellPatterns, Engine, Quadratic};
use crate::checker::rules::{independent_with, pair_nu_zero, PAIR_BITS};
use crate::exact::dyadic::{determinant_nonzero, DMat, Dyadic};
use crate::exact::eval::Pattern;
use crate::exact::fxmat::FxMat;
use num_bigint::BigInt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Proved,
    Unsure,
    Failed,
}

use Decision::{Failed, Proved, Unsure};

impl Decision {
    /// Either proof suffices; `f` runs only if `self` is not a proof.
    fn or(self, f: impl FnOnce() -> Decision) -> Decision {
        if self == Proved {
            return Proved;
        }
        match (self, f()) {
            (_, Proved) => Proved,
            (Unsure, _) | (_, Unsure) => Unsure,
            _ => Failed,
        }
    }
    /// A test that failed after a choice made conservatively on an unsure
    /// sign (e.g. a ridge not proved) is unsure itself.
    fn unless_unsure(self, unsure: bool) -> Decision {
        if self == Failed && unsure {
            Unsure
        } else {
            self
        }
    }
}

/// Per network and number type: `A^T y` and, for `A != I`, the columns of
/// `A^T A` (converted when first needed).
pub struct Tables<R> {
    aty: Vec<Iv<R>>,
    gram: Vec<OnceLock<Vec<Iv<R>>>>,
    gram_exp: i64,
    /// `A` (row-major), when every entry is exact in `R`.
    a: Option<Vec<R>>,
    a_cols: usize,
    /// The measurements `y` (`m` of them; `n_d` for `A = I`).
    y: Vec<Iv<R>>,
    /// binary64 `M_b` per prefix (the base computed last), for updates.
    bases: Mutex<HashMap<Vec<Vec<bool>>, Arc<PointBase>>>,
}

/// `M = A D R` in binary64 for last-layer bits `last` under one prefix: per
/// entry the computed sum `s` of the rounded products, the computed sum `t`
/// of their magnitudes, both over the same `ops` terms (a flipped bit adds
/// or subtracts the same rounded product, so the removed terms cancel
/// exactly and only widen the bound).
#[derive(Clone)]
struct PointBase {
    last: Vec<bool>,
    s: Vec<f64>,
    t: Vec<f64>,
    ops: usize,
}

impl<R: Real> Tables<R> {
    pub fn new(engine: &Engine) -> Self {
        let aty = &engine.aty;
        let a = engine.net.a.as_ref();
        Tables {
            aty: aty.num.iter().map(|n| Iv::of_parts(n, aty.exp)).collect(),
            gram: (0..a.map_or(0, |a| a.cols))
                .map(|_| OnceLock::new())
                .collect(),
            gram_exp: a.map_or(0, |a| 2 * a.exp),
            a: a.and_then(|a| {
                a.num
                    .iter()
                    .map(|n| {
                        R::exact(&Dyadic {
                            num: n.clone(),
                            exp: a.exp,
                        })
                    })
                    .collect()
            }),
            a_cols: a.map_or(0, |a| a.cols),
            bases: Mutex::new(HashMap::default()),
            y: engine
                .net
                .y
                .num
                .iter()
                .map(|n| Iv::of_parts(n, engine.net.y.exp))
                .collect(),
        }
    }
    /// `A^T y`, enclosed.
    pub fn aty(&self) -> &[Iv<R>] {
        &self.aty
    }
    fn gram(&self, engine: &Engine, u: usize) -> &[Iv<R>] {
        self.gram[u].get_or_init(|| {
            let col = engine.gram_column(u).expect("A != I");
            col.iter().map(|g| Iv::of_parts(g, self.gram_exp)).collect()
        })
    }
}

/// The cell with exact coordinates.
struct FCell<R> {
    lo: Vec<R>,
    hi: Vec<R>,
    /// A point of the box (about its centre) and, per coordinate, the
    /// largest distance of the box from it (rounded up).
    mid: Vec<R>,
    half: Vec<R>,
    t_lo: R,
    t_hi: Option<R>,
    corners: Vec<Vec<R>>,
}

impl<R: Real> FCell<R> {
    /// The cell, widened outward to numbers of type `R` where its
    /// coordinates are not representable: every bound below holds on the
    /// wider cell, so on the cell itself (`t_lo >= 0` stays).
    fn new(cell: &Cell) -> Self {
        let lo: Vec<R> = cell.lo.iter().map(|v| R::dyadic(v, false)).collect();
        let hi: Vec<R> = cell.hi.iter().map(|v| R::dyadic(v, true)).collect();
        let mid: Vec<R> = lo
            .iter()
            .zip(&hi)
            .map(|(l, h)| l.add(h, false).pow2(-1, false))
            .collect();
        let half = mid
            .iter()
            .zip(lo.iter().zip(&hi))
            .map(|(m, (l, h))| rmax(h.sub(m, true), m.sub(l, true)))
            .collect();
        let k = lo.len();
        let axis = cell.face.axis;
        let free: Vec<usize> = (0..k).filter(|&j| j != axis).collect();
        let corners = (0..1usize << free.len())
            .map(|mask| {
                let mut p = lo.clone();
                for (b, &j) in free.iter().enumerate() {
                    if mask >> b & 1 == 1 {
                        p[j] = hi[j].clone();
                    }
                }
                p
            })
            .collect();
        FCell {
            corners,
            t_lo: rmax(R::dyadic(&cell.t_lo, false), R::zero()),
            t_hi: cell.t_hi.as_ref().map(|t| R::dyadic(t, true)),
            lo,
            hi,
            mid,
            half,
        }
    }
}

/// `Q_b`, `b_b` of a pattern, enclosed.
pub struct FQuad<R> {
    q: Vec<Vec<Iv<R>>>,
    b: Vec<Iv<R>>,
    /// `M_b = A Lambda_b` when computed here in binary64 (`A != I`).
    m: Option<MidRad>,
}

/// A binary64 matrix in midpoint-radius form: entry `(i, c)` lies within
/// `rad[i k + c]` of `mid[i k + c]` (exact binary64 numbers, row-major,
/// `k` columns).
pub struct MidRad {
    mid: Vec<f64>,
    rad: Vec<f64>,
    k: usize,
}

impl MidRad {
    fn rows(&self) -> usize {
        self.mid.len() / self.k
    }
    /// Column `c` as `(midpoint, radius)` pairs.
    fn column(&self, c: usize) -> impl Iterator<Item = (f64, f64)> + '_ {
        let k = self.k;
        (0..self.rows()).map(move |i| (self.mid[i * k + c], self.rad[i * k + c]))
    }
}

/// An enclosure of `sum_i x_i y_i` for `x_i` within `xr_i` of `xm_i` and
/// `y_i` within `yr_i` of `ym_i` (all binary64): `|x y - xm ym|` is at
/// most `|xm| yr + |ym| xr + xr yr`, so the sum lies within `E = sum_i
/// (|xm_i| yr_i + |ym_i| xr_i + xr_i yr_i)` of `sum_i xm_i ym_i`. Both sums are computed
/// in binary64 over rounded products of exact numbers, so each is within
/// [`sum_error`] of its computed value (the second's terms are
/// nonnegative: its computed sum is its computed magnitude). Non-finite
/// inputs give an infinite or NaN interval (undecided downstream).
fn mid_rad_dot(
    xs: impl Iterator<Item = (f64, f64)>,
    ys: impl Iterator<Item = (f64, f64)>,
) -> Iv<f64> {
    let (mut p, mut t, mut e, mut n) = (0.0f64, 0.0f64, 0.0f64, 0usize);
    for ((xm, xr), (ym, yr)) in xs.zip(ys) {
        let q = xm * ym;
        p += q;
        t += q.abs();
        e += xm.abs() * yr;
        e += ym.abs() * xr;
        e += xr * yr;
        n += 1;
    }
    let rad = sum_error(t, n).add(&e.add(&sum_error(e, 3 * n), true), true);
    Iv {
        lo: p.sub(&rad, false),
        hi: p.add(&rad, true),
    }
}

/// How a number type gets a branch's `Q_b`, `b_b`: MPFR converts the
/// engine's exact ones; binary64 computes them from the neuron rows.
pub trait Data: Real {
    /// `Q_P`, `b_P` of the pattern `prefix` + `last` (`rows`: the last
    /// layer's rows under `prefix`).
    fn pattern_quad(
        engine: &Engine,
        tables: &Tables<Self>,
        prefix: &[Vec<bool>],
        rows: &FxMat,
        last: &[bool],
    ) -> FQuad<Self>;

    /// Of a branch's base pattern (its free neurons off).
    fn branch_quad(engine: &Engine, tables: &Tables<Self>, br: &Branch) -> FQuad<Self> {
        let last: Vec<bool> = br.status.iter().map(|s| *s == Some(true)).collect();
        Self::pattern_quad(engine, tables, &br.prefix, &br.rows, &last)
    }

    /// `M_b^T a_u` (column `u` of `A`) from `quad`'s own `M_b`, where it
    /// has one (`None`: the caller uses the Gram matrix).
    fn column_times(
        _quad: &FQuad<Self>,
        _tables: &Tables<Self>,
        _u: usize,
    ) -> Option<Vec<Iv<Self>>> {
        None
    }

    /// `quad`'s own `M_b` as rows of intervals, where it has one.
    fn m_rows(_quad: &FQuad<Self>) -> Option<Vec<Vec<Iv<Self>>>> {
        None
    }
}

fn full_pattern(prefix: &[Vec<bool>], last: &[bool]) -> Pattern {
    let mut bits = prefix.to_vec();
    bits.push(last.to_vec());
    Pattern { bits }
}

impl<const P: u32> Data for Mp<P> {
    fn pattern_quad(
        engine: &Engine,
        _: &Tables<Self>,
        prefix: &[Vec<bool>],
        _: &FxMat,
        last: &[bool],
    ) -> FQuad<Self> {
        FQuad::new(&engine.quadratic(&full_pattern(prefix, last)))
    }
}

/// The error bound of [`bounded`]: `(t + n eta)(n + 6) 2^-52 + n eta`
/// rounded up (nondecreasing in `t`), with `n eta` replaced by the larger
/// normal number `2^-1000` (`n < 2^74`): arithmetic on subnormals is slow on
/// x86 and this runs for every entry of every binary64 `M_b`.
pub(super) fn sum_error(t: f64, n: usize) -> f64 {
    // 2^-1000: biased exponent 1023 - 1000, zero fraction.
    const TINY: f64 = f64::from_bits(23 << 52);
    if n >= 1 << 52 {
        return f64::INFINITY;
    }
    let nf = n as f64;
    // (n + 6) 2^-52: exact (an integer below 2^53 times a power of two).
    let factor = (nf + 6.0) * f64::EPSILON;
    t.add(&TINY, true).mul(&factor, true).add(&TINY, true)
}

/// `sum_j p_j` computed in binary64 as `s` with `t` the computed sum of
/// `|p_j|`, each `p_j` the rounded product of two numbers within a
/// relative `2^-52` of the exact factors (or one exact): the exact sum lies
/// within `(t + n eta)(n + 6) 2^-52 + n eta` of `s` (`eta` the least
/// subnormal; Higham's `gamma_n` bound with the factors' errors folded in).
pub(super) fn bounded(s: f64, t: f64, n: usize) -> Iv<f64> {
    let err = sum_error(t, n);
    Iv {
        lo: s.sub(&err, false),
        hi: s.add(&err, true),
    }
}

impl Data for f64 {
    fn column_times(quad: &FQuad<f64>, tables: &Tables<f64>, u: usize) -> Option<Vec<Iv<f64>>> {
        let (m, a) = (quad.m.as_ref()?, tables.a.as_ref()?);
        let cols = tables.a_cols;
        Some(
            (0..m.k)
                .map(|c| mid_rad_dot(m.column(c), (0..m.rows()).map(|i| (a[i * cols + u], 0.0))))
                .collect(),
        )
    }

    fn m_rows(quad: &FQuad<f64>) -> Option<Vec<Vec<Iv<f64>>>> {
        let m = quad.m.as_ref()?;
        Some(
            m.mid
                .chunks(m.k)
                .zip(m.rad.chunks(m.k))
                .map(|(mid, rad)| {
                    mid.iter()
                        .zip(rad)
                        .map(|(x, r)| Iv {
                            lo: x.sub(r, false),
                            hi: x.add(r, true),
                        })
                        .collect()
                })
                .collect(),
        )
    }

    fn pattern_quad(
        engine: &Engine,
        tables: &Tables<f64>,
        prefix: &[Vec<bool>],
        rows: &FxMat,
        last: &[bool],
    ) -> FQuad<f64> {
        let k = rows.cols;
        let on: Vec<usize> = (0..rows.rows).filter(|&j| last[j]).collect();
        let approx_row = |j: usize| -> Vec<f64> {
            match rows.fixed_row(j) {
                Some(r) => crate::with_fx_slice!(r, |r| r
                    .iter()
                    .map(|v| approx_f64_fx(v, rows.exp))
                    .collect()),
                None => rows
                    .row(j)
                    .iter()
                    .map(|v| approx_f64(v, rows.exp))
                    .collect(),
            }
        };
        let exact = || FQuad::new(&engine.quadratic(&full_pattern(prefix, last)));
        let n = on.len();
        let mut q = vec![vec![Iv::zero(); k]; k];
        let mut b = vec![Iv::zero(); k];
        match (&engine.net.a, &tables.a) {
            (None, _) => {
                // Q = sum_{j on} r_j r_j^T, b = sum_{j on} y_j r_j.
                let x: Vec<f64> = on.iter().flat_map(|&j| approx_row(j)).collect();
                if !x.iter().all(|v| v.is_finite()) {
                    return exact();
                }
                let y: Vec<f64> = on
                    .iter()
                    .map(|&j| approx_f64(&engine.net.y.num[j], engine.net.y.exp))
                    .collect();
                for c in 0..k {
                    for d in c..k {
                        let (mut s, mut t) = (0.0, 0.0);
                        for jj in 0..n {
                            let p = x[jj * k + c] * x[jj * k + d];
                            s += p;
                            t += p.abs();
                        }
                        q[c][d] = bounded(s, t, n);
                        q[d][c] = q[c][d].clone();
                    }
                    let (mut s, mut t) = (0.0, 0.0);
                    for (jj, yj) in y.iter().enumerate() {
                        let p = yj * x[jj * k + c];
                        s += p;
                        t += p.abs();
                    }
                    b[c] = bounded(s, t, n);
                }
                FQuad { q, b, m: None }
            }
            (Some(_), Some(a)) => {
                // M = A_on X (A exact), Q = M^T M, b = M^T y.
                let cols = tables.a_cols;
                let mrows = a.len() / cols;
                let last = last.to_vec();
                let base = tables.bases.lock().expect("lock").get(prefix).cloned();
                let flips =
                    |b: &PointBase| b.last.iter().zip(&last).filter(|(x, y)| x != y).count();
                let pb = match base {
                    Some(b) if flips(&b) <= 32 && b.ops + flips(&b) <= 2 * rows.rows => {
                        // One signed column-times-row per differing bit.
                        let mut pb = (*b).clone();
                        for (j, (&was, &now)) in b.last.iter().zip(&last).enumerate() {
                            if was == now {
                                continue;
                            }
                            let xj = approx_row(j);
                            for i in 0..mrows {
                                let aij = a[i * cols + j];
                                for (c, xc) in xj.iter().enumerate() {
                                    let p = aij * xc;
                                    let e = i * k + c;
                                    pb.s[e] = if now { pb.s[e] + p } else { pb.s[e] - p };
                                    pb.t[e] += p.abs();
                                }
                            }
                            pb.ops += 1;
                        }
                        pb.last = last;
                        pb
                    }
                    _ => {
                        let (mut s, mut t) = (vec![0.0; mrows * k], vec![0.0; mrows * k]);
                        for &j in &on {
                            let xj = approx_row(j);
                            for i in 0..mrows {
                                let aij = a[i * cols + j];
                                for (c, xc) in xj.iter().enumerate() {
                                    let p = aij * xc;
                                    s[i * k + c] += p;
                                    t[i * k + c] += p.abs();
                                }
                            }
                        }
                        PointBase {
                            last,
                            s,
                            t,
                            ops: on.len(),
                        }
                    }
                };
                if !pb.s.iter().chain(&pb.t).all(|v| v.is_finite()) {
                    return exact();
                }
                // Entry (i, c) of M within sum_error(t, ops) of s.
                let m = MidRad {
                    mid: pb.s.clone(),
                    rad: pb.t.iter().map(|&t| sum_error(t, pb.ops)).collect(),
                    k,
                };
                tables
                    .bases
                    .lock()
                    .expect("lock")
                    .insert(prefix.to_vec(), Arc::new(pb));
                // y_i within hi - lo of lo.
                let y = || tables.y.iter().map(|y| (y.lo, y.hi.sub(&y.lo, true)));
                for (c, bc) in b.iter_mut().enumerate() {
                    // The upper triangle, mirrored.
                    #[allow(clippy::needless_range_loop)]
                    for d in c..k {
                        let v = mid_rad_dot(m.column(c), m.column(d));
                        q[d][c] = v.clone();
                        q[c][d] = v;
                    }
                    *bc = mid_rad_dot(m.column(c), y());
                }
                FQuad { q, b, m: Some(m) }
            }
            (Some(_), None) => exact(),
        }
    }
}

impl<R: Real> FQuad<R> {
    fn new(quad: &Quadratic) -> Self {
        FQuad {
            m: None,
            q: quad
                .q
                .iter()
                .map(|row| row.iter().map(Iv::of).collect())
                .collect(),
            b: quad.b.iter().map(Iv::of).collect(),
        }
    }
}

/// A line `a t + b` in the radius `t`.
type Line<R> = (R, R);
/// Per coordinate `i`, `(a_i, b_i)` with `|e_i| <= a_i t + b_i`.
type Errors<R> = (Vec<R>, Vec<R>);
/// `(v, a, b)`: `w_v <= a t + b` on the cell where `z_v = 0`.
type Gain<R> = (usize, R, R);
/// Lines `(wl, wh)` around `w_v` of a free last-layer neuron `v`.
type WLines<R> = (Line<R>, Line<R>);

/// Enclosures of the integers `row` times `2^exp`.
fn ints_iv<R: Real>(row: &[BigInt], exp: i64) -> Vec<Iv<R>> {
    row.iter().map(|n| Iv::of_parts(n, exp)).collect()
}

fn row_iv<R: Real>(rows: &DMat, j: usize) -> Vec<Iv<R>> {
    ints_iv(rows.row(j), rows.exp)
}

/// [`row_iv`] of a row of an [`FxMat`] (without its whole `BigInt` form).
fn row_iv_fx<R: Real>(rows: &FxMat, j: usize) -> Vec<Iv<R>> {
    ints_iv(&rows.row_big(j), rows.exp)
}

fn mat_vec<R: Real>(q: &[Vec<Iv<R>>], p: &[Iv<R>]) -> Vec<Iv<R>> {
    q.iter().map(|row| dot(row, p)).collect()
}

fn mat_vec_exact<R: Real>(q: &[Vec<Iv<R>>], p: &[R]) -> Vec<Iv<R>> {
    q.iter().map(|row| dot_exact(row, p)).collect()
}

fn eval<R: Real>((a, b): &Line<R>, t: &R, up: bool) -> R {
    a.mul(t, up).add(b, up)
}

fn neg_line<R: Real>((a, b): &Line<R>) -> Line<R> {
    (a.neg(), b.neg())
}

/// The neurons `q` turns on over `p` (1-based layer, index), lowest layer
/// first, when `q >= p` bitwise and `q != p`.
fn added_neurons(p: &[Vec<bool>], q: &[Vec<bool>]) -> Option<Vec<(usize, usize)>> {
    let mut added = Vec::new();
    for (l, (bp, bq)) in p.iter().zip(q).enumerate() {
        for (v, (&x, &y)) in bp.iter().zip(bq).enumerate() {
            match (x, y) {
                (true, false) => return None,
                (false, true) => added.push((l + 1, v)),
                _ => {}
            }
        }
    }
    (!added.is_empty()).then_some(added)
}

/// Most `k`-subsets [`general_position`] examines (as the checker).
const GENERAL_POSITION_SUBSETS: usize = 4096;

/// Whether every `k` of the given rows are linearly independent, as the
/// checker's `general_position` decides it (`false` past the same limit):
/// for `k <= 3` a binary64 determinant settles a subset when it exceeds its
/// rounding error bound; the rest are computed exactly.
fn general_position(rows: &FxMat, which: &[usize], k: usize) -> bool {
    let n = which.len();
    let mut count = 1usize;
    for i in 0..k {
        count = count.saturating_mul(n - i) / (i + 1);
    }
    if count > GENERAL_POSITION_SUBSETS {
        return false;
    }
    // Rows within a relative 2^-52, scaled alike (one exponent).
    let approx: Vec<Vec<f64>> = which
        .iter()
        .map(|&j| rows.row_big(j).iter().map(|v| approx_f64(v, 0)).collect())
        .collect();
    let mut idx: Vec<usize> = (0..k).collect();
    loop {
        let rs: Vec<&[f64]> = idx.iter().map(|&i| approx[i].as_slice()).collect();
        let settled = match k {
            1 => rs[0][0].is_finite() && rs[0][0] != 0.0,
            2 => det_nonzero(&[(rs[0][0], rs[1][1]), (-rs[0][1], rs[1][0])]),
            3 => {
                let (a, b, c) = (rs[0], rs[1], rs[2]);
                det_nonzero(&[
                    (a[0], b[1] * c[2]),
                    (-a[0], b[2] * c[1]),
                    (a[1], b[2] * c[0]),
                    (-a[1], b[0] * c[2]),
                    (a[2], b[0] * c[1]),
                    (-a[2], b[1] * c[0]),
                ])
            }
            _ => false,
        };
        if !settled {
            let m: Vec<BigInt> = idx.iter().flat_map(|&i| rows.row_big(which[i])).collect();
            if !determinant_nonzero(&m, k) {
                return false;
            }
        }
        let Some(p) = (0..k).rev().find(|&p| idx[p] < n - k + p) else {
            return true;
        };
        idx[p] += 1;
        for q in p + 1..k {
            idx[q] = idx[q - 1] + 1;
        }
    }
}

/// Whether `sum_i x_i y_i` (each `x_i y_i` a product of at most three
/// factors within a relative `2^-52`, `y_i` itself one rounded product) is
/// certainly nonzero: `|s| > (t + 16 eta) 24 * 2^-52`, a generous bound of
/// the factors' and the summation's errors; `false` if unsure.
fn det_nonzero(terms: &[(f64, f64)]) -> bool {
    let (mut s, mut t) = (0.0f64, 0.0f64);
    for (x, y) in terms {
        let p = x * y;
        s += p;
        t += p.abs();
    }
    let err = (t + 16.0 * f64::from_bits(1)) * (24.0 * f64::EPSILON);
    s.is_finite() && t.is_finite() && s.abs() > err.next_up()
}

/// The checker's `div_directed(n, d, false).round_down(PAIR_BITS)` for
/// any `n`, `d` in the intervals (`d > 0`), when the quotient's bounds round
/// to the same value (rounding down to `PAIR_BITS` significant bits is
/// monotone, and equals the checker's two-step rounding: the 64-bit floor
/// never leaves the 8-bit cell of the exact quotient); `None` otherwise.
fn coarse_quotient<R: Real>(n: &Iv<R>, d: &Iv<R>) -> Option<Dyadic> {
    if !d.lo.is_pos() {
        return None;
    }
    let lo = if n.lo.nonneg() {
        n.lo.div(&d.hi, false)
    } else {
        n.lo.div(&d.lo, false)
    };
    let hi = if n.hi.nonneg() {
        n.hi.div(&d.lo, true)
    } else {
        n.hi.div(&d.hi, true)
    };
    let lo = lo.to_dyadic()?.round_down(PAIR_BITS);
    let hi = hi.to_dyadic()?.round_down(PAIR_BITS);
    (lo == hi).then_some(lo)
}

/// Lines enclosing each coordinate's terms.
struct Bounds<R> {
    lo: Vec<Line<R>>,
    hi: Vec<Line<R>>,
}

impl<R: Real> Bounds<R> {
    fn new(k: usize) -> Self {
        let z = (R::zero(), R::zero());
        Bounds {
            lo: vec![z.clone(); k],
            hi: vec![z; k],
        }
    }
    fn add_between(&mut self, i: usize, lo: Line<R>, hi: Line<R>) {
        let (l, h) = (&mut self.lo[i], &mut self.hi[i]);
        l.0 = l.0.add(&lo.0, false);
        l.1 = l.1.add(&lo.1, false);
        h.0 = h.0.add(&hi.0, true);
        h.1 = h.1.add(&hi.1, true);
    }
    /// Centre below the midpoint, radius from the upper line (so it covers
    /// both sides).
    fn enclosure(self) -> Enclosure<R> {
        let (mut ma, mut mb, mut ra, mut rb) = (vec![], vec![], vec![], vec![]);
        for (l, h) in self.lo.iter().zip(&self.hi) {
            let a = l.0.add(&h.0, false).pow2(-1, false);
            let b = l.1.add(&h.1, false).pow2(-1, false);
            ra.push(h.0.sub(&a, true));
            rb.push(h.1.sub(&b, true));
            ma.push(a);
            mb.push(b);
        }
        Enclosure {
            mid: (ma, mb),
            rad: (ra, rb),
        }
    }
}

struct Enclosure<R> {
    mid: Errors<R>,
    rad: Errors<R>,
}

impl<R: Real> Enclosure<R> {
    fn symmetric(&self) -> Errors<R> {
        let f = |m: &[R], r: &[R]| -> Vec<R> {
            m.iter().zip(r).map(|(m, r)| m.abs().add(r, true)).collect()
        };
        (f(&self.mid.0, &self.rad.0), f(&self.mid.1, &self.rad.1))
    }
}

struct BranchTerms<R> {
    free: Vec<usize>,
    r: Vec<Vec<Iv<R>>>,
    zeta: Vec<R>,
    mu: Vec<Vec<Iv<R>>>,
    coupling: Vec<(R, R, R)>,
}

/// The Cone rule on one cell in number type `R`.
struct Kernel<'a, R: Real> {
    engine: &'a Engine<'a>,
    tables: &'a Tables<R>,
    c: FCell<R>,
}

/// The fast Cone rule on a cell (see the module comment).
pub fn cone<R: Data>(
    engine: &Engine,
    tables: &Tables<R>,
    cell: &Cell,
    branches: &[Branch],
) -> Decision {
    ConePieces::new(engine, tables, cell, branches).decide(cell)
}

/// The fast Cone rule on radial pieces of one cell (the same face and box,
/// each its own radial interval): a cell's branches, their `Q_b`, `b_b`
/// and correction terms depend on the box alone (patterns are constant
/// along rays, F1), so they are computed once and only the tests along
/// the radius run per piece ([`ConePieces::decide`]).
pub struct ConePieces<'a, R: Data> {
    engine: &'a Engine<'a>,
    tables: &'a Tables<R>,
    branches: &'a [Branch],
    quads: Vec<FQuad<R>>,
    terms: Vec<BranchTerms<R>>,
}

impl<'a, R: Data> ConePieces<'a, R> {
    pub fn new(
        engine: &'a Engine<'a>,
        tables: &'a Tables<R>,
        cell: &Cell,
        branches: &'a [Branch],
    ) -> Self {
        let kernel = Kernel {
            engine,
            tables,
            c: FCell::new(cell),
        };
        let quads: Vec<FQuad<R>> = branches
            .iter()
            .map(|b| R::branch_quad(engine, tables, b))
            .collect();
        let terms = branches
            .iter()
            .zip(&quads)
            .map(|(b, q)| kernel.branch_terms(b, q))
            .collect();
        ConePieces {
            engine,
            tables,
            branches,
            quads,
            terms,
        }
    }

    /// The rule on `piece`, a cell with the box of the one given to `new`.
    pub fn decide(&self, piece: &Cell) -> Decision {
        let k = Kernel {
            engine: self.engine,
            tables: self.tables,
            c: FCell::new(piece),
        };
        let (b, q, t) = (self.branches, &self.quads, &self.terms);
        let first = k.cone_with(b, q, t, false);
        if piece.t_hi.is_some() {
            first.or(|| k.cone_with(b, q, t, true))
        } else {
            first
        }
    }
}

/// What the fast arithmetic says of a cell's patterns before the exact
/// Crease rule and the search for stationary points run.
pub struct Screen {
    /// The Crease rule in `R` (see the checker's `Context::crease`):
    /// `Proved` needs every region point certainly outside the cell (the
    /// rule's other ways of making a zero harmless are left to the exact
    /// tier) and, for every pair `P < Q`, a ridge among `Q`'s added neurons
    /// of the lowest layer or the Pairs bound, each proved robustly.
    /// `Failed`: some pair has neither (each decidedly failing).
    pub crease: Decision,
    /// Per pattern: whether its region point `Q_P^{-1} b_P` may lie in the
    /// cell (`false` only when it certainly does not; unsure, or `Q_P`
    /// possibly singular, stays `true`).
    pub may_hold_region_point: Vec<bool>,
}

/// The [`Screen`] of a cell's patterns.
pub fn screen<R: Data>(
    engine: &Engine,
    tables: &Tables<R>,
    cell: &Cell,
    pats: &CellPatterns,
) -> Screen {
    let kernel = Kernel {
        engine,
        tables,
        c: FCell::new(cell),
    };
    let quads = pattern_quads(engine, tables, pats);
    let may_hold_region_point: Vec<bool> = quads
        .iter()
        .map(|q| !kernel.region_point_outside(q, cell))
        .collect();
    let k = cell.k();
    let none: Errors<R> = (vec![R::zero(); k], vec![R::zero(); k]);
    let mut unsure = may_hold_region_point.iter().any(|&m| m);
    let mut crease = Proved;
    'pairs: for (i, p) in pats.patterns.iter().enumerate() {
        for (j, q) in pats.patterns.iter().enumerate() {
            let Some(added) = added_neurons(&p.bits, &q.bits) else {
                continue;
            };
            let lowest = added[0].0;
            let mut ridge = Failed;
            for &(l, v) in added.iter().take_while(|(l, _)| *l == lowest) {
                ridge = ridge
                    .or(|| kernel.ridge(&kernel.layer_row(&p.bits, l, v), &quads[i], None, None));
                if ridge == Proved {
                    break;
                }
            }
            match ridge.or(|| kernel.pair_with_errors((&quads[i], &none), (&quads[j], &none))) {
                Proved => {}
                Unsure => unsure = true,
                Failed => {
                    crease = Failed;
                    break 'pairs;
                }
            }
        }
    }
    if crease == Proved && unsure {
        crease = Unsure;
    }
    Screen {
        crease,
        may_hold_region_point,
    }
}

fn pattern_quads<R: Data>(
    engine: &Engine,
    tables: &Tables<R>,
    pats: &CellPatterns,
) -> Vec<FQuad<R>> {
    let d = engine.net.depth();
    pats.patterns
        .iter()
        .map(|p| {
            let rows = engine.layer_rows(&p.bits[..d - 1]);
            R::pattern_quad(engine, tables, &p.bits[..d - 1], &rows, &p.bits[d - 1])
        })
        .collect()
}

/// The determinant of a square interval matrix, enclosed (cofactor
/// expansion along the first row: `n!` products, for small `n`).
fn det_iv<R: Real>(m: &[Vec<Iv<R>>]) -> Iv<R> {
    let n = m.len();
    match n {
        0 => Iv::point(R::int(1)),
        1 => m[0][0].clone(),
        2 => m[0][0].mul(&m[1][1]).sub(&m[0][1].mul(&m[1][0])),
        _ => {
            let mut acc: Option<Iv<R>> = None;
            for j in 0..n {
                let minor: Vec<Vec<Iv<R>>> = m[1..]
                    .iter()
                    .map(|row| {
                        row.iter()
                            .enumerate()
                            .filter(|&(c, _)| c != j)
                            .map(|(_, v)| v.clone())
                            .collect()
                    })
                    .collect();
                let term = m[0][j].mul(&det_iv(&minor));
                acc = Some(match acc {
                    None => term,
                    Some(a) if j % 2 == 0 => a.add(&term),
                    Some(a) => a.sub(&term),
                });
            }
            acc.expect("n >= 3")
        }
    }
}

impl<R: Data> Kernel<'_, R> {
    /// Whether the solution of `Q x = b` certainly lies outside the cell
    /// (Cramer's rule in intervals, determinants by cofactor expansion,
    /// `k <= 6`; `false` when unsure).
    fn region_point_outside(&self, quad: &FQuad<R>, cell: &Cell) -> bool {
        let q = &quad.q;
        let k = q.len();
        if k > 6 {
            return false;
        }
        let d = det_iv(q);
        if !(d.lo.is_pos() || d.hi.is_neg()) {
            return false;
        }
        // x_i = det(Q with column i replaced by b) / det(Q); compare
        // x_i det with the cell's bounds times det (sign known).
        let scaled: Vec<Iv<R>> = (0..k)
            .map(|i| {
                let m: Vec<Vec<Iv<R>>> = q
                    .iter()
                    .zip(&quad.b)
                    .map(|(row, bi)| {
                        let mut r = row.clone();
                        r[i] = bi.clone();
                        r
                    })
                    .collect();
                det_iv(&m)
            })
            .collect();
        // With D = det(Q): x = X / D. Multiply through by |D| (positive):
        // s x_a |D| = s X_a sign(D) is t |D|.
        let sign_d = if d.lo.is_pos() { 1 } else { -1 };
        let orient = |v: &Iv<R>, s: i32| if s > 0 { v.clone() } else { v.neg() };
        let axis = cell.face.axis;
        let s = if cell.face.positive { sign_d } else { -sign_d };
        let t_abs = orient(&scaled[axis], s); // t |D|
        let abs_d = orient(&d, sign_d); // |D| > 0
        let c = &self.c;
        // t < t_lo or t > t_hi.
        if t_abs.sub(&abs_d.scale(&c.t_lo)).hi.is_neg() {
            return true;
        }
        if let Some(h) = &c.t_hi {
            if t_abs.sub(&abs_d.scale(h)).lo.is_pos() {
                return true;
            }
        }
        if !t_abs.lo.is_pos() {
            return false;
        }
        // p_j = x_j / t outside [lo_j, hi_j]: X_j sign(D) vs lo_j t |D|.
        (0..k).filter(|&j| j != axis).any(|j| {
            let xj = orient(&scaled[j], sign_d);
            xj.sub(&t_abs.scale(&c.hi[j])).lo.is_pos() || xj.sub(&t_abs.scale(&c.lo[j])).hi.is_neg()
        })
    }

    fn k(&self) -> usize {
        self.c.lo.len()
    }

    /// `[min, max]` of `<s, p>` over the box (rounded outward).
    fn linear_range(&self, s: &[Iv<R>]) -> (R, R) {
        let (mut lo, mut hi) = (R::zero(), R::zero());
        for ((v, l), h) in s.iter().zip(&self.c.lo).zip(&self.c.hi) {
            let down = rmin(
                rmin(v.lo.mul(l, false), v.lo.mul(h, false)),
                rmin(v.hi.mul(l, false), v.hi.mul(h, false)),
            );
            let up = rmax(
                rmax(v.lo.mul(l, true), v.lo.mul(h, true)),
                rmax(v.hi.mul(l, true), v.hi.mul(h, true)),
            );
            lo = lo.add(&down, false);
            hi = hi.add(&up, true);
        }
        (lo, hi)
    }

    /// Rigorous: `a t^2 - b t + g > 0` on the radial interval.
    fn positive(&self, a: &R, b: &R, g: &R) -> bool {
        let c = &self.c;
        let q = |t: &R| {
            a.mul(t, false)
                .mul(t, false)
                .sub(&b.mul(t, true), false)
                .add(g, false)
        };
        if !q(&c.t_lo).is_pos() {
            return false;
        }
        match &c.t_hi {
            None => {
                // Tends to -inf unless a > 0, or a = 0 and b <= 0.
                if !(a.is_pos() || (a.nonneg() && nonpos(b))) {
                    return false;
                }
            }
            Some(h) => {
                if !q(h).is_pos() {
                    return false;
                }
            }
        }
        if a.is_pos() {
            // The vertex b / 2a may lie inside: then 4ag - b^2 > 0 is
            // needed (checked whenever it cannot be ruled out).
            let (two_lo, two_hi) = (a.add(a, false), a.add(a, true));
            let after_lo = *b > two_lo.mul(&c.t_lo, false);
            let before_hi = c.t_hi.as_ref().is_none_or(|h| *b < two_hi.mul(h, true));
            if after_lo && before_hi {
                let disc = a.mul(g, false).pow2(2, false).sub(&b.mul(b, true), false);
                if !disc.is_pos() {
                    return false;
                }
            }
        } else if !nonpos(a) {
            return false; // NaN
        }
        true
    }

    /// The final test of every bound: `alpha t^2 - beta t + gamma > 0` on
    /// the radial interval, with `mags` bounding the magnitudes of the
    /// terms summed into each coefficient.
    fn decide(&self, alpha: &R, beta: &R, gamma: &R, mags: [R; 3]) -> Decision {
        if [alpha, beta, gamma].into_iter().chain(&mags).any(R::is_nan) {
            return Unsure;
        }
        let slack = |bits: i32| -> [R; 3] { mags.clone().map(|m| m.pow2(-bits, true)) };
        let [sa, sb, sg] = slack(R::ROBUST_BITS);
        if self.positive(
            &alpha.sub(&sa, false),
            &beta.add(&sb, true),
            &gamma.sub(&sg, false),
        ) {
            return Proved;
        }
        let [sa, sb, sg] = slack(R::UNSURE_BITS);
        if self.positive(
            &alpha.add(&sa, true),
            &beta.sub(&sb, false),
            &gamma.add(&sg, true),
        ) {
            Unsure
        } else {
            Failed
        }
    }

    /// A line `<= <s, x> - c` on the cell (see the checker's `affine_max`).
    fn affine_min(&self, s: &[Iv<R>], c: &Iv<R>, at_vertices: bool) -> Line<R> {
        match (&self.c.t_hi, at_vertices) {
            (Some(h), true) => {
                let mut least: Option<R> = None;
                for p in &self.c.corners {
                    let d = dot_exact(s, p);
                    for t in [&self.c.t_lo, h] {
                        let v = d.scale(t).lo.sub(&c.hi, false);
                        least = Some(match least {
                            None => v,
                            Some(l) => rmin(l, v),
                        });
                    }
                }
                (R::zero(), least.unwrap_or_else(R::zero))
            }
            _ => (self.linear_range(s).0, c.hi.neg()),
        }
    }

    /// A line `>= <s, x> - c` on the cell.
    fn affine_max(&self, s: &[Iv<R>], c: &Iv<R>, at_vertices: bool) -> Line<R> {
        let neg: Vec<Iv<R>> = s.iter().map(Iv::neg).collect();
        neg_line(&self.affine_min(&neg, &c.neg(), at_vertices))
    }

    /// `(a, b)` with `|<s, x> - c| <= a t + b` on the cell.
    fn affine_abs_bound(&self, s: &[Iv<R>], c: &Iv<R>, at_vertices: bool) -> Line<R> {
        let (ha, hb) = self.affine_max(s, c, at_vertices);
        let (la, lb) = self.affine_min(s, c, at_vertices);
        (rmax(ha.abs(), la.abs()), rmax(hb.abs(), lb.abs()))
    }

    /// A line at least `max(0, l(t))` on the radial interval (the chord on
    /// a bounded one).
    fn upper_max0(&self, l: &Line<R>) -> Line<R> {
        let c = &self.c;
        let zero = R::zero();
        let Some(h) = &c.t_hi else {
            return (rmax(l.0.clone(), zero.clone()), rmax(l.1.clone(), zero));
        };
        let (v0, v1) = (eval(l, &c.t_lo, false), eval(l, h, false));
        if v0.nonneg() && v1.nonneg() {
            return l.clone();
        }
        let (u0, u1) = (eval(l, &c.t_lo, true), eval(l, h, true));
        if u0.is_neg() && u1.is_neg() {
            return (zero.clone(), zero);
        }
        let (u0, u1) = (rmax(u0, zero.clone()), rmax(u1, zero));
        let rise = u1.sub(&u0, true);
        // Slope rounded up: divide by the smaller width if the rise is
        // nonnegative, by the larger if negative.
        let width = h.sub(&c.t_lo, !rise.nonneg());
        let slope = rise.div(&width, true);
        let offset = u0.sub(&slope.mul(&c.t_lo, false), true);
        (slope, offset)
    }

    fn lower_min0(&self, l: &Line<R>) -> Line<R> {
        neg_line(&self.upper_max0(&neg_line(l)))
    }

    fn branch_terms(&self, br: &Branch, quad: &FQuad<R>) -> BranchTerms<R> {
        let rows = &br.rows;
        let free: Vec<usize> = br.free().collect();
        let r: Vec<Vec<Iv<R>>> = free.iter().map(|&u| row_iv_fx(rows, u)).collect();
        let zeta: Vec<R> = r
            .iter()
            .map(|ru| rmax(self.linear_range(ru).1, R::zero()))
            .collect();
        let (mut mu, mut coupling) = (Vec::new(), Vec::new());
        if self.engine.net.a.is_some() && !free.is_empty() {
            // m_u = M_b^T a_u (= sum_{j on in P_b} (A^T A)_{ju} r_j).
            // From the quadratic's own M_b where it has one, else through
            // the Gram matrix over the rows that are on.
            let own: Option<Vec<Vec<Iv<R>>>> = free
                .iter()
                .map(|&u| R::column_times(quad, self.tables, u))
                .collect();
            let on: Vec<(usize, Vec<Iv<R>>)> = match own {
                Some(_) => Vec::new(),
                None => (0..rows.rows)
                    .filter(|&j| br.status[j] == Some(true))
                    .map(|j| (j, row_iv_fx(rows, j)))
                    .collect(),
            };
            let mut own = own.map(Vec::into_iter);
            for &u in &free {
                let g = self.tables.gram(self.engine, u);
                let acc = own.as_mut().and_then(Iterator::next).unwrap_or_else(|| {
                    let mut acc = vec![Iv::zero(); self.k()];
                    for (j, rj) in &on {
                        for (o, x) in acc.iter_mut().zip(rj) {
                            *o = o.add(&g[*j].mul(x));
                        }
                    }
                    acc
                });
                mu.push(acc);
                let zero = R::zero();
                let (mut least, mut most, mut most_off) =
                    (zero.clone(), zero.clone(), zero.clone());
                for (&v, z) in free.iter().zip(&zeta) {
                    let term = g[v].scale(z);
                    least = least.add(&rmin(term.lo, zero.clone()), false);
                    let hi = rmax(term.hi, zero.clone());
                    most = most.add(&hi, true);
                    if v != u {
                        most_off = most_off.add(&hi, true);
                    }
                }
                coupling.push((least, most, most_off));
            }
        }
        BranchTerms {
            free,
            r,
            zeta,
            mu,
            coupling,
        }
    }

    fn branch_enclosure(
        &self,
        terms: &BranchTerms<R>,
        at_vertices: bool,
    ) -> (Enclosure<R>, Vec<Gain<R>>, Vec<WLines<R>>) {
        let zero = R::zero();
        let mut bounds = Bounds::new(self.k());
        let mut gains = Vec::new();
        let mut w_lines: Vec<WLines<R>> = Vec::new();
        let BranchTerms {
            free,
            r,
            zeta,
            mu,
            coupling,
        } = terms;
        if self.engine.net.a.is_some() && !free.is_empty() {
            for (x, z) in mu.iter().zip(zeta) {
                for (i, xi) in x.iter().enumerate() {
                    let p = xi.scale(z);
                    bounds.add_between(
                        i,
                        (rmin(p.lo, zero.clone()), zero.clone()),
                        (rmax(p.hi, zero.clone()), zero.clone()),
                    );
                }
            }
            for (vi, &v) in free.iter().enumerate() {
                let aty = &self.tables.aty[v];
                let (la, lb) = self.affine_min(&mu[vi], aty, at_vertices);
                let (ha, hb) = self.affine_max(&mu[vi], aty, at_vertices);
                let (least, most, most_off) = &coupling[vi];
                gains.push((v, ha.add(most_off, true), hb.clone()));
                w_lines.push(((la.add(least, false), lb), (ha.add(most, true), hb)));
            }
        } else {
            for (vi, &v) in free.iter().enumerate() {
                let y = self.tables.aty[v].neg();
                gains.push((v, zero.clone(), y.hi.clone()));
                w_lines.push(((zero.clone(), y.lo), (zeta[vi].clone(), y.hi)));
            }
        }
        // r_v,i w_v lies between the lines' products with r_v,i's ends.
        let times = |rv: &Iv<R>, (a, b): &Line<R>, up: bool| -> Line<R> {
            let pick = if up { rmax::<R> } else { rmin::<R> };
            (
                pick(rv.lo.mul(a, up), rv.hi.mul(a, up)),
                pick(rv.lo.mul(b, up), rv.hi.mul(b, up)),
            )
        };
        for (rv_row, (wl, wh)) in r.iter().zip(&w_lines) {
            for (i, rv) in rv_row.iter().enumerate() {
                let (l1, l2) = (times(rv, wl, false), times(rv, wh, false));
                let (h1, h2) = (times(rv, wl, true), times(rv, wh, true));
                let l = (rmin(l1.0, l2.0), rmin(l1.1, l2.1));
                let h = (rmax(h1.0, h2.0), rmax(h1.1, h2.1));
                bounds.add_between(i, self.lower_min0(&l), self.upper_max0(&h));
            }
        }
        (bounds.enclosure(), gains, w_lines)
    }

    fn cone_with(
        &self,
        branches: &[Branch],
        quads: &[FQuad<R>],
        terms: &[BranchTerms<R>],
        at_vertices: bool,
    ) -> Decision {
        let k = self.k();
        let (mut enclosures, mut gains, mut w_lines) = (Vec::new(), Vec::new(), Vec::new());
        for t in terms {
            let (e, g, w) = self.branch_enclosure(t, at_vertices);
            enclosures.push(e);
            gains.push(g);
            w_lines.push(w);
        }
        let errors: Vec<Errors<R>> = enclosures.iter().map(Enclosure::symmetric).collect();
        let mut unsure = false;
        for (bi, (q, e)) in quads.iter().zip(&errors).enumerate() {
            let enc = &enclosures[bi];
            let d = self
                .branch_descends(&branches[bi], q, enc, &gains[bi])
                .or(|| self.cone_positive(q, Some(&enc.mid), &enc.rad))
                .or(|| self.pair_with_errors((q, e), (q, e)));
            match d {
                Failed => return Failed,
                Unsure => unsure = true,
                Proved => {}
            }
        }
        for (i, p) in branches.iter().enumerate() {
            for (j, q) in branches.iter().enumerate() {
                let Some(added) = added_neurons(&p.prefix, &q.prefix) else {
                    continue;
                };
                let lowest = added[0].0;
                let mut ridge_unsure = false;
                let mut excused = false;
                for &(l, v) in added.iter().take_while(|(l, _)| *l == lowest) {
                    let c = self.layer_row(&p.prefix, l, v);
                    match self.ridge(&c, &quads[i], None, Some(&errors[i])) {
                        Proved => {
                            excused = true;
                            break;
                        }
                        Unsure => ridge_unsure = true,
                        Failed => {}
                    }
                }
                if excused {
                    continue;
                }
                let cross = self.reference_shift(&quads[j], &quads[i], at_vertices);
                let mut e = errors[i].clone();
                for c in 0..k {
                    let a = errors[j].0[c].add(&cross.0[c], true);
                    let b = errors[j].1[c].add(&cross.1[c], true);
                    e.0[c] = rmax(e.0[c].clone(), a);
                    e.1[c] = rmax(e.1[c].clone(), b);
                }
                let mut d = self
                    .cone_positive(&quads[i], None, &e)
                    .or(|| self.pair_with_errors((&quads[i], &errors[i]), (&quads[j], &errors[j])));
                for &(l, v) in added.iter().take_while(|(l, _)| *l == lowest) {
                    d = d.or(|| {
                        self.pair_descends(
                            &p.prefix,
                            (&quads[i], &enclosures[i]),
                            (&quads[j], &enclosures[j]),
                            l,
                            v,
                            at_vertices,
                        )
                    });
                }
                let d = d
                    .or(|| {
                        self.crossing_descends(
                            p,
                            (&quads[i], &enclosures[i]),
                            (&terms[i], &w_lines[i]),
                            &added,
                            at_vertices,
                        )
                    })
                    .unless_unsure(ridge_unsure);
                match d {
                    Failed => return Failed,
                    Unsure => unsure = true,
                    Proved => {}
                }
            }
        }
        if unsure {
            Unsure
        } else {
            Proved
        }
    }

    fn reference_shift(&self, q: &FQuad<R>, p: &FQuad<R>, at_vertices: bool) -> Errors<R> {
        (0..q.q.len())
            .map(|i| {
                let diff: Vec<Iv<R>> = q.q[i].iter().zip(&p.q[i]).map(|(x, y)| x.sub(y)).collect();
                self.affine_abs_bound(&diff, &q.b[i].sub(&p.b[i]), at_vertices)
            })
            .unzip()
    }

    /// The row `c_v` of neuron `index` of layer `layer` (1-based) under the
    /// earlier bits of `bits`.
    fn layer_row(&self, bits: &[Vec<bool>], layer: usize, index: usize) -> Vec<Iv<R>> {
        row_iv_fx(&self.engine.layer_rows(&bits[..layer - 1]), index)
    }

    /// Whether the neuron with row `c` (see [`Kernel::layer_row`]) is a
    /// ridge (see the checker's `ridge`): the bilinear lower bound of `<c,
    /// g>` at every corner and both radii.
    fn ridge(
        &self,
        c: &[Iv<R>],
        quad: &FQuad<R>,
        shift: Option<&Errors<R>>,
        errors: Option<&Errors<R>>,
    ) -> Decision {
        let u = mat_vec(&quad.q, c);
        let (mut big_a, mut big_b) = (Iv::zero(), Iv::zero());
        if let Some((ma, mb)) = shift {
            big_a = dot_exact(c, ma).neg();
            big_b = dot_exact(c, mb).neg();
        }
        if let Some((a, b)) = errors {
            for ((ci, a), b) in c.iter().zip(a).zip(b) {
                let abs = Iv {
                    lo: ci.mig(),
                    hi: ci.mag(),
                };
                big_a = big_a.add(&abs.scale(a));
                big_b = big_b.add(&abs.scale(b));
            }
        }
        let w = dot(c, &quad.b).add(&big_b);
        let mut unsure = false;
        for corner in &self.c.corners {
            let slope = dot_exact(&u, corner).sub(&big_a);
            let mut checks = vec![slope.scale(&self.c.t_lo).sub(&w)];
            checks.push(match &self.c.t_hi {
                Some(t) => slope.scale(t).sub(&w),
                None => slope,
            });
            for v in checks {
                if v.hi.is_neg() {
                    return Failed;
                }
                if !v.lo.nonneg() {
                    unsure = true;
                }
            }
        }
        if unsure {
            Unsure
        } else {
            Proved
        }
    }

    /// `|c(t)| > delta_d(t) + sum_i sqrt(T_i(t))` on the radial interval
    /// (the checker's `centre_margin`, with the centre `mid`).
    fn centre_margin(
        &self,
        quad: &FQuad<R>,
        shift: Option<&Errors<R>>,
        terms: &[[R; 3]],
    ) -> Decision {
        let c = &self.c;
        let zero = R::zero();
        let mut qc = mat_vec_exact(&quad.q, &c.mid);
        let mut b = quad.b.clone();
        if let Some((ma, mb)) = shift {
            for i in 0..qc.len() {
                qc[i] = qc[i].add(&Iv::point(ma[i].clone()));
                b[i] = b[i].sub(&Iv::point(mb[i].clone()));
            }
        }
        let sq: Vec<Iv<R>> = qc.iter().map(Iv::sqr).collect();
        let alpha = sum(sq.iter().map(|s| s.lo.clone()), false);
        let alpha_mag = sum(sq.iter().map(|s| s.hi.clone()), true);
        let cross: Vec<Iv<R>> = qc.iter().zip(&b).map(|(x, y)| x.mul(y)).collect();
        let beta = sum(cross.iter().map(|s| s.hi.clone()), true).pow2(1, true);
        let beta_mag = sum(cross.iter().map(Iv::mag), true).pow2(1, true);
        let bsq: Vec<Iv<R>> = b.iter().map(Iv::sqr).collect();
        let gamma = sum(bsq.iter().map(|s| s.lo.clone()), false);
        let gamma_mag = sum(bsq.iter().map(|s| s.hi.clone()), true);
        // delta_d^2 = t^2 sum_i (sum_j |Q_ij| half_j)^2.
        let mut dd = zero.clone();
        for row in &quad.q {
            let s = sum(
                row.iter().zip(&c.half).map(|(q, h)| q.mag().mul(h, true)),
                true,
            );
            dd = dd.add(&s.mul(&s, true), true);
        }
        let mut all = vec![[dd, zero.clone(), zero.clone()]];
        all.extend(terms.iter().cloned());
        let plain = (
            alpha.clone(),
            beta.clone(),
            gamma.clone(),
            [alpha_mag, beta_mag, gamma_mag],
        );
        self.weighted(&all, &plain).or(|| {
            // The checker's `size_line`: the sizes summed as lines.
            let Some((la, lb)) = self.size_line(&all) else {
                return Failed;
            };
            let (alpha, beta, gamma, [am, bm, gm]) = &plain;
            let (fa, fb, fc) = (
                la.mul(&la, true),
                la.mul(&lb, true).pow2(1, true),
                lb.mul(&lb, true),
            );
            self.decide(
                &alpha.sub(&fa, false),
                &beta.add(&fb, true),
                &gamma.sub(&fc, false),
                [am.add(&fa, true), bm.add(&fb, true), gm.add(&fc, true)],
            )
        })
    }

    /// The checker's `weighted_positive`, decided with [`Kernel::decide`].
    fn weighted(&self, all: &[[R; 3]], plain: &(R, R, R, [R; 3])) -> Decision {
        let c = &self.c;
        let zero = R::zero();
        let (alpha, beta, gamma, [alpha_mag, beta_mag, gamma_mag]) = plain;
        let (mut alpha, mut beta, mut gamma) = (alpha.clone(), beta.clone(), gamma.clone());
        let (mut alpha_mag, mut beta_mag, mut gamma_mag) =
            (alpha_mag.clone(), beta_mag.clone(), gamma_mag.clone());
        let leading = all.iter().any(|x| x[0].is_pos());
        let sizes: Vec<R> = all
            .iter()
            .map(|[a, b, cc]| {
                let v = match &c.t_hi {
                    Some(h) => {
                        let t = c.t_lo.add(h, true).pow2(-1, true);
                        a.mul(&t, true)
                            .mul(&t, true)
                            .add(&b.mul(&t, true), true)
                            .add(cc, true)
                    }
                    None if leading => a.clone(),
                    None => cc.clone(),
                };
                rmax(v, zero.clone()).sqrt(true)
            })
            .collect();
        let used: Vec<usize> = (0..all.len())
            .filter(|&i| all[i].iter().any(|v| *v != zero))
            .collect();
        let raw = sum(used.iter().map(|&i| sizes[i].clone()), true);
        let floor = raw.pow2(-30, true);
        let raised: Vec<R> = used
            .iter()
            .map(|&i| rmax(sizes[i].clone(), floor.clone()))
            .collect();
        // total >= the sum of the raised sizes, f_i >= total / size_i: then
        // sum_i 1 / f_i <= 1 (Cauchy-Schwarz weights).
        let total = sum(raised.iter().cloned(), true);
        for (&i, x) in used.iter().zip(&raised) {
            let [a, bb, cc] = &all[i];
            let f = if raw.is_pos() {
                total.div(x, true)
            } else {
                R::int(used.len() as i64)
            };
            let (fa, fb, fc) = (f.mul(a, true), f.mul(bb, true), f.mul(cc, true));
            alpha = alpha.sub(&fa, false);
            beta = beta.add(&fb, true);
            gamma = gamma.sub(&fc, false);
            alpha_mag = alpha_mag.add(&fa.abs(), true);
            beta_mag = beta_mag.add(&fb.abs(), true);
            gamma_mag = gamma_mag.add(&fc.abs(), true);
        }
        self.decide(&alpha, &beta, &gamma, [alpha_mag, beta_mag, gamma_mag])
    }

    /// The checker's `size_line`: `(a, b)` with `sum_i sqrt(T_i(t)) <= a t +
    /// b` on the radial interval (rounded up; `None` where a term with `A_i
    /// = 0 < B_i` meets an unbounded interval).
    fn size_line(&self, terms: &[[R; 3]]) -> Option<(R, R)> {
        let zero = R::zero();
        let (mut la, mut lb) = (zero.clone(), zero.clone());
        for [a, b, c] in terms {
            let c = rmax(c.clone(), zero.clone());
            let a = rmax(a.clone(), zero.clone());
            let b_i = if !b.is_pos() {
                c.sqrt(true)
            } else if a.sqrt(false).is_pos() {
                let q = b.div(&a.sqrt(false).pow2(1, false), true);
                rmax(c.sqrt(true), q)
            } else {
                let h = self.c.t_hi.as_ref()?;
                let v = a
                    .mul(h, true)
                    .mul(h, true)
                    .add(&b.mul(h, true), true)
                    .add(&c, true);
                rmax(v, zero.clone()).sqrt(true)
            };
            la = la.add(&a.sqrt(true), true);
            lb = lb.add(&b_i, true);
        }
        Some((la, lb))
    }

    /// `sum_i (a_i t + b_i)^2` as `[A, B, C]`, scaled by `factor`, rounded up.
    fn errors_squared(e: &Errors<R>, factor: &R) -> [R; 3] {
        let a2 = sum(e.0.iter().map(|x| x.mul(x, true)), true);
        let ab = sum(e.0.iter().zip(&e.1).map(|(x, y)| x.mul(y, true)), true);
        let b2 = sum(e.1.iter().map(|y| y.mul(y, true)), true);
        [
            factor.mul(&a2, true),
            factor.mul(&ab, true).pow2(1, true),
            factor.mul(&b2, true),
        ]
    }

    /// `|h| > (1 + sqrt 2) |e|` (`(1 + sqrt 2)^2 < 747/128`).
    fn cone_positive(&self, quad: &FQuad<R>, shift: Option<&Errors<R>>, e: &Errors<R>) -> Decision {
        let factor = R::int(747).pow2(-7, true);
        self.centre_margin(quad, shift, &[Self::errors_squared(e, &factor)])
    }

    fn pair_with_errors(&self, p: (&FQuad<R>, &Errors<R>), q: (&FQuad<R>, &Errors<R>)) -> Decision {
        let zero = R::zero();
        // The Pairs bound of <h_p, h_q>.
        let (mut alpha, mut alpha_mag) = (zero.clone(), zero.clone());
        for (rp, rq) in p.0.q.iter().zip(&q.0.q) {
            let (a0, a1) = self.linear_range(rp);
            let (b0, b1) = self.linear_range(rq);
            let prod = Iv { lo: a0, hi: a1 }.mul(&Iv { lo: b0, hi: b1 });
            alpha_mag = alpha_mag.add(&prod.mag(), true);
            alpha = alpha.add(&prod.lo, false);
        }
        let cvec: Vec<Iv<R>> = mat_vec(&p.0.q, &q.0.b)
            .into_iter()
            .zip(mat_vec(&q.0.q, &p.0.b))
            .map(|(x, y)| x.add(&y))
            .collect();
        let (blo, mut beta) = self.linear_range(&cvec);
        let mut beta_mag = rmax(blo.abs(), beta.abs());
        let g = dot(&p.0.b, &q.0.b);
        let (mut gamma, mut gamma_mag) = (g.lo.clone(), g.mag());
        let size = |quad: &FQuad<R>, i: usize| {
            let (lo, hi) = self.linear_range(&quad.q[i]);
            (rmax(lo.abs(), hi.abs()), quad.b[i].mag())
        };
        let (mut c2, mut c1, mut c0) = (zero.clone(), zero.clone(), zero.clone());
        let mut prod = |x: &R, y: &R, u: &R, w: &R| {
            c2 = c2.add(&x.mul(u, true), true);
            c1 = c1.add(&x.mul(w, true), true).add(&y.mul(u, true), true);
            c0 = c0.add(&y.mul(w, true), true);
        };
        for i in 0..p.0.q.len() {
            let (ha, hb) = size(p.0, i);
            let (ka, kb) = size(q.0, i);
            let (ea, eb) = (&p.1 .0[i], &p.1 .1[i]);
            let (fa, fb) = (&q.1 .0[i], &q.1 .1[i]);
            prod(&ha, &hb, fa, fb);
            prod(&ka, &kb, ea, eb);
            prod(ea, eb, fa, fb);
        }
        alpha = alpha.sub(&c2, false);
        beta = beta.add(&c1, true);
        gamma = gamma.sub(&c0, false);
        alpha_mag = alpha_mag.add(&c2.abs(), true);
        beta_mag = beta_mag.add(&c1.abs(), true);
        gamma_mag = gamma_mag.add(&c0.abs(), true);
        self.decide(&alpha, &beta, &gamma, [alpha_mag, beta_mag, gamma_mag])
    }

    /// Between branches: descent across neuron `index` of layer `layer`
    /// (the checker's `pair_descends`, read there), with the checker's
    /// 8-bit `nu` and `beta_c` reproduced exactly; `Unsure` where the
    /// intervals cannot settle them.
    #[allow(clippy::too_many_arguments)]
    fn pair_descends(
        &self,
        bits: &[Vec<bool>],
        (quad_p, enc_p): (&FQuad<R>, &Enclosure<R>),
        (quad_q, enc_q): (&FQuad<R>, &Enclosure<R>),
        layer: usize,
        index: usize,
        at_vertices: bool,
    ) -> Decision {
        let k = self.k();
        let c = self.layer_row(bits, layer, index);
        let c2 = dot(&c, &c);
        if !c2.lo.is_pos() {
            return if c2.hi.is_pos() { Unsure } else { Failed };
        }
        let m: Vec<Vec<Iv<R>>> = quad_q
            .q
            .iter()
            .zip(&quad_p.q)
            .map(|(rq, rp)| rq.iter().zip(rp).map(|(x, y)| x.sub(y)).collect())
            .collect();
        let beta: Vec<Iv<R>> = quad_q
            .b
            .iter()
            .zip(&quad_p.b)
            .map(|(x, y)| x.sub(y))
            .collect();
        let (nu, beta_c) = if pair_nu_zero() {
            (vec![Iv::zero(); k], Iv::zero())
        } else {
            let quotients: Option<Vec<Iv<R>>> = mat_vec(&m, &c)
                .iter()
                .chain(std::iter::once(&dot(&beta, &c)))
                .map(|n| coarse_quotient(n, &c2).map(|d| Iv::of(&d)))
                .collect();
            let Some(mut nu) = quotients else {
                return Unsure;
            };
            let beta_c = nu.pop().expect("k + 1 quotients");
            (nu, beta_c)
        };
        let zero = R::zero();
        let (mut ea, mut eb) = (Vec::with_capacity(k), Vec::with_capacity(k));
        for i in 0..k {
            let r_row: Vec<Iv<R>> = (0..k)
                .map(|j| m[i][j].sub(&c[i].mul(&nu[j])).sub(&nu[i].mul(&c[j])))
                .collect();
            let beta_r = beta[i].sub(&beta_c.mul(&c[i]));
            let (ra, rb) = self.affine_abs_bound(&r_row, &beta_r, at_vertices);
            let gap = |q: &R, p: &R| rmax(q.sub(p, true).abs(), q.sub(p, false).abs());
            let a = ra
                .add(&gap(&enc_q.mid.0[i], &enc_p.mid.0[i]), true)
                .add(&enc_p.rad.0[i], true)
                .add(&enc_q.rad.0[i], true);
            let b = rb
                .add(&gap(&enc_q.mid.1[i], &enc_p.mid.1[i]), true)
                .add(&enc_p.rad.1[i], true)
                .add(&enc_q.rad.1[i], true);
            ea.push(rmax(a, zero.clone()));
            eb.push(rmax(b, zero.clone()));
        }
        let (sa, sb) = self.upper_max0(&self.affine_max(&nu, &beta_c, at_vertices));
        let n = sum(c.iter().map(|x| x.sqr().hi), true).sqrt(true);
        let (ja, jb) = (n.mul(&sa, true), n.mul(&sb, true));
        let j2 = [
            ja.mul(&ja, true),
            ja.mul(&jb, true).pow2(1, true),
            jb.mul(&jb, true),
        ];
        let one = R::int(1);
        let terms = [
            Self::errors_squared(&enc_p.rad, &one),
            Self::errors_squared(&(ea, eb), &one),
            j2,
        ];
        self.centre_margin(quad_p, Some(&enc_p.mid), &terms)
    }

    /// Between branches of a depth-2 network: descent across first-layer
    /// neurons with the gradient's exact jump (the checker's
    /// `crossing_descends`, read there).
    fn crossing_descends(
        &self,
        p: &Branch,
        (quad, enc): (&FQuad<R>, &Enclosure<R>),
        (terms, w_lines): (&BranchTerms<R>, &[WLines<R>]),
        added: &[(usize, usize)],
        at_vertices: bool,
    ) -> Decision {
        let net = self.engine.net;
        let k = self.k();
        if net.depth() != 2
            || added.is_empty()
            || added.len() >= k
            || added.iter().any(|&(l, _)| l != 1)
        {
            return Failed;
        }
        let zero = R::zero();
        let (w1, w2) = (&net.layers[0], &net.layers[1]);
        let on: Vec<usize> = (0..p.status.len())
            .filter(|&u| p.status[u] == Some(true))
            .collect();
        let on_bits: Vec<bool> = p.status.iter().map(|s| *s == Some(true)).collect();
        // M_b of p's base pattern, once for all added neurons (A != I).
        let m: Option<Vec<Vec<Iv<R>>>> = net.a.as_ref().map(|_| match R::m_rows(quad) {
            Some(m) => m,
            None => {
                let m = self.engine.measurement(&p.base_pattern()).expect("A != I");
                (0..m.rows).map(|i| row_iv(&m, i)).collect()
            }
        });
        let (mut ja, mut jb) = (zero.clone(), zero.clone());
        for &(_, v) in added {
            let w2v = |u: usize| Iv::<R>::of_parts(&w2.num[u * w2.cols + v], w2.exp);
            // <s, x> - c0 plus at most t * coupling from the free neurons.
            let (s_vec, c0, coupling): (Vec<Iv<R>>, Iv<R>, R) = match &net.a {
                None => {
                    let mut s_vec = vec![Iv::zero(); k];
                    let mut c0 = Iv::zero();
                    for &u in &on {
                        let c = w2v(u);
                        for (o, r) in s_vec.iter_mut().zip(row_iv_fx::<R>(&p.rows, u)) {
                            *o = o.add(&c.mul(&r));
                        }
                        c0 = c0.add(&c.mul(&self.tables.y[u]));
                    }
                    (s_vec, c0, R::zero())
                }
                Some(a) => {
                    let (_, omega) = &*self.engine.omega(&on_bits, v).expect("A != I");
                    let omega: Vec<Iv<R>> = omega
                        .iter()
                        .map(|o| Iv::of_parts(o, a.exp + w2.exp))
                        .collect();
                    let m = m.as_ref().expect("A != I");
                    let s_vec = (0..k)
                        .map(|j| {
                            m.iter()
                                .zip(&omega)
                                .fold(Iv::zero(), |acc, (mi, o)| acc.add(&mi[j].mul(o)))
                        })
                        .collect();
                    let c0 = dot(&omega, &self.tables.y);
                    let norms = self.engine.column_norms().expect("A != I");
                    let omega_norm = sum(omega.iter().map(|x| x.sqr().hi), true).sqrt(true);
                    let coupling = sum(
                        terms
                            .free
                            .iter()
                            .zip(&terms.zeta)
                            .map(|(&u, z)| R::dyadic(&norms[u], true).mul(z, true)),
                        true,
                    );
                    (s_vec, c0, omega_norm.mul(&coupling, true))
                }
            };
            let (sa, mut sb) = self.affine_max(&s_vec, &c0, at_vertices);
            let mut sa = sa.add(&coupling, true);
            for (ui, &u) in terms.free.iter().enumerate() {
                let c = w2v(u);
                let (wl, wh) = &w_lines[ui];
                // The largest of c w over c's ends and w's lines, per
                // coefficient (an upper line for t >= 0).
                let up = |(a, b): &Line<R>| {
                    (
                        rmax(c.lo.mul(a, true), c.hi.mul(a, true)),
                        rmax(c.lo.mul(b, true), c.hi.mul(b, true)),
                    )
                };
                let (h1, h2) = (up(wl), up(wh));
                let (ma, mb) = self.upper_max0(&(rmax(h1.0, h2.0), rmax(h1.1, h2.1)));
                sa = sa.add(&ma, true);
                sb = sb.add(&mb, true);
            }
            let (sa, sb) = self.upper_max0(&(sa, sb));
            let (sa, sb) = (rmax(sa, zero.clone()), rmax(sb, zero.clone()));
            let row = row_iv::<R>(w1, v);
            let cn = sum(row.iter().map(|x| x.sqr().hi), true).sqrt(true);
            ja = ja.add(&cn.mul(&sa, true), true);
            jb = jb.add(&cn.mul(&sb, true), true);
        }
        let mut slopes = Vec::new();
        let mut offsets = Vec::new();
        for (ui, &u) in terms.free.iter().enumerate() {
            let ((la, lb), (ha, hb)) = &w_lines[ui];
            let row = row_iv_fx::<R>(&p.rows, u);
            let n = sum(row.iter().map(|x| x.sqr().hi), true).sqrt(true);
            let (wa, wb) = match &net.a {
                None => (zero.clone(), self.tables.aty[u].mag()),
                Some(_) => (rmax(la.abs(), ha.abs()), rmax(lb.abs(), hb.abs())),
            };
            slopes.push(n.mul(&wa, true));
            offsets.push(n.mul(&wb, true));
        }
        if slopes.iter().chain(&offsets).any(|x| x.is_nan()) || ja.is_nan() || jb.is_nan() {
            return Unsure;
        }
        let top = |xs: &[R], budget: usize| {
            let mut xs = xs.to_vec();
            xs.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
            sum(xs.into_iter().take(budget), true)
        };
        let e2 = Self::errors_squared(&enc.rad, &R::int(1));
        let test = |budget: usize| {
            let ja = ja.add(&top(&slopes, budget), true);
            let jb = jb.add(&top(&offsets, budget), true);
            let j2 = [
                ja.mul(&ja, true),
                ja.mul(&jb, true).pow2(1, true),
                jb.mul(&jb, true),
            ];
            self.centre_margin(quad, Some(&enc.mid), &[e2.clone(), j2])
        };
        let first = test(k - 1 - added.len());
        if first != Proved {
            return first;
        }
        let fixed: Vec<&[BigInt]> = added.iter().map(|&(_, v)| w1.row(v)).collect();
        let cand_rows: Vec<Vec<BigInt>> = terms.free.iter().map(|&u| p.rows.row_big(u)).collect();
        let cands: Vec<&[BigInt]> = cand_rows.iter().map(Vec::as_slice).collect();
        if independent_with(&fixed, &cands, k) {
            Proved
        } else {
            test(cands.len())
        }
    }

    /// Within one branch: `|h| > |e| + J` (see the checker's
    /// `branch_descends`).
    fn branch_descends(
        &self,
        br: &Branch,
        quad: &FQuad<R>,
        enc: &Enclosure<R>,
        gains: &[Gain<R>],
    ) -> Decision {
        let (shift, e) = (Some(&enc.mid), &enc.rad);
        let zero = R::zero();
        let c = &self.c;
        let mut unsure = false;
        let mut harmful: Vec<(usize, R, R)> = Vec::new();
        for (v, a, b) in gains {
            let line = (a.clone(), b.clone());
            let (pa, pb) = match &c.t_hi {
                Some(h) => {
                    let (u0, u1) = (eval(&line, &c.t_lo, true), eval(&line, h, true));
                    if nonpos(&u0) && nonpos(&u1) {
                        continue;
                    }
                    let (d0, d1) = (eval(&line, &c.t_lo, false), eval(&line, h, false));
                    if d0.nonneg() && d1.nonneg() {
                        line
                    } else {
                        (rmax(a.clone(), zero.clone()), rmax(b.clone(), zero.clone()))
                    }
                }
                None => {
                    if nonpos(a) && nonpos(&eval(&line, &c.t_lo, true)) {
                        continue;
                    }
                    (rmax(a.clone(), zero.clone()), rmax(b.clone(), zero.clone()))
                }
            };
            // A last-layer neuron: its row is the branch's.
            let row = row_iv_fx::<R>(&br.rows, *v);
            match self.ridge(&row, quad, shift, Some(e)) {
                Proved => continue,
                Unsure => unsure = true,
                Failed => {}
            }
            let n = sum(row.iter().map(|x| x.sqr().hi), true).sqrt(true);
            harmful.push((*v, n.mul(&pa, true), n.mul(&pb, true)));
        }
        let e2 = Self::errors_squared(e, &R::int(1));
        let test = |ja: &R, jb: &R| {
            let j2 = [
                ja.mul(ja, true),
                ja.mul(jb, true).pow2(1, true),
                jb.mul(jb, true),
            ];
            self.centre_margin(quad, shift, &[e2.clone(), j2])
        };
        let ja = sum(harmful.iter().map(|h| h.1.clone()), true);
        let jb = sum(harmful.iter().map(|h| h.2.clone()), true);
        let mut result = test(&ja, &jb);
        let k = self.k();
        let finite = harmful.iter().all(|h| !h.1.is_nan() && !h.2.is_nan());
        if result != Proved
            && finite
            && harmful.len() >= k
            && general_position(
                &br.rows,
                &harmful.iter().map(|h| h.0).collect::<Vec<_>>(),
                k,
            )
        {
            let top = |mut xs: Vec<R>| {
                xs.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
                sum(xs.into_iter().take(k - 1), true)
            };
            let ja = top(harmful.iter().map(|h| h.1.clone()).collect());
            let jb = top(harmful.iter().map(|h| h.2.clone()).collect());
            result = result.or(|| test(&ja, &jb));
        }
        result.unless_unsure(unsure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::dyadic::determinant;
    use num_bigint::BigInt;

    /// `det_iv` encloses the exact determinant (`determinant` on integers)
    /// of random integer matrices up to 6 x 6, scaled by a power of two.
    #[test]
    fn det_iv_encloses_the_exact_determinant() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2001) as i64 - 1000
        };
        for n in 1..=6 {
            for _ in 0..50 {
                let ints: Vec<i64> = (0..n * n).map(|_| next()).collect();
                let exact = determinant(
                    &ints.iter().map(|&v| BigInt::from(v)).collect::<Vec<_>>(),
                    n,
                );
                // Entries v / 1024, so the determinant is exact / 1024^n.
                let m: Vec<Vec<Iv<f64>>> = (0..n)
                    .map(|i| {
                        (0..n)
                            .map(|j| Iv::of_parts(&BigInt::from(ints[i * n + j]), -10))
                            .collect()
                    })
                    .collect();
                let d = det_iv(&m);
                let e = Dyadic {
                    num: exact,
                    exp: -10 * n as i64,
                }
                .to_rational();
                let q = |x: f64| crate::exact::dyadic::f64_to_rational(x).expect("finite");
                assert!(
                    q(d.lo) <= e && e <= q(d.hi),
                    "n = {n}: {e} not in [{}, {}]",
                    d.lo,
                    d.hi
                );
            }
        }
    }

    /// `mid_rad_dot` encloses `sum_i x_i y_i` for points `x_i`, `y_i` at
    /// the ends and midpoints of their ranges (exact rationals), with
    /// magnitudes from `2^-1040` (products far below the smallest normal
    /// number) to `2^500`, cancelling sums, and up to 600 terms.
    #[test]
    fn mid_rad_dot_encloses_every_point() {
        use num_rational::BigRational;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let q = |x: f64| crate::exact::dyadic::f64_to_rational(x).expect("finite");
        for case in 0..300 {
            let n = 1 + (next() % 600) as usize;
            let scale = [-1040, -600, -30, 0, 40, 500][case % 6];
            let mut value = || {
                let m = (next() % 2_000_001) as f64 - 1_000_000.0;
                m * 2f64.powi(scale - 20) * (1.0 + (next() % 1000) as f64 / 997.0)
            };
            // Odd cases: exact inputs (no radii), where only the rounding
            // bounds count, with large terms that nearly cancel.
            let exact_inputs = case % 2 == 1;
            let mut xs: Vec<(f64, f64)> = (0..n)
                .map(|i| (value(), if i % 3 == 0 { 0.0 } else { value().abs() }))
                .collect();
            let mut ys: Vec<(f64, f64)> = (0..n).map(|_| (value(), value().abs() / 64.0)).collect();
            if exact_inputs {
                for i in 0..n {
                    xs[i].1 = 0.0;
                    ys[i].1 = 0.0;
                    if i % 2 == 1 {
                        // x_i y_i close to -x_{i-1} y_{i-1}, not equal
                        // (and neither product exact).
                        xs[i].0 = -xs[i - 1].0 * 3.0 * (1.0 + 2f64.powi(-30));
                        ys[i].0 = ys[i - 1].0 / 3.0;
                    }
                }
            }
            let iv = mid_rad_dot(xs.iter().copied(), ys.iter().copied());
            for pick in 0..3 {
                let at = |(m, r): (f64, f64), i: usize| {
                    let k = (i + pick) % 3;
                    q(m) + q(r) * BigRational::from_integer(BigInt::from(k as i64 - 1))
                };
                let exact = xs.iter().zip(&ys).enumerate().fold(
                    BigRational::from_integer(BigInt::from(0)),
                    |acc, (i, (&x, &y))| acc + at(x, i) * at(y, i + 1),
                );
                assert!(
                    q(iv.lo) <= exact && exact <= q(iv.hi),
                    "case {case}: n = {n}, scale 2^{scale}: not enclosed by [{}, {}]",
                    iv.lo,
                    iv.hi
                );
            }
        }
    }
}
