//! Radius witnesses (format version 3): how far the claimed radii are from
//! the smallest ones any certificate could claim.
//!
//! A witness is a point `x` with `x != 0`, `x != x*` and
//! `D_{-vbar_x} f(x) >= 0`, evaluated exactly (F3): (P1) fails at `x`. Any
//! claim that holds, with any rho enclosure that contains `rho_d`, has `x`
//! in its `E` (only `x*` may be excused outside `E`: the claim's form, as
//! the checker enforces it for `claim.stationary_points` in
//! [`crate::checker::check`]; a future form that excused other points would
//! break this argument): in the open
//! ball `B(x*, eps1 |x*|)`, or in the open ball around `-rho x*` for every
//! `rho` of its enclosure, hence for `rho = rho_d`. Let `d1 = |x - x*| /
//! |x*|` and `d2` the least `|x + rho x*| / |x*|` over this certificate's
//! enclosure ([`Excluded::min_dist2_sq`]), which contains `rho_d` (the
//! checker verifies the enclosure), so `|x + rho_d x*| >= d2 |x*|`. Then:
//!
//! - every claim that holds with `eps1 <= d1` has `eps2 > d2`;
//! - every claim that holds with `eps2 <= d2` has `eps1 > d1`.
//!
//! Taking this certificate's radii for the other ball: a witness with `d1
//! >=` the claimed `eps1` proves that no holding claim with that `eps1` (or
//! a smaller one) has `eps2 <= d2`; one with `d2 >=` the claimed `eps2`,
//! that no holding claim with that `eps2` or less has `eps1 <= d1`. The
//! checker reports the largest such `d2` and `d1` (exact squares, shown
//! rounded down). A witness outside this certificate's `E` contradicts its
//! claim: the certificate is rejected (that is a counterexample, which
//! belongs in `counterexample` with the verdict `violated`).
//!
//! Witnesses never make a verdict; they only tell how sharp it is.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};

use crate::checker::geometry::Excluded;
use crate::exact::eval::ExactNet;

/// What the witnesses prove about the radii (squared, relative to
/// `|x*|^2`): `below_x_star` is the largest `d1^2` of a witness at least
/// the claimed `eps2` from every `-rho x*` (no holding claim with that
/// `eps2` has `eps1 <= d1`), `below_rho` the largest `d2^2` of a witness at
/// least the claimed `eps1` from `x*`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sharpness {
    pub witnesses: usize,
    pub below_x_star: Option<BigRational>,
    pub below_rho: Option<BigRational>,
}

/// Re-evaluates every witness exactly; `Err` (a one-line reason) for a
/// point that is zero, `x*`, not a failure of (P1), or outside `E`.
pub fn check_witnesses(
    exact: &ExactNet,
    excluded: &Excluded,
    witnesses: &[Vec<BigRational>],
) -> Result<Sharpness, String> {
    for (i, x) in witnesses.iter().enumerate() {
        if x.iter().all(Zero::is_zero) {
            return Err(format!("radius_witnesses[{i}] is the origin"));
        }
        if x == &excluded.target {
            return Err(format!(
                "radius_witnesses[{i}] is x*, which is excused: it bounds no radius"
            ));
        }
        let (d, _) = exact
            .descent_derivative(x)
            .map_err(|e| format!("radius_witnesses[{i}]: {e}"))?;
        if d.is_negative() {
            return Err(format!(
                "radius_witnesses[{i}]: D_-vbar f = {d} < 0 there, so (P1) does not fail at it"
            ));
        }
        if !excluded.contains(x) {
            return Err(format!(
                "radius_witnesses[{i}] is not inside E for every rho of the enclosure, yet (P1) fails there: a witness must lie inside E"
            ));
        }
    }
    let (below_x_star, below_rho) = bounds(excluded, witnesses);
    Ok(Sharpness {
        witnesses: witnesses.len(),
        below_x_star,
        below_rho,
    })
}

