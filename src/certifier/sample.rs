//! Sampling the paper's random model, bit for bit reproducibly.
//!
//! Generator `hvcert-sample-v1` (format page, "Sampling"):
//! - key: SHA-256 of the ASCII bytes `hvcert-sample-v1` followed by the seed
//!   as 8 little-endian bytes; stream: `ChaCha20Rng::from_seed(key)` of
//!   `rand_chacha` 0.3 (a value-stable generator);
//! - uniforms: `u = (2 (r >> 11) + 1) / 2^54` from each `next_u64` `r`, exactly
//!   (in `(0, 1)`, never 0 or 1);
//! - normals: Box-Muller, `sqrt(-2 ln u1) * (cos, sin)(2 pi u2)`, both values
//!   used in that order, evaluated in MPFR at 128 bits with round-to-nearest
//!   and multiplied by the standard deviation there; each value is rounded to
//!   binary64 once, at the end. MPFR's functions are correctly rounded, so the
//!   result is the same on every machine;
//! - order: `W_1 .. W_d` row-major (`N(0, 1/n_i)`), then `A` row-major
//!   (`N(0, 1/m)`), then, unless a target is given, `k` standard normals `g`
//!   and `x* = g / ||g||` (computed in MPFR, rounded to binary64 entrywise).

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rug::float::Constant;
use rug::ops::Pow;
use rug::Float;
use sha2::{Digest, Sha256};

use crate::format::network::{Measurement, Network, SamplingInfo};

/// Identifier of the generator stored in the network file.
pub const GENERATOR_ID: u32 = 1;
const GENERATOR_NAME: &[u8] = b"hvcert-sample-v1";
const PREC: u32 = 128;

/// What to sample.
#[derive(Clone, Debug)]
pub struct SampleSpec {
    pub latent: usize,
    pub widths: Vec<usize>,
    pub measurement: Measurement,
    pub seed: u64,
    /// `x*` as given; `None` draws a random direction of norm 1.
    pub target: Option<Vec<f64>>,
}

/// A stream of standard normals (see the module documentation).
pub struct NormalStream {
    rng: ChaCha20Rng,
    spare: Option<Float>,
}

impl NormalStream {
    pub fn new(seed: u64) -> Self {
        let mut h = Sha256::new();
        h.update(GENERATOR_NAME);
        h.update(seed.to_le_bytes());
        let key: [u8; 32] = h.finalize().into();
        NormalStream {
            rng: ChaCha20Rng::from_seed(key),
            spare: None,
        }
    }

    /// A uniform in (0, 1), exact at 128 bits.
    fn uniform(&mut self) -> Float {
        let r = self.rng.next_u64() >> 11;
        let odd = 2 * r + 1; // < 2^54, exact in 128 bits
        Float::with_val(PREC, odd) >> 54u32
    }

    /// The next standard normal, at 128 bits.
    pub fn next_normal(&mut self) -> Float {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = self.uniform();
        let u2 = self.uniform();
        let radius = (u1.ln() * -2i32).sqrt();
        let angle = Float::with_val(PREC, Constant::Pi) * 2u32 * u2;
        let (sin, cos) = angle.sin_cos(Float::new(PREC));
        self.spare = Some(sin * &radius);
        cos * radius
    }

    /// `count` draws of `N(0, variance_denominator^-1)`, rounded to binary64.
    fn matrix(&mut self, count: usize, variance_denominator: usize) -> Vec<f64> {
        let sd = Float::with_val(PREC, variance_denominator).sqrt().recip();
        (0..count)
            .map(|_| (self.next_normal() * &sd).to_f64())
            .collect()
    }
}

/// Draws a network from the paper's model.
pub fn sample_network(spec: &SampleSpec) -> Network {
    let mut s = NormalStream::new(spec.seed);
    let mut weights = Vec::with_capacity(spec.widths.len());
    let mut prev = spec.latent;
    for &n in &spec.widths {
        weights.push(s.matrix(n * prev, n));
        prev = n;
    }
    let a = match spec.measurement {
        Measurement::Identity => None,
        Measurement::Matrix { m } => Some(s.matrix(m * prev, m)),
    };
    let target = match &spec.target {
        Some(t) => t.clone(),
        None => {
            let g: Vec<Float> = (0..spec.latent).map(|_| s.next_normal()).collect();
            let norm2 = g
                .iter()
                .fold(Float::new(PREC), |acc, v| acc + v.clone().pow(2u32));
            let norm = norm2.sqrt();
            g.into_iter().map(|v| (v / &norm).to_f64()).collect()
        }
    };
    Network {
        latent: spec.latent,
        widths: spec.widths.clone(),
        measurement: spec.measurement.clone(),
        weights,
        a,
        target,
        sampling: Some(SamplingInfo {
            generator: GENERATOR_ID,
            seed: spec.seed,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normals_have_plausible_moments() {
        let mut s = NormalStream::new(7);
        let n = 20_000;
        let v: Vec<f64> = (0..n).map(|_| s.next_normal().to_f64()).collect();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // Loose statistical sanity bounds (many standard errors wide).
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }

    #[test]
    fn streams_depend_on_the_seed_only() {
        let a: Vec<f64> = {
            let mut s = NormalStream::new(1);
            (0..5).map(|_| s.next_normal().to_f64()).collect()
        };
        let b: Vec<f64> = {
            let mut s = NormalStream::new(1);
            (0..5).map(|_| s.next_normal().to_f64()).collect()
        };
        let c: Vec<f64> = {
            let mut s = NormalStream::new(2);
            (0..5).map(|_| s.next_normal().to_f64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn random_target_has_unit_norm() {
        let net = sample_network(&SampleSpec {
            latent: 3,
            widths: vec![4, 8],
            measurement: Measurement::Matrix { m: 5 },
            seed: 3,
            target: None,
        });
        let n2: f64 = net.target.iter().map(|v| v * v).sum();
        assert!((n2 - 1.0).abs() < 1e-12);
        assert_eq!(net.weights[0].len(), 12);
        assert_eq!(net.weights[1].len(), 32);
        assert_eq!(net.a.as_ref().unwrap().len(), 40);
    }
}
