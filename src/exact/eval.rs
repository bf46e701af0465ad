//! The exact evaluator: forward pass, patterns, `Lambda_P`, `Q_P`, `b_P`,
//! `f`, `vbar` and one-sided directional derivatives (SPEC §1, §3), for
//! rational points and directions, with nothing rounded.
//!
//! Internally a rational point `x` is written `u / q` with an integer vector
//! `u` and an integer `q > 0`. By homogeneity (F1) the pre-activations of `x`
//! are those of `u` divided by `q`, so all network arithmetic is dyadic
//! (integers over a power of two) and a single division happens at the end.

use std::fmt;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, Zero};

use super::dyadic::{solve_integer_system, DMat, DVec};
use crate::format::network::Network;

/// One bit per neuron per layer: `bits[i][j]` for neuron `j` of layer `i + 1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pattern {
    pub bits: Vec<Vec<bool>>,
}

impl Pattern {
    /// Number of neurons that are on.
    pub fn count_on(&self) -> usize {
        self.bits.iter().flatten().filter(|&&b| b).count()
    }
}

impl fmt::Display for Pattern {
    /// Layers separated by `|`, one `0`/`1` per neuron.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, layer) in self.bits.iter().enumerate() {
            if i > 0 {
                f.write_str("|")?;
            }
            for &b in layer {
                f.write_str(if b { "1" } else { "0" })?;
            }
        }
        Ok(())
    }
}

/// A neuron, by layer (1-based, as in SPEC) and index (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Neuron {
    pub layer: usize,
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("expected a vector of length {expected}, got {got}")]
    Length { expected: usize, got: usize },
    #[error("pattern shape does not match the network")]
    PatternShape,
    #[error(
        "{count} neurons are exactly zero: 2^{count} consistent patterns exceed the limit {limit}"
    )]
    TooManyPatterns { count: usize, limit: usize },
    #[error("the network has a non-finite entry")]
    NonFinite,
}

/// The network with every entry converted to exact dyadic form, and
/// `y = A G(x*)` computed exactly.
#[derive(Clone, Debug)]
pub struct ExactNet {
    pub k: usize,
    pub widths: Vec<usize>,
    /// `W_1 .. W_d`.
    pub layers: Vec<DMat>,
    /// `A`; `None` for `A = I`.
    pub a: Option<DMat>,
    pub target: DVec,
    pub y: DVec,
}

/// The pre-activations of every layer at one (integer-scaled) point.
#[derive(Clone, Debug)]
struct Forward {
    pre: Vec<DVec>,
    /// `G` at the scaled point.
    out: DVec,
}

impl ExactNet {
    pub fn new(net: &Network) -> Result<Self, EvalError> {
        let k = net.latent;
        let mut layers = Vec::with_capacity(net.widths.len());
        let mut prev = k;
        for (w, &n) in net.weights.iter().zip(&net.widths) {
            layers.push(DMat::from_f64(n, prev, w).ok_or(EvalError::NonFinite)?);
            prev = n;
        }
        let a = match &net.a {
            Some(a) => Some(DMat::from_f64(a.len() / prev, prev, a).ok_or(EvalError::NonFinite)?),
            None => None,
        };
        let target = DVec::from_f64(&net.target).ok_or(EvalError::NonFinite)?;
        let mut me = ExactNet {
            k,
            widths: net.widths.clone(),
            layers,
            a,
            target,
            y: DVec::zeros(0),
        };
        let g = me.forward_scaled(&me.target).out;
        me.y = me.measure(&g);
        Ok(me)
    }

    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// Number of measurements `m` (`n_d` for `A = I`).
    pub fn m(&self) -> usize {
        self.a
            .as_ref()
            .map_or(self.widths[self.depth() - 1], |a| a.rows)
    }

    fn check_len(&self, x: &[BigRational]) -> Result<(), EvalError> {
        if x.len() != self.k {
            return Err(EvalError::Length {
                expected: self.k,
                got: x.len(),
            });
        }
        Ok(())
    }

    fn check_pattern(&self, p: &Pattern) -> Result<(), EvalError> {
        if p.bits.len() != self.depth()
            || p.bits.iter().zip(&self.widths).any(|(b, &n)| b.len() != n)
        {
            return Err(EvalError::PatternShape);
        }
        Ok(())
    }

