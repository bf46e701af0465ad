//! The sound rules of SPEC §5, each decided exactly on one cell.
//!
//! Box bounds, radii, `Q_P`, `b_P` and neuron rows are dyadic, so every bound
//! below is computed with integers over powers of two (no gcd, no rounding);
//! only region points and the excluded balls use general rationals.

use std::collections::BTreeMap;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use super::geometry::{linear_range, product_min, quadratic_positive, Cell, Excluded};
use super::patterns::{mat_vec, CellPatterns, Engine, Quadratic, Statuses};
use crate::exact::dyadic::{dyadic_dot, Dyadic};
use crate::exact::eval::Pattern;
use crate::format::certificate::Ball;

/// Most patterns the Pairs rule examines on one cell (pairs grow as the square).
pub const PAIRS_LIMIT: usize = 64;
/// Most patterns the Crease rule examines on one cell.
pub const CREASE_LIMIT: usize = 16;
/// Most patterns the Zero rule examines on one direction box.
pub const ZERO_LIMIT: usize = 1024;

/// What a cell's proof relied on, for the sharpness check: the largest
/// squared distance, relative to `|x*|^2`, at which a ball was used.
#[derive(Clone, Debug, Default)]
pub struct BallUse {
    pub x_star: Option<BigRational>,
    pub rho: Option<BigRational>,
}

impl BallUse {
    pub fn record(&mut self, ball: Ball, d2: BigRational) {
        let slot = match ball {
            Ball::XStar => &mut self.x_star,
            Ball::Rho => &mut self.rho,
        };
        if slot.as_ref().is_none_or(|v| &d2 > v) {
            *slot = Some(d2);
        }
    }
    pub fn merge(&mut self, other: BallUse) {
        if let Some(v) = other.x_star {
            self.record(Ball::XStar, v);
        }
        if let Some(v) = other.rho {
            self.record(Ball::Rho, v);
        }
    }
}

/// Last-layer bits over a group of patterns: (on in all, on in some).
type LastLayer = (Vec<bool>, Vec<bool>);

/// Everything a rule needs besides the cell.
pub struct Context<'a> {
    pub engine: &'a Engine<'a>,
    pub excluded: &'a Excluded,
    pub stationary: &'a [Vec<BigRational>],
}

fn vec_str(v: &[BigRational]) -> String {
    let parts: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("({})", parts.join(", "))
}

