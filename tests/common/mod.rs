//! Helpers shared by integration tests (`mod common;`).
#![allow(dead_code)]

pub mod certify;
pub mod oracle_k2;
pub mod rationals;
