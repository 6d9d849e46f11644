//! The thread the CPU step runs on.

/// Runs `f` on a thread of the global thread pool, the caller waiting. The CPU kernels split large
/// products and loops across the pool; started from a pool thread, a split runs its first half on
/// that thread instead of waking every pool thread while the caller sleeps. On 2 cores this is
/// the difference between threads helping and hurting (`phaselab bench train-step`).
pub fn on_pool_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    #[cfg(all(feature = "parallel", not(target_arch = "wasm32")))]
    {
        rayon::scope(|_| f())
    }
    #[cfg(not(all(feature = "parallel", not(target_arch = "wasm32"))))]
    {
        f()
    }
}