    /// `A v`, or `v` for `A = I`.
    fn measure(&self, v: &DVec) -> DVec {
        match &self.a {
            Some(a) => a.mul_vec(v),
            None => v.clone(),
        }
    }

    /// `A^T v`, or `v` for `A = I`.
    fn measure_tr(&self, v: &DVec) -> DVec {
        match &self.a {
            Some(a) => a.tr_mul_vec(v),
            None => v.clone(),
        }
    }

    fn forward_scaled(&self, u: &DVec) -> Forward {
        let mut pre = Vec::with_capacity(self.depth());
        let mut act = u.clone();
        for w in &self.layers {
            let z = w.mul_vec(&act);
            act = z.relu();
            pre.push(z);
        }
        Forward { pre, out: act }
    }

    /// The directional forward pass of F3: the pattern `P'` consistent with
    /// the point (whose pre-activations are `pre`) chosen by direction `v`,
    /// and `Lambda_{P'} v`, the one-sided derivative of `G` along `v`.
    fn directional(&self, pre: &[DVec], v: &DVec) -> (Pattern, DVec) {
        let mut bits = Vec::with_capacity(self.depth());
        let mut d = v.clone();
        for (w, z) in self.layers.iter().zip(pre) {
            let dz = w.mul_vec(&d);
            // A neuron is on where z > 0, or where z = 0 and its directional
            // pre-activation is positive (relu(0 + tau dz) = tau max(dz, 0)).
            let layer: Vec<bool> = z
                .num
                .iter()
                .zip(&dz.num)
                .map(|(zj, dj)| zj.is_positive() || (zj.is_zero() && dj.is_positive()))
                .collect();
            d = dz.mask(&layer);
            bits.push(layer);
        }
        (Pattern { bits }, d)
    }

    /// `Lambda_P^T v` by a backward pass (never forms `Lambda_P`).
    fn lambda_tr_mul(&self, p: &Pattern, v: &DVec) -> DVec {
        let mut e = v.clone();
        for (w, bits) in self.layers.iter().zip(&p.bits).rev() {
            e = w.tr_mul_vec(&e.mask(bits));
        }
        e
    }

    /// The pre-activations `z_1 .. z_d` at `x`.
    pub fn preactivations(&self, x: &[BigRational]) -> Result<Vec<Vec<BigRational>>, EvalError> {
        self.check_len(x)?;
        let (u, q) = split_point(x);
        let qr = BigRational::from_integer(q);
        Ok(self
            .forward_scaled(&u)
            .pre
            .iter()
            .map(|z| z.to_rationals().into_iter().map(|v| v / &qr).collect())
            .collect())
    }

    /// `G(x)`.
    pub fn generate(&self, x: &[BigRational]) -> Result<Vec<BigRational>, EvalError> {
        self.check_len(x)?;
        let (u, q) = split_point(x);
        let qr = BigRational::from_integer(q);
        Ok(self
            .forward_scaled(&u)
            .out
            .to_rationals()
            .into_iter()
            .map(|v| v / &qr)
            .collect())
    }

    /// `y = A G(x*)`.
    pub fn measurements(&self) -> Vec<BigRational> {
        self.y.to_rationals()
    }

    /// The strict pattern `s(x)`: bit 1 exactly where `z > 0`.
    pub fn strict_pattern(&self, x: &[BigRational]) -> Result<Pattern, EvalError> {
        self.check_len(x)?;
        let (u, _) = split_point(x);
        let fw = self.forward_scaled(&u);
        Ok(strict_of(&fw.pre))
    }

    /// The strict pattern at `x` when no pre-activation is zero there
    /// (`None` otherwise): one forward pass.
    pub fn strict_pattern_without_zeros(
        &self,
        x: &[BigRational],
    ) -> Result<Option<Pattern>, EvalError> {
        self.check_len(x)?;
        let (u, _) = split_point(x);
        let fw = self.forward_scaled(&u);
        if !zero_neurons_of(&fw.pre).is_empty() {
            return Ok(None);
        }
        Ok(Some(strict_of(&fw.pre)))
    }

    /// The neurons whose pre-activation at `x` is exactly zero.
    pub fn zero_neurons(&self, x: &[BigRational]) -> Result<Vec<Neuron>, EvalError> {
        self.check_len(x)?;
        let (u, _) = split_point(x);
        let fw = self.forward_scaled(&u);
        Ok(zero_neurons_of(&fw.pre))
    }

