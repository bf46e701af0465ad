//! Any bytes: a tiny network is certified, the certificate checked, and a
//! `holds` verdict tested exactly against (P1) and (P2) at many points
//! (`hvcert::fuzzing::landscape`). A panic is a soundness bug.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hvcert::fuzzing::landscape(data);
});
