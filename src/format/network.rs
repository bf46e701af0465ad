//! The network file `weights.bin` (format page: `docs/network-format.md`).

/// How the measurements are taken: a matrix `A` (`m x n_d`) or `A = I`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Measurement {
    /// `A = I`, `m = n_d` (the paper's inversion case).
    Identity,
    /// A dense `m x n_d` matrix.
    Matrix { m: usize },
}

/// How a sampled network was drawn (optional block of the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamplingInfo {
    /// Generator identifier; 1 = `hvcert-sample-v1` (see the format page).
    pub generator: u32,
    pub seed: u64,
}

/// A network exactly as stored: every entry a finite binary64 value.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// Latent dimension `k = n_0`.
    pub latent: usize,
    /// Layer widths `n_1 .. n_d` (`d = widths.len() >= 1`).
    pub widths: Vec<usize>,
    pub measurement: Measurement,
    /// `W_1 .. W_d`, row-major, `W_i` is `n_i x n_{i-1}`.
    pub weights: Vec<Vec<f64>>,
    /// `A`, row-major `m x n_d`; `None` exactly when `measurement` is `Identity`.
    pub a: Option<Vec<f64>>,
    /// The target latent code `x*` (length `k`, not all zero).
    pub target: Vec<f64>,
    pub sampling: Option<SamplingInfo>,
}
