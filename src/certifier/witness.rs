//! Sharpest mode: exact failure points that bound the radii from below.
//!
//! A point `x != 0`, `x != x*` with `D_{-vbar_x} f(x) >= 0` (exact, F3)
//! fails (P1), so every claim that holds has `x` inside its `E` (the
//! argument is in [`crate::checker::sharpness`]): while `x` stays outside
//! the first ball, no radius `eps2` at or below `x`'s distance to the
//! nearest `-rho x*` can hold, and symmetrically. The refinement rounds look
//! for such points in the undecided cells that set a radius, a ball settles
//! once its radius is within `1 / SHARP_STOP` of what the points prove
//! unreachable (refining further could not gain more), and the certificate
//! keeps the best point per ball (`radius_witnesses`) for the checker to
//! re-evaluate.
//!
//! Candidates come from the few cells with the largest need per ball:
//! dyadic points exactly on the zero set of each free neuron, near the
//! cell's vertices (a failure off the creases is a stationary point), and
//! the region points of the cell's patterns. Binary64 screens them (a
//! valley across the crease; the point in its own region), farthest first,
//! and one exact evaluation confirms each that passes: a round costs a few
//! exact evaluations, not one per candidate.

use std::collections::HashSet;
use std::time::Instant;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};

use crate::certifier::fast::real::Real;
use crate::certifier::hunt::F64Net;
use crate::checker::geometry::{Cell, Excluded};
use crate::checker::rules::Context;
use crate::checker::sharpness;
use crate::exact::dyadic::{dyadic_dot, Dyadic};
use crate::exact::eval::{ExactNet, Pattern};

/// Patterns enumerated per cell for its free neurons (the crease points).
const PATTERNS_TRY: usize = 16;
/// Cells per ball examined in one round (those with the largest needs).
const CELLS_PER_BALL: usize = 16;
/// Exact evaluations per ball in one round at most (each costs
/// milliseconds on a 50/500 network; the binary64 screen picks them).
const CONFIRMS_PER_BALL: usize = 4;
/// Bits of the dyadic approximation of `1 / |r|^2` for crease points.
const SCALE_BITS: u64 = 40;

/// Which centre a point bounds the radius of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WitnessBall {
    XStar,
    Rho,
}

/// Exact failure points found so far (each `D_{-vbar} f >= 0`, not `0`,
/// not `x*`), and the points evaluated exactly that do not fail (not tried
/// again).
#[derive(Clone, Debug, Default)]
pub struct Witnesses {
    pub points: Vec<Vec<BigRational>>,
    tried: HashSet<Vec<BigRational>>,
}

/// What a round evaluates with: the exact evaluator (which decides), the
/// binary64 model (which proposes), the rule context (free neurons of a
/// cell), and the search's exact stationarity test of a region point.
pub(crate) struct Sources<'a> {
    pub exact: &'a ExactNet,
    pub screen: &'a F64Net,
    pub ctx: &'a Context<'a>,
    pub is_stationary: &'a (dyn Fn(&[BigRational], &Pattern) -> bool + Sync),
}

/// `excluded` with the balls' squared radii, relative to `|x*|^2`, set to
/// `(r1sq, r2sq)`: the rounds' current radii, for
/// [`sharpness::bounds`].
pub fn at_radii(excluded: &Excluded, r1sq: &BigRational, r2sq: &BigRational) -> Excluded {
    let mut at = excluded.clone();
    at.r1_sq = r1sq * &excluded.target_norm2;
    at.r2_sq = r2sq * &excluded.target_norm2;
    at
}

