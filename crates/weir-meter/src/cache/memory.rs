//! Where the cache's big arrays live: on transparent huge pages when the system offers them.
//!
//! A million-flow cache is more than 100 MB read at random, one index cell and one entry per packet. On
//! 4 KiB pages nearly every such read also misses the TLB, and the page walk (two-dimensional under a
//! hypervisor) costs as much as the read itself and stalls even a prefetch hint. 2 MiB pages cover the
//! whole cache with a few dozen TLB entries, and a fresh table faults in 512 times less often.

/// Huge pages are this big on x86-64 and, by default, on arm64.
#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// Asks the kernel to back the whole capacity of `v` (used or not) with huge pages as it is first
/// touched. A hint only: without transparent huge pages, or for a vector under one huge page, nothing
/// changes.
pub(crate) fn huge_pages<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        let start = v.as_ptr() as usize;
        let end = start + v.capacity() * size_of::<T>();
        // Only the huge pages wholly inside the allocation, so no neighbouring allocation is affected.
        let (from, to) = (start.next_multiple_of(HUGE_PAGE), end / HUGE_PAGE * HUGE_PAGE);
        if from < to {
            // SAFETY: MADV_HUGEPAGE changes how the kernel backs these pages, never what they hold; the
            // range lies inside `v`'s allocation, which outlives the call. A refusal (no THP in this
            // kernel) only leaves the pages as they were, so the result is not needed.
            #[allow(unsafe_code)]
            unsafe {
                libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = v;
}
