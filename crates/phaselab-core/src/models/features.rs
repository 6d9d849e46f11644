//! Angles enter networks as (cos q, sin q), as in the reference's CosSin layer:
//! phi(q) = [cos q_ang, sin q_ang, q_other], with its derivatives for both passes.

use burn::prelude::*;

/// The embedding for one system's coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct CosSin {
    angular: Vec<usize>,
    other: Vec<usize>,
    /// Position of coordinate i in [angular, other] order, to undo the grouping.
    inverse: Vec<usize>,
}

impl CosSin {
    pub fn new(angular: &[bool]) -> Self {
        let ang: Vec<usize> = (0..angular.len()).filter(|&i| angular[i]).collect();
        let other: Vec<usize> = (0..angular.len()).filter(|&i| !angular[i]).collect();
        let order: Vec<usize> = ang.iter().chain(&other).copied().collect();
        let mut inverse = vec![0; order.len()];
        for (pos, &i) in order.iter().enumerate() {
            inverse[i] = pos;
        }
        CosSin {
            angular: ang,
            other,
            inverse,
        }
    }

    pub fn dof(&self) -> usize {
        self.inverse.len()
    }

    /// Width of phi(q): D + number of angles.
    pub fn width(&self) -> usize {
        self.dof() + self.angular.len()
    }

    fn pick(q: &Tensor<2>, idx: &[usize]) -> Option<Tensor<2>> {
        if idx.is_empty() {
            return None;
        }
        let ids: Vec<i32> = idx.iter().map(|&i| i as i32).collect();
        let t = Tensor::<1, Int>::from_data(TensorData::new(ids, [idx.len()]), &q.device());
        Some(q.clone().select(1, t))
    }

    /// phi(q) for q [B, D].
    pub fn embed(&self, q: Tensor<2>) -> Tensor<2> {
        let mut parts = Vec::new();
        if let Some(qa) = Self::pick(&q, &self.angular) {
            parts.push(qa.clone().cos());
            parts.push(qa.sin());
        }
        if let Some(qo) = Self::pick(&q, &self.other) {
            parts.push(qo);
        }
        Tensor::cat(parts, 1)
    }

    /// Pull a gradient with respect to phi back to q: g_q = g_phi^T dphi/dq.
    pub fn vjp(&self, q: Tensor<2>, g: Tensor<2>) -> Tensor<2> {
        let na = self.angular.len();
        let mut parts = Vec::new();
        if let Some(qa) = Self::pick(&q, &self.angular) {
            let gc = g.clone().narrow(1, 0, na);
            let gs = g.clone().narrow(1, na, na);
            parts.push(qa.clone().sin().neg() * gc + qa.cos() * gs);
        }
        if !self.other.is_empty() {
            parts.push(g.narrow(1, 2 * na, self.other.len()));
        }
        self.ungroup(Tensor::cat(parts, 1))
    }

    /// Push tangents of q [B, K, D] forward to tangents of phi [B, K, width].
    pub fn jvp(&self, q: Tensor<2>, t: Tensor<3>) -> Tensor<3> {
        let na = self.angular.len();
        let grouped = self.group3(t);
        let mut parts = Vec::new();
        if let Some(qa) = Self::pick(&q, &self.angular) {
            let ta = grouped.clone().narrow(2, 0, na);
            parts.push(qa.clone().sin().neg().unsqueeze_dim::<3>(1) * ta.clone());
            parts.push(qa.cos().unsqueeze_dim::<3>(1) * ta);
        }
        if !self.other.is_empty() {
            parts.push(grouped.narrow(2, na, self.other.len()));
        }
        Tensor::cat(parts, 2)
    }

    /// [angular, other]-ordered columns back to coordinate order.
    fn ungroup(&self, x: Tensor<2>) -> Tensor<2> {
        if self.other.is_empty() || self.angular.is_empty() {
            return x;
        }
        let ids: Vec<i32> = self.inverse.iter().map(|&i| i as i32).collect();
        let t = Tensor::<1, Int>::from_data(TensorData::new(ids, [self.dof()]), &x.device());
        x.select(1, t)
    }

    /// Coordinate order to [angular, other] order along the last axis of [B, K, D].
    fn group3(&self, t: Tensor<3>) -> Tensor<3> {
        if self.other.is_empty() || self.angular.is_empty() {
            return t;
        }
        let order: Vec<i32> = self
            .angular
            .iter()
            .chain(&self.other)
            .map(|&i| i as i32)
            .collect();
        let idx = Tensor::<1, Int>::from_data(TensorData::new(order, [self.dof()]), &t.device());
        t.select(2, idx)
    }
}

/// Split states [B, 2D] into their halves: [q, v] or [q, p].
pub fn halves(s: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
    let d = s.dims()[1] / 2;
    (s.clone().narrow(1, 0, d), s.narrow(1, d, d))
}
