//! Keeping freed memory. A population's step allocates and frees tensors of hundreds of
//! kilobytes to megabytes thousands of times a second. glibc's default gives blocks that large
//! back to the kernel (mmap, heap trimming), and every new one then costs page faults and zeroing:
//! about a fifth of a population-of-8 step at width 256 (`perf`; `phaselab bench train-step
//! --population 8`). Raising the thresholds keeps them in the process for reuse.

/// Tell glibc's allocator to serve blocks up to 32 MiB from its heaps and keep up to 512 MiB of
/// freed memory (a no-op off Linux glibc). Call once at start, before threads allocate.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::raw::c_int;
        extern "C" {
            fn mallopt(param: c_int, value: c_int) -> c_int;
        }
        const M_TRIM_THRESHOLD: c_int = -1;
        const M_TOP_PAD: c_int = -2;
        const M_MMAP_THRESHOLD: c_int = -3;
        // SAFETY: mallopt only changes the allocator's tuning parameters; each call is checked
        // by glibc and a refused value leaves the default in place.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 512 << 20);
            mallopt(M_TOP_PAD, 64 << 20);
        }
    }
}
