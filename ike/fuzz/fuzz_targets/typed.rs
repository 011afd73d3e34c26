#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ike_fuzz::typed(data));
