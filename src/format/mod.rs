//! File formats shared by both tools.

pub mod certificate;
pub mod network;
