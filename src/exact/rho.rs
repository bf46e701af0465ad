//! Rigorous rational enclosures of `pi` and of `rho_d` (SPEC §1).
//!
//! Trusted code: exact integer arithmetic only, no floating point. Internally
//! an interval is a pair of integers `[lo, hi]` standing for the reals
//! `[lo * 2^-p, hi * 2^-p]` at a working precision `p`. Every operation rounds
//! its lower end down and its upper end up, so whenever the inputs contain
//! the true reals, the output contains the true result. The public functions
//! raise `p` until the enclosure is narrow enough.
//!
//! `rho_d` is evaluated along the sequence `th_0 = pi`, `th_{i+1} = g(th_i)`,
//! keeping enclosures of `u_i = pi - th_i`, `c_i = cos th_i`, `s_i = sin th_i`:
//! `c_{i+1} = h(th_i) = (u_i c_i + s_i) / pi` is the argument of `arccos` in
//! `g`, `s_{i+1} = sqrt(1 - c_{i+1}^2)` (as `th_{i+1}` lies in `[0, pi]`), and
//! `th_{i+1} = arccos(c_{i+1})`. So only `cos` at points (inside the
//! `arccos` bisection) and `sqrt` are needed, never `sin` or `cos` of an
//! interval. `th_0 = pi` is exact (`u_0 = 0`, `c_0 = -1`, `s_0 = 0`), which
//! makes `c_1 = 0` and `s_1 = 1` exact too.

use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Zero};

/// A closed rational interval [lo, hi], lo <= hi.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatInterval {
    pub lo: BigRational,
    pub hi: BigRational,
}

impl RatInterval {
    /// `hi - lo`.
    pub fn width(&self) -> BigRational {
        &self.hi - &self.lo
    }
    /// Whether `lo <= v <= hi`.
    pub fn contains(&self, v: &BigRational) -> bool {
        &self.lo <= v && v <= &self.hi
    }
    /// Whether the two closed intervals share a point.
    pub fn intersects(&self, o: &RatInterval) -> bool {
        self.lo <= o.hi && o.lo <= self.hi
    }
}

/// A rigorous enclosure of rho_d of width at most `max_width` (> 0). d >= 1.
pub fn rho_enclosure(d: usize, max_width: &BigRational) -> RatInterval {
    assert!(d >= 1, "rho_d needs d >= 1");
    refine(max_width, 16 + 3 * d, |p| rho_fixed(d, p))
}

/// A rigorous enclosure of pi of width <= max_width.
pub fn pi_enclosure(max_width: &BigRational) -> RatInterval {
    refine(max_width, 16, pi_fixed)
}

/// Evaluates `f` at precisions `p = bits(max_width) + guard, ...` (growing by
/// half each time) until the enclosure it returns is at most `max_width` wide.
fn refine(max_width: &BigRational, guard: usize, f: impl Fn(usize) -> Iv) -> RatInterval {
    assert!(
        *max_width > BigRational::zero(),
        "max_width must be positive"
    );
    // 2^-p0 <= max_width, since max_width >= 2^(bits(numer) - 1 - bits(denom)).
    let p0 = (max_width.denom().bits() + 1).saturating_sub(max_width.numer().bits());
    let mut p = p0 as usize + guard;
    loop {
        let iv = f(p);
        let r = |v: &BigInt| BigRational::new(v.clone(), one(p));
        let out = RatInterval {
            lo: r(&iv.lo),
            hi: r(&iv.hi),
        };
        if out.width() <= *max_width {
            return out;
        }
        p += p / 2;
    }
}

/// The interval `[lo * 2^-p, hi * 2^-p]`; `p` is passed alongside.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Iv {
    lo: BigInt,
    hi: BigInt,
}

/// `2^p`, the fixed-point representation of 1.
fn one(p: usize) -> BigInt {
    BigInt::one() << p
}

fn floor_div(a: &BigInt, b: &BigInt) -> BigInt {
    a.div_floor(b)
}

fn ceil_div(a: &BigInt, b: &BigInt) -> BigInt {
    -(-a).div_floor(b)
}

impl Iv {
    fn point(v: BigInt) -> Iv {
        Iv {
            lo: v.clone(),
            hi: v,
        }
    }
    fn add(&self, o: &Iv) -> Iv {
        Iv {
            lo: &self.lo + &o.lo,
            hi: &self.hi + &o.hi,
        }
    }
    fn sub(&self, o: &Iv) -> Iv {
        Iv {
            lo: &self.lo - &o.hi,
            hi: &self.hi - &o.lo,
        }
    }
    /// Intersection with `[a, b]`, for callers that know the true value lies there.
    fn clamp(self, a: &BigInt, b: &BigInt) -> Iv {
        Iv {
            lo: self.lo.max(a.clone()),
            hi: self.hi.min(b.clone()),
        }
    }
}

