//! The manifest parser on arbitrary text (`marqa::fuzzing::manifest`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| marqa::fuzzing::manifest(data));
