//! The sound rules of SPEC §5, each decided exactly on one cell.
//!
//! Box bounds, radii, `Q_P`, `b_P` and neuron rows are dyadic, so every bound
//! below is computed with integers over powers of two (no gcd, no rounding);
//! only region points and the excluded balls use general rationals.

use std::cell::OnceCell;
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use super::geometry::{
    dyadic_lt, linear_range, product_min, quadratic_positive, to_rationals, Cell, Excluded,
};
use super::patterns::{
    column_times_limbs, mat_vec, wide_limbs_fx, Branch, CellPatterns, Engine, Quadratic, Statuses,
};
use crate::exact::dyadic::{
    det_nonzero_mod_p, determinant, dyadic_dot, norm_up, residue, DMat, DVec, Dyadic,
};
use crate::exact::eval::Pattern;
use crate::exact::fixed::{Fx, FxN};
use crate::exact::fxmat::FxMat;
use crate::format::certificate::Ball;

/// Most patterns the Pairs rule examines on one cell (pairs grow as the square).
pub const PAIRS_LIMIT: usize = 64;
/// Most patterns the Crease rule examines on one cell.
pub const CREASE_LIMIT: usize = 16;
/// Most branches (bits of the layers before the last) the Zero rule examines
/// on one direction box.
pub const ZERO_LIMIT: usize = 1024;
/// Most branches (bits of the layers before the last) the Cone rule examines.
pub const CONE_BRANCHES: usize = 16;
/// Bits kept by the Cone rule's upper bounds (rounded up: directed rounding
/// keeps them bounds while the numbers stay short).
const CONE_BITS: u64 = 96;
/// Bits of the jump direction `nu` and offset `beta_c` of
/// `Context::pair_descends` (any values are sound; short ones are
/// reproducible by the certifier's fast tiers).
pub const PAIR_BITS: u64 = 8;

/// Test hook (`HVCERT_TEST_PAIR_NU=zero`): `Context::pair_descends` takes
/// `nu = 0`, `beta_c = 0`, so that the whole jump is bounded by `E` (the
/// tests then exercise that part of the argument alone). Sound either way.
pub fn pair_nu_zero() -> bool {
    static ZERO: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ZERO.get_or_init(|| std::env::var_os("HVCERT_TEST_PAIR_NU").is_some_and(|v| v == "zero"))
}

