#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first byte picks the version so that one target covers v1, v5, v7 and v8.
    if let Some((&pick, rest)) = data.split_first() {
        let version = [1, 5, 7, 8][usize::from(pick % 4)];
        weir_proto::fuzzing::decode_session(rest, &[0, version]);
    }
});