    /// Every pattern consistent with `x` (F2): the strict pattern with each
    /// zero neuron's bit free. A zero neuron outputs 0 whatever its bit, so
    /// later pre-activations do not depend on the choice. Errors when more
    /// than `limit` patterns would be listed.
    pub fn consistent_patterns(
        &self,
        x: &[BigRational],
        limit: usize,
    ) -> Result<Vec<Pattern>, EvalError> {
        let strict = self.strict_pattern(x)?;
        let zeros = self.zero_neurons(x)?;
        let count = zeros.len();
        if count >= usize::BITS as usize || (1usize << count) > limit {
            return Err(EvalError::TooManyPatterns { count, limit });
        }
        Ok((0..1usize << count)
            .map(|mask| {
                let mut p = strict.clone();
                for (b, n) in zeros.iter().enumerate() {
                    p.bits[n.layer - 1][n.index] = mask >> b & 1 == 1;
                }
                p
            })
            .collect())
    }

    /// `Lambda_P = D_{P_d} W_d ... D_{P_1} W_1` (`n_d x k`).
    pub fn lambda(&self, p: &Pattern) -> Result<DMat, EvalError> {
        self.check_pattern(p)?;
        let mut l = DMat::identity(self.k);
        for (w, bits) in self.layers.iter().zip(&p.bits) {
            l = w.mul_masked(&l, Some(bits));
        }
        Ok(l)
    }

    /// `M_P = A Lambda_P` (`m x k`).
    pub fn measurement_matrix(&self, p: &Pattern) -> Result<DMat, EvalError> {
        let l = self.lambda(p)?;
        Ok(match &self.a {
            Some(a) => a.mul_masked(&l, None),
            None => l,
        })
    }

    /// `(Q_P, b_P) = (M_P^T M_P, M_P^T y)` (F5).
    pub fn quadratic(&self, p: &Pattern) -> Result<(DMat, DVec), EvalError> {
        let m = self.measurement_matrix(p)?;
        Ok((m.gram(), m.tr_mul_vec(&self.y)))
    }

    /// The region point `x_c = Q_P^{-1} b_P`, or `None` when `Q_P` is singular.
    pub fn region_point(&self, p: &Pattern) -> Result<Option<Vec<BigRational>>, EvalError> {
        let (q, b) = self.quadratic(p)?;
        // Q = Nq 2^eq, b = Nb 2^eb, so Q^{-1} b = Nq^{-1} Nb 2^(eb - eq).
        let Some(x) = solve_integer_system(&q.num, self.k, &b.num) else {
            return Ok(None);
        };
        let scale = super::dyadic::dyadic_to_rational(&BigInt::one(), b.exp - q.exp);
        Ok(Some(x.into_iter().map(|v| v * &scale).collect()))
    }

    /// The pattern gradient `g_P(x) = Lambda_P^T A^T (A Lambda_P x - y)` (F3).
    pub fn pattern_gradient(
        &self,
        p: &Pattern,
        x: &[BigRational],
    ) -> Result<Vec<BigRational>, EvalError> {
        self.check_len(x)?;
        let (q, b) = self.quadratic(p)?;
        // g_P(x) = Q_P x - b_P.
        let qr = q.to_rationals();
        let br = b.to_rationals();
        Ok((0..self.k)
            .map(|i| {
                let mut acc = -br[i].clone();
                for (qij, xj) in qr[i].iter().zip(x) {
                    acc += qij * xj;
                }
                acc
            })
            .collect())
    }

    /// The scaled residual `r = A G(u) - q y`, so `A G(x) - y = r / q`.
    fn residual(&self, fw: &Forward, q: &BigInt) -> DVec {
        self.measure(&fw.out).sub(&self.y.scale_int(q))
    }

    /// `f(x) = 1/2 ||A G(x) - y||^2`.
    pub fn objective(&self, x: &[BigRational]) -> Result<BigRational, EvalError> {
        self.check_len(x)?;
        let (u, q) = split_point(x);
        let r = self.residual(&self.forward_scaled(&u), &q);
        let two_q2 = BigInt::from(2) * &q * &q;
        Ok(r.dot(&r).to_rational() / BigRational::from_integer(two_q2))
    }