thread_local! {
    static NO_CROSSING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Test hook: runs `f` with `Context::crossing_descends` switched off on
/// this thread only (the rule is then weaker, so sound either way), so that
/// tests can tell the cells only it proves; `f` must not panic (the switch
/// would stay off) and the certifier's fast tiers do not read it. Nothing
/// but tests calls it.
#[doc(hidden)]
pub fn without_crossing<T>(f: impl FnOnce() -> T) -> T {
    NO_CROSSING.with(|c| c.set(true));
    let out = f();
    NO_CROSSING.with(|c| c.set(false));
    out
}

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

/// The neurons `q` turns on over `p` as (1-based layer, index), lowest layer
/// first, when `q >= p` bitwise and `q != p`; `None` otherwise.
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

/// `(a, b)` with `|<s, x> - c| <= a t + b` at every point `x = tp` of the
/// cell: the larger magnitudes of [`affine_max`] and [`affine_min`] (`a =
/// max_p |<s, p>|`, `b = |c|`; or, `at_vertices` on a bounded cell, `a = 0`
/// and `b` the largest absolute value at the vertices, tighter where `<s,
/// x>` and `c` nearly cancel).
fn affine_abs_bound(cell: &Cell, s: &[Dyadic], c: &Dyadic, at_vertices: bool) -> (Dyadic, Dyadic) {
    let ((ha, hb), (la, lb)) = if at_vertices {
        (
            affine_max(cell, s, c, at_vertices),
            affine_min(cell, s, c, at_vertices),
        )
    } else {
        // What affine_max and affine_min return without vertices, from one
        // range: the range of `<-s, p>` is minus that of `<s, p>` (the same
        // exponents, negated numerators), so the roundings are the same.
        let (lo, hi) = linear_range(s, &cell.lo, &cell.hi);
        (
            (
                hi.round_up(CONE_BITS),
                c.clone().negated().round_up(CONE_BITS),
            ),
            (
                lo.negated().round_up(CONE_BITS).negated(),
                c.round_up(CONE_BITS).negated(),
            ),
        )
    };
    (ha.abs().max(la.abs()), hb.abs().max(lb.abs()))
}

/// Per coordinate `i`, `(a_i, b_i)` of an error bound `|e_i| <= a_i t + b_i`.
type Errors = (Vec<Dyadic>, Vec<Dyadic>);

/// `(v, a, b)`: the gradient jump `w_v(x) = a_v^T r(x)` of crossing the free
/// last-layer neuron `v` is at most `a t + b` at every point `x = tp` of the
/// cell where `z_v(x) = 0`, under every consistent pattern of the branch.
type Gain = (usize, Dyadic, Dyadic);

/// Lines `(wl, wh)` in `t` with `wl(t) <= w_v(tp) <= wh(t)` on the cell, for
/// a free last-layer neuron `v` under every consistent pattern of its branch
/// that turns it on (see [`Context::cone`]).
type WLines = ((Dyadic, Dyadic), (Dyadic, Dyadic));

/// Every consistent gradient of a branch, as `g_P(tp) = h_b(tp) + m(t) +
/// e` with `|e_i| <= rad_i(t)` on the radial interval: a centre `m(t) = t
/// m_a + m_b` and a radius `rad(t) = t r_a + r_b` (nonnegative there), per
/// coordinate. Centring the terms (most of them have one sign on a cell)
/// halves the radius of a bound symmetric about `h_b`.
#[derive(Clone, Debug)]
struct Enclosure {
    mid: Errors,
    rad: Errors,
    /// The branch's reference `Q_b`, `b_b` (of `h_b`).
    reference: Arc<Quadratic>,
    /// [`CentreParts`] of the reference shifted by `mid`, and unshifted:
    /// the same for every test of the branch on the cell (an enclosure
    /// belongs to one cell), so each is computed once, on first use.
    centre: [OnceCell<CentreParts>; 2],
    /// [`row_ranges`] of the reference on the cell, computed on first use.
    ranges: OnceCell<Vec<(Dyadic, Dyadic)>>,
}

impl Enclosure {
    /// The [`CentreParts`] of the reference on the cell, shifted by `mid`
    /// or not.
    fn centre(&self, cell: &Cell, shifted: bool) -> &CentreParts {
        self.centre[usize::from(shifted)]
            .get_or_init(|| centre_parts(cell, &self.reference, shifted.then_some(&self.mid)))
    }

    /// [`row_ranges`] of the reference on the cell.
    fn ranges(&self, cell: &Cell) -> &[(Dyadic, Dyadic)] {
        self.ranges
            .get_or_init(|| row_ranges(cell, &self.reference))
    }
    /// `|g_P - h_b|_i <= |m_a,i| t + |m_b,i| + rad_i(t)`.
    fn symmetric(&self) -> Errors {
        let f = |m: &[Dyadic], r: &[Dyadic]| -> Vec<Dyadic> {
            m.iter()
                .zip(r)
                .map(|(m, r)| m.abs().add(r).round_up(CONE_BITS))
                .collect()
        };
        (f(&self.mid.0, &self.rad.0), f(&self.mid.1, &self.rad.1))
    }
}

/// See `Context::branch_terms`.
struct BranchTerms {
    free: Vec<usize>,
    r: Vec<Vec<Dyadic>>,
    zeta: Vec<Dyadic>,
    mu: Vec<Vec<Dyadic>>,
    /// Per free `u`: (least, largest, largest without `u`) of the coupling.
    coupling: Vec<(Dyadic, Dyadic, Dyadic)>,
}

/// Per row `i` of `Q`, the range of `(Q p)_i` over the cell's box.
fn row_ranges(cell: &Cell, quad: &Quadratic) -> Vec<(Dyadic, Dyadic)> {
    quad.q
        .iter()
        .map(|row| linear_range(row, &cell.lo, &cell.hi))
        .collect()
}

/// What `Context::crossing_descends` computes for one branch `p` of a cell
/// (with its enclosure and affine bounds, fixed for one `cone_with`, which
/// keeps one per branch) and uses for every branch `q` that adds neurons
/// to it: per added `v` the line of `|c_v| max(s_v, 0)`, and the lines of
/// `|r_u| |w_u|` of `p`'s free neurons.
#[derive(Default)]
struct CrossingCache {
    jumps: HashMap<usize, (Dyadic, Dyadic)>,
    lines: OnceCell<(Vec<Dyadic>, Vec<Dyadic>)>,
}

/// Per coordinate, sums of lower and upper lines `a t + b` of terms.
struct Bounds {
    lo: Vec<(Dyadic, Dyadic)>,
    hi: Vec<(Dyadic, Dyadic)>,
}

impl Bounds {
    fn new(k: usize) -> Self {
        let z = (Dyadic::zero(), Dyadic::zero());
        Bounds {
            lo: vec![z.clone(); k],
            hi: vec![z; k],
        }
    }
    /// A term of coordinate `i` lies between the lines `lo` and `hi`.
    fn add_between(&mut self, i: usize, lo: (Dyadic, Dyadic), hi: (Dyadic, Dyadic)) {
        let (l, h) = (&mut self.lo[i], &mut self.hi[i]);
        l.0 = l.0.add(&lo.0).round_down(CONE_BITS);
        l.1 = l.1.add(&lo.1).round_down(CONE_BITS);
        h.0 = h.0.add(&hi.0).round_up(CONE_BITS);
        h.1 = h.1.add(&hi.1).round_up(CONE_BITS);
    }
    /// Centre (rounded down: any centre will do) and radius (rounded up, so
    /// `rad >= hi - mid >= mid - lo`) of the sums.
    fn enclosure(self, reference: &Arc<Quadratic>) -> Enclosure {
        let (mut ma, mut mb, mut ra, mut rb) = (vec![], vec![], vec![], vec![]);
        for (l, h) in self.lo.iter().zip(&self.hi) {
            let a = l.0.add(&h.0).half().round_down(CONE_BITS);
            let b = l.1.add(&h.1).half().round_down(CONE_BITS);
            ra.push(h.0.sub(&a).round_up(CONE_BITS));
            rb.push(h.1.sub(&b).round_up(CONE_BITS));
            ma.push(a);
            mb.push(b);
        }
        Enclosure {
            mid: (ma, mb),
            rad: (ra, rb),
            reference: reference.clone(),
            centre: Default::default(),
            ranges: OnceCell::new(),
        }
    }
}

/// `a / b` rounded toward plus infinity (`up`) or minus infinity, with a
/// quotient of about 64 bits (`b > 0`).
fn div_directed(a: &Dyadic, b: &Dyadic, up: bool) -> Dyadic {
    let shift = (64 + b.num.bits() as i64 - a.num.bits() as i64).max(0);
    let n = &a.num << shift as usize;
    let mut q = &n / &b.num; // truncated toward zero
    let exact = &q * &b.num == n;
    if !exact {
        if up && !n.is_negative() {
            q += 1;
        } else if !up && n.is_negative() {
            q -= 1;
        }
    }
    Dyadic {
        num: q,
        exp: a.exp - shift - b.exp,
    }
}

/// A line `a t + b` at least `max(0, l(t))` on the cell's radial interval:
/// the chord of the convex function on a bounded one.
fn upper_max0(cell: &Cell, (a, b): &(Dyadic, Dyadic)) -> (Dyadic, Dyadic) {
    let zero = Dyadic::zero();
    let at = |t: &Dyadic| a.mul(t).add(b);
    match &cell.t_hi {
        Some(h) => {
            let (v0, v1) = (at(&cell.t_lo), at(h));
            match (v0.is_negative(), v1.is_negative()) {
                (false, false) => (a.clone(), b.clone()),
                (true, true) => (zero.clone(), zero),
                _ => {
                    let (u0, u1) = (v0.max(zero.clone()), v1.max(zero.clone()));
                    let slope = div_directed(&u1.sub(&u0), &h.sub(&cell.t_lo), true);
                    let offset = u0.sub(&slope.mul(&cell.t_lo));
                    (slope.round_up(CONE_BITS), offset.round_up(CONE_BITS))
                }
            }
        }
        None => (a.clone().max(zero.clone()), b.clone().max(zero)),
    }
}

/// A line at most `min(0, l(t))` on the radial interval.
fn lower_min0(cell: &Cell, (a, b): &(Dyadic, Dyadic)) -> (Dyadic, Dyadic) {
    let (ua, ub) = upper_max0(cell, &(a.clone().negated(), b.clone().negated()));
    (ua.negated(), ub.negated())
}

/// `(a, b)` with `<s, x> - c >= a t + b` at every point `x = tp` of the cell
/// (as [`affine_max`], from below).
fn affine_min(cell: &Cell, s: &[Dyadic], c: &Dyadic, at_vertices: bool) -> (Dyadic, Dyadic) {
    let neg: Vec<Dyadic> = s.iter().map(|v| v.clone().negated()).collect();
    let (a, b) = affine_max(cell, &neg, &c.clone().negated(), at_vertices);
    (a.negated(), b.negated())
}

/// `(a, b)` with `<s, x> - c <= a t + b` at every point `x = tp` of the cell:
/// `a = max_p <s, p>`, `b = -c`; or, `at_vertices` on a bounded cell, `a =
/// 0` and `b` the largest value at the vertices.
fn affine_max(cell: &Cell, s: &[Dyadic], c: &Dyadic, at_vertices: bool) -> (Dyadic, Dyadic) {
    match cell.vertices().filter(|_| at_vertices) {
        Some(vs) => {
            let most = vs
                .iter()
                .map(|x| dyadic_dot(s, x).sub(c))
                .max()
                .unwrap_or_else(Dyadic::zero);
            (Dyadic::zero(), most.round_up(CONE_BITS))
        }
        None => (
            linear_range(s, &cell.lo, &cell.hi).1.round_up(CONE_BITS),
            c.clone().negated().round_up(CONE_BITS),
        ),
    }
}

/// Most `k`-subsets of rows [`general_position`] examines.
const GENERAL_POSITION_SUBSETS: usize = 4096;

/// Whether every `k` of the given rows of `rows` are linearly independent
/// (nonzero integer determinants); `false` also when there are too many
/// subsets to examine.
fn general_position(rows: &FxMat, which: impl Iterator<Item = usize>, k: usize) -> bool {
    let cand_rows: Vec<Vec<BigInt>> = which.map(|j| rows.row_big(j)).collect();
    let cands: Vec<&[BigInt]> = cand_rows.iter().map(Vec::as_slice).collect();
    independent_with(&[], &cands, k)
}

/// Whether every `k` rows made of all of `fixed` and `k - fixed.len()` of
/// `cands` are linearly independent (integer rows; scaling a row by a power
/// of two changes nothing); `false` also when there are too many subsets.
pub fn independent_with(fixed: &[&[BigInt]], cands: &[&[BigInt]], k: usize) -> bool {
    let r = match k.checked_sub(fixed.len()) {
        Some(r) if r > 0 => r,
        _ => return false,
    };
    let n = cands.len();
    if n < r {
        // No such `k` rows at all.
        return true;
    }
    let mut count = 1usize;
    for i in 0..r {
        count = count.saturating_mul(n - i) / (i + 1);
    }
    if count > GENERAL_POSITION_SUBSETS {
        return false;
    }
    // Residues mod a prime first (`det_nonzero_mod_p`): a determinant
    // nonzero mod the prime is nonzero; the others are computed exactly.
    let residues = |rows: &[&[BigInt]]| -> Vec<Vec<u64>> {
        rows.iter()
            .map(|row| row.iter().map(residue).collect())
            .collect()
    };
    let (fixed_r, cands_r) = (residues(fixed), residues(cands));
    let mut idx: Vec<usize> = (0..r).collect();
    let mut buf = Vec::with_capacity(k * k);
    loop {
        buf.clear();
        for row in fixed_r.iter().chain(idx.iter().map(|&i| &cands_r[i])) {
            buf.extend_from_slice(row);
        }
        if !det_nonzero_mod_p(&mut buf, k) {
            let m: Vec<BigInt> = (fixed.iter().copied())
                .chain(idx.iter().map(|&i| cands[i]))
                .flat_map(|row| row.iter().cloned())
                .collect();
            if determinant(&m, k).is_zero() {
                return false;
            }
        }
        let Some(p) = (0..r).rev().find(|&p| idx[p] < n - r + p) else {
            return true;
        };
        idx[p] += 1;
        for q in p + 1..r {
            idx[q] = idx[q - 1] + 1;
        }
    }
}

/// About `sqrt(v)` for `v >= 0` (a weight, not a bound: any value will do).
fn sqrt_approx(v: &Dyadic) -> Dyadic {
    if !v.is_positive() {
        return Dyadic::zero();
    }
    let (mut num, mut exp) = (v.num.clone(), v.exp);
    if exp % 2 != 0 {
        num <<= 1usize;
        exp -= 1;
    }
    let shift = 2 * (64u64.saturating_sub(num.bits() / 2));
    let root = (num << shift as usize).sqrt();
    Dyadic {
        num: root,
        exp: (exp - shift as i64) / 2,
    }
    .round_up(64)
}

/// `a / b` rounded up to 64 bits (`a >= 0`, `b > 0`).
fn div_up(a: &Dyadic, b: &Dyadic) -> Dyadic {
    let shift = (64 + b.num.bits() as i64 - a.num.bits() as i64).max(0);
    let q = (&a.num << shift as usize) / &b.num + 1;
    Dyadic {
        num: q,
        exp: a.exp - shift - b.exp,
    }
    .round_up(64)
}

/// Whether `|c(t)| > delta_d(t) + sum_i sqrt(T_i(t))` on the radial
/// interval, for `c(t) = t Q p_m - b` at the box centre `p_m` (exact),
/// `delta_d(t) = t sqrt(D)` a bound of `|h(tp) - c(t)| = |t Q (p - p_m)|`,
/// and quadratics `T_i(t) = A_i t^2 + B_i t + C_i` (`terms`, upper bounds
/// of squared sizes, nonnegative on the interval); then `|h(tp)|` exceeds
/// the sum of the sizes everywhere on the cell. By Cauchy-Schwarz, `(sum_i
/// u_i)^2 <= sum_i u_i^2 / lambda_i` for any `lambda_i > 0` summing to at
/// most 1, so the rule checks one quadratic: `|c|^2 - sum_i f_i T_i > 0`
/// with `f_i >= 1 / lambda_i`. The weights `lambda_i` (proportional to the
/// sizes at a typical radius) only affect how sharp the test is. Or, since
/// format version 4, the sizes summed as lines: `sqrt(T_i(t)) <= a_i t +
/// b_i` for `t >= 0` ([`size_line`]), so `|c| > L(t) = sum_i (a_i t + b_i)
/// >= 0` follows from one quadratic, `|c|^2 - L^2 > 0` (sharper where the
/// weights fit the radius where `|c|` is least badly, e.g. the whole rays
/// `[0, inf)` whose weights come from their leading terms).
fn centre_margin(cell: &Cell, parts: &CentreParts, terms: &[[Dyadic; 3]]) -> bool {
    let zero = Dyadic::zero();
    let mut all = vec![[parts.dd.clone(), zero.clone(), zero.clone()]];
    all.extend(terms.iter().cloned());
    let plain = &parts.plain;
    if weighted_positive(cell, &all, plain) {
        return true;
    }
    // Or the sizes summed as lines: sqrt(T_i(t)) <= a_i t + b_i (t >= 0),
    // so |c| > L = sum_i (a_i t + b_i) >= 0 follows from |c|^2 - L^2 > 0.
    if let Some((la, lb)) = size_line(cell, &all) {
        let (alpha, beta, gamma) = plain;
        if quadratic_positive(
            &alpha.sub(&la.mul(&la)),
            &beta.add(&la.mul(&lb).mul(&Dyadic::from_int(2))),
            &gamma.sub(&lb.mul(&lb)),
            &cell.t_lo,
            cell.t_hi.as_ref(),
        ) {
            return true;
        }
    }
    false
}

/// The parts of [`centre_margin`] that depend only on the cell, the
/// reference `quad` and its shift: `|c(t)|^2 = alpha t^2 - beta t + gamma`
/// (exact) and `dd` with `delta_d^2 = dd t^2`.
#[derive(Clone, Debug)]
struct CentreParts {
    dd: Dyadic,
    plain: (Dyadic, Dyadic, Dyadic),
}

/// [`CentreParts`] of `quad` on the cell, its reference shifted by `shift`.
fn centre_parts(cell: &Cell, quad: &Quadratic, shift: Option<&Errors>) -> CentreParts {
    let zero = Dyadic::zero();
    let centre: Vec<Dyadic> = cell
        .lo
        .iter()
        .zip(&cell.hi)
        .map(|(l, h)| l.add(h).half())
        .collect();
    // With a shift m(t) = t m_a + m_b of the reference: c(t) = t (Q p_m +
    // m_a) - (b - m_b).
    let mut qc = mat_vec(&quad.q, &centre);
    let mut b = quad.b.clone();
    if let Some((ma, mb)) = shift {
        for i in 0..qc.len() {
            qc[i] = qc[i].add(&ma[i]);
            b[i] = b[i].sub(&mb[i]);
        }
    }
    let alpha = dyadic_dot(&qc, &qc);
    let beta = dyadic_dot(&qc, &b).mul(&Dyadic::from_int(2));
    let gamma = dyadic_dot(&b, &b);
    // delta_d^2 = t^2 sum_i (sum_j |Q[i][j]| (hi_j - lo_j) / 2)^2.
    let mut dd = zero.clone();
    for row in &quad.q {
        let mut s = zero.clone();
        for ((q, l), h) in row.iter().zip(&cell.lo).zip(&cell.hi) {
            s = s.add(&q.abs().mul(&h.sub(l)));
        }
        let s = s.half().round_up(CONE_BITS);
        dd = dd.add(&s.mul(&s));
    }
    CentreParts {
        dd,
        plain: (alpha, beta, gamma),
    }
}

/// Whether `alpha t^2 - beta t + gamma - sum_i f_i T_i(t) > 0` on the radial
/// interval, with Cauchy-Schwarz weights `f_i` (`sum_i 1 / f_i <= 1`, so the
/// quadratic bounds `|c|^2 - (sum_i sqrt(T_i))^2` from below wherever the
/// sizes are below `|c|`) proportional to the inverse sizes at a typical
/// radius: the middle of a bounded interval, the leading terms of an
/// unbounded one. Any weights are sound; they only affect sharpness.
fn weighted_positive(
    cell: &Cell,
    all: &[[Dyadic; 3]],
    (alpha, beta, gamma): &(Dyadic, Dyadic, Dyadic),
) -> bool {
    let zero = Dyadic::zero();
    let sizes: Vec<Dyadic> = all
        .iter()
        .map(|[a, b, c]| {
            let v = match &cell.t_hi {
                Some(h) => {
                    let t = cell.t_lo.add(h).half();
                    a.mul(&t).mul(&t).add(&b.mul(&t)).add(c)
                }
                None if all.iter().any(|x| x[0].is_positive()) => a.clone(),
                None => c.clone(),
            };
            sqrt_approx(&v.max(zero.clone()).round_up(64))
        })
        .collect();
    // Weights f_i = total / size_i over the terms in use, with sizes first
    // raised to a floor (a size estimated as 0 gets a small weight) and
    // `total` the sum of the raised sizes: then sum_i 1 / f_i <= 1.
    let used: Vec<usize> = (0..all.len())
        .filter(|&i| all[i].iter().any(|v| !v.is_zero()))
        .collect();
    let raw = used.iter().fold(zero.clone(), |s, &i| s.add(&sizes[i]));
    let floor = Dyadic {
        num: raw.num.clone(),
        exp: raw.exp - 30,
    };
    let raised: Vec<Dyadic> = used
        .iter()
        .map(|&i| sizes[i].clone().max(floor.clone()))
        .collect();
    let total = raised.iter().fold(zero.clone(), |s, x| s.add(x));
    let (mut alpha, mut beta, mut gamma) = (alpha.clone(), beta.clone(), gamma.clone());
    for (&i, x) in used.iter().zip(&raised) {
        let [a, b, c] = &all[i];
        let f = if raw.is_positive() {
            div_up(&total, x)
        } else {
            Dyadic::from_int(used.len() as i64)
        };
        alpha = alpha.sub(&f.mul(a));
        beta = beta.add(&f.mul(b));
        gamma = gamma.sub(&f.mul(c));
    }
    quadratic_positive(&alpha, &beta, &gamma, &cell.t_lo, cell.t_hi.as_ref())
}

/// `(a, b)`, both `>= 0`, with `sum_i sqrt(T_i(t)) <= a t + b` on the cell's
/// radial interval, for `T_i(t) = A_i t^2 + B_i t + C_i >= 0` there: per
/// term `a_i = sqrt(A_i)` and `b_i = sqrt(C_i)`, or, when `B_i > 0`, `b_i =
/// max(sqrt(C_i), B_i / (2 sqrt(A_i)))` (then `(a_i t + b_i)^2 >= T_i` for
/// `t >= 0`); a term with `A_i = 0 < B_i` is bounded by its value at
/// `t_hi` (`None` on an unbounded interval). Square roots rounded outward.
fn size_line(cell: &Cell, terms: &[[Dyadic; 3]]) -> Option<(Dyadic, Dyadic)> {
    let zero = Dyadic::zero();
    let (mut la, mut lb) = (zero.clone(), zero.clone());
    for [a, b, c] in terms {
        let c = c.clone().max(zero.clone());
        let (a_down, a_up) = sqrt_bounds(&a.clone().max(zero.clone()));
        let b_i = if !b.is_positive() {
            sqrt_bounds(&c).1
        } else if a_down.is_positive() {
            let q = div_up(b, &a_down.mul(&Dyadic::from_int(2)));
            sqrt_bounds(&c).1.max(q)
        } else {
            let h = cell.t_hi.as_ref()?;
            sqrt_bounds(&a.mul(h).mul(h).add(&b.mul(h)).add(&c).max(zero.clone())).1
        };
        la = la.add(&a_up).round_up(CONE_BITS);
        lb = lb.add(&b_i).round_up(CONE_BITS);
    }
    Some((la, lb))
}

/// `(floor, ceil)` of `sqrt(v)` to about 64 bits, for `v >= 0`.
fn sqrt_bounds(v: &Dyadic) -> (Dyadic, Dyadic) {
    if !v.is_positive() {
        return (Dyadic::zero(), Dyadic::zero());
    }
    // v = n 2^e with e even after a shift; sqrt(n 2^128) 2^((e - 128) / 2).
    let (mut n, mut e) = (v.num.clone(), v.exp);
    if e.rem_euclid(2) == 1 {
        n <<= 1usize;
        e -= 1;
    }
    let big = n << 128usize;
    let s = big.sqrt();
    let exact = &s * &s == big;
    let exp = (e - 128) / 2;
    let down = Dyadic {
        num: s.clone(),
        exp,
    };
    let up = Dyadic {
        num: if exact { s } else { s + 1 },
        exp,
    };
    (down.round_down(CONE_BITS), up.round_up(CONE_BITS))
}

/// `sum_i (a_i t + b_i)^2` as `[A, B, C]`, scaled by `factor`.
fn errors_squared(e: &Errors, factor: &Dyadic) -> [Dyadic; 3] {
    let (mut a2, mut ab, mut b2) = (Dyadic::zero(), Dyadic::zero(), Dyadic::zero());
    for (x, y) in e.0.iter().zip(&e.1) {
        a2 = a2.add(&x.mul(x));
        ab = ab.add(&x.mul(y));
        b2 = b2.add(&y.mul(y));
    }
    [
        factor.mul(&a2).round_up(CONE_BITS),
        factor
            .mul(&ab)
            .mul(&Dyadic::from_int(2))
            .round_up(CONE_BITS),
        factor.mul(&b2).round_up(CONE_BITS),
    ]
}

/// Everything a rule needs besides the cell.
pub struct Context<'a> {
    pub engine: &'a Engine<'a>,
    pub excluded: &'a Excluded,
    pub stationary: &'a [Vec<BigRational>],
}

