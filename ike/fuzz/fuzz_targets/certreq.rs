#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ike_fuzz::body::<ike::wire::certreq::Repr>(data));
