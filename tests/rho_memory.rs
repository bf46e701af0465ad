//! `certify` on a depth-1 network converts the MPFR enclosure of
//! `rho_1 = 0` to rationals. MPFR's zero has the least exponent (about
//! `-2^30`), and converting it as `0 / 2^(2^30)` allocated a 128 MiB
//! denominator (256 MiB at the peak, found by the `landscape` fuzz target's
//! RSS). Zero must convert to zero without that. One test per file: the
//! counting allocator's peak is process-wide.

use hvcert::certifier::rho_mpfr::rho_rational_enclosure;
use num_traits::Zero;

#[global_allocator]
static ALLOC: hvcert::limits::CountingAlloc = hvcert::limits::CountingAlloc;

#[test]
fn rho_1_enclosure_is_zero_and_small() {
    let before = hvcert::limits::peak_bytes();
    let (lo, hi) = rho_rational_enclosure(1, 128);
    let peak = hvcert::limits::peak_bytes();
    assert!(lo.is_zero() && hi.is_zero(), "rho_1 = 0: [{lo}, {hi}]");
    assert!(
        peak < before + (1 << 20),
        "rho_rational_enclosure(1) peaked at {} bytes",
        peak
    );
}
