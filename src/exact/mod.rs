//! Exact arithmetic: the trusted foundation of the checker.

pub mod dyadic;
pub mod eval;
pub mod fixed;
pub mod fxmat;
pub mod rational;
pub mod rho;
