//! Prefetch hints: the cache looks up a batch of packets in stages, asking for the memory of later
//! packets' index cells and entries while earlier ones are counted, so a million-flow cache waits for
//! memory once per batch rather than twice per packet.

/// Asks the CPU to bring the cache line holding `value` closer. A hint only: it reads nothing into the
/// program and cannot fault.
#[inline(always)]
pub(crate) fn read<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 has no architectural effect besides cache state; it does not fault, even on an
    // invalid address, and here the address is that of a live reference. SSE is part of x86_64's baseline.
    #[allow(unsafe_code)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}