    /// `vbar_x = Lambda_{s(x)}^T A^T (A G(x) - y)`.
    pub fn vbar(&self, x: &[BigRational]) -> Result<Vec<BigRational>, EvalError> {
        let strict = self.strict_pattern(x)?;
        let (u, q) = split_point(x);
        let r = self.residual(&self.forward_scaled(&u), &q);
        let qr = BigRational::from_integer(q);
        Ok(self
            .lambda_tr_mul(&strict, &self.measure_tr(&r))
            .to_rationals()
            .into_iter()
            .map(|v| v / &qr)
            .collect())
    }

    /// The pattern `P'` that F3 picks at `x` for direction `w`.
    pub fn directional_pattern(
        &self,
        x: &[BigRational],
        w: &[BigRational],
    ) -> Result<Pattern, EvalError> {
        self.check_len(x)?;
        self.check_len(w)?;
        let (u, _) = split_point(x);
        let (v, _) = split_point(w);
        Ok(self.directional(&self.forward_scaled(&u).pre, &v).0)
    }

    /// The one-sided directional derivative `D_w f(x)` by F3:
    /// `<A Lambda_{P'} w, A G(x) - y>`.
    pub fn directional_derivative(
        &self,
        x: &[BigRational],
        w: &[BigRational],
    ) -> Result<BigRational, EvalError> {
        self.check_len(x)?;
        self.check_len(w)?;
        let (u, q) = split_point(x);
        let (v, s) = split_point(w);
        let fw = self.forward_scaled(&u);
        let r = self.residual(&fw, &q);
        let (_, dg) = self.directional(&fw.pre, &v);
        let num = self.measure(&dg).dot(&r).to_rational();
        Ok(num / BigRational::from_integer(q * s))
    }

    /// `D_{-vbar_x} f(x)`, exactly, with its F3 pattern. (P1) asks for this
    /// to be negative.
    pub fn descent_derivative(
        &self,
        x: &[BigRational],
    ) -> Result<(BigRational, Pattern), EvalError> {
        self.check_len(x)?;
        let (u, q) = split_point(x);
        let fw = self.forward_scaled(&u);
        let r = self.residual(&fw, &q);
        let strict = strict_of(&fw.pre);
        // v = -q vbar_x; D_{-vbar} f(x) = <A Lambda' v, r> / q^2 (positively
        // homogeneous in the direction).
        let v = self.lambda_tr_mul(&strict, &self.measure_tr(&r)).neg();
        let (pattern, dg) = self.directional(&fw.pre, &v);
        let num = self.measure(&dg).dot(&r).to_rational();
        Ok((num / BigRational::from_integer(&q * &q), pattern))
    }
}

/// The strict pattern of the pre-activations: bit 1 exactly where `z > 0`.
fn strict_of(pre: &[DVec]) -> Pattern {
    Pattern {
        bits: pre
            .iter()
            .map(|z| z.num.iter().map(|v| v.is_positive()).collect())
            .collect(),
    }
}

fn zero_neurons_of(pre: &[DVec]) -> Vec<Neuron> {
    let mut out = Vec::new();
    for (i, z) in pre.iter().enumerate() {
        for (j, v) in z.num.iter().enumerate() {
            if v.sign() == Sign::NoSign {
                out.push(Neuron {
                    layer: i + 1,
                    index: j,
                });
            }
        }
    }
    out
}

/// Writes a rational vector as `u / q` with integer `u` and `q > 0` (the
/// least common denominator).
pub fn split_point(x: &[BigRational]) -> (DVec, BigInt) {
    let q = x.iter().fold(BigInt::one(), |acc, v| acc.lcm(v.denom()));
    let u = x.iter().map(|v| v.numer() * (&q / v.denom())).collect();
    (DVec::from_integers(u), q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i64, d: i64) -> BigRational {
        BigRational::new(n.into(), d.into())
    }

    #[test]
    fn split_point_uses_common_denominator() {
        let (u, q) = split_point(&[r(1, 2), r(-1, 3), r(2, 1)]);
        assert_eq!(q, BigInt::from(6));
        assert_eq!(
            u.num,
            vec![BigInt::from(3), BigInt::from(-2), BigInt::from(12)]
        );
    }
}
