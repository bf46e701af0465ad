//! A binary64 screen of the neuron statuses the engine computes for a box
//! (`checker::patterns::Engine`, installed with `set_status_screen`): a
//! neuron is fixed on if its pre-activation `<r_j, p>` is positive at every
//! corner `p`, fixed off if negative at every corner, free otherwise. The
//! engine computes these signs in exact integers; the screen encloses each
//! `<r_j, p>` in a binary64 interval and answers only where the enclosures
//! settle the status: every sign proved and all alike (fixed), or a
//! positive and a negative sign both proved (free). Anything else, an exact
//! zero or a NaN included, is left to the exact test. The statuses, and so
//! the patterns and branches, are the exact ones either way.
//!
//! The enclosure: where every corner coordinate is an integer of at most 53
//! bits (exact in binary64; the usual case), the dot product is computed in
//! plain binary64 from the rows' entries rounded to nearest (within a
//! relative `2^-52`) and bounded with the a priori error bound of
//! [`super::cone::bounded`] ([`super::cone::sum_error`], taken once per
//! neuron at its largest `t`); otherwise in intervals with outward
//! rounding (entries enclosed as in [`super::zero::ZeroReal`]).

use num_bigint::BigInt;

use super::cone::sum_error;
use super::real::{approx_f64, approx_f64_fx, Iv, Real};
use super::zero::{dot_iv, ZeroReal};
use crate::exact::fxmat::FxMat;

/// The status from the signs at the corners: `(pos, neg, unsure)` seen.
fn settle(pos: bool, neg: bool, unsure: bool) -> Option<Option<bool>> {
    match (pos, neg, unsure) {
        (true, true, _) => Some(None),
        (true, false, false) => Some(Some(true)),
        (false, true, false) => Some(Some(false)),
        _ => None,
    }
}

/// The sign of an enclosure: `(positive, negative)` proved.
fn signs(z: &Iv<f64>) -> (bool, bool) {
    (z.lo.is_pos(), z.hi.is_neg())
}

/// The screen with exact binary64 corners: per neuron, the entries rounded
/// to nearest, each dot product summed in plain binary64 and enclosed with
/// [`bounded`] (a NaN or an infinity leaves the neuron to the exact test).
fn screen_exact_corners(
    cs: &[Vec<f64>],
    rows: &FxMat,
    wanted: &[bool],
) -> Vec<Option<Option<bool>>> {
    let k = rows.cols;
    let mut row = Vec::with_capacity(k);
    let mut sums = Vec::with_capacity(cs.len());
    (0..rows.rows)
        .map(|j| {
            if !wanted.get(j).copied().unwrap_or(true) {
                return None;
            }
            row.clear();
            match rows.fixed_row(j) {
                Some(r) => {
                    crate::with_fx_slice!(r, |r| row.extend(r.iter().map(|v| approx_f64_fx(v, 0))))
                }
                None => row.extend(rows.row(j).iter().map(|v| approx_f64(v, 0))),
            }
            if row.len() != k || !row.iter().all(|v| v.is_finite()) {
                return None;
            }
            // One error bound for every corner: the largest `t` (the
            // bound grows with it), so `s > err` proves the sign `+` and
            // `s < -err` the sign `-` (comparisons of binary64 values are
            // exact).
            sums.clear();
            let mut t_max = 0.0f64;
            for c in cs {
                let (mut s, mut t) = (0.0f64, 0.0f64);
                for (a, x) in row.iter().zip(c) {
                    let p = a * x;
                    s += p;
                    t += p.abs();
                }
                if !(s.is_finite() && t.is_finite()) {
                    return None;
                }
                sums.push(s);
                t_max = t_max.max(t);
            }
            let err = sum_error(t_max, k);
            let (mut pos, mut neg, mut unsure) = (false, false, false);
            for &s in &sums {
                if s > err {
                    pos = true;
                } else if s < -err {
                    neg = true;
                } else {
                    unsure = true;
                }
            }
            settle(pos, neg, unsure)
        })
        .collect()
}

/// The [`crate::checker::patterns::StatusScreen`] of the certifier.
pub fn screen(corners: &[Vec<BigInt>], rows: &FxMat, wanted: &[bool]) -> Vec<Option<Option<bool>>> {
    // The corners and rows are integers (the signs are those of the
    // integer dot products: no scaling).
    let exact: Option<Vec<Vec<f64>>> = corners
        .iter()
        .map(|c| {
            c.iter()
                .map(|v| {
                    let x = approx_f64(v, 0);
                    (v.bits() <= 53 && x.is_finite()).then_some(x)
                })
                .collect()
        })
        .collect();
    if let Some(cs) = exact {
        return screen_exact_corners(&cs, rows, wanted);
    }
    let cs: Vec<Vec<Iv<f64>>> = corners
        .iter()
        .map(|c| c.iter().map(|v| f64::entry(v, 0)).collect())
        .collect();
    let k = rows.cols;
    (0..rows.rows)
        .map(|j| {
            if !wanted.get(j).copied().unwrap_or(true) {
                return None;
            }
            let row: Vec<Iv<f64>> = rows.row_big(j).iter().map(|v| f64::entry(v, 0)).collect();
            if row.len() != k {
                return None;
            }
            let (mut pos, mut neg, mut unsure) = (false, false, false);
            for c in &cs {
                match signs(&dot_iv(&row, c)) {
                    (true, _) => pos = true,
                    (_, true) => neg = true,
                    _ => unsure = true,
                }
            }
            settle(pos, neg, unsure)
        })
        .collect()
}
