#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ike_fuzz::body::<ike::wire::nonce::Repr>(data));