/// `M^T a_u` (column `u` of `A`), integers only (exponents are the
/// caller's): fixed width first, `BigInt` where that does not fit.
pub fn column_times(a: &DMat, u: usize, m: &DMat) -> Vec<BigInt> {
    if let Some(v) = column_times_fixed(a, u, m) {
        return v;
    }
    let mut acc = vec![BigInt::zero(); m.cols];
    for i in 0..a.rows {
        let aiu = &a.num[i * a.cols + u];
        if aiu.is_zero() {
            continue;
        }
        for (o, mi) in acc.iter_mut().zip(m.row(i)) {
            *o += aiu * mi;
        }
    }
    acc
}

fn column_times_fixed(a: &DMat, u: usize, m: &DMat) -> Option<Vec<BigInt>> {
    let mut acc = vec![Fx::ZERO; m.cols];
    for i in 0..a.rows {
        let aiu = &a.num[i * a.cols + u];
        if aiu.is_zero() {
            continue;
        }
        let aiu = Fx::from_big(aiu)?;
        for (o, mi) in acc.iter_mut().zip(m.row(i)) {
            if !o.add_mul(&aiu, &Fx::from_big(mi)?, false) {
                return None;
            }
        }
    }
    Some(acc.iter().map(Fx::to_big).collect())
}

/// The Excluded rule's rejection of a vertex.
fn not_in_ball(x: &[BigRational]) -> String {
    format!("vertex {} is not in the open ball", vec_str(x))
}