/// Product: the extremes of `x*y` over a box are at its corners.
fn mul(a: &Iv, b: &Iv, p: usize) -> Iv {
    let prods = [&a.lo * &b.lo, &a.lo * &b.hi, &a.hi * &b.lo, &a.hi * &b.hi];
    let (min, max) = (prods.iter().min().unwrap(), prods.iter().max().unwrap());
    Iv {
        lo: floor_div(min, &one(p)),
        hi: ceil_div(max, &one(p)),
    }
}

/// Quotient by `b` with `b.lo > 0`: `x/y` increases in `x`, and for fixed `x`
/// is monotone in `y > 0`, so its extremes are at `x = a.lo` / `x = a.hi` and
/// an end of `b`.
fn div(a: &Iv, b: &Iv, p: usize) -> Iv {
    assert!(b.lo > BigInt::zero(), "divisor interval must be positive");
    let (nlo, nhi) = (&a.lo << p, &a.hi << p);
    let lo = floor_div(&nlo, &b.lo).min(floor_div(&nlo, &b.hi));
    let hi = ceil_div(&nhi, &b.lo).max(ceil_div(&nhi, &b.hi));
    Iv { lo, hi }
}

/// `{x^2 : x in a}`: its minimum is 0 when `a` contains 0, else at the end nearer 0.
fn sq(a: &Iv, p: usize) -> Iv {
    let zero = BigInt::zero();
    let min_abs = if a.lo > zero {
        a.lo.clone()
    } else if a.hi < zero {
        -&a.hi
    } else {
        zero
    };
    let max_abs = (-&a.lo).max(a.hi.clone());
    Iv {
        lo: floor_div(&(&min_abs * &min_abs), &one(p)),
        hi: ceil_div(&(&max_abs * &max_abs), &one(p)),
    }
}

/// Square root of the non-negative reals in `a` (sqrt is increasing; negative
/// lower ends are raised to 0): `floor(sqrt(n)) <= sqrt(n) <= ceil(sqrt(n))`.
fn sqrt(a: &Iv, p: usize) -> Iv {
    let lo = (a.lo.clone().max(BigInt::zero()) << p).sqrt();
    let n = a.hi.clone() << p;
    let r = n.sqrt();
    let hi = if &r * &r < n { r + 1 } else { r };
    Iv { lo, hi }
}

/// `sum_k (-1)^k t_k` for `t_k >= 0` enclosed by `term(k)` (called for k = 0, 1, ...
/// in order), given that the error of the partial sum `sum_{j<k}` is at most
/// `t_k` for every k >= 1. Stops at the first k >= 1 with `t_k <= 2^-p`.
fn alt_series(mut term: impl FnMut(usize) -> Iv) -> Iv {
    let mut s = Iv::point(BigInt::zero());
    let mut k = 0;
    loop {
        let t = term(k);
        if k > 0 && t.hi <= BigInt::one() {
            return Iv {
                lo: s.lo - &t.hi,
                hi: s.hi + &t.hi,
            };
        }
        s = if k % 2 == 0 { s.add(&t) } else { s.sub(&t) };
        k += 1;
    }
}

/// cos(x * 2^-p). Taylor series `sum (-1)^k x^2k / (2k)!`; by Lagrange the error
/// after the terms `j < k` is `|cos^(2k)(xi)| x^2k / (2k)! <= t_k` (the odd
/// term of degree 2k-1 vanishes). Terms follow `t_k = t_{k-1} x^2 / ((2k-1) 2k)`.
fn cos_point(x: &BigInt, p: usize) -> Iv {
    let x2 = x * x;
    let mut t = Iv::point(one(p));
    alt_series(|k| {
        if k > 0 {
            let q = BigInt::from((2 * k - 1) * (2 * k)) << (2 * p);
            t = Iv {
                lo: floor_div(&(&t.lo * &x2), &q),
                hi: ceil_div(&(&t.hi * &x2), &q),
            };
        }
        t.clone()
    })
}

/// atan(1/x) for an integer x >= 2: `sum (-1)^k / ((2k+1) x^(2k+1))`, an
/// alternating series with decreasing terms, so the error after the terms
/// `j < k` is at most the term `t_k`.
fn atan_inv(x: u32, p: usize) -> Iv {
    alt_series(|k| {
        let den = BigInt::from(2 * k + 1) * BigInt::from(x).pow(2 * k as u32 + 1);
        Iv {
            lo: floor_div(&one(p), &den),
            hi: ceil_div(&one(p), &den),
        }
    })
}

/// Machin: pi = 16 atan(1/5) - 4 atan(1/239).
fn pi_fixed(p: usize) -> Iv {
    let (a, b) = (atan_inv(5, p), atan_inv(239, p));
    Iv {
        lo: 16 * a.lo - 4 * b.hi,
        hi: 16 * a.hi - 4 * b.lo,
    }
}

