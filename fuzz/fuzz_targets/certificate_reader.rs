//! Any text: the certificate reader and the checker (against a fixed tiny
//! network) return a verdict or an error, never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hvcert::fuzzing::certificate_reader(data);
});