/// `(below_x_star, below_rho)` of [`Sharpness`] for points already known
/// to be failures of (P1): distances only.
pub fn bounds(
    excluded: &Excluded,
    points: &[Vec<BigRational>],
) -> (Option<BigRational>, Option<BigRational>) {
    let n2 = &excluded.target_norm2;
    let (mut below_x_star, mut below_rho) = (None::<BigRational>, None::<BigRational>);
    for x in points {
        let (d1, d2) = (excluded.dist1_sq(x), excluded.min_dist2_sq(x));
        // At least the claimed eps1 from x* (relative): it bounds eps2; at
        // least the claimed eps2 from every -rho x*: it bounds eps1.
        let (bounds_rho, bounds_x_star) = (d1 >= excluded.r1_sq, d2 >= excluded.r2_sq);
        let (d1, d2) = (d1 / n2, d2 / n2);
        if bounds_rho && below_rho.as_ref().is_none_or(|m| &d2 > m) {
            below_rho = Some(d2);
        }
        if bounds_x_star && below_x_star.as_ref().is_none_or(|m| &d1 > m) {
            below_x_star = Some(d1);
        }
    }
    (below_x_star, below_rho)
}

impl Sharpness {
    /// One line: what the witnesses prove, the bounds rounded down.
    pub fn describe(&self, eps1: &BigRational, eps2: &BigRational) -> String {
        // The conditioning radius rounded down too: shown rounded up, the
        // line would claim the bound for radii the certificate does not reach.
        let show = |v: &BigRational| sqrt_floor_decimal(&(v * v), 6);
        let mut parts = Vec::new();
        if let Some(l) = &self.below_rho {
            parts.push(format!(
                "with eps1 <= {} no claim holds unless eps2 > {}",
                show(eps1),
                sqrt_floor_decimal(l, 6)
            ));
        }
        if let Some(l) = &self.below_x_star {
            parts.push(format!(
                "with eps2 <= {} no claim holds unless eps1 > {}",
                show(eps2),
                sqrt_floor_decimal(l, 6)
            ));
        }
        if parts.is_empty() {
            parts.push("they bound neither radius".into());
        }
        format!(
            "(P1) fails at {} witness point(s) inside E: {}",
            self.witnesses,
            parts.join("; ")
        )
    }

    /// The bounds as JSON: `eps_rho_exceeds` holds for every claim with
    /// `eps_x_star <= with_eps_x_star_at_most` (this certificate's), and
    /// `eps_x_star_exceeds` for every claim with `eps_rho <=
    /// with_eps_rho_at_most`; decimals rounded down, squares exact.
    pub fn to_json(&self, eps1: &BigRational, eps2: &BigRational) -> serde_json::Value {
        let sq = |v: &Option<BigRational>| v.as_ref().map(|v| v.to_string());
        let dec = |v: &Option<BigRational>| v.as_ref().map(|v| sqrt_floor_decimal(v, 6));
        serde_json::json!({
            "witnesses": self.witnesses,
            "eps_rho_exceeds": dec(&self.below_rho),
            "eps_rho_exceeds_squared": sq(&self.below_rho),
            "with_eps_x_star_at_most": eps1.to_string(),
            "eps_x_star_exceeds": dec(&self.below_x_star),
            "eps_x_star_exceeds_squared": sq(&self.below_x_star),
            "with_eps_rho_at_most": eps2.to_string(),
        })
    }
}

/// `sqrt(v)` rounded down to `places` decimals (`v >= 0`), exactly: a lower
/// bound, as the witnesses' bounds must be shown.
pub fn sqrt_floor_decimal(v: &BigRational, places: usize) -> String {
    if places == 0 {
        return (v.numer() / v.denom())
            .max(BigInt::zero())
            .sqrt()
            .to_string();
    }
    if !v.is_positive() {
        return format!("{:.*}", places, 0.0);
    }
    let scale = num_traits::pow(BigInt::from(10), places);
    let n = (v.numer() * &scale * &scale / v.denom()).sqrt();
    let int = &n / &scale;
    let frac = (&n % &scale).to_string();
    format!("{int}.{}{frac}", "0".repeat(places - frac.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_roots_round_down() {
        let r = |n: i64, d: i64| BigRational::new(n.into(), d.into());
        assert_eq!(sqrt_floor_decimal(&r(1, 4), 3), "0.500");
        assert_eq!(sqrt_floor_decimal(&r(2, 1), 6), "1.414213");
        assert_eq!(sqrt_floor_decimal(&r(1, 10000), 4), "0.0100");
        assert_eq!(sqrt_floor_decimal(&r(0, 1), 2), "0.00");
        // Just below a square: never rounded up to it.
        assert_eq!(sqrt_floor_decimal(&r(24_999_999, 100_000_000), 4), "0.4999");
    }
}
