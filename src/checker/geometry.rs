//! Cells (SPEC §4) and the exact geometric tests on them.
//!
//! A cell is a face `(a, s)` of the cube, a box of dyadic intervals in the
//! other coordinates, and a radial interval `[t_lo, t_hi]` (`t_hi` possibly
//! infinite). Its points are `t p` with `p` in the box on the face and `t` in
//! the interval; for such points `t = ||x||_inf`. Affine functions of `x` take
//! their extremes on a bounded cell at the vertices `t_lo p_v`, `t_hi p_v`.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use crate::exact::eval::split_point;
use crate::format::certificate::Face;

#[derive(Clone, Debug)]
pub struct Cell {
    pub face: Face,
    /// Box bounds per coordinate; at the face axis both are `s`.
    pub lo: Vec<BigRational>,
    pub hi: Vec<BigRational>,
    pub t_lo: BigRational,
    /// `None` for an unbounded cell.
    pub t_hi: Option<BigRational>,
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

impl Cell {
    /// The whole cone over face `face` with every radius.
    pub fn root(face: Face, k: usize) -> Cell {
        let s = rat(if face.positive { 1 } else { -1 });
        let mut lo = vec![rat(-1); k];
        let mut hi = vec![rat(1); k];
        lo[face.axis] = s.clone();
        hi[face.axis] = s;
        Cell {
            face,
            lo,
            hi,
            t_lo: BigRational::zero(),
            t_hi: None,
        }
    }

    /// Halves the box in coordinate `axis`.
    pub fn split(&self, axis: usize) -> (Cell, Cell) {
        let mid = (&self.lo[axis] + &self.hi[axis]) / rat(2);
        let mut a = self.clone();
        let mut b = self.clone();
        a.hi[axis] = mid.clone();
        b.lo[axis] = mid;
        (a, b)
    }

