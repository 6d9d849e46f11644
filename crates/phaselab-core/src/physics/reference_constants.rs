//! Constants the reference code draws once with numpy's `np.random.seed(0)` (MT19937).
//!
//! Masses and lengths are `0.6 + 0.8 u` with the uniforms below, masses first, assigned to bodies
//! from the end of the list (`list.pop()`), as in the reference's chain and spring pendulums.

/// The first ten uniforms of numpy's MT19937 seeded with 0 (`np.random.seed(0); np.random.rand(10)`).
pub const NUMPY_SEED0_UNIFORMS: [f64; 10] = [
    0.548_813_503_927_324_8,
    0.715_189_366_372_419_5,
    0.602_763_376_071_643_9,
    0.544_883_182_996_896_9,
    0.423_654_799_338_904_7,
    0.645_894_113_066_656_1,
    0.437_587_211_262_692_5,
    0.891_773_000_782_079_8,
    0.963_662_760_501_029_3,
    0.383_441_518_825_777_7,
];

fn draw(i: usize) -> f64 {
    0.6 + 0.8 * NUMPY_SEED0_UNIFORMS[i]
}

/// Mass of each node 0..n of an n-body chain or spring pendulum (n <= 5).
pub fn node_masses(n: usize) -> Vec<f64> {
    (0..n).map(|i| draw(n - 1 - i)).collect()
}

/// Lengths [tether l_0, link l_1 (nodes 0-1), ..., l_{n-1}] of an n-link chain pendulum (n <= 5).
pub fn chain_lengths(n: usize) -> Vec<f64> {
    (0..n).map(|i| draw(2 * n - 1 - i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_table() {
        // The masses and lengths the reference's `ChainPendulum` builds
        // (https://github.com/ngruver/decon-hnn, src/systems/chain_pendulum.py), to 6 decimals.
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(&node_masses(1), &[1.039051]));
        assert!(close(&chain_lengths(1), &[1.172151]));
        assert!(close(&node_masses(3), &[1.082211, 1.172151, 1.039051]));
        assert!(close(&chain_lengths(3), &[1.116715, 0.938924, 1.035907]));
        assert!(close(
            &node_masses(5),
            &[0.938924, 1.035907, 1.082211, 1.172151, 1.039051]
        ));
        assert!(close(
            &chain_lengths(5),
            &[0.906753, 1.370930, 1.313418, 0.950070, 1.116715]
        ));
    }
}
