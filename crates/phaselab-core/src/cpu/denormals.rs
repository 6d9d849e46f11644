//! Subnormal floats. Values below f32's normal range (~1e-38), which appear in gradients and
//! weights as training converges, make x86 arithmetic up to 100x slower per operation: epochs of
//! an HNN on MuJoCo data were measured jumping from 1.2 s to 13 s. Training flushes them to zero
//! (FTZ and DAZ), as GPUs and PyTorch's `set_flush_denormal(True)` do; the effect on results is
//! below f32 resolution.

/// Flush subnormal floats to zero on the calling thread (x86-64; a no-op elsewhere).
pub fn flush_denormals() {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse"))]
    #[allow(deprecated)]
    // SAFETY: sets only the FTZ (bit 15) and DAZ (bit 6) flags of this thread's MXCSR; every
    // x86-64 CPU has both, and no code relies on subnormal results.
    unsafe {
        use std::arch::x86_64::{_mm_getcsr, _mm_setcsr};
        _mm_setcsr(_mm_getcsr() | 0x8040);
    }
}
