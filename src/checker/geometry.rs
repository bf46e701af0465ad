//! Cells (SPEC §4) and the exact geometric tests on them.
//!
//! A cell is a face `(a, s)` of the cube, a box of dyadic intervals in the
//! other coordinates, and a radial interval `[t_lo, t_hi]` (`t_hi` possibly
//! infinite). Its points are `t p` with `p` in the box on the face and `t` in
//! the interval; for such points `t = ||x||_inf`. Affine functions of `x` take
//! their extremes on a bounded cell at the vertices `t_lo p_v`, `t_hi p_v`.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::Zero;

use crate::exact::dyadic::{f64_to_rational, Dyadic};
use crate::format::certificate::{Claim, Face};
use crate::format::network::Network;

#[derive(Clone, Debug)]
pub struct Cell {
    pub face: Face,
    /// Box bounds per coordinate; at the face axis both are `s`.
    pub lo: Vec<Dyadic>,
    pub hi: Vec<Dyadic>,
    pub t_lo: Dyadic,
    /// `None` for an unbounded cell.
    pub t_hi: Option<Dyadic>,
}

pub fn rat(n: i64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

pub fn dot(a: &[BigRational], b: &[BigRational]) -> BigRational {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn norm2(a: &[BigRational]) -> BigRational {
    dot(a, a)
}

fn sub(a: &[BigRational], b: &[BigRational]) -> Vec<BigRational> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

/// A dyadic vector as rationals.
pub fn to_rationals(v: &[Dyadic]) -> Vec<BigRational> {
    v.iter().map(Dyadic::to_rational).collect()
}

impl Cell {
    /// The whole cone over face `face` with every radius.
    pub fn root(face: Face, k: usize) -> Cell {
        let s = Dyadic::from_int(if face.positive { 1 } else { -1 });
        let mut lo = vec![Dyadic::from_int(-1); k];
        let mut hi = vec![Dyadic::from_int(1); k];
        lo[face.axis] = s.clone();
        hi[face.axis] = s;
        Cell {
            face,
            lo,
            hi,
            t_lo: Dyadic::zero(),
            t_hi: None,
        }
    }

    /// The part of face `face` named by `path` (`cover.faces[].path` of a
    /// shard certificate): starting from the whole face, each step halves
    /// the box along its widest side ([`Cell::widest`]: the last of equal
    /// widest coordinates), `0` keeping the lower half and `1` the upper.
    /// Every radius, like the root. `None` for `k = 1` and a nonempty path
    /// (a face of the 1-cube has no side to halve).
    pub fn part(face: Face, k: usize, path: &str) -> Option<Cell> {
        let mut cell = Cell::root(face, k);
        for step in path.bytes() {
            let (axis, _) = cell.widest()?;
            let (lo, hi) = cell.split(axis);
            cell = if step == b'0' { lo } else { hi };
        }
        Some(cell)
    }

    /// Halves the box in coordinate `axis`.
    pub fn split(&self, axis: usize) -> (Cell, Cell) {
        let mid = self.lo[axis].add(&self.hi[axis]).half();
        let mut a = self.clone();
        let mut b = self.clone();
        a.hi[axis] = mid.clone();
        b.lo[axis] = mid;
        (a, b)
    }

    /// Cuts the radial interval at `at`, which must lie strictly inside it.
    pub fn split_radial(&self, at: &Dyadic) -> Option<(Cell, Cell)> {
        let inside = at > &self.t_lo && self.t_hi.as_ref().is_none_or(|h| at < h);
        if !inside {
            return None;
        }
        let mut a = self.clone();
        let mut b = self.clone();
        a.t_hi = Some(at.clone());
        b.t_lo = at.clone();
        Some((a, b))
    }

    pub fn k(&self) -> usize {
        self.lo.len()
    }

    /// The widest box side and its coordinate (`None` for `k = 1`).
    pub fn widest(&self) -> Option<(usize, Dyadic)> {
        (0..self.k())
            .filter(|&j| j != self.face.axis)
            .map(|j| (j, self.hi[j].sub(&self.lo[j])))
            .max_by(|a, b| a.1.cmp(&b.1))
    }

    /// The `2^(k-1)` corners `p_v` of the direction box.
    pub fn corners(&self) -> Vec<Vec<Dyadic>> {
        let k = self.k();
        let free: Vec<usize> = (0..k).filter(|&j| j != self.face.axis).collect();
        (0..1usize << free.len())
            .map(|mask| {
                let mut p = self.lo.clone();
                for (b, &j) in free.iter().enumerate() {
                    if mask >> b & 1 == 1 {
                        p[j] = self.hi[j].clone();
                    }
                }
                p
            })
            .collect()
    }

    /// The corners as integer vectors (each a positive multiple of its
    /// corner, `2^-e p_v`), for exact sign tests of linear forms.
    pub fn corner_integers(&self) -> Vec<Vec<BigInt>> {
        let e = self
            .lo
            .iter()
            .chain(&self.hi)
            .map(|v| v.exp)
            .min()
            .unwrap_or(0);
        self.corners()
            .iter()
            .map(|p| p.iter().map(|v| &v.num << (v.exp - e) as usize).collect())
            .collect()
    }

    /// The vertices `t_lo p_v` and `t_hi p_v`; `None` when unbounded.
    pub fn vertices(&self) -> Option<Vec<Vec<Dyadic>>> {
        let t_hi = self.t_hi.as_ref()?;
        let mut out = Vec::new();
        for p in self.corners() {
            for t in [&self.t_lo, t_hi] {
                out.push(p.iter().map(|v| v.mul(t)).collect());
            }
        }
        Some(out)
    }

    /// The vertices as rationals; `None` when unbounded.
    pub fn rational_vertices(&self) -> Option<Vec<Vec<BigRational>>> {
        Some(self.vertices()?.iter().map(|v| to_rationals(v)).collect())
    }

    /// Whether `u / q` (`q > 0`) is a point of the cell (closed), in
    /// integer arithmetic: `t = s u_a / q`, `t_lo q <= s u_a <= t_hi q`, and
    /// `lo_j s u_a <= u_j <= hi_j s u_a`.
    pub fn contains_scaled(&self, u: &[BigInt], q: &BigInt) -> bool {
        let a = self.face.axis;
        let int = |v: &BigInt| Dyadic {
            num: v.clone(),
            exp: 0,
        };
        let su = int(&if self.face.positive {
            u[a].clone()
        } else {
            -u[a].clone()
        });
        if su.is_zero() {
            return self.t_lo.is_zero() && u.iter().all(|v| v.is_zero());
        }
        let qd = int(q);
        if su.is_negative()
            || su < self.t_lo.mul(&qd)
            || self.t_hi.as_ref().is_some_and(|h| su > h.mul(&qd))
        {
            return false;
        }
        (0..self.k())
            .filter(|&j| j != a)
            .all(|j| int(&u[j]) >= self.lo[j].mul(&su) && int(&u[j]) <= self.hi[j].mul(&su))
    }

    /// Whether `x` is a point of the cell (closed): `x = u / q` and
    /// [`Cell::contains_scaled`].
    pub fn contains(&self, x: &[BigRational]) -> bool {
        let (u, q) = crate::exact::eval::split_point(x);
        self.contains_scaled(&u.num, &q)
    }

    /// A short human description: face, box and radial interval.
    pub fn describe(&self) -> String {
        let coords: Vec<String> = (0..self.k())
            .filter(|&j| j != self.face.axis)
            .map(|j| {
                format!(
                    "p{}∈[{}, {}]",
                    j + 1,
                    self.lo[j].to_rational(),
                    self.hi[j].to_rational()
                )
            })
            .collect();
        let t_hi = self
            .t_hi
            .as_ref()
            .map_or("inf".to_string(), |t| t.to_rational().to_string());
        let mut parts = vec![format!("face {}", self.face)];
        parts.extend(coords);
        parts.push(format!("t∈[{}, {}]", self.t_lo.to_rational(), t_hi));
        parts.join(", ")
    }
}

/// The excluded set `E`: two open balls, radii relative to `|x*|`, the second
/// centred at `-rho x*` for every `rho` in `[rho_lo, rho_hi]`.
#[derive(Clone, Debug)]
pub struct Excluded {
    pub target: Vec<BigRational>,
    pub target_norm2: BigRational,
    pub r1_sq: BigRational,
    pub r2_sq: BigRational,
    pub rho_lo: BigRational,
    pub rho_hi: BigRational,
    /// `x*`, `rho_lo`, `rho_hi` as dyadics when all are (always for a
    /// network's binary64 `x*` and the dyadic enclosure of `rho_d`): then
    /// distances at dyadic points need no gcd ([`Excluded::dyadic_dists`]).
    dyadic: Option<(Vec<Dyadic>, Dyadic, Dyadic)>,
}

/// `d < r`, exactly, without reducing a fraction.
pub fn dyadic_lt(d: &Dyadic, r: &BigRational) -> bool {
    // d = n 2^e, r = p / q with q > 0: compare n q 2^e with p.
    let lhs = d.num.clone() * r.denom();
    if d.exp >= 0 {
        (lhs << d.exp as usize) < *r.numer()
    } else {
        lhs < (r.numer().clone() << (-d.exp) as usize)
    }
}

impl Excluded {
    pub fn new(
        target: Vec<BigRational>,
        eps1: &BigRational,
        eps2: &BigRational,
        rho_lo: BigRational,
        rho_hi: BigRational,
    ) -> Self {
        let n2 = norm2(&target);
        let dyadic = target
            .iter()
            .map(Dyadic::from_rational)
            .collect::<Option<Vec<_>>>()
            .zip(Dyadic::from_rational(&rho_lo))
            .zip(Dyadic::from_rational(&rho_hi))
            .map(|((t, a), b)| (t, a, b));
        Excluded {
            dyadic,
            r1_sq: eps1 * eps1 * &n2,
            r2_sq: eps2 * eps2 * &n2,
            target_norm2: n2,
            target,
            rho_lo,
            rho_hi,
        }
    }

    /// The claim's `E` for this network (`x*` from the network file, which
    /// a validated network holds as finite binary64 values).
    pub fn of_claim(net: &Network, claim: &Claim) -> Self {
        let target: Vec<BigRational> = net
            .target
            .iter()
            .map(|&v| f64_to_rational(v).expect("a validated network is finite"))
            .collect();
        Excluded::new(
            target,
            &claim.eps_x_star,
            &claim.eps_rho,
            claim.rho_lo.clone(),
            claim.rho_hi.clone(),
        )
    }

    /// At a dyadic point `x`: `||x - x*||^2` and `||x + rho x*||^2` at
    /// `rho = rho_lo` and at `rho = rho_hi`, exactly as dyadics (`None`
    /// when the balls' data are not dyadic).
    pub fn dyadic_dists(&self, x: &[Dyadic]) -> Option<(Dyadic, Dyadic, Dyadic)> {
        let (target, lo, hi) = self.dyadic.as_ref()?;
        let sq = |f: &dyn Fn(&Dyadic, &Dyadic) -> Dyadic| {
            x.iter().zip(target).fold(Dyadic::zero(), |s, (xi, ti)| {
                let v = f(xi, ti);
                s.add(&v.mul(&v))
            })
        };
        Some((
            sq(&|xi, ti| xi.sub(ti)),
            sq(&|xi, ti| xi.add(&lo.mul(ti))),
            sq(&|xi, ti| xi.add(&hi.mul(ti))),
        ))
    }

    /// `||x - x*||^2`.
    pub fn dist1_sq(&self, x: &[BigRational]) -> BigRational {
        norm2(&sub(x, &self.target))
    }

    /// `||x + rho x*||^2` at `rho = rho_lo` and at `rho = rho_hi`.
    pub fn dist2_sq_ends(&self, x: &[BigRational]) -> (BigRational, BigRational) {
        let at = |rho: &BigRational| -> BigRational {
            x.iter()
                .zip(&self.target)
                .map(|(xi, ti)| {
                    let v = xi + rho * ti;
                    &v * &v
                })
                .sum()
        };
        (at(&self.rho_lo), at(&self.rho_hi))
    }

    /// `x` in the open ball around `x*`.
    pub fn in_ball1(&self, x: &[BigRational]) -> bool {
        self.dist1_sq(x) < self.r1_sq
    }

    /// `x` in the open ball around `-rho_d x*`, whatever `rho_d` is in the
    /// enclosure: the squared distance is convex in `rho`, so both ends suffice.
    pub fn in_ball2(&self, x: &[BigRational]) -> bool {
        let (a, b) = self.dist2_sq_ends(x);
        a < self.r2_sq && b < self.r2_sq
    }

    pub fn contains(&self, x: &[BigRational]) -> bool {
        self.in_ball1(x) || self.in_ball2(x)
    }

    /// The least `||x + rho x*||^2` over `rho` in the enclosure (a convex
    /// quadratic in `rho`).
    pub fn min_dist2_sq(&self, x: &[BigRational]) -> BigRational {
        // ||x + rho t||^2 = |x|^2 + 2 rho <x,t> + rho^2 |t|^2, minimal at
        // rho* = -<x,t>/|t|^2, clamped to the enclosure.
        let xt = dot(x, &self.target);
        let mut rho = -xt / &self.target_norm2;
        if rho < self.rho_lo {
            rho = self.rho_lo.clone();
        }
        if rho > self.rho_hi {
            rho = self.rho_hi.clone();
        }
        x.iter()
            .zip(&self.target)
            .map(|(xi, ti)| {
                let v = xi + &rho * ti;
                &v * &v
            })
            .sum()
    }

    /// `x` outside `E` for every `rho` in the enclosure: outside the first
    /// ball, and the least distance to `-rho x*` at least `r2`.
    pub fn surely_outside(&self, x: &[BigRational]) -> bool {
        self.dist1_sq(x) >= self.r1_sq && self.min_dist2_sq(x) >= self.r2_sq
    }
}

/// Whether `alpha t^2 - beta t + gamma > 0` for every `t` in `[t_lo, t_hi]`
/// (`t_hi = None`: `[t_lo, inf)`). No division: the interior minimum of a
/// convex `q` is at `t* = beta / (2 alpha)`, where `q(t*) > 0` iff
/// `4 alpha gamma - beta^2 > 0`.
pub fn quadratic_positive(
    alpha: &Dyadic,
    beta: &Dyadic,
    gamma: &Dyadic,
    t_lo: &Dyadic,
    t_hi: Option<&Dyadic>,
) -> bool {
    let q = |t: &Dyadic| alpha.mul(t).mul(t).sub(&beta.mul(t)).add(gamma);
    if !q(t_lo).is_positive() {
        return false;
    }
    match t_hi {
        None => {
            if alpha.is_negative() || (alpha.is_zero() && beta.is_positive()) {
                return false; // tends to -inf
            }
        }
        Some(h) => {
            if !q(h).is_positive() {
                return false;
            }
        }
    }
    if alpha.is_positive() {
        let two_alpha = alpha.add(alpha);
        let interior = beta > &two_alpha.mul(t_lo) && t_hi.is_none_or(|h| beta < &two_alpha.mul(h));
        let four_ag = two_alpha.add(&two_alpha).mul(gamma);
        if interior && !four_ag.sub(&beta.mul(beta)).is_positive() {
            return false;
        }
    }
    true
}

/// The interval `[min, max]` of the linear form `c . p` over the box (`lo
/// <= hi` componentwise, as in every cell).
pub fn linear_range(c: &[Dyadic], lo: &[Dyadic], hi: &[Dyadic]) -> (Dyadic, Dyadic) {
    let mut min = Dyadic::zero();
    let mut max = Dyadic::zero();
    for ((ci, l), h) in c.iter().zip(lo).zip(hi) {
        let (a, b) = (ci.mul(l), ci.mul(h));
        // `l <= h`, so `c l <= c h` exactly when `c >= 0`.
        if !ci.is_negative() {
            min = min.add(&a);
            max = max.add(&b);
        } else {
            min = min.add(&b);
            max = max.add(&a);
        }
    }
    (min, max)
}

/// The smallest product of a value in `[a0, a1]` and one in `[b0, b1]`.
pub fn product_min(a0: &Dyadic, a1: &Dyadic, b0: &Dyadic, b1: &Dyadic) -> Dyadic {
    [a0.mul(b0), a0.mul(b1), a1.mul(b0), a1.mul(b1)]
        .into_iter()
        .min()
        .expect("four products")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: i64) -> Dyadic {
        Dyadic::from_int(n)
    }
    fn h(n: i64, e: i64) -> Dyadic {
        Dyadic {
            num: BigInt::from(n),
            exp: -e,
        }
    }

    #[test]
    fn quadratic_positivity() {
        // (t - 1)^2 = t^2 - 2t + 1 touches zero at t = 1.
        assert!(!quadratic_positive(&d(1), &d(2), &d(1), &d(0), None));
        assert!(quadratic_positive(&d(1), &d(2), &d(1), &h(3, 1), None));
        assert!(quadratic_positive(
            &d(1),
            &d(2),
            &d(1),
            &d(0),
            Some(&h(1, 1))
        ));
        // t^2 - 2t + 2 > 0 everywhere.
        assert!(quadratic_positive(&d(1), &d(2), &d(2), &d(0), None));
        // Concave: positive on [0, 1] but not beyond.
        assert!(quadratic_positive(&d(-1), &d(0), &d(2), &d(0), Some(&d(1))));
        assert!(!quadratic_positive(&d(-1), &d(0), &d(2), &d(0), None));
        // Linear with negative slope fails at infinity.
        assert!(!quadratic_positive(&d(0), &d(1), &d(5), &d(0), None));
        assert!(quadratic_positive(&d(0), &d(-1), &d(5), &d(0), None));
    }

    #[test]
    fn cells_split_and_contain() {
        let face = Face {
            axis: 0,
            positive: false,
        };
        let root = Cell::root(face, 2);
        let (a, b) = root.split(1);
        assert_eq!(a.hi[1], d(0));
        assert_eq!(b.lo[1], d(0));
        let x = vec![rat(-2), rat(1)]; // t = 2, p = (-1, 1/2)
        assert!(root.contains(&x));
        assert!(!a.contains(&x));
        assert!(b.contains(&x));
        let (inner, outer) = b.split_radial(&d(2)).unwrap();
        assert!(inner.contains(&x) && outer.contains(&x));
        assert!(b.split_radial(&d(0)).is_none());
        assert!(!root.contains(&[rat(1), rat(0)]));
        assert!(root.contains(&[rat(0), rat(0)]));
        assert_eq!(inner.vertices().unwrap().len(), 4);
        assert!(outer.vertices().is_none());
        // Corner integers are positive multiples of the corners.
        let (q, _) = b.split(1);
        assert_eq!(
            q.corner_integers(),
            vec![
                vec![BigInt::from(-2), BigInt::from(0)],
                vec![BigInt::from(-2), BigInt::from(1)]
            ]
        );
    }
}
