//! The certifier: everything that is not trusted.

pub mod fast;
pub mod hunt;
pub mod inspect;
pub mod plot;
pub mod rho_mpfr;
pub mod sample;
pub mod search;
pub mod shard;
pub mod sweep;
pub mod witness;
