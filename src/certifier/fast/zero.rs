//! The Zero rule (P2) in a fast tier: the same test as the checker's
//! `rules::Context::zero`, with the layer rows, the corners and `A^T y`
//! enclosed in intervals of a [`Real`] type and every operation rounded
//! outward; and a binary64 screen of the exact corner test that follows a
//! failed rule (`D_w f(0) < 0`).
//!
//! The rule: for every branch (a prefix of the lower layers' bits and the
//! statuses of the last layer's neurons) and every corner `p` of the
//! direction box,
//!
//! `least = sum_{j some} v_j [always_j or v_j < 0] > 0`,
//! `v_j = <r_j, p> (A^T y)_j`
//!
//! (`r_j` the last layer's row `j` under the prefix; `always`: on in every
//! pattern of the branch, `some`: on in some). The checker computes it on
//! positive integer multiples of these numbers, which changes no sign. Per
//! neuron, `[always_j or v_j < 0] v_j` is `v_j` or `min(v_j, 0)`, monotone
//! in `v_j`, so an enclosure `[lo, hi]` of `v_j` gives the enclosure `[lo,
//! hi]` or `[min(lo, 0), min(hi, 0)]` of its term, and their sum encloses
//! `least`.
//!
//! Unlike the Cone tier, both answers are rigorous: `Proved` when the lower
//! bound of every `least` is positive (the exact rule, in exact integers,
//! then accepts), `Failed` when the upper bound of some `least` is `<= 0`
//! (the exact rule then rejects), `Unsure` otherwise (NaN included: every
//! test is a comparison that NaN fails).

use num_bigint::BigInt;

use super::cone::{Decision, Tables};
use super::real::{approx_f64, approx_f64_fx, nonpos, rmax, rmin, widen_rel, Iv, Mp, Real};
use crate::checker::geometry::Cell;
use crate::checker::patterns::{Branch, Engine};
use crate::exact::dyadic::Dyadic;
use crate::exact::fixed::FxN;
use crate::exact::fxmat::FxMat;

/// How a number type encloses one entry `num * 2^exp` of a layer matrix.
pub trait ZeroReal: Real {
    fn entry(num: &BigInt, exp: i64) -> Iv<Self>;
    /// [`ZeroReal::entry`] of a fixed-width integer (the same enclosure).
    fn entry_fx<const L: usize>(num: &FxN<L>, exp: i64) -> Iv<Self> {
        Self::entry(&num.to_big(), exp)
    }
}

impl ZeroReal for f64 {
    /// Without allocating: exact for numerators of at most 53 bits in the
    /// normal range, else the approximation within a relative `2^-52`
    /// widened outward (NaN bounds out of range).
    #[inline]
    fn entry(num: &BigInt, exp: i64) -> Iv<f64> {
        enclose_f64(approx_f64(num, exp), num.bits())
    }
    #[inline]
    fn entry_fx<const L: usize>(num: &FxN<L>, exp: i64) -> Iv<f64> {
        enclose_f64(approx_f64_fx(num, exp), num.bits())
    }
}

/// The enclosure of [`ZeroReal::entry`] for binary64 from the value's
/// approximation `v` ([`approx_f64`]) and its numerator's bit count.
#[inline]
fn enclose_f64(v: f64, bits: u64) -> Iv<f64> {
    if bits <= 53 && v.is_finite() {
        // One digit below 2^53 converts exactly, and the scaling by a
        // power of two is exact in the normal range `approx_f64` allows.
        return Iv::point(v);
    }
    let (lo, hi) = widen_rel(v);
    Iv { lo, hi }
}

impl<const P: u32> ZeroReal for Mp<P> {
    fn entry(num: &BigInt, exp: i64) -> Iv<Self> {
        Iv::of_parts(num, exp)
    }
}

/// `sum_i row_i x_i` for interval entries and interval coordinates (exact
/// coordinates take the two-product path).
pub(super) fn dot_iv<R: Real>(row: &[Iv<R>], x: &[Iv<R>]) -> Iv<R> {
    row.iter().zip(x).fold(Iv::zero(), |acc, (a, p)| {
        let t = if p.lo == p.hi {
            a.scale(&p.lo)
        } else {
            a.mul(p)
        };
        acc.add(&t)
    })
}

