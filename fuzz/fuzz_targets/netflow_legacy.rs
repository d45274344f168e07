#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weir_proto::fuzzing::netflow_legacy(data));
