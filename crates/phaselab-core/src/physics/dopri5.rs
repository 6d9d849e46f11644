//! Adaptive Dormand–Prince 5(4) with Hairer's 4th-order dense output, sampled onto a time grid.
//! Defaults as the reference's torchdiffeq call: rtol 1e-7, atol 1e-9, RMS error norm.

/// Options of the adaptive solver.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dopri5Options {
    pub rtol: f64,
    pub atol: f64,
    /// Give up after this many accepted + rejected steps (a near-singular chart, a stiff blow-up).
    pub max_steps: usize,
}

impl Default for Dopri5Options {
    fn default() -> Self {
        Dopri5Options {
            rtol: 1e-7,
            atol: 1e-9,
            max_steps: 1_000_000,
        }
    }
}

/// Why an integration stopped early.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum IntegrationError {
    #[error("the vector field could not be evaluated at t = {t} (singular mass matrix)")]
    Field { t: f64 },
    #[error("step size underflow at t = {t}")]
    StepUnderflow { t: f64 },
    #[error("more than {max} steps before t = {t}")]
    TooManySteps { max: usize, t: f64 },
    #[error("state became NaN or infinite at t = {t}")]
    NonFinite { t: f64 },
}

const C: [f64; 7] = [0.0, 0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0];
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [0.2, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
        0.0,
        0.0,
    ],
    [
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
        0.0,
    ],
    [
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];
/// Error weights: 5th-order minus embedded 4th-order solution.
const E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];
/// Dense-output weights (Hairer, Nørsett & Wanner, contd5).
const D: [f64; 7] = [
    -12715105075.0 / 11282082432.0,
    0.0,
    87487479700.0 / 32700410799.0,
    -10690763975.0 / 1880347072.0,
    701980252875.0 / 199316789632.0,
    -1453857185.0 / 822651844.0,
    69997945.0 / 29380423.0,
];

fn rms(x: impl Iterator<Item = f64>, n: usize) -> f64 {
    (x.map(|v| v * v).sum::<f64>() / n as f64).sqrt()
}

/// Integrate dy/dt = f(t, y) from `grid[0]` and return y at every grid time (grid increasing).
/// `f` returns `Err(())` where the field cannot be evaluated.
pub fn integrate<F>(
    mut f: F,
    y0: &[f64],
    grid: &[f64],
    opts: &Dopri5Options,
) -> Result<Vec<Vec<f64>>, IntegrationError>
where
    F: FnMut(f64, &[f64], &mut [f64]) -> Result<(), ()>,
{
    let n = y0.len();
    let mut out = Vec::with_capacity(grid.len());
    if grid.is_empty() {
        return Ok(out);
    }
    out.push(y0.to_vec());
    if grid.len() == 1 {
        return Ok(out);
    }
    let (t_start, t_end) = (grid[0], grid[grid.len() - 1]);
    let mut t = t_start;
    let mut y = y0.to_vec();
    let mut k = vec![vec![0.0; n]; 7];
    let mut ytmp = vec![0.0; n];
    let mut ynew = vec![0.0; n];
    f(t, &y, &mut k[0]).map_err(|_| IntegrationError::Field { t })?;

    // Initial step (Hairer's hinit).
    let sc: Vec<f64> = y.iter().map(|v| opts.atol + opts.rtol * v.abs()).collect();
    let d0 = rms(y.iter().zip(&sc).map(|(a, s)| a / s), n);
    let d1 = rms(k[0].iter().zip(&sc).map(|(a, s)| a / s), n);
    let mut h = if d0 < 1e-5 || d1 < 1e-5 {
        1e-6
    } else {
        0.01 * d0 / d1
    };
    for i in 0..n {
        ytmp[i] = y[i] + h * k[0][i];
    }
    f(t + h, &ytmp, &mut k[1]).map_err(|_| IntegrationError::Field { t })?;
    let d2 = rms((0..n).map(|i| (k[1][i] - k[0][i]) / sc[i]), n) / h;
    let h1 = if d1.max(d2) <= 1e-15 {
        (h * 1e-3).max(1e-6)
    } else {
        (0.01 / d1.max(d2)).powf(0.2)
    };
    h = (100.0 * h).min(h1).min(t_end - t_start);

    let mut next = 1; // next grid index to fill
    let mut steps = 0;
    let mut rejected_last = false;
    while next < grid.len() {
        steps += 1;
        if steps > opts.max_steps {
            return Err(IntegrationError::TooManySteps {
                max: opts.max_steps,
                t,
            });
        }
        if h < 1e-12 * (1.0 + t.abs()) {
            return Err(IntegrationError::StepUnderflow { t });
        }
        let last = t + h >= t_end;
        if last {
            h = t_end - t;
        }
        for s in 1..7 {
            for i in 0..n {
                let mut acc = y[i];
                for j in 0..s {
                    acc += h * A[s][j] * k[j][i];
                }
                ytmp[i] = acc;
            }
            f(t + C[s] * h, &ytmp, &mut k[s]).map_err(|_| IntegrationError::Field { t })?;
            if s == 6 {
                ynew.copy_from_slice(&ytmp);
            }
        }
        let err = rms(
            (0..n).map(|i| {
                let e: f64 = (0..7).map(|j| E[j] * k[j][i]).sum::<f64>() * h;
                let s = opts.atol + opts.rtol * y[i].abs().max(ynew[i].abs());
                e / s
            }),
            n,
        );
        if !err.is_finite() {
            h *= 0.2;
            rejected_last = true;
            continue;
        }
        if err <= 1.0 {
            let t_new = if last { t_end } else { t + h };
            // Dense output on every grid point in (t, t_new].
            while next < grid.len() && grid[next] <= t_new {
                let theta = (grid[next] - t) / h;
                let th1 = 1.0 - theta;
                let yi: Vec<f64> = (0..n)
                    .map(|i| {
                        let ydiff = ynew[i] - y[i];
                        let bspl = h * k[0][i] - ydiff;
                        let r4 = ydiff - h * k[6][i] - bspl;
                        let r5: f64 = h * (0..7).map(|j| D[j] * k[j][i]).sum::<f64>();
                        y[i] + theta * (ydiff + th1 * (bspl + theta * (r4 + th1 * r5)))
                    })
                    .collect();
                if yi.iter().any(|v| !v.is_finite()) {
                    return Err(IntegrationError::NonFinite { t: grid[next] });
                }
                out.push(yi);
                next += 1;
            }
            t = t_new;
            y.copy_from_slice(&ynew);
            k.swap(0, 6); // first-same-as-last: f(y_new) is the next step's k1
            let mut fac = 0.9 * err.max(1e-10).powf(-0.2);
            fac = fac.clamp(0.2, 10.0);
            if rejected_last {
                fac = fac.min(1.0);
            }
            rejected_last = false;
            h *= fac;
        } else {
            h *= (0.9 * err.powf(-0.2)).max(0.2);
            rejected_last = true;
        }
    }
    Ok(out)
}
