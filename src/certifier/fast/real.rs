//! Scalars with directed rounding, and intervals over them, for the
//! certifier's fast tiers: binary64 (round to nearest, then one step
//! outward with `next_up` / `next_down`, which covers the half-ulp error of
//! every correctly rounded IEEE operation, subnormals included) and MPFR at
//! a fixed precision (rounded toward the wanted side by MPFR itself).
//!
//! Every operation takes `up`: the result is `>=` the exact value when
//! `up`, `<=` it otherwise. NaN propagates through [`rmin`] and [`rmax`], and
//! every decision is a strict comparison that a NaN fails, so an overflow
//! or an undefined operation can only make a test fail, never pass.

use std::cmp::Ordering;

use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;
use rug::float::Round;
use rug::Float;

use crate::exact::dyadic::Dyadic;
use crate::exact::fixed::FxN;

/// A number type with directed rounding.
pub trait Real: Clone + PartialOrd + std::fmt::Debug + Send + Sync {
    /// Shown in statistics and benches.
    const NAME: &'static str;
    /// A test counts as proved only if it still passes with its margin
    /// lowered by `2^-ROBUST_BITS` of its magnitude, and is reported unsure
    /// (handed to the next tier) if it passes with the margin raised by
    /// `2^-UNSURE_BITS` of it. The first keeps this tier from proving what
    /// the checker's 96-bit directed rounding cannot; the second sends the
    /// borderline cells onward.
    const ROBUST_BITS: i32;
    const UNSURE_BITS: i32;
    fn zero() -> Self;
    fn nan() -> Self;
    /// `v` exactly (`|v| < 2^53`).
    fn int(v: i64) -> Self;
    /// `d` exactly, if this type holds it.
    fn exact(d: &Dyadic) -> Option<Self>;
    /// A bound of `d`: `>= d` if `up`, `<= d` otherwise.
    fn dyadic(d: &Dyadic, up: bool) -> Self;
    fn add(&self, o: &Self, up: bool) -> Self;
    fn sub(&self, o: &Self, up: bool) -> Self;
    fn mul(&self, o: &Self, up: bool) -> Self;
    fn div(&self, o: &Self, up: bool) -> Self;
    fn sqrt(&self, up: bool) -> Self;
    /// `self * 2^e`, directed (exact unless it under- or overflows).
    fn pow2(&self, e: i32, up: bool) -> Self;
    fn neg(&self) -> Self;
    fn to_f64(&self) -> f64;
    /// The exact value, if finite.
    fn to_dyadic(&self) -> Option<Dyadic>;

    fn is_nan(&self) -> bool {
        self.partial_cmp(self).is_none()
    }
    fn is_pos(&self) -> bool {
        *self > Self::zero()
    }
    fn is_neg(&self) -> bool {
        *self < Self::zero()
    }
    /// `>= 0` (false for NaN).
    fn nonneg(&self) -> bool {
        *self >= Self::zero()
    }
    fn abs(&self) -> Self {
        if self.is_neg() {
            self.neg()
        } else {
            self.clone()
        }
    }
}

/// The smaller of two values; NaN if either is NaN.
pub fn rmin<R: Real>(a: R, b: R) -> R {
    match a.partial_cmp(&b) {
        Some(Ordering::Greater) => b,
        Some(_) => a,
        None => R::nan(),
    }
}

/// The larger of two values; NaN if either is NaN.
pub fn rmax<R: Real>(a: R, b: R) -> R {
    match a.partial_cmp(&b) {
        Some(Ordering::Less) => b,
        Some(_) => a,
        None => R::nan(),
    }
}

