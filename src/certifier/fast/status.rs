//! A binary64 screen of the neuron statuses the engine computes for a box
//! (`checker::patterns::Engine`, installed with `set_status_screen`): a
//! neuron is fixed on if its pre-activation `<r_j, p>` is positive at every
//! corner `p`, fixed off if negative at every corner, free otherwise. The
//! engine computes these signs in exact integers; the screen encloses each
//! `<r_j, p>` in a binary64 interval (outward rounding, entries enclosed as
//! in [`super::zero::ZeroReal`]) and answers only where the enclosures
//! settle the status: every sign proved and all alike (fixed), or a
//! positive and a negative sign both proved (free). Anything else, an exact
//! zero or a NaN included, is left to the exact test. The statuses, and so
//! the patterns and branches, are the exact ones either way.

use num_bigint::BigInt;

use super::real::{Iv, Real};
use super::zero::{dot_iv, ZeroReal};
use crate::exact::dyadic::DMat;

/// The [`crate::checker::patterns::StatusScreen`] of the certifier.
pub fn screen(corners: &[Vec<BigInt>], rows: &DMat, wanted: &[bool]) -> Vec<Option<Option<bool>>> {
    // The corners and rows are integers (the signs are those of the
    // integer dot products: no scaling).
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
            let row: Vec<Iv<f64>> = rows.row(j).iter().map(|v| f64::entry(v, 0)).collect();
            if row.len() != k {
                return None;
            }
            let (mut pos, mut neg, mut unsure) = (false, false, false);
            for c in &cs {
                let z = dot_iv(&row, c);
                if z.lo.is_pos() {
                    pos = true;
                } else if z.hi.is_neg() {
                    neg = true;
                } else {
                    unsure = true;
                }
            }
            match (pos, neg, unsure) {
                (true, true, _) => Some(None),
                (true, false, false) => Some(Some(true)),
                (false, true, false) => Some(Some(false)),
                _ => None,
            }
        })
        .collect()
}
