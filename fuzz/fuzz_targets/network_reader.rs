//! Any bytes: the network reader returns a network or an error, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    hvcert::fuzzing::network_reader(data);
});
