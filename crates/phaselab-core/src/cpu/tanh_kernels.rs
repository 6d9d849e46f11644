//! Vectorised f32 loops for the tanh layers on the CPU (no burn here): tanh(h + b), the
//! derivative product g (1 - a^2) and its second factor -2 G g a. burn-flex evaluates tanh with
//! scalar libm on one thread; these loops are what `fused_tanh` runs instead (AVX2 + FMA where the
//! processor has it, SIMD128 in the browser) and split across threads for large tensors.

/// |x| above which tanh(x) rounds to +-1 in f32.
const CLAMP: f32 = 7.905_311;
/// Below this |x|, tanh(x) = x to f32 precision.
const TINY: f32 = 0.0004;
// Odd numerator and even denominator of a [13/6] rational approximation (Eigen's form):
// tanh(x) ~ x P(x^2) / Q(x^2). Absolute error at most 4.1e-7 against f64 tanh (measured over
// [-12, 12]; largest near |x| = 6, about 7 f32 ulp of 1), far below the rounding of the 256-term
// sums in the layers around it.
const A1: f32 = 4.893_524_6e-3;
const A3: f32 = 6.372_619_3e-4;
const A5: f32 = 1.485_722_4e-5;
const A7: f32 = 5.122_297e-8;
const A9: f32 = -8.604_672e-11;
const A11: f32 = 2.000_188e-13;
const A13: f32 = -2.760_768_5e-16;
const B0: f32 = 4.893_525e-3;
const B2: f32 = 2.268_434_6e-3;
const B4: f32 = 1.185_347_1e-4;
const B6: f32 = 1.198_258_4e-6;

