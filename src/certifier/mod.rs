//! The certifier: everything that is not trusted.
