//! Rigid bodies as the reference builds them ("extended bodies"): a centre-of-mass node of mass m
//! plus three massless nodes at com + R e_k coupled to it with inertia I_k = m s_k, where s is the
//! diagonal of the body's second-moment matrix. Then T = m |v_com|^2 / 2 + omega^T I omega / 2
//! with I = m (tr(s) - diag(s)). Orientation: ZXZ Euler angles, R = Rz(phi) Rx(theta) Rz(psi).

use super::jet::Scalar;
use super::lagrangian::NodeMass;

/// Body-to-space rotation R = Rz(phi) Rx(theta) Rz(psi) (intrinsic ZXZ), row-major.
pub fn rotation<S: Scalar>(phi: S, theta: S, psi: S) -> [[S; 3]; 3] {
    let (s1, c1) = (phi.sin(), phi.cos());
    let (s2, c2) = (theta.sin(), theta.cos());
    let (s3, c3) = (psi.sin(), psi.cos());
    [
        [c1 * c3 - s1 * c2 * s3, -(c1 * s3) - s1 * c2 * c3, s1 * s2],
        [s1 * c3 + c1 * c2 * s3, c1 * c2 * c3 - s1 * s3, -(c1 * s2)],
        [s2 * s3, s2 * c3, c2],
    ]
}

/// Node mass matrix of one extended body (nodes: com, axis x, axis y, axis z).
pub fn extended_body_mass(m: f64, second_moments: [f64; 3]) -> NodeMass {
    let mut nm = NodeMass::diagonal(&[m, 0.0, 0.0, 0.0]);
    for (k, s) in second_moments.iter().enumerate() {
        nm.add_coupling(0, k + 1, m * s);
    }
    nm
}

/// Principal moments of inertia about the centre of mass, m (tr(s) - s_k).
pub fn principal_inertia(m: f64, s: [f64; 3]) -> [f64; 3] {
    let tr = s[0] + s[1] + s[2];
    [m * (tr - s[0]), m * (tr - s[1]), m * (tr - s[2])]
}

/// Node positions: the centre of mass and the tips of the three body axes.
pub fn frame_nodes<S: Scalar>(com: [S; 3], r: &[[S; 3]; 3]) -> Vec<[S; 3]> {
    let mut nodes = vec![com];
    for k in 0..3 {
        nodes.push([com[0] + r[0][k], com[1] + r[1][k], com[2] + r[2][k]]);
    }
    nodes
}

/// ZXZ Euler angles (phi, theta, psi) of the frame of points [com, com + R e_1, com + R e_2,
/// com + R e_3] (the inverse of [`rotation`] with [`frame_nodes`]; theta in [0, pi]). From
/// R = Rz(phi) Rx(theta) Rz(psi): R_22 = cos theta, (R_02, R_12) = sin theta (sin phi, −cos phi),
/// (R_20, R_21) = sin theta (sin psi, cos psi).
pub fn euler_of_frame(x: &[[f64; 3]]) -> [f64; 3] {
    let r = |i: usize, k: usize| x[k + 1][i] - x[0][i];
    let phi = r(0, 2).atan2(-r(1, 2));
    let theta = r(0, 2).hypot(r(1, 2)).atan2(r(2, 2));
    let psi = r(2, 0).atan2(r(2, 1));
    [phi, theta, psi]
}

/// R applied to a body-frame vector.
pub fn rotate<S: Scalar>(r: &[[S; 3]; 3], b: [f64; 3]) -> [S; 3] {
    let row = |i: usize| r[i][0].scale(b[0]) + r[i][1].scale(b[1]) + r[i][2].scale(b[2]);
    [row(0), row(1), row(2)]
}

/// Body-frame angular velocity from ZXZ Euler angles and their rates.
pub fn body_angular_velocity(e: [f64; 3], de: [f64; 3]) -> [f64; 3] {
    let (s2, c2) = e[1].sin_cos();
    let (s3, c3) = e[2].sin_cos();
    [
        de[0] * s2 * s3 + de[1] * c3,
        de[0] * s2 * c3 - de[1] * s3,
        de[0] * c2 + de[2],
    ]
}
