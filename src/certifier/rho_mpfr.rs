//! The certifier's enclosure of `rho_d` (SPEC §1) with MPFR directed rounding.
//!
//! Untrusted (the checker recomputes `rho_d` with [`crate::exact::rho`]), but
//! still meant to be rigorous: every operation is correctly rounded by MPFR
//! towards -inf for lower ends and +inf for upper ends.
//!
//! It follows the angles themselves: `g(t) = arccos(h(t))` with
//! `h(t) = ((pi - t) cos t + sin t) / pi` is increasing on `[0, pi]`
//! (`h'(t) = -(pi - t) sin t / pi <= 0` and `arccos` decreases), so
//! `th_i in [a, b]` gives `th_{i+1} in [g(a), g(b)]`, each end evaluated with
//! interval arithmetic at a point (`pi` itself being only enclosed).
//! `th_0 = pi` and `th_1 = g(pi) = pi/2` are exact: `sin th_0 = 0`,
//! `pi - th_0 = 0`, `sin th_1 = 1`.

use rug::float::{Constant, Round};
use rug::ops::AssignRound;
use rug::Float;
use std::cmp::Ordering;

/// A closed interval `(lo, hi)`.
type Iv = (Float, Float);

/// `v` rounded in direction `r` to `prec` bits.
fn rnd<T>(prec: u32, v: T, r: Round) -> Float
where
    Float: AssignRound<T, Round = Round, Ordering = Ordering>,
{
    Float::with_val_round(prec, v, r).0
}

fn max(a: Float, b: &Float) -> Float {
    if a < *b {
        b.clone()
    } else {
        a
    }
}

fn min(a: Float, b: &Float) -> Float {
    if a > *b {
        b.clone()
    } else {
        a
    }
}

/// `sin` over `t in [0, pi)`: concave there, so the minimum is at an end; it
/// increases up to `pi/2` and decreases after, with maximum 1 at `pi/2`.
fn sin_iv(t: &Iv, pi: &Iv, prec: u32) -> Iv {
    let (dn, up) = (Round::Down, Round::Up);
    let lo = min(rnd(prec, t.0.sin_ref(), dn), &rnd(prec, t.1.sin_ref(), dn));
    let hi = if t.1 < rnd(prec, &pi.0 / 2, dn) {
        rnd(prec, t.1.sin_ref(), up)
    } else if t.0 > rnd(prec, &pi.1 / 2, up) {
        rnd(prec, t.0.sin_ref(), up)
    } else {
        Float::with_val(prec, 1)
    };
    (max(lo, &Float::new(prec)), hi)
}

/// An enclosure of `g(t) = arccos(h(t))` at a point `t` in `[0, pi)`.
fn g_point(t: &Float, pi: &Iv, prec: u32) -> Iv {
    let (dn, up) = (Round::Down, Round::Up);
    let zero = Float::new(prec);
    let u = (
        max(rnd(prec, &pi.0 - t, dn), &zero),
        rnd(prec, &pi.1 - t, up),
    );
    let c = (rnd(prec, t.cos_ref(), dn), rnd(prec, t.cos_ref(), up));
    let s = (rnd(prec, t.sin_ref(), dn), rnd(prec, t.sin_ref(), up));
    // (pi - t) cos t with pi - t >= 0: extremes at u's ends times c's ends.
    let p_lo = min(rnd(prec, &u.0 * &c.0, dn), &rnd(prec, &u.1 * &c.0, dn));
    let p_hi = max(rnd(prec, &u.0 * &c.1, up), &rnd(prec, &u.1 * &c.1, up));
    let n = (rnd(prec, &p_lo + &s.0, dn), rnd(prec, &p_hi + &s.1, up));
    // n / pi with pi > 0: the divisor's end depends on the numerator's sign.
    let h_lo = rnd(prec, &n.0 / if n.0 >= 0 { &pi.1 } else { &pi.0 }, dn);
    let h_hi = rnd(prec, &n.1 / if n.1 >= 0 { &pi.0 } else { &pi.1 }, up);
    let (m1, p1) = (Float::with_val(prec, -1), Float::with_val(prec, 1));
    let (h_lo, h_hi) = (max(h_lo, &m1), min(h_hi, &p1));
    // arccos decreases.
    (
        rnd(prec, h_hi.acos_ref(), dn),
        rnd(prec, h_lo.acos_ref(), up),
    )
}