    /// Cuts the radial interval at `at`, which must lie strictly inside it.
    pub fn split_radial(&self, at: &BigRational) -> Option<(Cell, Cell)> {
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

    /// The `2^(k-1)` corners `p_v` of the direction box.
    pub fn corners(&self) -> Vec<Vec<BigRational>> {
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
    /// corner), for exact sign tests of linear forms.
    pub fn corner_integers(&self) -> Vec<Vec<BigInt>> {
        self.corners()
            .iter()
            .map(|p| split_point(p).0.num)
            .collect()
    }

    /// The vertices `t_lo p_v` and `t_hi p_v`; `None` when unbounded.
    pub fn vertices(&self) -> Option<Vec<Vec<BigRational>>> {
        let t_hi = self.t_hi.as_ref()?;
        let mut out = Vec::new();
        for p in self.corners() {
            for t in [&self.t_lo, t_hi] {
                out.push(p.iter().map(|v| v * t).collect());
            }
        }
        Some(out)
    }

    /// Whether `x` is a point of the cell (closed).
    pub fn contains(&self, x: &[BigRational]) -> bool {
        let a = self.face.axis;
        let t = if self.face.positive {
            x[a].clone()
        } else {
            -x[a].clone()
        };
        if t.is_zero() {
            // Only x = 0 has t = 0 on this face, and it is a point of the
            // cell exactly when t_lo = 0.
            return self.t_lo.is_zero() && x.iter().all(|v| v.is_zero());
        }
        if t < self.t_lo || self.t_hi.as_ref().is_some_and(|h| &t > h) || t.is_negative() {
            return false;
        }
        (0..self.k())
            .filter(|&j| j != a)
            .all(|j| x[j] >= &self.lo[j] * &t && x[j] <= &self.hi[j] * &t)
    }

    /// A short human description: face, box and radial interval.
    pub fn describe(&self) -> String {
        let coords: Vec<String> = (0..self.k())
            .filter(|&j| j != self.face.axis)
            .map(|j| format!("p{}∈[{}, {}]", j + 1, self.lo[j], self.hi[j]))
            .collect();
        let t_hi = self
            .t_hi
            .as_ref()
            .map_or("inf".to_string(), |t| t.to_string());
        let mut parts = vec![format!("face {}", self.face)];
        parts.extend(coords);
        parts.push(format!("t∈[{}, {}]", self.t_lo, t_hi));
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
        Excluded {
            r1_sq: eps1 * eps1 * &n2,
            r2_sq: eps2 * eps2 * &n2,
            target_norm2: n2,
            target,
            rho_lo,
            rho_hi,
        }
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

    /// `x` outside `E` for every `rho` in the enclosure: the minimum over
    /// `rho` of the convex quadratic `||x + rho x*||^2` is at least `r2^2`.
    pub fn surely_outside(&self, x: &[BigRational]) -> bool {
        if self.dist1_sq(x) < self.r1_sq {
            return false;
        }
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
        let d: BigRational = x
            .iter()
            .zip(&self.target)
            .map(|(xi, ti)| {
                let v = xi + &rho * ti;
                &v * &v
            })
            .sum();
        d >= self.r2_sq
    }
}

/// Whether `alpha t^2 - beta t + gamma > 0` for every `t` in `[t_lo, t_hi]`
/// (`t_hi = None`: `[t_lo, inf)`).
pub fn quadratic_positive(
    alpha: &BigRational,
    beta: &BigRational,
    gamma: &BigRational,
    t_lo: &BigRational,
    t_hi: Option<&BigRational>,
) -> bool {
    let q = |t: &BigRational| alpha * t * t - beta * t + gamma;
    if q(t_lo) <= BigRational::zero() {
        return false;
    }
    match t_hi {
        None => {
            if alpha.is_negative() || (alpha.is_zero() && beta.is_positive()) {
                return false; // tends to -inf (or stays linear decreasing)
            }
        }
        Some(h) => {
            if q(h) <= BigRational::zero() {
                return false;
            }
        }
    }
    // Both ends positive; only an interior minimum of a convex q can dip.
    if alpha.is_positive() {
        let t_star = beta / (rat(2) * alpha);
        let interior = &t_star > t_lo && t_hi.is_none_or(|h| &t_star < h);
        if interior && q(&t_star) <= BigRational::zero() {
            return false;
        }
    }
    true
}

/// The interval `[min, max]` of the linear form `c . p` over the box.
pub fn linear_range(
    c: &[BigRational],
    lo: &[BigRational],
    hi: &[BigRational],
) -> (BigRational, BigRational) {
    let mut min = BigRational::zero();
    let mut max = BigRational::zero();
    for ((ci, l), h) in c.iter().zip(lo).zip(hi) {
        let (a, b) = (ci * l, ci * h);
        if a <= b {
            min += a;
            max += b;
        } else {
            min += b;
            max += a;
        }
    }
    (min, max)
}

/// The smallest product of a value in `[a0, a1]` and one in `[b0, b1]`.
pub fn product_min(
    a0: &BigRational,
    a1: &BigRational,
    b0: &BigRational,
    b1: &BigRational,
) -> BigRational {
    [a0 * b0, a0 * b1, a1 * b0, a1 * b1]
        .into_iter()
        .min()
        .expect("four products")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn quadratic_positivity() {
        // (t - 1)^2 = t^2 - 2t + 1 touches zero at t = 1.
        assert!(!quadratic_positive(
            &rat(1),
            &rat(2),
            &rat(1),
            &rat(0),
            None
        ));
        assert!(quadratic_positive(
            &rat(1),
            &rat(2),
            &rat(1),
            &q(3, 2),
            None
        ));
        assert!(quadratic_positive(
            &rat(1),
            &rat(2),
            &rat(1),
            &rat(0),
            Some(&q(1, 2))
        ));
        // t^2 - 2t + 2 > 0 everywhere.
        assert!(quadratic_positive(&rat(1), &rat(2), &rat(2), &rat(0), None));
        // Concave: positive on [0, 1] but not beyond.
        assert!(quadratic_positive(
            &rat(-1),
            &rat(0),
            &rat(2),
            &rat(0),
            Some(&rat(1))
        ));
        assert!(!quadratic_positive(
            &rat(-1),
            &rat(0),
            &rat(2),
            &rat(0),
            None
        ));
        // Linear with negative slope fails at infinity.
        assert!(!quadratic_positive(
            &rat(0),
            &rat(1),
            &rat(5),
            &rat(0),
            None
        ));
        assert!(quadratic_positive(
            &rat(0),
            &rat(-1),
            &rat(5),
            &rat(0),
            None
        ));
    }

    #[test]
    fn cells_split_and_contain() {
        let face = Face {
            axis: 0,
            positive: false,
        };
        let root = Cell::root(face, 2);
        let (a, b) = root.split(1);
        assert_eq!(a.hi[1], rat(0));
        assert_eq!(b.lo[1], rat(0));
        let x = vec![rat(-2), rat(1)]; // t = 2, p = (-1, 1/2)
        assert!(root.contains(&x));
        assert!(!a.contains(&x));
        assert!(b.contains(&x));
        let (inner, outer) = b.split_radial(&rat(2)).unwrap();
        assert!(inner.contains(&x) && outer.contains(&x));
        assert!(b.split_radial(&rat(0)).is_none());
        assert!(!root.contains(&[rat(1), rat(0)]));
        assert!(root.contains(&[rat(0), rat(0)]));
        assert_eq!(inner.vertices().unwrap().len(), 4);
        assert!(outer.vertices().is_none());
    }
}