impl Context<'_> {
    /// The patterns consistent with the cell, at most `limit` of them.
    pub fn patterns(&self, cell: &Cell, limit: usize) -> Result<CellPatterns, String> {
        self.patterns_from(cell, limit, None).0
    }

    /// As [`Context::patterns`], inheriting the statuses of a parent cell;
    /// also returns this cell's statuses for its children.
    pub fn patterns_from(
        &self,
        cell: &Cell,
        limit: usize,
        parent: Option<&Statuses>,
    ) -> (Result<CellPatterns, String>, Statuses) {
        let (p, st) = self.engine.patterns(&cell.corner_integers(), limit, parent);
        (
            p.ok_or_else(|| format!("more than {limit} patterns are consistent with the cell")),
            st,
        )
    }

    /// A zero of `g_P` (the region point) does no harm to (P1) on the cell
    /// when it is not in the cell, is `0`, lies in `E`, or is listed.
    fn harmless_zero(
        &self,
        quad: &Quadratic,
        what: &str,
        cell: &Cell,
        uses: &mut BallUse,
    ) -> Result<(), String> {
        let Some((u, q)) = &quad.region_scaled else {
            return Err(format!("Q_P of {what} is singular"));
        };
        if !cell.contains_scaled(u, q) || u.iter().all(|v| v.is_zero()) {
            return Ok(());
        }
        let xc = quad.region_point().expect("nonsingular");
        if self.stationary.iter().any(|s| s == xc) {
            return Ok(());
        }
        let ex = self.excluded;
        if ex.in_ball1(xc) {
            uses.record(Ball::XStar, ex.dist1_sq(xc) / &ex.target_norm2);
            return Ok(());
        }
        if ex.in_ball2(xc) {
            let (a, b) = ex.dist2_sq_ends(xc);
            uses.record(Ball::Rho, a.max(b) / &ex.target_norm2);
            return Ok(());
        }
        Err(format!(
            "region point x_c = {} lies in the cell and outside E",
            vec_str(xc)
        ))
    }

    /// Region: one pattern on the cell, `Q_P` nonsingular, `x_c` harmless (F5).
    pub fn region(&self, cell: &Cell, pats: &CellPatterns) -> Result<BallUse, String> {
        if let Some(f) = pats.free.first() {
            return Err(format!(
                "neuron L{}#{} is free on the cell",
                f.layer, f.index
            ));
        }
        let quad = self.engine.quadratic(&pats.patterns[0]);
        let mut uses = BallUse::default();
        self.harmless_zero(&quad, "the pattern", cell, &mut uses)?;
        Ok(uses)
    }

    /// The radial-quadratic bound for one pair (F4, F7): a lower bound of
    /// `<g_P(tp), g_Q(tp)>` over the box, positive on the radial interval.
    fn pair_positive(&self, cell: &Cell, p: &Quadratic, q: &Quadratic) -> Result<(), String> {
        // alpha(p) = <Q_P p, Q_Q p> >= sum_i min of the product of the ranges
        // of the two linear forms (Q_P p)_i and (Q_Q p)_i over the box.
        let mut alpha_lo = Dyadic::zero();
        for (rp, rq) in p.q.iter().zip(&q.q) {
            let (a0, a1) = linear_range(rp, &cell.lo, &cell.hi);
            let (b0, b1) = linear_range(rq, &cell.lo, &cell.hi);
            alpha_lo = alpha_lo.add(&product_min(&a0, &a1, &b0, &b1));
        }
        // beta(p) = <Q_P p, b_Q> + <b_P, Q_Q p> = <Q_P b_Q + Q_Q b_P, p>
        // (Q symmetric): linear, so its maximum is exact.
        let c: Vec<Dyadic> = mat_vec(&p.q, &q.b)
            .into_iter()
            .zip(mat_vec(&q.q, &p.b))
            .map(|(x, y)| x.add(&y))
            .collect();
        let (_, beta_hi) = linear_range(&c, &cell.lo, &cell.hi);
        let gamma = dyadic_dot(&p.b, &q.b);
        if quadratic_positive(&alpha_lo, &beta_hi, &gamma, &cell.t_lo, cell.t_hi.as_ref()) {
            Ok(())
        } else {
            Err(format!(
                "alpha_lo t^2 - beta_hi t + gamma is not > 0 on the radial interval (alpha_lo = {}, beta_hi = {}, gamma = {})",
                alpha_lo.to_rational(),
                beta_hi.to_rational(),
                gamma.to_rational()
            ))
        }
    }

    /// Pairs: every pair of consistent patterns passes the radial bound.
    pub fn pairs(&self, cell: &Cell, pats: &CellPatterns) -> Result<BallUse, String> {
        let quads: Vec<_> = pats
            .patterns
            .iter()
            .map(|p| self.engine.quadratic(p))
            .collect();
        for i in 0..quads.len() {
            for j in i..quads.len() {
                self.pair_positive(cell, &quads[i], &quads[j])
                    .map_err(|e| {
                        format!(
                            "patterns {} and {}: {e}",
                            pats.patterns[i], pats.patterns[j]
                        )
                    })?;
            }
        }
        Ok(BallUse::default())
    }

    /// Whether free neuron `v` (layer `layer`, 1-based) is a ridge for `P` on
    /// the cell: `h(x) = <c_v, g_P(x)> >= 0` everywhere, with `c_v` its row
    /// under `P`'s bits. `h(tp) = t <Q_P c_v, p> - <c_v, b_P>` (Q symmetric)
    /// is affine in `x`: the vertices decide a bounded cell; an unbounded one
    /// also needs slopes `>= 0`.
    fn ridge(
        &self,
        cell: &Cell,
        p: &Pattern,
        quad: &Quadratic,
        layer: usize,
        index: usize,
    ) -> bool {
        let rows = self.engine.layer_rows(&p.bits[..layer - 1]);
        let c: Vec<Dyadic> = rows
            .row(index)
            .iter()
            .map(|n| Dyadic {
                num: n.clone(),
                exp: rows.exp,
            })
            .collect();
        let u = mat_vec(&quad.q, &c);
        let w = dyadic_dot(&c, &quad.b);
        cell.corners().iter().all(|corner| {
            let slope = dyadic_dot(&u, corner);
            !slope.mul(&cell.t_lo).sub(&w).is_negative()
                && match &cell.t_hi {
                    Some(t) => !slope.mul(t).sub(&w).is_negative(),
                    None => !slope.is_negative(),
                }
        })
    }

    /// Crease (SPEC §5, with the direction logic extended to several free
    /// neurons): every consistent pattern's region point is harmless, and
    /// for every pair `P < Q` (`Q` turns on free neurons that are off in
    /// `P`) either a neuron of the lowest layer where they differ is a ridge
    /// for `P`, or the Pairs bound holds for `(P, Q)`.
    ///
    /// Soundness: at `x` with strict pattern `S`, `vbar = g_S(x)` and the F3
    /// pattern `P'` of `-vbar` is `S` plus zero neurons whose directional
    /// pre-activation is positive. If `P' = S`, `D = -|g_S|^2 < 0` (`g_S(x)
    /// != 0` outside `E`). Otherwise the added neurons of the lowest layer
    /// share `S`'s earlier bits, so each has `<c_v, -g_S(x)> > 0`: none is a
    /// ridge for `S`, and the pair bound gives `D = -<g_S, g_P'> < 0`.
    pub fn crease(&self, cell: &Cell, pats: &CellPatterns) -> Result<BallUse, String> {
        if pats.free.is_empty() {
            return Err("no free neuron on the cell (a Region cell)".into());
        }
        if pats.patterns.len() > CREASE_LIMIT {
            return Err(format!("more than {CREASE_LIMIT} patterns on the cell"));
        }
        let quads: Vec<_> = pats
            .patterns
            .iter()
            .map(|p| self.engine.quadratic(p))
            .collect();
        let mut uses = BallUse::default();
        for (p, q) in pats.patterns.iter().zip(&quads) {
            self.harmless_zero(q, &format!("pattern {p}"), cell, &mut uses)?;
        }
        for (i, p) in pats.patterns.iter().enumerate() {
            for (j, q) in pats.patterns.iter().enumerate() {
                // The neurons Q adds to P, if Q >= P bitwise and Q != P.
                let mut added = Vec::new();
                let mut comparable = true;
                for (l, (bp, bq)) in p.bits.iter().zip(&q.bits).enumerate() {
                    for (v, (&x, &y)) in bp.iter().zip(bq).enumerate() {
                        match (x, y) {
                            (true, false) => comparable = false,
                            (false, true) => added.push((l + 1, v)),
                            _ => {}
                        }
                    }
                }
                if i == j || !comparable || added.is_empty() {
                    continue;
                }
                let lowest = added[0].0;
                let excused = added
                    .iter()
                    .take_while(|(l, _)| *l == lowest)
                    .any(|&(l, v)| self.ridge(cell, p, &quads[i], l, v));
                if !excused {
                    self.pair_positive(cell, &quads[i], &quads[j]).map_err(|e| {
                        format!(
                            "a valley between {p} and {q} (no ridge at layer {lowest}) and the pair bound fails: {e}"
                        )
                    })?;
                }
            }
        }
        Ok(uses)
    }

    /// Excluded: a bounded cell whose every vertex lies in the open ball.
    pub fn excluded(&self, cell: &Cell, ball: Ball) -> Result<BallUse, String> {
        let vertices = cell.rational_vertices().ok_or("the cell is unbounded")?;
        let ex = self.excluded;
        let mut uses = BallUse::default();
        for x in &vertices {
            let (inside, d2) = match ball {
                Ball::XStar => (ex.in_ball1(x), ex.dist1_sq(x)),
                Ball::Rho => {
                    let (a, b) = ex.dist2_sq_ends(x);
                    (ex.in_ball2(x), a.max(b))
                }
            };
            if !inside {
                return Err(format!("vertex {} is not in the open ball", vec_str(x)));
            }
            uses.record(ball, d2 / &ex.target_norm2);
        }
        Ok(uses)
    }

    /// Zero (P2): `<p_v, b_P> > 0` at every corner for every consistent `P`
    /// (F6: `D_w f(0) = -<w, b_P>`). With `b_P = R_d^T D_d (A^T y)`, the
    /// last layer's bits enter linearly: over the patterns that share the
    /// bits of layers `< d`, the least `<p, b_P>` is the sum of
    /// `v_j = (A^T y)_j <R_d[j], p>` over neurons on in all of them, plus
    /// `min(0, v_j)` over the others that are on in some (free ones take
    /// every combination of bits, SPEC §4).
    pub fn zero(&self, cell: &Cell, pats: &CellPatterns) -> Result<(), String> {
        let d = self.engine.net.depth();
        // Per prefix: (on in every pattern, on in some pattern).
        let mut groups: BTreeMap<&[Vec<bool>], LastLayer> = BTreeMap::new();
        for p in &pats.patterns {
            let last = &p.bits[d - 1];
            let e = groups
                .entry(&p.bits[..d - 1])
                .or_insert_with(|| (last.clone(), last.clone()));
            for (j, &bit) in last.iter().enumerate() {
                e.0[j] &= bit;
                e.1[j] |= bit;
            }
        }
        // Positive multiples of the corners (the same factor for all).
        let corners = cell.corner_integers();
        let w = &self.engine.aty;
        for (prefix, (always, some)) in &groups {
            let rows = self.engine.layer_rows(prefix);
            for (c, corner) in corners.iter().enumerate() {
                let mut least = BigInt::zero();
                for j in (0..rows.rows).filter(|&j| some[j]) {
                    let dot: BigInt = rows.row(j).iter().zip(corner).map(|(a, b)| a * b).sum();
                    let v = dot * &w.num[j];
                    if always[j] || v.is_negative() {
                        least += v;
                    }
                }
                if !least.is_positive() {
                    let p = &cell.corners()[c];
                    let p: Vec<BigRational> = p.iter().map(Dyadic::to_rational).collect();
                    return Err(format!(
                        "<p_v, b_P> <= 0 at corner {} for a pattern with layers < d = {}",
                        vec_str(&p),
                        Pattern {
                            bits: prefix.to_vec()
                        }
                    ));
                }
            }
        }
        Ok(())
    }
}
