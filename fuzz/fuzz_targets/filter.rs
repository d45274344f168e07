#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weir_query::fuzzing::filter(data));