/// `2^e` for `-1022 <= e <= 1023`, exactly.
fn two_to(e: i32) -> f64 {
    debug_assert!((-1022..=1023).contains(&e));
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// `x * 2^e` for a normal result (two exact scalings).
fn ldexp(x: f64, e: i32) -> f64 {
    let h = e / 2;
    x * two_to(h) * two_to(e - h)
}

/// Dyadics this far from 1 (in binary orders) are not converted exactly.
const F64_RANGE: i64 = 1000;

/// `num * 2^exp` within a relative `2^-52` (its top 64 bits, rounded to
/// nearest: `2^-53` plus `2^-63` of truncation), without allocating; NaN
/// outside the normal range.
pub fn approx_f64(num: &BigInt, exp: i64) -> f64 {
    let mut digits = num.iter_u64_digits();
    let n = digits.len();
    let hi = digits.next_back().unwrap_or(0);
    let lo = digits.next_back().unwrap_or(0);
    approx_from_top(hi, lo, n, num.sign() == Sign::Minus, exp)
}

/// [`approx_f64`] of a fixed-width integer (the same value).
pub fn approx_f64_fx<const L: usize>(num: &FxN<L>, exp: i64) -> f64 {
    let d = num.digits();
    let n = d.len();
    let hi = if n > 0 { d[n - 1] } else { 0 };
    let lo = if n > 1 { d[n - 2] } else { 0 };
    approx_from_top(hi, lo, n, num.is_negative(), exp)
}

/// [`approx_f64`] from the top two of `n` 64-bit digits of the magnitude.
#[inline]
fn approx_from_top(hi: u64, lo: u64, n: usize, negative: bool, exp: i64) -> f64 {
    let (top, e) = match n {
        0 => return 0.0,
        1 => (hi, exp),
        _ => {
            let lz = hi.leading_zeros();
            let top = if lz == 0 {
                hi
            } else {
                (hi << lz) | (lo >> (64 - lz))
            };
            (top, exp + 64 * (n as i64 - 1) - lz as i64)
        }
    };
    let v = top as f64;
    // v 2^e: v < 2^64, so v 2^e is normal when -1000 < e < 900.
    if !(-1000..900).contains(&e) {
        return f64::NAN;
    }
    let v = ldexp(v, e as i32);
    if negative {
        -v
    } else {
        v
    }
}

/// Bounds of `x` from an approximation `v` within a relative `2^-52`
/// (widened to `2^-51`, each end stepped outward).
#[inline]
pub fn widen_rel(v: f64) -> (f64, f64) {
    const R: f64 = 1.0 / (1u64 << 51) as f64;
    let m = v.abs();
    let (small, big) = ((m * (1.0 - R)).next_down(), (m * (1.0 + R)).next_up());
    if v >= 0.0 {
        (small, big)
    } else {
        (-big, -small)
    }
}

impl Real for f64 {
    const NAME: &'static str = "binary64";
    const ROBUST_BITS: i32 = 40;
    const UNSURE_BITS: i32 = 36;
    fn zero() -> Self {
        0.0
    }
    fn nan() -> Self {
        f64::NAN
    }
    fn int(v: i64) -> Self {
        debug_assert!(v.unsigned_abs() < 1 << 53);
        v as f64
    }
    fn exact(d: &Dyadic) -> Option<Self> {
        let Some(tz) = d.num.trailing_zeros() else {
            return Some(0.0);
        };
        let bits = d.num.bits() as i64;
        let exp = d.exp + tz as i64;
        if bits - tz as i64 > 53 || exp < -F64_RANGE || d.exp + bits > F64_RANGE {
            return None;
        }
        let m = if tz == 0 {
            d.num.to_i64()?
        } else {
            (&d.num >> tz as usize).to_i64()?
        };
        Some(ldexp(m as f64, exp as i32))
    }
    fn dyadic(d: &Dyadic, up: bool) -> Self {
        if let Some(v) = Self::exact(d) {
            return v;
        }
        let v = approx_f64(&d.num, d.exp);
        if v.is_finite() {
            let (lo, hi) = widen_rel(v);
            return if up { hi } else { lo };
        }
        let negative = d.num.sign() == Sign::Minus;
        // Bounds of |d| from below (`lo`) and above (`hi`).
        let bits = d.num.bits() as i64;
        let (lo, hi) = if d.exp + bits > F64_RANGE {
            (ldexp(1.0, F64_RANGE as i32), f64::INFINITY)
        } else if d.exp + bits < -F64_RANGE {
            (0.0, ldexp(1.0, -F64_RANGE as i32))
        } else {
            let mag = d.num.magnitude();
            let shift = (bits - 53).max(0);
            let top = (mag >> shift as usize).to_u64().expect("53 bits");
            let rest = mag.trailing_zeros().unwrap_or(0) < shift as u64;
            let e = (d.exp + shift) as i32;
            let lo = ldexp(top as f64, e);
            (lo, if rest { ldexp((top + 1) as f64, e) } else { lo })
        };
        match (negative, up) {
            (false, false) => lo,
            (false, true) => hi,
            (true, false) => -hi,
            (true, true) => -lo,
        }
    }
    #[inline]
    fn add(&self, o: &Self, up: bool) -> Self {
        outward(self + o, up)
    }
    #[inline]
    fn sub(&self, o: &Self, up: bool) -> Self {
        outward(self - o, up)
    }
    #[inline]
    fn mul(&self, o: &Self, up: bool) -> Self {
        outward(self * o, up)
    }
    #[inline]
    fn div(&self, o: &Self, up: bool) -> Self {
        outward(self / o, up)
    }
    #[inline]
    fn sqrt(&self, up: bool) -> Self {
        let r = f64::sqrt(*self);
        // sqrt(0) = 0 exactly; never step below zero (NaN stays NaN).
        if r == 0.0 && !up {
            r
        } else {
            rmax(outward(r, up), 0.0)
        }
    }
    fn pow2(&self, e: i32, up: bool) -> Self {
        // Exact unless the result leaves the normal range; stepped outward
        // in any case.
        let h = e.clamp(-2044, 2046) / 2;
        outward(
            self * two_to(h.clamp(-1022, 1023)) * two_to((e - h).clamp(-1022, 1023)),
            up,
        )
    }
    #[inline]
    fn neg(&self) -> Self {
        -self
    }
    fn to_f64(&self) -> f64 {
        *self
    }
    fn to_dyadic(&self) -> Option<Dyadic> {
        if !self.is_finite() {
            return None;
        }
        let bits = self.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        // Subnormals (biased exponent 0) have no implicit leading bit.
        let (m, exp) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | 1u64 << 52, biased - 1075)
        };
        let num = BigInt::from(m);
        Some(Dyadic {
            num: if self.is_sign_negative() { -num } else { num },
            exp,
        })
    }
}

