//! Prefetch hints: the cache looks up a batch of packets in stages, asking for the memory of later
//! packets' index cells and entries while earlier ones are counted, so a million-flow cache waits for
//! memory once per batch rather than twice per packet.

/// Asks the CPU to bring the cache line at `address` closer. A hint only: it reads nothing into the
/// program and cannot fault.
#[inline(always)]
fn line(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 has no architectural effect besides cache state; it does not fault, even on an
    // invalid address. SSE is part of x86_64's baseline.
    #[allow(unsafe_code)]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

/// Asks for the cache line holding the start of `value`.
#[inline(always)]
pub(crate) fn read<T>(value: &T) {
    line((value as *const T).cast());
}

/// Asks for the first and the last cache line of `value`: all of it when it spans at most two, as an
/// IPv6 flow entry does (104 bytes). A value of at most a line that is aligned to one (an IPv4 entry)
/// is one line, asked for once.
#[inline(always)]
pub(crate) fn read_all<T>(value: &T) {
    let start: *const u8 = (value as *const T).cast();
    line(start);
    if !(align_of::<T>() >= 64 && size_of::<T>() <= 64) {
        line(start.wrapping_add(size_of::<T>() - 1));
    }
}

/// Asks for every cache line of `values`.
#[inline(always)]
pub(crate) fn read_slice<T>(values: &[T]) {
    let (start, bytes): (*const u8, usize) = (values.as_ptr().cast(), size_of_val(values));
    for offset in (0..bytes).step_by(64) {
        line(start.wrapping_add(offset));
    }
    if bytes > 0 {
        line(start.wrapping_add(bytes - 1));
    }
}
