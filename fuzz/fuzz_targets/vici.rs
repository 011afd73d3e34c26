#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ikerd_fuzz::vici(data));
