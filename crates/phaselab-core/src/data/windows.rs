//! Cutting a trajectory set into pieces: chosen trajectories, or windows of consecutive points
//! (training chunks cut from long trajectories, as the protocol cuts simulated ones).

use super::TrajectorySet;

impl TrajectorySet {
    /// Windows of `len` points starting at (trajectory i, time k) for each `(i, k)` in `starts`.
    /// Panics if a window runs past its trajectory: callers choose starts from `n` and `t`.
    pub fn windows(&self, starts: &[(usize, usize)], len: usize) -> TrajectorySet {
        let (d, m) = (self.d, self.n_controls());
        let mut out = TrajectorySet {
            n: starts.len(),
            t: len,
            q: Vec::with_capacity(starts.len() * len * d),
            v: Vec::with_capacity(starts.len() * len * d),
            u: self.u.as_ref().map(|(_, m)| (Vec::new(), *m)),
            t0: Some(Vec::with_capacity(starts.len())),
            ..self.clone_empty()
        };
        for &(i, k) in starts {
            assert!(i < self.n && k + len <= self.t, "window past the data");
            let (a, b) = ((i * self.t + k) * d, (i * self.t + k + len) * d);
            out.q.extend_from_slice(&self.q[a..b]);
            out.v.extend_from_slice(&self.v[a..b]);
            if let (Some((u, _)), Some((ou, _))) = (&self.u, &mut out.u) {
                ou.extend_from_slice(&u[(i * self.t + k) * m..(i * self.t + k + len) * m]);
            }
            let base = self.t0.as_ref().map_or(0.0, |t0| t0[i]);
            if let Some(t0) = &mut out.t0 {
                t0.push(base + k as f64 * self.dt);
            }
        }
        out
    }

    /// Whole trajectories `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> TrajectorySet {
        let starts: Vec<(usize, usize)> = indices.iter().map(|&i| (i, 0)).collect();
        let mut out = self.windows(&starts, self.t);
        out.t0 = self
            .t0
            .as_ref()
            .map(|t0| indices.iter().map(|&i| t0[i]).collect());
        out
    }

    /// The trajectories whose velocities stay within ±`max` in every coordinate at every point,
    /// in their order. A diagnosis, not the protocol: in Euler or spherical angles the rates near
    /// a pole of the chart grow without bound (the rotor's reach 186 rad/s against a median of
    /// 2), and leaving those chunks out shows whether they are what makes a run diverge.
    pub fn within_speed(&self, max: f64) -> TrajectorySet {
        let span = self.t * self.d;
        let keep: Vec<usize> = (0..self.n)
            .filter(|&i| {
                self.v[i * span..(i + 1) * span]
                    .iter()
                    .all(|x| x.abs() <= max)
            })
            .collect();
        self.select(&keep)
    }

    /// The same metadata and step with no trajectories.
    fn clone_empty(&self) -> TrajectorySet {
        TrajectorySet {
            n: 0,
            t: self.t,
            d: self.d,
            q: vec![],
            v: vec![],
            u: None,
            dt: self.dt,
            t0: None,
            meta: self.meta.clone(),
        }
    }
}
