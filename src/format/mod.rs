//! File formats shared by both tools.

pub mod network;