/// One step outward from a correctly rounded result.
#[inline]
fn outward(v: f64, up: bool) -> f64 {
    if up {
        v.next_up()
    } else {
        v.next_down()
    }
}

/// An MPFR number of `P` bits.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub struct Mp<const P: u32>(pub Float);

fn round(up: bool) -> Round {
    if up {
        Round::Up
    } else {
        Round::Down
    }
}

fn to_integer(v: &BigInt) -> rug::Integer {
    let (sign, digits) = v.to_u64_digits();
    let n = rug::Integer::from_digits(&digits, rug::integer::Order::Lsf);
    if sign == Sign::Minus {
        -n
    } else {
        n
    }
}

impl<const P: u32> Real for Mp<P> {
    const NAME: &'static str = "mpfr";
    const ROBUST_BITS: i32 = 56;
    const UNSURE_BITS: i32 = 52;
    fn zero() -> Self {
        Mp(Float::new(P))
    }
    fn nan() -> Self {
        Mp(Float::with_val(P, rug::float::Special::Nan))
    }
    fn int(v: i64) -> Self {
        Mp(Float::with_val(P, v))
    }
    fn exact(d: &Dyadic) -> Option<Self> {
        let tz = d.num.trailing_zeros().unwrap_or(0);
        (d.num.bits() - tz <= P as u64 && d.exp.unsigned_abs() < 1 << 28)
            .then(|| Self::dyadic(d, true))
    }
    fn dyadic(d: &Dyadic, up: bool) -> Self {
        let Some(e) = i32::try_from(d.exp)
            .ok()
            .filter(|e| e.unsigned_abs() < 1 << 28)
        else {
            // Beyond MPFR's exponent range: an infinite bound is still one.
            let inf = Float::with_val(P, rug::float::Special::Infinity);
            return Mp(if up { inf } else { -inf });
        };
        let m = Float::with_val_round(P, to_integer(&d.num), round(up)).0;
        Mp(Float::with_val_round(P, m << e, round(up)).0)
    }
    fn add(&self, o: &Self, up: bool) -> Self {
        Mp(Float::with_val_round(P, &self.0 + &o.0, round(up)).0)
    }
    fn sub(&self, o: &Self, up: bool) -> Self {
        Mp(Float::with_val_round(P, &self.0 - &o.0, round(up)).0)
    }
    fn mul(&self, o: &Self, up: bool) -> Self {
        Mp(Float::with_val_round(P, &self.0 * &o.0, round(up)).0)
    }
    fn div(&self, o: &Self, up: bool) -> Self {
        Mp(Float::with_val_round(P, &self.0 / &o.0, round(up)).0)
    }
    fn sqrt(&self, up: bool) -> Self {
        Mp(Float::with_val_round(P, self.0.sqrt_ref(), round(up)).0)
    }
    fn pow2(&self, e: i32, up: bool) -> Self {
        Mp(Float::with_val_round(P, &self.0 << e, round(up)).0)
    }
    fn neg(&self) -> Self {
        Mp(-self.0.clone())
    }
    fn to_f64(&self) -> f64 {
        self.0.to_f64()
    }
    fn to_dyadic(&self) -> Option<Dyadic> {
        if self.0.is_zero() {
            return Some(Dyadic::zero());
        }
        let (m, e) = self.0.to_integer_exp()?;
        let num = BigInt::parse_bytes(m.to_string_radix(16).as_bytes(), 16)?;
        Some(Dyadic { num, exp: e as i64 })
    }
}

/// A closed interval `[lo, hi]`.
#[derive(Clone, Debug)]
pub struct Iv<R> {
    pub lo: R,
    pub hi: R,
}