/// The best point per ball (at most two), for the certificate: the one
/// that proves the largest lower bound on each radius at `excluded`'s
/// radii (the final ones), as the checker computes it.
pub fn best(excluded: &Excluded, points: &[Vec<BigRational>]) -> Vec<Vec<BigRational>> {
    // Per ball: (bound, point), the first point reaching the largest bound.
    let mut top: [Option<(BigRational, &Vec<BigRational>)>; 2] = [None, None];
    for x in points {
        let (b1, b2) = sharpness::bounds(excluded, std::slice::from_ref(x));
        for (slot, bound) in top.iter_mut().zip([b1, b2]) {
            if let Some(b) = bound {
                if slot.as_ref().is_none_or(|(m, _)| &b > m) {
                    *slot = Some((b, x));
                }
            }
        }
    }
    let mut out: Vec<Vec<BigRational>> = Vec::new();
    for (_, x) in top.into_iter().flatten() {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    out
}

/// A dyadic point on the zero set of the linear form `row` near `v`: the
/// projection `v - (<r, v> / |r|^2) r`, written as `s ((|r|^2) v - <r, v> r)`
/// with `s` a dyadic approximation of `1 / |r|^2` (any `s > 0` keeps the
/// point on the zero set, which is a cone).
fn crease_point(row: &[Dyadic], v: &[Dyadic]) -> Option<Vec<Dyadic>> {
    let rr = dyadic_dot(row, row);
    if rr.is_zero() {
        return None;
    }
    let rv = dyadic_dot(row, v);
    let q = rr.round_down(SCALE_BITS);
    // 1 / (n 2^e) ~ (2^(2 SCALE_BITS) / n) 2^(-2 SCALE_BITS - e).
    let num = (BigInt::from(1) << (2 * SCALE_BITS) as usize) / &q.num;
    if num.is_zero() {
        return None;
    }
    let s = Dyadic {
        num,
        exp: -2 * SCALE_BITS as i64 - q.exp,
    };
    Some(
        v.iter()
            .zip(row)
            .map(|(vi, ri)| s.mul(&rr.mul(vi).sub(&rv.mul(ri))))
            .collect(),
    )
}

/// A crease candidate: a dyadic point on the zero set of a free neuron of
/// a cell, with what the binary64 screen needs.
struct Candidate {
    point: Vec<Dyadic>,
    layer: usize,
    index: usize,
    row: Vec<f64>,
}

/// Candidates of a bounded cell, from its consistent patterns (at most
/// `PATTERNS_TRY`): for each free neuron, the points of its zero set near
/// the cell's vertices (off the creases a failure is a stationary point);
/// and each pattern's region point `Q_P^{-1} b_P` that lies in the cell.
/// Everything here is a function of the cell alone, so the rounds, and
/// where they stop, do not depend on how the first pass was run (threads,
/// shards).
fn candidates(ctx: &Context, cell: &Cell) -> Vec<Proposal> {
    let Some(vertices) = cell.vertices() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (Ok(p), _) = ctx.patterns_from(cell, PATTERNS_TRY, None) else {
        return out;
    };
    for neuron in &p.free {
        let row: Vec<f64> = neuron.row.iter().map(|d| f64::dyadic(d, false)).collect();
        for v in &vertices {
            if let Some(point) = crease_point(&neuron.row, v) {
                out.push(Proposal::Crease(Candidate {
                    point,
                    layer: neuron.layer,
                    index: neuron.index,
                    row: row.clone(),
                }));
            }
        }
    }
    for pattern in p.patterns {
        let quad = ctx.engine.quadratic(&pattern);
        if let (Some((u, q)), Some(x)) = (quad.region_scaled(), quad.region_point()) {
            if cell.contains_scaled(u, q) && !u.iter().all(Zero::is_zero) {
                out.push(Proposal::Region(x.clone(), pattern));
            }
        }
    }
    out
}

/// One round's search, per ball whose radius is not zero: candidates that
/// would raise the ball's lower bound (and lie outside the other ball), from
///
/// - the crease points of the `CELLS_PER_BALL` cells with the largest need
///   (`cells`: `(cell, need1, need2)`, squared relative distances of the
///   farthest vertex), screened in binary64 for a valley
///   ([`F64Net::crease_valley`]);
/// - and their patterns' region points (`Q_P x = b_P`), screened in
///   binary64 for lying in their own region, then tested exactly for
///   stationarity;
///
/// farthest first, each that passes its screen evaluated exactly (at most
/// `CONFIRMS_PER_BALL`) until one fails: the rest could not raise the bound
/// further. The points found are appended to `found`.
pub(crate) fn search_round(
    src: &Sources,
    excluded: &Excluded,
    cells: &[(&Cell, &BigRational, &BigRational)],
    radii_sq: (&BigRational, &BigRational),
    deadline: Option<Instant>,
    found: &mut Witnesses,
) {
    // Candidates are filtered and ordered in binary64 (a proposal only: the
    // bounds are recomputed exactly from the points found).
    let near = Near::new(excluded);
    let at = at_radii(excluded, radii_sq.0, radii_sq.1);
    let (r1sq, r2sq) = (f(radii_sq.0), f(radii_sq.1));
    for ball in [WitnessBall::XStar, WitnessBall::Rho] {
        let (l1, l2) = sharpness::bounds(&at, &found.points);
        let (radius, bound) = match ball {
            WitnessBall::XStar => (r1sq, l1),
            WitnessBall::Rho => (r2sq, l2),
        };
        let bound = bound.as_ref().map_or(f64::NEG_INFINITY, f);
        if radius == 0.0 {
            continue;
        }
        // The distance bounding this ball, if `x` would raise the bound.
        let raises = |x: &[f64]| -> Option<f64> {
            let (d1, d2) = near.dists(x);
            let (mine, other, other_radius) = match ball {
                WitnessBall::XStar => (d1, d2, r2sq),
                WitnessBall::Rho => (d2, d1, r1sq),
            };
            (other >= other_radius && mine > bound).then_some(mine)
        };
        let need = |c: &&(&Cell, &BigRational, &BigRational)| match ball {
            WitnessBall::XStar => c.1.clone(),
            WitnessBall::Rho => c.2.clone(),
        };
        let mut mine: Vec<&(&Cell, &BigRational, &BigRational)> = cells
            .iter()
            .filter(|(_, d1, d2)| (d1 <= d2) == (ball == WitnessBall::XStar))
            .collect();
        mine.sort_by_cached_key(|c| std::cmp::Reverse(need(c)));
        let mut points: Vec<(f64, Vec<f64>, Proposal)> = Vec::new();
        for (cell, _, _) in mine.into_iter().take(CELLS_PER_BALL) {
            for proposal in candidates(src.ctx, cell) {
                let xf: Vec<f64> = match &proposal {
                    Proposal::Crease(c) => c.point.iter().map(|d| f64::dyadic(d, false)).collect(),
                    Proposal::Region(x, _) => x.iter().map(f).collect(),
                };
                if let Some(d) = raises(&xf) {
                    points.push((d, xf, proposal));
                }
            }
        }
        points.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut confirms = 0;
        for (_, xf, proposal) in points {
            if confirms >= CONFIRMS_PER_BALL || deadline.is_some_and(|d| Instant::now() > d) {
                break;
            }
            let (x, fails) = match proposal {
                Proposal::Crease(cand) => {
                    if !src
                        .screen
                        .crease_valley(&xf, cand.layer, cand.index, &cand.row)
                    {
                        continue;
                    }
                    let x: Vec<BigRational> = cand.point.iter().map(Dyadic::to_rational).collect();
                    if x.iter().all(Zero::is_zero)
                        || x == excluded.target
                        || found.tried.contains(&x)
                    {
                        continue;
                    }
                    confirms += 1;
                    let fails = src
                        .exact
                        .descent_derivative(&x)
                        .is_ok_and(|(d, _)| !d.is_negative());
                    (x, fails)
                }
                Proposal::Region(x, pattern) => {
                    if src.screen.strict_bits(&xf) != pattern.bits
                        || x == excluded.target
                        || found.tried.contains(&x)
                    {
                        continue;
                    }
                    confirms += 1;
                    // Stationary: vbar = 0, so D_{-vbar} f = 0 (F3).
                    let fails = (src.is_stationary)(&x, &pattern);
                    (x, fails)
                }
            };
            if fails {
                found.points.push(x);
                break;
            }
            found.tried.insert(x);
        }
    }
}

fn f(v: &BigRational) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
}