/// tanh(x) without branches on the value (so loops over it vectorise); NaN stays NaN.
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    // Comparisons are false for NaN, so NaN passes through the clamp unchanged.
    let c = if x > CLAMP {
        CLAMP
    } else if x < -CLAMP {
        -CLAMP
    } else {
        x
    };
    let x2 = c * c;
    let p = (((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1;
    let q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0;
    let r = c * p / q;
    if x.abs() < TINY {
        x
    } else {
        r
    }
}

/// Elements below which a loop stays on one thread (splitting costs more than it saves).
#[cfg(all(feature = "parallel", not(target_arch = "wasm32")))]
const PARALLEL_MIN: usize = 16_384;

/// Runs `f(start, chunk)` over `out` in chunks whose lengths are multiples of `align`, on all
/// threads when `out` is large, else on this one. `start` is the chunk's offset in `out`.
fn for_chunks(out: &mut [f32], align: usize, f: impl Fn(usize, &mut [f32]) + Sync + Send) {
    #[cfg(all(feature = "parallel", not(target_arch = "wasm32")))]
    {
        use rayon::prelude::*;
        let threads = rayon::current_num_threads();
        if out.len() >= PARALLEL_MIN && threads > 1 && align > 0 {
            let rows = out.len() / align;
            let rows_per = rows.div_ceil(threads).max(1);
            out.par_chunks_mut(rows_per * align)
                .enumerate()
                .for_each(|(i, chunk)| f(i * rows_per * align, chunk));
            return;
        }
    }
    let _ = align;
    f(0, out)
}

/// One loop body compiled twice: plainly and, on x86-64 processors that have them, with AVX2 and
/// FMA enabled (chosen at run time).
macro_rules! simd_loop {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$doc])*
        fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn wide($($arg: $ty),*) {
                    body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the processor has the features `wide` was compiled for.
                    return unsafe { wide($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}

simd_loop! {
    /// out[r, c] <- tanh(out[r, c] + bias[c]) for a row-major chunk of whole rows.
    fn bias_tanh_rows(out: &mut [f32], bias: &[f32]) {
        for row in out.chunks_exact_mut(bias.len()) {
            for (o, b) in row.iter_mut().zip(bias) {
                *o = tanh(*o + *b);
            }
        }
    }
}

simd_loop! {
    /// out <- out (1 - a^2), elementwise.
    fn dtanh_mul_loop(out: &mut [f32], a: &[f32]) {
        for (o, a) in out.iter_mut().zip(a) {
            *o *= 1.0 - *a * *a;
        }
    }
}

simd_loop! {
    /// out <- -2 out g a, elementwise.
    fn dtanh_mul_da_loop(out: &mut [f32], g: &[f32], a: &[f32]) {
        for ((o, g), a) in out.iter_mut().zip(g).zip(a) {
            *o *= -2.0 * *g * *a;
        }
    }
}

/// h <- tanh(h + b) in place, for h row-major [rows, b.len()].
pub fn bias_tanh(h: &mut [f32], b: &[f32]) {
    assert!(!b.is_empty() && h.len() % b.len() == 0, "bias_tanh: shapes");
    for_chunks(h, b.len(), |_, chunk| bias_tanh_rows(chunk, b));
}

/// g <- g (1 - a^2) in place: the tanh layer's backward factor, with a = tanh(h).
pub fn dtanh_mul(g: &mut [f32], a: &[f32]) {
    assert_eq!(g.len(), a.len(), "dtanh_mul: lengths");
    for_chunks(g, 1, |s, chunk| {
        dtanh_mul_loop(chunk, &a[s..s + chunk.len()])
    });
}

/// grad <- -2 grad g a in place: d/da of g (1 - a^2) applied to the incoming gradient.
pub fn dtanh_mul_da(grad: &mut [f32], g: &[f32], a: &[f32]) {
    assert!(
        grad.len() == g.len() && g.len() == a.len(),
        "dtanh_mul_da: lengths"
    );
    for_chunks(grad, 1, |s, chunk| {
        let e = s + chunk.len();
        dtanh_mul_da_loop(chunk, &g[s..e], &a[s..e])
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tanh_matches_f64_to_a_few_ulp_and_keeps_specials() {
        let mut worst = 0.0f64;
        let mut x = -12.0f32;
        while x < 12.0 {
            let err = (tanh(x) as f64 - (x as f64).tanh()).abs();
            worst = worst.max(err);
            x += 1.37e-4;
        }
        assert!(worst < 5e-7, "max abs error {worst}");
        // Relative accuracy near zero (where tanh(x) ~ x).
        for &x in &[1e-30f32, 1e-8, 3e-4, 5e-4, 1e-3, 0.01] {
            let rel = ((tanh(x) as f64 - (x as f64).tanh()) / (x as f64).tanh()).abs();
            assert!(rel < 5e-7, "x {x}: relative error {rel}");
            assert_eq!(tanh(-x), -tanh(x));
        }
        assert!(tanh(f32::NAN).is_nan());
        assert_eq!(tanh(f32::INFINITY), 1.0);
        assert_eq!(tanh(f32::NEG_INFINITY), -1.0);
        assert_eq!(tanh(0.0), 0.0);
    }

    #[test]
    fn loops_equal_their_formulas_on_large_and_ragged_sizes() {
        for (rows, cols) in [(3, 5), (200, 256), (97, 301)] {
            let n = rows * cols;
            let h: Vec<f32> = (0..n)
                .map(|i| ((i * 37 % 101) as f32 - 50.0) / 9.0)
                .collect();
            let b: Vec<f32> = (0..cols).map(|c| (c as f32 - 2.0) / 7.0).collect();
            let mut y = h.clone();
            bias_tanh(&mut y, &b);
            for i in 0..n {
                assert_eq!(y[i], tanh(h[i] + b[i % cols]));
            }
            let g: Vec<f32> = (0..n).map(|i| (i % 13) as f32 - 6.0).collect();
            let mut out = g.clone();
            dtanh_mul(&mut out, &y);
            let mut d = g.clone();
            dtanh_mul_da(&mut d, &h, &y);
            for i in 0..n {
                assert_eq!(out[i], g[i] * (1.0 - y[i] * y[i]));
                assert_eq!(d[i], g[i] * (-2.0 * h[i] * y[i]));
            }
        }
    }
}
