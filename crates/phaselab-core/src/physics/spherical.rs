//! Spherical angles of a pendulum bob, with the chart's poles turned horizontal (the reference's
//! trick) so that the hanging position phi = pi, theta = pi/2 is far from the singularity:
//! r(phi, theta) = (-cos theta, sin theta sin phi, sin theta cos phi).

use super::jet::Scalar;

/// Unit vector for angles (phi, theta).
pub fn direction<S: Scalar>(phi: S, theta: S) -> [S; 3] {
    let st = theta.sin();
    [-theta.cos(), st * phi.sin(), st * phi.cos()]
}

/// Angles (phi, theta) of a non-zero vector (inverse of [`direction`] up to its length).
pub fn angles(r: [f64; 3]) -> (f64, f64) {
    // In the chart's own frame r' = (z, y, -x).
    let (xp, yp, zp) = (r[2], r[1], -r[0]);
    let phi = yp.atan2(xp);
    let theta = (xp * xp + yp * yp).sqrt().atan2(zp);
    (phi, theta)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_hanging_position() {
        let d = direction(std::f64::consts::PI, std::f64::consts::FRAC_PI_2);
        assert!((d[2] + 1.0).abs() < 1e-15 && d[0].abs() < 1e-15 && d[1].abs() < 1e-15);
        for &(p, t) in &[(2.9, 1.4), (3.5, 1.9), (0.4, 0.7)] {
            let (p2, t2) = angles(direction(p, t));
            assert!(
                (p2.rem_euclid(std::f64::consts::TAU) - p).abs() < 1e-12 && (t2 - t).abs() < 1e-12
            );
        }
    }
}
