#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ike_fuzz::sk_unprotect(data));