/// A rigorous enclosure `(lo, hi)` of rho_d computed with `prec`-bit MPFR
/// arithmetic and directed rounding. d >= 1.
pub fn rho_enclosure_mpfr(d: usize, prec: u32) -> (Float, Float) {
    assert!(d >= 1, "rho_d needs d >= 1");
    let (dn, up) = (Round::Down, Round::Up);
    let pi = (rnd(prec, Constant::Pi, dn), rnd(prec, Constant::Pi, up));
    let zero = Float::new(prec);
    // Horner: r_i = (r_{i-1} (pi - th_i) + sin th_i) / pi, r_{-1} = 0;
    // r_0 = sin(th_0) / pi = 0 and rho_d = r_{d-1}. All quantities are >= 0.
    let mut r = (zero.clone(), zero.clone());
    let mut th = (rnd(prec, &pi.0 / 2, dn), rnd(prec, &pi.1 / 2, up));
    for i in 1..d {
        let s = if i == 1 {
            (Float::with_val(prec, 1), Float::with_val(prec, 1))
        } else {
            sin_iv(&th, &pi, prec)
        };
        let u = (
            max(rnd(prec, &pi.0 - &th.1, dn), &zero),
            rnd(prec, &pi.1 - &th.0, up),
        );
        let n_lo = rnd(prec, rnd(prec, &r.0 * &u.0, dn) + &s.0, dn);
        let n_hi = rnd(prec, rnd(prec, &r.1 * &u.1, up) + &s.1, up);
        r = (rnd(prec, &n_lo / &pi.1, dn), rnd(prec, &n_hi / &pi.0, up));
        th = (g_point(&th.0, &pi, prec).0, g_point(&th.1, &pi, prec).1);
    }
    r
}

/// Binary64 bounds `lo <= rho_d <= hi` (a 128-bit enclosure rounded outward).
/// The MPFR enclosure at `prec` bits as exact rationals (for certificates).
pub fn rho_rational_enclosure(
    d: usize,
    prec: u32,
) -> (num_rational::BigRational, num_rational::BigRational) {
    let (lo, hi) = rho_enclosure_mpfr(d, prec);
    (float_to_rational(&lo), float_to_rational(&hi))
}

/// The exact value of a finite MPFR number.
pub fn float_to_rational(f: &Float) -> num_rational::BigRational {
    // MPFR's zero carries the least exponent (about -2^30): as `0 / 2^-e`
    // it would allocate a 128 MiB denominator (rho_1 = 0).
    if f.is_zero() {
        return num_rational::BigRational::from_integer(0.into());
    }
    let (m, e) = f.to_integer_exp().expect("a finite enclosure");
    let m =
        num_bigint::BigInt::parse_bytes(m.to_string_radix(16).as_bytes(), 16).expect("hex digits");
    crate::exact::dyadic::dyadic_to_rational(&m, e as i64)
}

pub fn rho_f64_enclosure(d: usize) -> (f64, f64) {
    let (lo, hi) = rho_enclosure_mpfr(d, 128);
    (lo.to_f64_round(Round::Down), hi.to_f64_round(Round::Up))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_depths() {
        assert_eq!(rho_f64_enclosure(1), (0.0, 0.0));
        let (lo, hi) = rho_f64_enclosure(2);
        let inv_pi = std::f64::consts::FRAC_1_PI;
        assert!(lo <= inv_pi && inv_pi <= hi && hi - lo < 1e-15);
        let (lo, hi) = rho_f64_enclosure(3);
        assert!((lo - 0.49373109020037154).abs() < 1e-15 && hi - lo < 1e-15);
    }

    #[test]
    fn sin_and_g() {
        let prec = 100;
        let pi = (
            rnd(prec, Constant::Pi, Round::Down),
            rnd(prec, Constant::Pi, Round::Up),
        );
        let half_pi = (
            rnd(prec, &pi.0 / 2, Round::Down),
            rnd(prec, &pi.1 / 2, Round::Up),
        );
        let s = sin_iv(&half_pi, &pi, prec);
        assert!(s.1 == 1 && s.0 > 0.999);
        // g(pi/2) = arccos(1/pi) = 1.2468502198629159...
        let g = g_point(&half_pi.0, &pi, prec);
        assert!(g.0 <= g.1 && (g.0.to_f64() - 1.2468502198629159).abs() < 1e-9);
    }
}