/// The centres in binary64, for ordering candidates.
struct Near {
    target: Vec<f64>,
    rho: [f64; 2],
    norm2: f64,
}

impl Near {
    fn new(e: &Excluded) -> Near {
        Near {
            target: e.target.iter().map(f).collect(),
            rho: [f(&e.rho_lo), f(&e.rho_hi)],
            norm2: f(&e.target_norm2),
        }
    }

    /// Relative squared distances to `x*` and to the nearer `-rho x*` of
    /// the enclosure's ends (about [`sharpness::bounds`]), in binary64.
    fn dists(&self, x: &[f64]) -> (f64, f64) {
        let sq = |s: f64| -> f64 {
            x.iter()
                .zip(&self.target)
                .map(|(a, t)| (a + s * t) * (a + s * t))
                .sum()
        };
        let d2 = sq(self.rho[0]).min(sq(self.rho[1]));
        (sq(-1.0) / self.norm2, d2 / self.norm2)
    }
}

/// Where a candidate comes from, with what its screen needs.
enum Proposal {
    Crease(Candidate),
    Region(Vec<BigRational>, Pattern),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: i64) -> Dyadic {
        Dyadic::from_int(v)
    }

    #[test]
    fn crease_points_lie_on_the_zero_set_near_the_projection() {
        let row = vec![
            d(3),
            Dyadic {
                num: BigInt::from(-5),
                exp: -3,
            },
            d(1),
        ];
        let v = vec![
            d(1),
            d(2),
            Dyadic {
                num: BigInt::from(7),
                exp: -2,
            },
        ];
        let x = crease_point(&row, &v).expect("nonzero row");
        assert!(dyadic_dot(&row, &x).is_zero());
        // The exact projection, to within the scale's relative error.
        let r: Vec<f64> = row
            .iter()
            .map(|a| crate::certifier::search::approx(&a.to_rational()))
            .collect();
        let vf: Vec<f64> = v
            .iter()
            .map(|a| crate::certifier::search::approx(&a.to_rational()))
            .collect();
        let rr: f64 = r.iter().map(|a| a * a).sum();
        let rv: f64 = r.iter().zip(&vf).map(|(a, b)| a * b).sum();
        for j in 0..3 {
            let want = vf[j] - rv / rr * r[j];
            let got = crate::certifier::search::approx(&x[j].to_rational());
            assert!(
                (want - got).abs() <= 1e-9 * (1.0 + want.abs()),
                "{want} vs {got}"
            );
        }
        assert!(crease_point(&[d(0), d(0)], &[d(1), d(1)]).is_none());
    }
}
