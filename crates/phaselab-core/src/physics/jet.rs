//! Truncated Taylor series ("jets") for exact derivatives of the body embedding x(q).
//!
//! A [`Jet`] holds f(t) = c0 + c1 t + c2 t^2 for q(t) = q + t w. Evaluating the embedding on
//! jets gives x, its directional derivative J w and its second directional derivative
//! (d^2x/dq^2)[w, w] = 2 c2 to machine precision: no finite differences, no autodiff framework.

use std::ops::{Add, Div, Mul, Neg, Sub};

/// Arithmetic that both `f64` and [`Jet`] provide, so one embedding serves values and derivatives.
pub trait Scalar:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    fn cst(x: f64) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn sqrt(self) -> Self;
    fn value(self) -> f64;
    fn scale(self, k: f64) -> Self {
        self * Self::cst(k)
    }
}

impl Scalar for f64 {
    fn cst(x: f64) -> Self {
        x
    }
    fn sin(self) -> Self {
        f64::sin(self)
    }
    fn cos(self) -> Self {
        f64::cos(self)
    }
    fn sqrt(self) -> Self {
        f64::sqrt(self)
    }
    fn value(self) -> f64 {
        self
    }
    fn scale(self, k: f64) -> Self {
        self * k
    }
}

/// Second-order jet c0 + c1 t + c2 t^2.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Jet {
    pub c0: f64,
    pub c1: f64,
    pub c2: f64,
}

impl Jet {
    /// The coordinate q + t w.
    pub fn var(q: f64, w: f64) -> Self {
        Jet {
            c0: q,
            c1: w,
            c2: 0.0,
        }
    }
    /// First derivative d/dt at t = 0.
    pub fn d1(self) -> f64 {
        self.c1
    }
    /// Second derivative d^2/dt^2 at t = 0.
    pub fn d2(self) -> f64 {
        2.0 * self.c2
    }
}

impl Add for Jet {
    type Output = Jet;
    fn add(self, b: Jet) -> Jet {
        Jet {
            c0: self.c0 + b.c0,
            c1: self.c1 + b.c1,
            c2: self.c2 + b.c2,
        }
    }
}
impl Sub for Jet {
    type Output = Jet;
    fn sub(self, b: Jet) -> Jet {
        Jet {
            c0: self.c0 - b.c0,
            c1: self.c1 - b.c1,
            c2: self.c2 - b.c2,
        }
    }
}
impl Neg for Jet {
    type Output = Jet;
    fn neg(self) -> Jet {
        Jet {
            c0: -self.c0,
            c1: -self.c1,
            c2: -self.c2,
        }
    }
}
impl Mul for Jet {
    type Output = Jet;
    fn mul(self, b: Jet) -> Jet {
        Jet {
            c0: self.c0 * b.c0,
            c1: self.c0 * b.c1 + self.c1 * b.c0,
            c2: self.c0 * b.c2 + self.c1 * b.c1 + self.c2 * b.c0,
        }
    }
}
impl Div for Jet {
    type Output = Jet;
    fn div(self, b: Jet) -> Jet {
        let c0 = self.c0 / b.c0;
        let c1 = (self.c1 - c0 * b.c1) / b.c0;
        let c2 = (self.c2 - c0 * b.c2 - c1 * b.c1) / b.c0;
        Jet { c0, c1, c2 }
    }
}

impl Scalar for Jet {
    fn cst(x: f64) -> Self {
        Jet {
            c0: x,
            c1: 0.0,
            c2: 0.0,
        }
    }
    fn sin(self) -> Self {
        let (s, c) = self.c0.sin_cos();
        Jet {
            c0: s,
            c1: c * self.c1,
            c2: c * self.c2 - 0.5 * s * self.c1 * self.c1,
        }
    }
    fn cos(self) -> Self {
        let (s, c) = self.c0.sin_cos();
        Jet {
            c0: c,
            c1: -s * self.c1,
            c2: -s * self.c2 - 0.5 * c * self.c1 * self.c1,
        }
    }
    fn sqrt(self) -> Self {
        let r0 = self.c0.sqrt();
        let r1 = self.c1 / (2.0 * r0);
        let r2 = (self.c2 - r1 * r1) / (2.0 * r0);
        Jet {
            c0: r0,
            c1: r1,
            c2: r2,
        }
    }
    fn value(self) -> f64 {
        self.c0
    }
    fn scale(self, k: f64) -> Self {
        Jet {
            c0: self.c0 * k,
            c1: self.c1 * k,
            c2: self.c2 * k,
        }
    }
}

/// Euclidean norm of a 3-vector.
pub fn norm3<S: Scalar>(a: [S; 3]) -> S {
    (a[0] * a[0] + a[1] * a[1] + a[2] * a[2]).sqrt()
}

/// Difference a - b of 3-vectors.
pub fn sub3<S: Scalar>(a: [S; 3], b: [S; 3]) -> [S; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

/// Dot product of 3-vectors.
pub fn dot3<S: Scalar>(a: [S; 3], b: [S; 3]) -> S {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Second derivative of f along t by central differences, for checking the jet rules.
    fn fd(f: impl Fn(f64) -> f64, x: f64) -> (f64, f64) {
        let h = 1e-4;
        (
            (f(x + h) - f(x - h)) / (2.0 * h),
            (f(x + h) - 2.0 * f(x) + f(x - h)) / (h * h),
        )
    }

    #[test]
    fn jet_rules_match_finite_differences() {
        let g = |t: Jet| (t.sin() * t.cos() + t * t).sqrt() / (Jet::cst(2.0) + t.cos());
        let gf = |t: f64| ((t.sin() * t.cos() + t * t).sqrt()) / (2.0 + t.cos());
        for &x in &[0.3, 1.1, 2.5] {
            let j = g(Jet::var(x, 1.0));
            let (d1, d2) = fd(gf, x);
            assert!((j.c0 - gf(x)).abs() < 1e-14);
            assert!((j.d1() - d1).abs() < 1e-7, "{} vs {}", j.d1(), d1);
            assert!((j.d2() - d2).abs() < 1e-5, "{} vs {}", j.d2(), d2);
        }
    }
}
