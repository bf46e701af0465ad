//! hvcert: machine-checked certificates for the descent landscape of concrete
//! ReLU generative networks (Hand and Voroninski, 2017). See `README.md`.
//!
//! Trusted side (the checker may use only these): [`format`] (file formats)
//! and [`exact`] (exact arithmetic and the exact evaluator).
//! Untrusted side: [`certifier`] (sampling, fast arithmetic, cover search).

pub mod certifier;
pub mod checker;
pub mod cli;
pub mod exact;
pub mod format;
pub mod fuzzing;
pub mod interop;
pub mod limits;
pub mod progress;
