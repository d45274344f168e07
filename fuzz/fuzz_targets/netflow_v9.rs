#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weir_proto::fuzzing::decode_session(data, &[0, 9]));