fn rows_iv<R: ZeroReal>(rows: &FxMat, which: &[usize]) -> Vec<Iv<R>> {
    let mut out = Vec::with_capacity(which.len() * rows.cols);
    for &j in which {
        match rows.fixed_row(j) {
            Some(r) => crate::with_fx_slice!(r, |r| out
                .extend(r.iter().map(|n| R::entry_fx(n, rows.exp)))),
            None => out.extend(rows.row(j).iter().map(|n| R::entry(n, rows.exp))),
        }
    }
    out
}

/// The Zero rule on a direction box and its branches (those of
/// `Context::branches_from`), in the tier of `R`.
pub fn zero<R: ZeroReal>(tables: &Tables<R>, cell: &Cell, branches: &[Branch]) -> Decision {
    let corners: Vec<Vec<Iv<R>>> = cell
        .corners()
        .iter()
        .map(|p| p.iter().map(Iv::of).collect())
        .collect();
    let aty = tables.aty();
    let mut unsure = false;
    for br in branches {
        let rows = &br.rows;
        let k = rows.cols;
        // The neurons on in some pattern, and whether always.
        let some: Vec<usize> = (0..rows.rows)
            .filter(|&j| br.status[j] != Some(false))
            .collect();
        let x: Vec<Iv<R>> = rows_iv(rows, &some);
        for corner in &corners {
            let mut least = Iv::<R>::zero();
            for (jj, &j) in some.iter().enumerate() {
                let v = dot_iv(&x[jj * k..(jj + 1) * k], corner).mul(&aty[j]);
                let term = if br.status[j] == Some(true) {
                    v
                } else {
                    Iv {
                        lo: rmin(v.lo, R::zero()),
                        hi: rmin(v.hi, R::zero()),
                    }
                };
                least = least.add(&term);
            }
            if nonpos(&least.hi) {
                // The exact `least` is <= 0 here: the rule fails.
                return Decision::Failed;
            }
            if !least.lo.is_pos() {
                unsure = true;
            }
        }
    }
    if unsure {
        Decision::Unsure
    } else {
        Decision::Proved
    }
}

/// A binary64 enclosure of `G(w)` by a forward pass in intervals (ReLU is
/// monotone: `relu([lo, hi]) = [max(lo, 0), max(hi, 0)]`), for the screen of
/// the exact corner test: `D_w f(0) = -<A G(w), y> / s = -<G(w), A^T y> / s`
/// (`s > 0`; F3 at `x = 0`, where `A G(0) - y = -y` and the directional
/// derivative of `G` at `0` is `G(w)`, `G` being positively homogeneous).
pub struct Descent {
    /// `W_1 .. W_d`, each `(rows, cols, entries row-major)`.
    layers: Vec<(usize, usize, Vec<Iv<f64>>)>,
    aty: Vec<Iv<f64>>,
}

impl Descent {
    pub fn new(engine: &Engine) -> Self {
        Descent {
            layers: engine
                .net
                .layers
                .iter()
                .map(|m| {
                    let entries = m.num.iter().map(|n| f64::entry(n, m.exp)).collect();
                    (m.rows, m.cols, entries)
                })
                .collect(),
            aty: engine
                .aty
                .num
                .iter()
                .map(|n| f64::entry(n, engine.aty.exp))
                .collect(),
        }
    }

    /// Whether `D_w f(0) < 0` certainly (`false` if unsure).
    pub fn surely_descends(&self, w: &[Dyadic]) -> bool {
        let mut h: Vec<Iv<f64>> = w.iter().map(Iv::of).collect();
        for (rows, cols, m) in &self.layers {
            if h.len() != *cols {
                return false;
            }
            h = (0..*rows)
                .map(|j| {
                    let z = dot_iv(&m[j * cols..(j + 1) * cols], &h);
                    Iv {
                        lo: rmax(z.lo, 0.0),
                        hi: rmax(z.hi, 0.0),
                    }
                })
                .collect();
        }
        if h.len() != self.aty.len() {
            return false;
        }
        let s = h
            .iter()
            .zip(&self.aty)
            .fold(Iv::zero(), |acc, (g, a)| acc.add(&g.mul(a)));
        s.lo.is_pos()
    }
}