pub(crate) fn vec_str(v: &[BigRational]) -> String {
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

    /// The consistent bits of the layers before the last, at most `limit`
    /// branches, each with the last layer's statuses (its free neurons are
    /// not enumerated); also this cell's statuses for its children.
    pub fn branches_from(
        &self,
        cell: &Cell,
        limit: usize,
        parent: Option<&Statuses>,
    ) -> (Result<Vec<Branch>, String>, Statuses) {
        let (b, st) = self.engine.branches(&cell.corner_integers(), limit, parent);
        (
            b.ok_or_else(|| {
                format!(
                    "more than {limit} choices of earlier-layer bits are consistent with the cell"
                )
            }),
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
        let Some((u, q)) = quad.region_scaled() else {
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

    /// The radial-quadratic bound for one pair (F4, F7): `(alpha_lo,
    /// beta_hi, gamma)` with `<g_P(tp), g_Q(tp)> >= alpha_lo t^2 - beta_hi t
    /// + gamma` for every `p` in the box.
    fn pair_bound(cell: &Cell, p: &Quadratic, q: &Quadratic) -> (Dyadic, Dyadic, Dyadic) {
        Self::pair_bound_with(cell, (p, &row_ranges(cell, p)), (q, &row_ranges(cell, q)))
    }

    /// [`Context::pair_bound`] with the [`row_ranges`] of both references.
    fn pair_bound_with(
        cell: &Cell,
        (p, p_ranges): (&Quadratic, &[(Dyadic, Dyadic)]),
        (q, q_ranges): (&Quadratic, &[(Dyadic, Dyadic)]),
    ) -> (Dyadic, Dyadic, Dyadic) {
        // alpha(p) = <Q_P p, Q_Q p> >= sum_i min of the product of the ranges
        // of the two linear forms (Q_P p)_i and (Q_Q p)_i over the box.
        let mut alpha_lo = Dyadic::zero();
        for ((a0, a1), (b0, b1)) in p_ranges.iter().zip(q_ranges) {
            alpha_lo = alpha_lo.add(&product_min(a0, a1, b0, b1));
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
        (alpha_lo, beta_hi, gamma)
    }

    /// The Pairs bound for one pair: positive on the radial interval.
    fn pair_positive(&self, cell: &Cell, p: &Quadratic, q: &Quadratic) -> Result<(), String> {
        let (alpha_lo, beta_hi, gamma) = Self::pair_bound(cell, p, q);
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

    /// Whether neuron `index` of layer `layer` (1-based), with its row `c_v`
    /// under the earlier bits of `bits`, is a ridge on the cell: `<c_v,
    /// g(x)> >= 0` everywhere, for `g = h + e` with `h(tp) = Q tp - b` the
    /// gradient of `quad` and `|e_i| <= a_i t + b_i` (`errors`; none: `e =
    /// 0`, so `g = g_P` of the Crease rule), `h` shifted by `t m_a + m_b`
    /// when `shift` is `(m_a, m_b)`. The lower bound `t (<Q c_v, p> + <c_v,
    /// m_a> - sum_i |c_v,i| a_i) - (<c_v, b> - <c_v, m_b> + sum_i |c_v,i|
    /// b_i)` (Q symmetric) is bilinear in `(t, p)`: the vertices decide a
    /// bounded cell; an unbounded one also needs slopes `>= 0`.
    #[allow(clippy::too_many_arguments)]
    fn ridge(
        &self,
        cell: &Cell,
        bits: &[Vec<bool>],
        quad: &Quadratic,
        shift: Option<&Errors>,
        errors: Option<&Errors>,
        layer: usize,
        index: usize,
    ) -> bool {
        let c = self
            .engine
            .layer_rows(&bits[..layer - 1])
            .row_dyadics(index);
        let u = mat_vec(&quad.q, &c);
        let (mut big_a, mut big_b) = (Dyadic::zero(), Dyadic::zero());
        if let Some((ma, mb)) = shift {
            big_a = dyadic_dot(&c, ma).negated();
            big_b = dyadic_dot(&c, mb).negated();
        }
        if let Some((a, b)) = errors {
            for ((ci, a), b) in c.iter().zip(a).zip(b) {
                big_a = big_a.add(&ci.abs().mul(a));
                big_b = big_b.add(&ci.abs().mul(b));
            }
        }
        let w = dyadic_dot(&c, &quad.b).add(&big_b);
        cell.corners().iter().all(|corner| {
            let slope = dyadic_dot(&u, corner).sub(&big_a);
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
                let Some(added) = added_neurons(&p.bits, &q.bits) else {
                    continue;
                };
                let lowest = added[0].0;
                let excused = added
                    .iter()
                    .take_while(|(l, _)| *l == lowest)
                    .any(|&(l, v)| self.ridge(cell, &p.bits, &quads[i], None, None, l, v));
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

    /// Cone (SPEC §7): within each branch (bits of the layers before the
    /// last), the gradients of all consistent patterns are bounded together
    /// as the branch's reference gradient plus per-neuron corrections, and
    /// lie in a cone narrow enough that any two have a positive inner
    /// product; the last layer's free neurons are not enumerated. Between
    /// branches the Crease rule's direction logic applies: for branches `p <
    /// q`, a neuron of the lowest layer where they differ is a ridge for all
    /// of `p`'s patterns, or the two branches together pass one of the
    /// tests below (the joint cone, the componentwise pair bound, descent
    /// across a neuron of that layer, `Context::pair_descends`, or, in a
    /// depth-2 network, descent across first-layer neurons with the
    /// gradient's exact jump, `Context::crossing_descends`).
    ///
    /// Soundness. Let `x = tp` be in the cell (`t > 0`) and `P` consistent
    /// with `x`. Its bits before the last layer are one of the `branches`
    /// `b` (SPEC §4), its last-layer bits are `b`'s fixed ones plus a set
    /// `F` of `b`'s free neurons, all with `z_u(x) = <r_u, x> >= 0` (`r_u` the
    /// rows under `b`). Let `P_b` be `b` with every free neuron off, `M_b =
    /// A Lambda_{P_b}` and `h_b(x) = Q_b x - b_b = g_{P_b}(x)`. Then `A
    /// Lambda_P = M_b + sum_{v in F} a_v r_v^T` (`a_v` column `v` of `A`),
    /// the residual is `r(x) = M_b x - y + sum_{u in F} z_u(x) a_u` (F2),
    /// and exactly
    ///   `g_P(x) = h_b(x) + sum_{u in F} z_u(x) M_b^T a_u + sum_{v in F} w_v(x) r_v`,
    ///   `w_v(x) = a_v^T r(x) = <M_b^T a_v, x> - (A^T y)_v + sum_{u in F} (a_v^T a_u) z_u(x)`,
    /// with `M_b^T a_u = sum_{j on in P_b} (a_j^T a_u) r_j` (columns of `A^T A`).
    /// With `0 <= z_u(tp) <= t zeta_u` (`zeta_u` = max of `<r_u, p>` over the
    /// box, and of 0) and lines `wl_v(t) <= w_v(tp) <= wh_v(t)`, every term
    /// lies between two lines in `t` whether or not its neuron is in `F`, so
    /// `g_P(tp) = h_b(tp) + m(t) + e_P` with `|e_P,i| <= rad_i(t)`
    /// (`Enclosure`, built by `Context::branch_enclosure`). Within a
    /// branch, with `S` the strict pattern at `x` and `P'` the F3 pattern of
    /// `-vbar` in the same branch, one of three tests suffices:
    /// - descent (`Context::branch_descends`): `P' = S + Delta`, `Delta`
    ///   free neurons with `z_v(x) = 0` and `<r_v, g_S(x)> < 0` (so no
    ///   ridge); as `z_v(x) = 0`, `A Lambda_P' x = A Lambda_S x` and `g_P' =
    ///   g_S + sum_{v in Delta} w_v(x) r_v`, hence `<g_S, g_P'> >= |g_S|^2 -
    ///   sum_{v in Delta, w_v > 0} w_v |g_S| |r_v| = |g_S| (|g_S| - J)`,
    ///   positive when `|h_b + m| - |rad| > J` (also when `Delta` is empty:
    ///   `g_S != 0`). With `A = I`, `w_v = z_v - y_v = -y_v <= 0` there;
    ///   otherwise `w_v` is bounded above on the cell without its own
    ///   coupling term (`z_v = 0`). If every `k` of the harmful neurons' rows
    ///   are independent, at most `k - 1` of them vanish at one `x != 0`.
    /// - cone (`Context::cone_positive`): `s = |h_b + m| > (1 + sqrt 2)
    ///   |rad|`, so any two patterns of the branch have `<g_P, g_Q> >= s^2 -
    ///   2 s |rad| - |rad|^2 > 0` (Cauchy-Schwarz).
    /// - componentwise (`Context::pair_with_errors`) with the symmetric
    ///   bound `|e_P,i| <= |m_i(t)| + rad_i(t)`.
    ///
    /// Norms: at the box centre `p_m`, `c(t) = t (Q p_m + m_a) - (b - m_b)`
    /// has an exact `|c(t)|^2`, and `h(tp) - t Q p_m = t Q (p - p_m)` has
    /// norm at most `delta_d`, `delta_d^2 <= t^2 sum_i (sum_j |Q[i][j]|
    /// (hi_j - lo_j) / 2)^2`; `centre_margin` checks `|c| > delta_d +
    /// sum_j sqrt(T_j)` by one quadratic in `t` (Cauchy-Schwarz weights).
    /// Otherwise `P'` adds to `S` neurons of a lowest layer `l < d`, each with
    /// `<c_v, g_S(x)> < 0` (as in the Crease rule): no ridge of `S`'s branch,
    /// so the pair's joint bound (cone or componentwise, around `p`'s
    /// reference with the shift between the references added) or the
    /// descent across one of those neurons (`Context::pair_descends`, or
    /// `Context::crossing_descends` across all of them) was checked.
    /// So `D_{-vbar} f(x) = -<g_S(x), g_P'(x)>` is negative on the whole
    /// cell (F4). Bounds are rounded outward (directed rounding of dyadics);
    /// the final quadratics are exact. With `A = I`: `M_b^T a_u = 0` for a
    /// free `u` and `w_v = z_v - y_v`.
    pub fn cone(&self, cell: &Cell, branches: &[Branch]) -> Result<BallUse, String> {
        let quads: Vec<_> = branches
            .iter()
            .map(|b| self.engine.quadratic(&b.base_pattern()))
            .collect();
        let terms: Vec<_> = branches
            .iter()
            .map(|b| self.branch_terms(cell, b))
            .collect();
        // Affine error terms bounded term by term, or (bounded cells) as a
        // whole at the vertices: either proof suffices.
        match self.cone_with(cell, branches, &quads, &terms, false) {
            Err(e) if cell.t_hi.is_some() => self
                .cone_with(cell, branches, &quads, &terms, true)
                .map_err(|_| e),
            r => r,
        }
    }

    fn cone_with(
        &self,
        cell: &Cell,
        branches: &[Branch],
        quads: &[Arc<Quadratic>],
        terms: &[BranchTerms],
        at_vertices: bool,
    ) -> Result<BallUse, String> {
        let k = cell.k();
        let (mut enclosures, mut gains, mut w_lines) = (Vec::new(), Vec::new(), Vec::new());
        for (t, quad) in terms.iter().zip(quads) {
            let (e, g, w) = self.branch_enclosure(cell, t, quad, at_vertices);
            enclosures.push(e);
            gains.push(g);
            w_lines.push(w);
        }
        let errors: Vec<Errors> = enclosures.iter().map(Enclosure::symmetric).collect();
        for (bi, ((q, e), br)) in quads.iter().zip(&errors).zip(branches).enumerate() {
            let enc = &enclosures[bi];
            let proved = self.branch_descends(cell, br, q, enc, &gains[bi])
                || Self::cone_positive(cell, enc.centre(cell, true), &enc.rad)
                || Self::pair_with_errors(cell, (q, e, enc), (q, e, enc));
            if !proved {
                return Err(format!(
                    "the gradients of branch {bi} are not proved: |h| > |e| + J, |h| > (1 + sqrt 2)|e| and the componentwise bound all fail on the radial interval"
                ));
            }
        }
        // Whether branch i has no ridge across neuron v of layer l: the same
        // (i, l, v) recurs for many j, so each is decided once.
        let mut ridges: HashMap<(usize, usize, usize), bool> = HashMap::new();
        let mut crossings: Vec<CrossingCache> =
            branches.iter().map(|_| CrossingCache::default()).collect();
        for (i, p) in branches.iter().enumerate() {
            for (j, q) in branches.iter().enumerate() {
                let Some(added) = added_neurons(&p.prefix, &q.prefix) else {
                    continue;
                };
                let lowest = added[0].0;
                let excused = added
                    .iter()
                    .take_while(|(l, _)| *l == lowest)
                    .any(|&(l, v)| {
                        *ridges.entry((i, l, v)).or_insert_with(|| {
                            self.ridge(cell, &p.prefix, &quads[i], None, Some(&errors[i]), l, v)
                        })
                    });
                if excused {
                    continue;
                }
                // Both branches' gradients around p's reference h_i.
                let cross = Self::reference_shift(cell, &quads[j], &quads[i], at_vertices);
                let mut e = errors[i].clone();
                for c in 0..k {
                    let a = errors[j].0[c].add(&cross.0[c]);
                    let b = errors[j].1[c].add(&cross.1[c]);
                    e.0[c] = e.0[c].clone().max(a);
                    e.1[c] = e.1[c].clone().max(b);
                }
                let proved = Self::cone_positive(cell, enclosures[i].centre(cell, false), &e)
                    || Self::pair_with_errors(
                        cell,
                        (&quads[i], &errors[i], &enclosures[i]),
                        (&quads[j], &errors[j], &enclosures[j]),
                    )
                    || added
                        .iter()
                        .take_while(|(l, _)| *l == lowest)
                        .any(|&(l, v)| {
                            self.pair_descends(
                                cell,
                                &p.prefix,
                                (&quads[i], &enclosures[i]),
                                (&quads[j], &enclosures[j]),
                                l,
                                v,
                                at_vertices,
                            )
                        })
                    || self.crossing_descends(
                        cell,
                        p,
                        &enclosures[i],
                        (&terms[i], &w_lines[i]),
                        &added,
                        at_vertices,
                        &mut crossings[i],
                    );
                if !proved {
                    return Err(format!(
                        "branches {i} and {j}: no ridge at layer {lowest}, and neither the joint gradient cone nor the descent across that layer is proved"
                    ));
                }
            }
        }
        Ok(BallUse::default())
    }

    /// `(a, b)` with `|(h_q - h_p)(tp)|_i <= a_i t + b_i` on the cell.
    fn reference_shift(cell: &Cell, q: &Quadratic, p: &Quadratic, at_vertices: bool) -> Errors {
        (0..q.q.len())
            .map(|i| {
                let diff: Vec<Dyadic> = q.q[i].iter().zip(&p.q[i]).map(|(x, y)| x.sub(y)).collect();
                affine_abs_bound(cell, &diff, &q.b[i].sub(&p.b[i]), at_vertices)
            })
            .unzip()
    }

    /// The `Enclosure` of the branch's gradients around `h_b` (the
    /// gradient of the branch's pattern with its free neurons off), and per
    /// free neuron `v`, its [`Gain`]. With `g_P = h_b + sum_{u in F} z_u
    /// m_u + sum_{v in F} w_v r_v` (see [`Context::cone`]), each term lies
    /// between two lines in `t` on the radial interval, whatever `F`: `z_u
    /// m_u,i` between `0` and `t zeta_u m_u,i`; `w_v r_v,i` between `0`
    /// and `r_v,i [wl_v(t), wh_v(t)]`.
    /// The parts of a branch's corrections that do not depend on how affine
    /// terms are bounded: free neurons, their rows `r_u`, `zeta_u`, and for
    /// `A != I` the vectors `m_u = M_b^T a_u` and the coupling bounds.
    fn branch_terms(&self, cell: &Cell, br: &Branch) -> BranchTerms {
        let engine = self.engine;
        let zero = Dyadic::zero();
        let rows = &br.rows;
        let free: Vec<usize> = br.free().collect();
        let r: Vec<Vec<Dyadic>> = free.iter().map(|&u| rows.row_dyadics(u)).collect();
        let zeta: Vec<Dyadic> = r
            .iter()
            .map(|ru| {
                linear_range(ru, &cell.lo, &cell.hi)
                    .1
                    .max(zero.clone())
                    .round_up(CONE_BITS)
            })
            .collect();
        let mut mu: Vec<Vec<Dyadic>> = Vec::new();
        let mut coupling = Vec::new();
        if let (Some(amat), false) = (&engine.net.a, free.is_empty()) {
            let gexp = 2 * amat.exp;
            // m_u = M_b^T a_u (= sum_{j on in P_b} (a_j^T a_u) r_j).
            let m = engine.measurement(&br.base_pattern()).expect("A != I");
            // 56-bit limbs in i128 where the entries fit (exact either way).
            let al = engine.measurement_limbs();
            let ml = al.and_then(|_| wide_limbs_fx::<4>(&m));
            for &u in &free {
                let fast = al.zip(ml.as_deref()).and_then(|(al, ml)| {
                    column_times_limbs(al, (amat.rows, amat.cols), u, ml, m.cols)
                });
                let acc = fast.unwrap_or_else(|| column_times(amat, u, m.big()));
                mu.push(
                    acc.into_iter()
                        .map(|num| Dyadic {
                            num,
                            exp: amat.exp + m.exp,
                        })
                        .collect(),
                );
                // Coupling sum_{v in F} (a_u^T a_v) z_v: its least and
                // largest values, and the largest without v = u (on the
                // crease z_u = 0).
                let g = engine.gram_column(u).expect("A != I");
                let (mut least, mut most, mut most_off) =
                    (zero.clone(), zero.clone(), zero.clone());
                for (&v, z) in free.iter().zip(&zeta) {
                    let guv = Dyadic {
                        num: g[v].clone(),
                        exp: gexp,
                    };
                    let term = guv.mul(z);
                    if term.is_negative() {
                        least = least.add(&term).round_down(CONE_BITS);
                    } else {
                        most = most.add(&term).round_up(CONE_BITS);
                        if v != u {
                            most_off = most_off.add(&term).round_up(CONE_BITS);
                        }
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
        cell: &Cell,
        terms: &BranchTerms,
        reference: &Arc<Quadratic>,
        at_vertices: bool,
    ) -> (Enclosure, Vec<Gain>, Vec<WLines>) {
        let engine = self.engine;
        let zero = Dyadic::zero();
        let mut bounds = Bounds::new(cell.k());
        let mut gains = Vec::new();
        let BranchTerms {
            free,
            r,
            zeta,
            mu,
            coupling,
        } = terms;
        // Per free v: lines with wl_v(t) <= w_v(tp) <= wh_v(t) on the cell.
        let mut w_lines: Vec<WLines> = Vec::new();
        match &engine.net.a {
            Some(_) if !free.is_empty() => {
                for (x, z) in mu.iter().zip(zeta) {
                    for (i, xi) in x.iter().enumerate() {
                        let p = z.mul(xi);
                        let (l, h) = if p.is_negative() {
                            (p, zero.clone())
                        } else {
                            (zero.clone(), p)
                        };
                        bounds.add_between(i, (l, zero.clone()), (h, zero.clone()));
                    }
                }
                for (vi, &v) in free.iter().enumerate() {
                    // w_v = <m_v, x> - (A^T y)_v + coupling.
                    let aty = engine.aty.entry(v);
                    let (la, lb) = affine_min(cell, &mu[vi], &aty, at_vertices);
                    let (ha, hb) = affine_max(cell, &mu[vi], &aty, at_vertices);
                    let (least, most, most_off) = &coupling[vi];
                    gains.push((v, ha.add(most_off).round_up(CONE_BITS), hb.clone()));
                    w_lines.push((
                        (la.add(least).round_down(CONE_BITS), lb),
                        (ha.add(most).round_up(CONE_BITS), hb),
                    ));
                }
            }
            _ => {
                // A = I: w_v = z_v - y_v, between -y_v and t zeta_v - y_v;
                // where z_v = 0, w_v = -y_v.
                for (vi, &v) in free.iter().enumerate() {
                    let y = engine.aty.entry(v).negated();
                    gains.push((v, zero.clone(), y.clone()));
                    w_lines.push(((zero.clone(), y.clone()), (zeta[vi].clone(), y)));
                }
            }
        }
        for (rv_row, (wl, wh)) in r.iter().zip(&w_lines) {
            for (i, rv) in rv_row.iter().enumerate() {
                let scale = |(a, b): &(Dyadic, Dyadic)| (rv.mul(a), rv.mul(b));
                let (l, h) = if rv.is_negative() {
                    (scale(wh), scale(wl))
                } else {
                    (scale(wl), scale(wh))
                };
                bounds.add_between(i, lower_min0(cell, &l), upper_max0(cell, &h));
            }
        }
        (bounds.enclosure(reference), gains, w_lines)
    }

    /// Whether `<g_P, g_Q> > 0` on the cell for every `P` of one branch and
    /// `Q` of another (or the same), from their references `h`, `h'` and
    /// error bounds `E_i = a_i t + b_i`, `E'_i`: `<h + e, h' + e'> >= <h, h'>
    /// - sum_i (|h_i| E'_i + |h'_i| E_i + E_i E'_i)`, with the Pairs bound for
    /// `<h, h'>` and `|h_i(tp)| <= t max_p |(Q p)_i| + |b_i|`: a quadratic
    /// in `t` (no Cauchy-Schwarz factor).
    /// `p`, `q`: each branch's reference, error bounds and enclosure (whose
    /// cached [`row_ranges`] are read).
    fn pair_with_errors(
        cell: &Cell,
        p: (&Quadratic, &Errors, &Enclosure),
        q: (&Quadratic, &Errors, &Enclosure),
    ) -> bool {
        let (p_ranges, q_ranges) = (p.2.ranges(cell), q.2.ranges(cell));
        let (alpha, beta, gamma) = Self::pair_bound_with(cell, (p.0, p_ranges), (q.0, q_ranges));
        let size = |quad: &Quadratic, ranges: &[(Dyadic, Dyadic)], i: usize| {
            let (lo, hi) = &ranges[i];
            (
                lo.abs().max(hi.abs()).round_up(CONE_BITS),
                quad.b[i].abs().round_up(CONE_BITS),
            )
        };
        // Accumulate (x t + y)(u t + w) = xu t^2 + (xw + yu) t + yw.
        let (mut c2, mut c1, mut c0) = (Dyadic::zero(), Dyadic::zero(), Dyadic::zero());
        let mut prod = |x: &Dyadic, y: &Dyadic, u: &Dyadic, w: &Dyadic| {
            c2 = c2.add(&x.mul(u));
            c1 = c1.add(&x.mul(w)).add(&y.mul(u));
            c0 = c0.add(&y.mul(w));
        };
        for i in 0..p.0.q.len() {
            let (ha, hb) = size(p.0, p_ranges, i);
            let (ka, kb) = size(q.0, q_ranges, i);
            let (ea, eb) = (&p.1 .0[i], &p.1 .1[i]);
            let (fa, fb) = (&q.1 .0[i], &q.1 .1[i]);
            prod(&ha, &hb, fa, fb);
            prod(&ka, &kb, ea, eb);
            prod(ea, eb, fa, fb);
        }
        let alpha = alpha.sub(&c2);
        let beta = beta.add(&c1);
        let gamma = gamma.sub(&c0);
        quadratic_positive(&alpha, &beta, &gamma, &cell.t_lo, cell.t_hi.as_ref())
    }

    /// Whether `|h(x)| > (1 + sqrt 2) delta_e` on the cell, by
    /// `centre_margin`, with `delta_e <= |(a t + b)|` (see
    /// [`Context::cone`]; `(1 + sqrt 2)^2 < 747/128`).
    fn cone_positive(cell: &Cell, parts: &CentreParts, e: &Errors) -> bool {
        let factor = Dyadic {
            num: BigInt::from(747),
            exp: -7,
        };
        centre_margin(cell, parts, &[errors_squared(e, &factor)])
    }

    /// Within one branch: `|h(x)| > delta_e + J` on the cell, with `J = sum_v
    /// |r_v| max(w_v, 0)` over the free last-layer neurons `v` that are not
    /// ridges (see [`Context::cone`]).
    fn branch_descends(
        &self,
        cell: &Cell,
        br: &Branch,
        quad: &Quadratic,
        enc: &Enclosure,
        gains: &[Gain],
    ) -> bool {
        let (shift, e) = (Some(&enc.mid), &enc.rad);
        let d = self.engine.net.depth();
        let zero = Dyadic::zero();
        // Per harmful neuron: (v, a, b, n) with max(w_v, 0) <= a t + b on
        // the radial interval and n >= |r_v|.
        let mut harmful = Vec::new();
        for (v, a, b) in gains {
            let at = |t: &Dyadic| a.mul(t).add(b);
            let (pa, pb) = match &cell.t_hi {
                Some(h) => {
                    let (v0, v1) = (at(&cell.t_lo), at(h));
                    if !v0.is_positive() && !v1.is_positive() {
                        continue;
                    }
                    if !v0.is_negative() && !v1.is_negative() {
                        (a.clone(), b.clone())
                    } else {
                        (a.clone().max(zero.clone()), b.clone().max(zero.clone()))
                    }
                }
                None => {
                    if !a.is_positive() && !at(&cell.t_lo).is_positive() {
                        continue;
                    }
                    (a.clone().max(zero.clone()), b.clone().max(zero.clone()))
                }
            };
            if self.ridge(cell, &br.prefix, quad, shift, Some(e), d, *v) {
                continue;
            }
            let n = norm_up(&br.rows.row_big(*v), br.rows.exp);
            harmful.push((*v, n.mul(&pa), n.mul(&pb)));
        }
        let e2 = errors_squared(e, &Dyadic::from_int(1));
        let test = |ja: &Dyadic, jb: &Dyadic| {
            let j2 = [ja.mul(ja), ja.mul(jb).mul(&Dyadic::from_int(2)), jb.mul(jb)];
            centre_margin(cell, enc.centre(cell, true), &[e2.clone(), j2])
        };
        let sum = |xs: &mut dyn Iterator<Item = Dyadic>| {
            xs.fold(zero.clone(), |s, x| s.add(&x)).round_up(CONE_BITS)
        };
        let ja = sum(&mut harmful.iter().map(|h| h.1.clone()));
        let jb = sum(&mut harmful.iter().map(|h| h.2.clone()));
        if test(&ja, &jb) {
            return true;
        }
        // At most k - 1 of the harmful neurons vanish at one point x != 0
        // when every k of their rows are linearly independent: then J is at
        // most the sum of the k - 1 largest slopes times t plus the k - 1
        // largest offsets.
        let k = cell.k();
        if harmful.len() < k || !general_position(&br.rows, harmful.iter().map(|h| h.0), k) {
            return false;
        }
        let top = |mut xs: Vec<Dyadic>| {
            xs.sort_by(|a, b| b.cmp(a));
            sum(&mut xs.into_iter().take(k - 1))
        };
        let ja = top(harmful.iter().map(|h| h.1.clone()).collect());
        let jb = top(harmful.iter().map(|h| h.2.clone()).collect());
        test(&ja, &jb)
    }

    /// Between branches `p < q` of a depth-2 network (`q` turns on the
    /// first-layer neurons `Delta1` = `added`, off in `p`): descent across
    /// them with the gradient's exact jump, without bounding the two
    /// branches' enclosures apart (see [`Context::cone`]).
    ///
    /// Soundness. Let `x` be in the cell with strict pattern `S` in branch
    /// `p`, and let the F3 pattern `P'` of `-vbar = -g_S(x)` be in branch
    /// `q`. Every `v` in `Delta1` has `z_v(x) = <c_v, x> = 0` (`c_v` row `v`
    /// of `W_1`) and is on in `P'` because `<c_v, -g_S(x)> > 0`. In the last
    /// layer `P'` adds to `S` a set `Delta2` of neurons with `z_u(x) = 0`.
    /// For a pattern `P` consistent with `x`, `Lambda_P x = G(x)` (F2), so
    /// `g_P(x) = Lambda_P^T rho` with the same `rho = A^T (A G(x) - y)` for
    /// `S` and `P'`. With `Lambda_P = D_2 W_2 D_1 W_1`:
    ///   `g_P'(x) - g_S(x) = sum_{v in Delta1} s_v c_v + sum_{u in Delta2} rho_u r_u`,
    ///   `s_v = sum_{u on in P'} (W_2)_{uv} rho_u`,
    /// `r_u` the last-layer rows under `p`'s bits (`D_1' - D_1` picks the
    /// `c_v`; `D_2' - D_2` picks the `u`). As `<g_S, c_v> < 0`,
    ///   `<g_S, g_P'> >= |g_S| (|g_S| - J)`, `J = sum_v |c_v| max(s_v, 0) +
    ///   sum_{u in Delta2} |r_u| |rho_u|`,
    /// positive when `|h_p + m_p| > |rad_p| + J` on the cell (then `|g_S| >=
    /// |h_p + m_p| - |rad_p|`, the enclosure of `p`), which `centre_margin`
    /// checks with `J` bounded by a line in `t`:
    /// - `rho_u = w_u(x)` of [`Context::cone`]. A neuron on in `P'` is on
    ///   in `p`'s statuses or free there (`z_u(x)` is the same under both
    ///   branches where every `z_v` of `Delta1` vanishes). The fixed-on part
    ///   of `s_v` is `<omega, A G(x) - y>` with `omega = A D_on (W_2)_{.v}`:
    ///   `<M_b^T omega, x> - <omega, y> + sum_{u free, on in S} <omega,
    ///   a_u> z_u(x)`, the last sum at most `t |omega| sum_u |a_u| zeta_u`
    ///   (Cauchy-Schwarz, `0 <= z_u <= t zeta_u`; `A = I`: `omega_u =
    ///   (W_2)_{uv}` on `u` fixed on, no such sum); the free part at most
    ///   `sum_{u free} max(0, (W_2)_{uv} w_u)` with `w_u` between its lines.
    /// - `Delta2` holds free neurons of `p`. If every `k` of the rows `c_v`
    ///   (`v` in `Delta1`) and `r_u` (`u` free) that contain all the `c_v`
    ///   are linearly independent, `|Delta1| + |Delta2| <= k - 1` at `x !=
    ///   0`, so the `k - 1 - |Delta1|` largest slopes and offsets of the
    ///   lines `|r_u| |w_u|` bound the sum; otherwise all of them. (`A =
    ///   I`: `w_u = z_u - y_u = -y_u` where `z_u = 0`.)
    #[allow(clippy::too_many_arguments)]
    fn crossing_descends(
        &self,
        cell: &Cell,
        p: &Branch,
        enc: &Enclosure,
        (terms, w_lines): (&BranchTerms, &[WLines]),
        added: &[(usize, usize)],
        at_vertices: bool,
        cache: &mut CrossingCache,
    ) -> bool {
        let net = self.engine.net;
        let k = cell.k();
        if net.depth() != 2 || added.is_empty() || added.len() >= k || NO_CROSSING.with(|c| c.get())
        {
            return false;
        }
        if added.iter().any(|&(l, _)| l != 1) {
            return false;
        }
        let zero = Dyadic::zero();
        let (w1, w2) = (&net.layers[0], &net.layers[1]);
        let on: Vec<usize> = (0..p.status.len())
            .filter(|&u| p.status[u] == Some(true))
            .collect();
        let on_bits: Vec<bool> = p.status.iter().map(|s| *s == Some(true)).collect();
        let clamp = |(a, b): (Dyadic, Dyadic)| (a.max(zero.clone()), b.max(zero.clone()));
        // M_b of p's base pattern, once for all added neurons (A != I).
        let m = self.engine.measurement(&p.base_pattern());
        let (mut ja, mut jb) = (zero.clone(), zero.clone());
        for &(_, v) in added {
            // `|c_v| max(s_v, 0)` as a line: the same for every branch `q`
            // that adds `v` to `p`.
            let (jva, jvb) = cache.jumps.entry(v).or_insert_with(|| {
                let w2v = |u: usize| Dyadic {
                    num: w2.num[u * w2.cols + v].clone(),
                    exp: w2.exp,
                };
                // <s, x> - c0 plus at most t * coupling from the free neurons.
                let (s_vec, c0, coupling): (Vec<Dyadic>, Dyadic, Dyadic) = match &net.a {
                    None => {
                        let rows = &p.rows;
                        // s = R^T D_on (W_2)_{.v}, c = <y, D_on (W_2)_{.v}> (the
                        // column's entries of neurons off are never read).
                        let w2_col = DVec {
                            num: (0..w2.rows)
                                .map(|u| {
                                    if on_bits[u] {
                                        w2.num[u * w2.cols + v].clone()
                                    } else {
                                        BigInt::zero()
                                    }
                                })
                                .collect(),
                            exp: w2.exp,
                        };
                        let s_num = rows.tr_mul_vec_rows(&w2_col, Some(&on_bits)).num;
                        let mut c_num = BigInt::zero();
                        for &u in &on {
                            let wu = &w2_col.num[u];
                            if !wu.is_zero() {
                                c_num += wu * &net.y.num[u];
                            }
                        }
                        (
                            s_num
                                .into_iter()
                                .map(|num| Dyadic {
                                    num,
                                    exp: w2.exp + rows.exp,
                                })
                                .collect(),
                            Dyadic {
                                num: c_num,
                                exp: w2.exp + net.y.exp,
                            },
                            zero.clone(),
                        )
                    }
                    Some(a) => {
                        // omega = A D_on (W_2)_{.v} (exponent a.exp + w2.exp).
                        let (_, omega) = &*self.engine.omega(&on_bits, v).expect("A != I");
                        let oexp = a.exp + w2.exp;
                        let m = m.as_ref().expect("A != I");
                        // s = M^T omega.
                        let omega_v = DVec {
                            num: omega.clone(),
                            exp: oexp,
                        };
                        let s_vec = m.tr_mul_vec_rows(&omega_v, None).to_dyadics();
                        let c0 = Dyadic {
                            num: omega.iter().zip(&net.y.num).map(|(o, y)| o * y).sum(),
                            exp: oexp + net.y.exp,
                        };
                        // sum_u <omega, a_u> z_u <= t |omega| sum_u |a_u| zeta_u.
                        let norms = self.engine.column_norms().expect("A != I");
                        let omega_norm = norm_up(omega, oexp);
                        let coupling = (terms.free.iter().zip(&terms.zeta))
                            .fold(zero.clone(), |s, (&u, z)| s.add(&norms[u].mul(z)))
                            .round_up(CONE_BITS);
                        (s_vec, c0, omega_norm.mul(&coupling).round_up(CONE_BITS))
                    }
                };
                let (sa, mut sb) = affine_max(cell, &s_vec, &c0, at_vertices);
                let mut sa = sa.add(&coupling).round_up(CONE_BITS);
                for (ui, &u) in terms.free.iter().enumerate() {
                    // max(0, (W_2)_{uv} w_u) <= an upper line of its larger end.
                    let c = w2v(u);
                    let ((la, lb), (ha, hb)) = &w_lines[ui];
                    let (ea, eb) = if c.is_negative() { (la, lb) } else { (ha, hb) };
                    let (ma, mb) = upper_max0(cell, &(c.mul(ea), c.mul(eb)));
                    sa = sa.add(&ma).round_up(CONE_BITS);
                    sb = sb.add(&mb).round_up(CONE_BITS);
                }
                let (sa, sb) = clamp(upper_max0(cell, &(sa, sb)));
                let cn = norm_up(w1.row(v), w1.exp);
                (cn.mul(&sa), cn.mul(&sb))
            });
            ja = ja.add(jva).round_up(CONE_BITS);
            jb = jb.add(jvb).round_up(CONE_BITS);
        }
        // Delta2: the lines |r_u| |w_u| <= |r_u| (max(|la|, |ha|) t +
        // max(|lb|, |hb|)); with A = I, w_u = -y_u exactly where z_u = 0.
        let (slopes, offsets) = cache.lines.get_or_init(|| {
            let mut slopes = Vec::new();
            let mut offsets = Vec::new();
            for (ui, &u) in terms.free.iter().enumerate() {
                let ((la, lb), (ha, hb)) = &w_lines[ui];
                let n = norm_up(&p.rows.row_big(u), p.rows.exp);
                let (wa, wb) = match &net.a {
                    None => (zero.clone(), self.engine.aty.entry(u).abs()),
                    Some(_) => (la.abs().max(ha.abs()), lb.abs().max(hb.abs())),
                };
                slopes.push(n.mul(&wa).round_up(CONE_BITS));
                offsets.push(n.mul(&wb).round_up(CONE_BITS));
            }
            (slopes, offsets)
        });
        let top = |xs: &[Dyadic], budget: usize| {
            let mut xs = xs.to_vec();
            xs.sort_by(|a, b| b.cmp(a));
            xs.into_iter()
                .take(budget)
                .fold(zero.clone(), |s, x| s.add(&x))
                .round_up(CONE_BITS)
        };
        let e2 = errors_squared(&enc.rad, &Dyadic::from_int(1));
        let test = |budget: usize| {
            let ja = ja.add(&top(slopes, budget)).round_up(CONE_BITS);
            let jb = jb.add(&top(offsets, budget)).round_up(CONE_BITS);
            let j2 = [
                ja.mul(&ja),
                ja.mul(&jb).mul(&Dyadic::from_int(2)),
                jb.mul(&jb),
            ];
            centre_margin(cell, enc.centre(cell, true), &[e2.clone(), j2])
        };
        // The k - 1 - |Delta1| largest where the rows are in general
        // position (examined only when that bound suffices), else all.
        if !test(k - 1 - added.len()) {
            return false;
        }
        let fixed: Vec<&[BigInt]> = added.iter().map(|&(_, v)| w1.row(v)).collect();
        let cand_rows: Vec<Vec<BigInt>> = terms.free.iter().map(|&u| p.rows.row_big(u)).collect();
        let cands: Vec<&[BigInt]> = cand_rows.iter().map(Vec::as_slice).collect();
        independent_with(&fixed, &cands, k) || test(cands.len())
    }

    /// Between branches `p < q` (`q` turns on neurons of a lowest layer `l <
    /// d` that are off in `p`): whether descent across neuron `index` of
    /// layer `l` is proved (see [`Context::cone`]). `(quad, enc)` are the
    /// reference and enclosure of each branch, `bits` are `p`'s.
    ///
    /// Soundness. At `x` in the cell with strict pattern `S` in branch `p`,
    /// let `P'` be the F3 pattern of `-vbar` in branch `q`. The added neuron
    /// `v` is zero at `x`, so `<c, x> = 0` for its row `c` (under the bits
    /// of the layers below `l`, which `S` shares with `p`), and it is added
    /// because `<c, -g_S(x)> > 0`. With `M = Q_q - Q_p`, `beta = b_q - b_p`
    /// and any vector `nu` and number `beta_c`, on the plane `<c, x> = 0`
    /// the jump of the references is exactly
    ///   `h_q(x) - h_p(x) = M x - beta = c s(x) + (R x - beta_r)`,
    /// `s(x) = <nu, x> - beta_c`, `R = M - c nu^T - nu c^T`, `beta_r =
    /// beta - beta_c c` (the two sides differ by `nu <c, x> = 0`). So
    /// `g_P' - g_S = c s(x) + u` with `u = (R x - beta_r) + (m_q - m_p) +
    /// e_q - e_p`, `|u_i| <= E_i = |R x - beta_r|_i + |m_q - m_p|_i +
    /// rad_p,i + rad_q,i` (enclosures of both branches, F2). As `<g_S, c> <
    /// 0`, `<g_S, c s> >= -|g_S| |c| max(s, 0)`, and
    ///   `<g_S, g_P'> >= |g_S| (|g_S| - |E| - |c| max(s, 0))`,
    /// positive when `|h_p + m_p| > |rad_p| + |E| + |c| max(s, 0)` (then
    /// `|g_S| >= |h_p + m_p| - |rad_p|`), which `centre_margin` checks on
    /// the whole cell (each term bounded by a line in `t` there). Any `nu`,
    /// `beta_c` are sound; `nu = M c / |c|^2`, `beta_c = <beta, c> / |c|^2`
    /// (rounded down to 8 bits, so the certifier's fast tiers can reproduce
    /// them) put the part of the jump that is large along `c` into `s`: for
    /// the rank-one change of the first layers' Jacobian, `R` is small.
    #[allow(clippy::too_many_arguments)]
    fn pair_descends(
        &self,
        cell: &Cell,
        bits: &[Vec<bool>],
        (quad_p, enc_p): (&Quadratic, &Enclosure),
        (quad_q, enc_q): (&Quadratic, &Enclosure),
        layer: usize,
        index: usize,
        at_vertices: bool,
    ) -> bool {
        let rows = self.engine.layer_rows(&bits[..layer - 1]);
        let c = rows.row_dyadics(index);
        let c2 = dyadic_dot(&c, &c);
        if !c2.is_positive() {
            return false;
        }
        let k = c.len();
        let m: Vec<Vec<Dyadic>> = quad_q
            .q
            .iter()
            .zip(&quad_p.q)
            .map(|(rq, rp)| rq.iter().zip(rp).map(|(x, y)| x.sub(y)).collect())
            .collect();
        let beta: Vec<Dyadic> = quad_q
            .b
            .iter()
            .zip(&quad_p.b)
            .map(|(x, y)| x.sub(y))
            .collect();
        let quotient = |a: &Dyadic| div_directed(a, &c2, false).round_down(PAIR_BITS);
        let (nu, beta_c) = if pair_nu_zero() {
            (vec![Dyadic::zero(); k], Dyadic::zero())
        } else {
            (
                mat_vec(&m, &c).iter().map(quotient).collect(),
                quotient(&dyadic_dot(&beta, &c)),
            )
        };
        let zero = Dyadic::zero();
        let (mut ea, mut eb) = (Vec::with_capacity(k), Vec::with_capacity(k));
        for i in 0..k {
            let r_row: Vec<Dyadic> = (0..k)
                .map(|j| m[i][j].sub(&c[i].mul(&nu[j])).sub(&nu[i].mul(&c[j])))
                .collect();
            let beta_r = beta[i].sub(&beta_c.mul(&c[i]));
            let (ra, rb) = affine_abs_bound(cell, &r_row, &beta_r, at_vertices);
            let da = enc_q.mid.0[i].sub(&enc_p.mid.0[i]).abs();
            let db = enc_q.mid.1[i].sub(&enc_p.mid.1[i]).abs();
            let a = ra.add(&da).add(&enc_p.rad.0[i]).add(&enc_q.rad.0[i]);
            let b = rb.add(&db).add(&enc_p.rad.1[i]).add(&enc_q.rad.1[i]);
            ea.push(a.max(zero.clone()).round_up(CONE_BITS));
            eb.push(b.max(zero.clone()).round_up(CONE_BITS));
        }
        // |c| max(s, 0) <= n (sa t + sb) on the radial interval.
        let (sa, sb) = upper_max0(cell, &affine_max(cell, &nu, &beta_c, at_vertices));
        let n = norm_up(&rows.row_big(index), rows.exp);
        let (ja, jb) = (
            n.mul(&sa).round_up(CONE_BITS),
            n.mul(&sb).round_up(CONE_BITS),
        );
        let j2 = [
            ja.mul(&ja),
            ja.mul(&jb).mul(&Dyadic::from_int(2)),
            jb.mul(&jb),
        ];
        let one = Dyadic::from_int(1);
        let terms = [
            errors_squared(&enc_p.rad, &one),
            errors_squared(&(ea, eb), &one),
            j2,
        ];
        centre_margin(cell, enc_p.centre(cell, true), &terms)
    }

    /// Excluded: a bounded cell whose every vertex lies in the open ball.
    pub fn excluded(&self, cell: &Cell, ball: Ball) -> Result<BallUse, String> {
        let vertices = cell.vertices().ok_or("the cell is unbounded")?;
        let ex = self.excluded;
        let mut uses = BallUse::default();
        // Dyadic distances (no gcd), the largest one recorded once.
        let mut worst: Option<Dyadic> = None;
        for x in &vertices {
            let Some((d1, a, b)) = ex.dyadic_dists(x) else {
                return self.excluded_rational(&vertices, ball);
            };
            let (inside, d2) = match ball {
                Ball::XStar => (dyadic_lt(&d1, &ex.r1_sq), d1),
                Ball::Rho => (
                    dyadic_lt(&a, &ex.r2_sq) && dyadic_lt(&b, &ex.r2_sq),
                    a.max(b),
                ),
            };
            if !inside {
                return Err(not_in_ball(&to_rationals(x)));
            }
            worst = Some(worst.map_or(d2.clone(), |w| w.max(d2)));
        }
        if let Some(w) = worst {
            uses.record(ball, w.to_rational() / &ex.target_norm2);
        }
        Ok(uses)
    }

    /// [`Context::excluded`] in rationals (balls whose data are not dyadic).
    fn excluded_rational(&self, vertices: &[Vec<Dyadic>], ball: Ball) -> Result<BallUse, String> {
        let ex = self.excluded;
        let mut uses = BallUse::default();
        for x in vertices {
            let x = to_rationals(x);
            let (inside, d2) = match ball {
                Ball::XStar => (ex.in_ball1(&x), ex.dist1_sq(&x)),
                Ball::Rho => {
                    let (a, b) = ex.dist2_sq_ends(&x);
                    (ex.in_ball2(&x), a.max(b))
                }
            };
            if !inside {
                return Err(not_in_ball(&x));
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
    /// every combination of bits, SPEC §4): one branch (bits of the layers
    /// before the last) at a time, its free last-layer neurons never
    /// enumerated.
    pub fn zero(&self, cell: &Cell, branches: &[Branch]) -> Result<(), String> {
        // Per prefix: (on in every pattern, on in some pattern).
        let groups: Vec<(&[Vec<bool>], LastLayer)> = branches
            .iter()
            .map(|b| {
                let always = b.status.iter().map(|s| *s == Some(true)).collect();
                let some = b.status.iter().map(|s| *s != Some(false)).collect();
                (b.prefix.as_slice(), (always, some))
            })
            .collect();
        // Positive multiples of the corners (the same factor for all).
        let corners = cell.corner_integers();
        let w = &self.engine.aty;
        let w_fx = crate::exact::fixed::fx_all(&w.num);
        let corners_fx: Option<Vec<Vec<Fx>>> = corners
            .iter()
            .map(|c| crate::exact::fixed::fx_all(c))
            .collect();
        for (prefix, (always, some)) in &groups {
            let rows = self.engine.layer_rows(prefix);
            let rows_fx = w_fx.as_ref().and_then(|_| rows.fixed());
            let always_sum = rows_fx.zip(w_fx.as_deref()).and_then(|(r, w)| {
                crate::with_fx_slice!(r, |r| zero_always_sum(r, rows.cols, w, always))
            });
            for (c, corner) in corners.iter().enumerate() {
                let fast = (|| {
                    let (r, w) = (rows_fx?, w_fx.as_deref()?);
                    let (sum, p) = (always_sum.as_deref()?, corners_fx.as_deref()?.get(c)?);
                    crate::with_fx_slice!(r, |r| zero_least_split(
                        sum, r, rows.cols, p, w, always, some
                    ))
                })();
                let positive = match fast {
                    Some(p) => p,
                    None => {
                        let mut least = BigInt::zero();
                        for j in (0..rows.rows).filter(|&j| some[j]) {
                            let dot: BigInt =
                                rows.row(j).iter().zip(corner).map(|(a, b)| a * b).sum();
                            let v = dot * &w.num[j];
                            if always[j] || v.is_negative() {
                                least += v;
                            }
                        }
                        least.is_positive()
                    }
                };
                if !positive {
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

/// [`Context::zero`]'s least `sum_j v_j` at one corner, in fixed width
/// (`rows`: the last layer's rows, `cols` entries each; `w`: `A^T y`):
/// whether it is positive (`None` when something does not fit; the caller
/// then redoes it with `BigInt`, with the same result). The same as
/// [`zero_always_sum`] followed by [`zero_least_split`].
pub fn zero_least_fixed<const L: usize>(
    rows: &[FxN<L>],
    cols: usize,
    corner: &[BigInt],
    w: &[Fx],
    always: &[bool],
    some: &[bool],
) -> Option<bool> {
    let sum = zero_always_sum(rows, cols, w, always)?;
    let corner = crate::exact::fixed::fx_all(corner)?;
    zero_least_split(&sum, rows, cols, &corner, w, always, some)
}

/// `U = sum_j w_j R[j]` over the neurons on in every pattern (`always`),
/// in fixed width: their part of `sum_j v_j` at any corner `p` is `<U, p>`
/// (`v_j = w_j <R[j], p>` is linear in `p`), so it is summed once per
/// branch rather than once per corner (most last-layer neurons of a Zero
/// cell are fixed).
pub fn zero_always_sum<const L: usize>(
    rows: &[FxN<L>],
    cols: usize,
    w: &[Fx],
    always: &[bool],
) -> Option<Vec<Fx>> {
    let mut sum = vec![Fx::ZERO; cols];
    for (j, row) in rows.chunks(cols).enumerate().filter(|&(j, _)| always[j]) {
        for (s, r) in sum.iter_mut().zip(row) {
            if !s.add_mul(r, &w[j], false) {
                return None;
            }
        }
    }
    Some(sum)
}

/// The least `sum_j v_j` at `corner` (in fixed width) from `always_sum`
/// ([`zero_always_sum`]) and the neurons on in some patterns but not all:
/// `<U, p> + sum min(0, v_j)`; whether it is positive (`None`: something
/// does not fit).
pub fn zero_least_split<const L: usize>(
    always_sum: &[Fx],
    rows: &[FxN<L>],
    cols: usize,
    corner: &[Fx],
    w: &[Fx],
    always: &[bool],
    some: &[bool],
) -> Option<bool> {
    let mut least = crate::exact::fixed::fx_dot(always_sum, corner)?;
    let free = |&(j, _): &(usize, &[FxN<L>])| some[j] && !always[j];
    for (j, row) in rows.chunks(cols).enumerate().filter(free) {
        let v = crate::exact::fixed::fx_dot(row, corner)?.checked_mul(&w[j])?;
        if v.sign() == num_bigint::Sign::Minus {
            least = least.checked_add(&v)?;
        }
    }
    Some(least.sign() == num_bigint::Sign::Plus)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::certificate::Face;

    /// `affine_abs_bound` without vertices equals the larger magnitudes of
    /// `affine_max` and `affine_min` (which it no longer calls there), on
    /// boxes and linear forms of mixed signs, sizes and exponents.
    #[test]
    fn affine_abs_bound_is_the_larger_of_max_and_min() {
        let d = |n: i64, e: i64| Dyadic {
            num: BigInt::from(n),
            exp: e,
        };
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % m
        };
        let mut checked = 0;
        for k in 2..5usize {
            for _ in 0..300 {
                let mut cell = Cell::root(
                    Face {
                        axis: next(k as u64) as usize,
                        positive: next(2) == 0,
                    },
                    k,
                );
                for _ in 0..next(6) {
                    let axis = (cell.face.axis + 1 + next(k as u64 - 1) as usize) % k;
                    let (a, b) = cell.split(axis);
                    cell = if next(2) == 0 { a } else { b };
                }
                // A power of a random 40-bit dyadic: up to 200 bits.
                let wide = |m: u64, e: u64, n: u64| {
                    let v = d(m as i64 - (1 << 39), -(e as i64));
                    let mut big = v.clone();
                    for _ in 0..n {
                        big = big.mul(&v);
                    }
                    big
                };
                let s: Vec<Dyadic> = (0..k)
                    .map(|_| wide(next(1 << 40), next(60), next(4)))
                    .collect();
                let c = wide(next(1 << 40), next(60), next(4));
                let (ha, hb) = affine_max(&cell, &s, &c, false);
                let (la, lb) = affine_min(&cell, &s, &c, false);
                let want = (ha.abs().max(la.abs()), hb.abs().max(lb.abs()));
                let got = affine_abs_bound(&cell, &s, &c, false);
                assert_eq!(
                    (&got.0.num, got.0.exp, &got.1.num, got.1.exp),
                    (&want.0.num, want.0.exp, &want.1.num, want.1.exp)
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 900);
    }
}
