//! Fixed-step integrators on tensors, one data interval at a time (the reference integrates
//! learned models on the data grid). Everything is differentiable: training backpropagates
//! through the unrolled steps.

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A fixed-step scheme with `substeps` steps per data interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// y' = y + h f(y).
    Euler,
    /// Classic fourth-order Runge–Kutta.
    Rk4,
    /// The 3/8-rule RK4 (what the reference's torchdiffeq calls "rk4").
    Rk4ThreeEighths,
}

/// Scheme plus substeps; the default is the reference's: one 3/8-rule RK4 step per data interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solver {
    pub method: Method,
    pub substeps: usize,
}

impl Default for Solver {
    fn default() -> Self {
        Solver {
            method: Method::Rk4ThreeEighths,
            substeps: 1,
        }
    }
}

impl fmt::Display for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = match self.method {
            Method::Euler => "euler",
            Method::Rk4 => "rk4",
            Method::Rk4ThreeEighths => "rk4-38",
        };
        if self.substeps == 1 {
            write!(f, "{m}")
        } else {
            write!(f, "{m}:{}", self.substeps)
        }
    }
}

impl FromStr for Solver {
    type Err = String;
    /// `euler[:k]`, `rk4[:k]`, `rk4-38[:k]`.
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, k) = match s.split_once(':') {
            Some((a, b)) => (
                a,
                b.parse::<usize>()
                    .ok()
                    .filter(|k| (1..=1000).contains(k))
                    .ok_or(format!("substeps must be in 1..=1000, got '{b}'"))?,
            ),
            None => (s, 1),
        };
        let method = match name {
            "euler" => Method::Euler,
            "rk4" => Method::Rk4,
            "rk4-38" => Method::Rk4ThreeEighths,
            _ => {
                return Err(format!(
                    "unknown solver '{s}' (euler[:k], rk4[:k], rk4-38[:k])"
                ))
            }
        };
        Ok(Solver {
            method,
            substeps: k,
        })
    }
}

impl Solver {
    /// One step of size h.
    pub fn step(&self, f: &impl Fn(Tensor<2>) -> Tensor<2>, y: Tensor<2>, h: f64) -> Tensor<2> {
        match self.method {
            Method::Euler => y.clone() + f(y).mul_scalar(h),
            Method::Rk4 => {
                let k1 = f(y.clone());
                let k2 = f(y.clone() + k1.clone().mul_scalar(h / 2.0));
                let k3 = f(y.clone() + k2.clone().mul_scalar(h / 2.0));
                let k4 = f(y.clone() + k3.clone().mul_scalar(h));
                y + (k1 + (k2 + k3).mul_scalar(2.0) + k4).mul_scalar(h / 6.0)
            }
            Method::Rk4ThreeEighths => {
                let k1 = f(y.clone());
                let k2 = f(y.clone() + k1.clone().mul_scalar(h / 3.0));
                let k3 = f(y.clone() + (k2.clone() - k1.clone().div_scalar(3.0)).mul_scalar(h));
                let k4 = f(y.clone() + (k1.clone() - k2.clone() + k3.clone()).mul_scalar(h));
                y + (k1 + (k2 + k3).mul_scalar(3.0) + k4).mul_scalar(h / 8.0)
            }
        }
    }

    /// States at t = 0, dt, ..., (n - 1) dt, stacked [B, n, S].
    pub fn rollout(
        &self,
        f: &impl Fn(Tensor<2>) -> Tensor<2>,
        y0: Tensor<2>,
        n: usize,
        dt: f64,
    ) -> Tensor<3> {
        let h = dt / self.substeps as f64;
        let mut out = vec![y0.clone()];
        let mut y = y0;
        for _ in 1..n {
            for _ in 0..self.substeps {
                y = self.step(f, y, h);
            }
            out.push(y.clone());
        }
        Tensor::stack(out, 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Harmonic oscillator y'' = -y: every scheme converges at its order.
    #[test]
    fn orders_of_accuracy() {
        let device = Device::flex();
        let f = |y: Tensor<2>| {
            let q = y.clone().narrow(1, 0, 1);
            let v = y.narrow(1, 1, 1);
            Tensor::cat(vec![v, q.neg()], 1)
        };
        let err = |s: Solver| {
            let y0 = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 0.0], [1, 2]), &device);
            let out = s.rollout(&f, y0, 2, 1.0);
            let v: Vec<f32> = out.narrow(1, 1, 1).into_data().try_to_vec().unwrap();
            ((v[0] as f64 - 1f64.cos()).powi(2) + (v[1] as f64 + 1f64.sin()).powi(2)).sqrt()
        };
        for (m, lo, hi) in [
            (Method::Euler, 1.6, 2.4),
            (Method::Rk4, 12.0, 20.0),
            (Method::Rk4ThreeEighths, 12.0, 20.0),
        ] {
            let r = err(Solver {
                method: m,
                substeps: 4,
            }) / err(Solver {
                method: m,
                substeps: 8,
            });
            assert!(r > lo && r < hi, "{m:?}: ratio {r}");
        }
    }
}