impl<R: Real> Iv<R> {
    pub fn point(x: R) -> Self {
        Iv {
            lo: x.clone(),
            hi: x,
        }
    }
    pub fn zero() -> Self {
        Self::point(R::zero())
    }
    /// The tightest enclosure of a dyadic this type gives.
    pub fn of(d: &Dyadic) -> Self {
        match R::exact(d) {
            Some(x) => Self::point(x),
            None => Iv {
                lo: R::dyadic(d, false),
                hi: R::dyadic(d, true),
            },
        }
    }
    /// Entry `num * 2^exp` of a dyadic matrix or vector.
    pub fn of_parts(num: &BigInt, exp: i64) -> Self {
        Self::of(&Dyadic {
            num: num.clone(),
            exp,
        })
    }
    pub fn add(&self, o: &Self) -> Self {
        Iv {
            lo: self.lo.add(&o.lo, false),
            hi: self.hi.add(&o.hi, true),
        }
    }
    pub fn sub(&self, o: &Self) -> Self {
        Iv {
            lo: self.lo.sub(&o.hi, false),
            hi: self.hi.sub(&o.lo, true),
        }
    }
    pub fn neg(&self) -> Self {
        Iv {
            lo: self.hi.neg(),
            hi: self.lo.neg(),
        }
    }
    pub fn mul(&self, o: &Self) -> Self {
        let (a, b, c, d) = (&self.lo, &self.hi, &o.lo, &o.hi);
        // Sign-definite factors (the usual case): two products.
        match (a.nonneg(), nonpos(b), c.nonneg(), nonpos(d)) {
            (true, _, true, _) => {
                return Iv {
                    lo: a.mul(c, false),
                    hi: b.mul(d, true),
                }
            }
            (true, _, _, true) => {
                return Iv {
                    lo: b.mul(c, false),
                    hi: a.mul(d, true),
                }
            }
            (_, true, true, _) => {
                return Iv {
                    lo: a.mul(d, false),
                    hi: b.mul(c, true),
                }
            }
            (_, true, _, true) => {
                return Iv {
                    lo: b.mul(d, false),
                    hi: a.mul(c, true),
                }
            }
            _ => {}
        }
        let lo = rmin(
            rmin(a.mul(c, false), a.mul(d, false)),
            rmin(b.mul(c, false), b.mul(d, false)),
        );
        let hi = rmax(
            rmax(a.mul(c, true), a.mul(d, true)),
            rmax(b.mul(c, true), b.mul(d, true)),
        );
        Iv { lo, hi }
    }
    /// Times an exact number.
    pub fn scale(&self, x: &R) -> Self {
        if x.nonneg() {
            Iv {
                lo: self.lo.mul(x, false),
                hi: self.hi.mul(x, true),
            }
        } else if x.is_neg() {
            Iv {
                lo: self.hi.mul(x, false),
                hi: self.lo.mul(x, true),
            }
        } else {
            Self::point(R::nan())
        }
    }
    /// `x^2`.
    pub fn sqr(&self) -> Self {
        if self.lo.nonneg() {
            Iv {
                lo: self.lo.mul(&self.lo, false),
                hi: self.hi.mul(&self.hi, true),
            }
        } else if self.hi.nonneg() {
            let m = self.mag();
            Iv {
                lo: R::zero(),
                hi: m.mul(&m, true),
            }
        } else if self.hi.is_neg() {
            Iv {
                lo: self.hi.mul(&self.hi, false),
                hi: self.lo.mul(&self.lo, true),
            }
        } else {
            Self::point(R::nan())
        }
    }
    /// An upper bound of `|x|`.
    pub fn mag(&self) -> R {
        rmax(self.lo.abs(), self.hi.abs())
    }
    /// A lower bound of `|x|`.
    pub fn mig(&self) -> R {
        if self.lo.is_pos() {
            self.lo.clone()
        } else if self.hi.is_neg() {
            self.hi.neg()
        } else if self.lo.nonneg() || self.hi.nonneg() {
            R::zero()
        } else {
            R::nan()
        }
    }
}

/// `x <= 0` (false for NaN).
pub fn nonpos<R: Real>(x: &R) -> bool {
    R::zero() >= *x
}

/// `sum_i a_i b_i` for intervals.
pub fn dot<R: Real>(a: &[Iv<R>], b: &[Iv<R>]) -> Iv<R> {
    a.iter()
        .zip(b)
        .fold(Iv::zero(), |acc, (x, y)| acc.add(&x.mul(y)))
}

/// `sum_i a_i x_i` for intervals `a` and exact `x`.
pub fn dot_exact<R: Real>(a: &[Iv<R>], x: &[R]) -> Iv<R> {
    a.iter()
        .zip(x)
        .fold(Iv::zero(), |acc, (v, p)| acc.add(&v.scale(p)))
}

/// Sum rounded in one direction.
pub fn sum<R: Real>(xs: impl IntoIterator<Item = R>, up: bool) -> R {
    xs.into_iter().fold(R::zero(), |s, x| s.add(&x, up))
}