/// An enclosure of arccos(c) for every real c in `c` ∩ [-1, 1], by bisection
/// on the grid 2^-p. Invariants: `l <= arccos(c)` and `h >= arccos(c)`.
/// `l = m` is certified by `m <= pi` and `cos m >= c.hi` (cos decreases on
/// [0, pi]); `h = m` by `cos m <= c.lo` (if m <= pi; beyond pi it is trivial).
/// Stops when the enclosure of `cos m` overlaps `c`.
fn arccos(c: &Iv, pi: &Iv, p: usize) -> Iv {
    let (mut l, mut h) = (BigInt::zero(), pi.hi.clone());
    while &h - &l > BigInt::one() {
        let m: BigInt = (&l + &h) >> 1;
        let cm = cos_point(&m, p);
        if m <= pi.lo && cm.lo >= c.hi {
            l = m;
        } else if cm.hi <= c.lo {
            h = m;
        } else {
            break;
        }
    }
    Iv { lo: l, hi: h }
}

/// rho_d at working precision p (see the module comment). Horner's scheme:
/// `r_i = (r_{i-1} u_i + s_i) / pi`, `r_{-1} = 0`, gives `r_{d-1} = rho_d`.
fn rho_fixed(d: usize, p: usize) -> Iv {
    let pi = pi_fixed(p);
    let (zero, unit) = (BigInt::zero(), one(p));
    let (mut u, mut c, mut s) = (
        Iv::point(zero.clone()),
        Iv::point(-&unit),
        Iv::point(zero.clone()),
    );
    let mut r = Iv::point(zero.clone());
    for i in 0..d {
        r = div(&mul(&r, &u, p).add(&s), &pi, p);
        if i + 1 == d {
            break;
        }
        // cos th_{i+1} = h(th_i), a cosine, so in [-1, 1].
        c = div(&mul(&u, &c, p).add(&s), &pi, p).clamp(&-&unit, &unit);
        // sin th_{i+1} = sqrt(1 - cos^2 th_{i+1}) >= 0 since th_{i+1} in [0, pi].
        s = sqrt(&Iv::point(unit.clone()).sub(&sq(&c, p)), p);
        // u_{i+1} = pi - arccos(c_{i+1}), which is >= 0.
        let th = arccos(&c, &pi, p);
        u = Iv {
            lo: (&pi.lo - th.hi).max(zero.clone()),
            hi: &pi.hi - th.lo,
        };
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: usize = 100;

    /// Whether `iv` (at precision P) lies inside [a, b] / 10^10.
    fn within(iv: &Iv, a: i64, b: i64) -> bool {
        let den = BigInt::from(10_000_000_000i64);
        (BigInt::from(a) << P) <= &iv.lo * &den && &iv.hi * &den <= (BigInt::from(b) << P)
    }

    fn width(iv: &Iv) -> BigInt {
        &iv.hi - &iv.lo
    }

    #[test]
    fn cos_known_points() {
        let c0 = cos_point(&BigInt::zero(), P);
        assert!(c0.lo <= one(P) && one(P) <= c0.hi && width(&c0) <= BigInt::from(4));
        // cos 1 = 0.54030230586..., cos 3 = -0.98999249660...
        let c1 = cos_point(&one(P), P);
        assert!(within(&c1, 5403023058, 5403023059));
        let c3 = cos_point(&(BigInt::from(3) << P), P);
        assert!(within(&c3, -9899924967, -9899924966) && width(&c3) < BigInt::from(1000));
    }

    #[test]
    fn arccos_known_points() {
        let pi = pi_fixed(P);
        let small = BigInt::from(1 << 12);
        // arccos 0 = pi/2, arccos(1/2) = pi/3 (well conditioned).
        let a0 = arccos(&Iv::point(BigInt::zero()), &pi, P);
        assert!(&a0.lo * 2 <= pi.hi && pi.lo <= &a0.hi * 2 && width(&a0) < small);
        let a3 = arccos(&Iv::point(one(P - 1)), &pi, P);
        assert!(&a3.lo * 3 <= pi.hi && pi.lo <= &a3.hi * 3 && width(&a3) < small);
        // arccos 1 = 0 and arccos(-1) = pi: square-root conditioned ends.
        let a1 = arccos(&Iv::point(one(P)), &pi, P);
        assert!(a1.lo.is_zero() && a1.hi < one(P - 40));
        let am = arccos(&Iv::point(-one(P)), &pi, P);
        assert!(am.lo <= pi.hi && am.hi >= pi.lo && width(&am) < one(P - 40));
    }

    #[test]
    fn sqrt_and_pi() {
        let s = sqrt(&Iv::point(BigInt::from(2) << P), P);
        assert!(within(&s, 14142135623, 14142135624) && width(&s) <= BigInt::one());
        let four = Iv::point(BigInt::from(4) << P);
        assert_eq!(sqrt(&four, P), Iv::point(BigInt::from(2) << P));
        let pi = pi_fixed(P);
        assert!(within(&pi, 31415926535, 31415926536) && width(&pi) < BigInt::from(1000));
    }
}
