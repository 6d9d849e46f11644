#!/usr/bin/env python3
"""Tests for generate.py: converters on synthetic HDF5, the split and windows, one real run.

Run: tools/mujoco/.venv/bin/python tools/mujoco/test_generate.py   (or -m unittest from tools/mujoco)
"""

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import h5py  # noqa: E402
import numpy as np  # noqa: E402

import generate as G  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SMALL = ["--train-chunks", "20", "--chunk", "3", "--test-trajectories", "2", "--test-length", "10"]


def run_main(argv):
    """Run generate.main(argv); return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = G.main(argv)
    return code, out.getvalue(), err.getvalue()


def tagged_states(lengths, d=3, m=2):
    """Rows whose q[:, 0] = episode id, q[:, 1] = step, so windows reveal where they came from."""
    q, v, u = [], [], []
    for e, n in enumerate(lengths):
        k = np.arange(n, dtype=float)
        q.append(np.stack([np.full(n, e), k] + [np.sin(k + j) for j in range(d - 2)], 1))
        v.append(np.stack([np.zeros(n), np.ones(n)] + [np.cos(k + j) for j in range(d - 2)], 1))
        u.append(np.stack([k * 0.01 + j for j in range(m)], 1))
    return q, v, u


def write_d4rl(path, lengths, terminal_eps=(), drop=(), nan=False):
    """A D4RL-style file: episodes end with timeouts (or terminals for ids in terminal_eps)."""
    q, v, u = tagged_states(lengths)
    timeouts = np.concatenate([np.eye(1, n, n - 1)[0] * (e not in terminal_eps) for e, n in enumerate(lengths)])
    terminals = np.concatenate([np.eye(1, n, n - 1)[0] * (e in terminal_eps) for e, n in enumerate(lengths)])
    q = np.concatenate(q)
    if nan:
        q[5, 1] = np.nan
    data = {
        "infos/qpos": q,
        "infos/qvel": np.concatenate(v),
        "actions": np.concatenate(u).astype(np.float32),
        "observations": np.zeros((len(q), 5), np.float32),
        "timeouts": timeouts.astype(bool),
        "terminals": terminals.astype(bool),
    }
    with h5py.File(path, "w") as f:
        for k, x in data.items():
            if k not in drop:
                f.create_dataset(k, data=x)


def write_minari(path, lengths, with_infos=True):
    """A Minari main_data.hdf5: episode_N groups with L actions and L+1 infos/qpos, infos/qvel."""
    q, v, u = tagged_states(lengths)
    with h5py.File(path, "w") as f:
        f.attrs["env_spec"] = json.dumps({"id": "Hopper-v5"})
        for e in range(len(lengths)):
            g = f.create_group(f"episode_{e}")
            g.create_dataset("actions", data=u[e][:-1])
            g.create_dataset("observations", data=np.zeros((lengths[e], 11)))
            if with_infos:
                g.create_dataset("infos/qpos", data=q[e])
                g.create_dataset("infos/qvel", data=v[e])


def load(path):
    """Arrays and parsed metadata of an npz file."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    return arrays, json.loads(str(arrays["metadata"]))


class ConvertTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_d4rl_episodes_split_at_timeouts_and_terminals(self):
        write_d4rl(self.path("d.hdf5"), [30, 12, 25], terminal_eps={1})
        eps = G.d4rl_episodes(self.path("d.hdf5"))
        self.assertEqual([len(e) for e in eps], [30, 12, 25])
        for i, e in enumerate(eps):
            np.testing.assert_array_equal(e.q[:, 0], i)
            np.testing.assert_array_equal(e.q[:, 1], np.arange(len(e)))
            np.testing.assert_allclose(e.u[:, 0], np.arange(len(e)) * 0.01, atol=1e-6)

    def test_d4rl_convert_writes_both_splits(self):
        write_d4rl(self.path("d.hdf5"), [30, 30, 30, 30, 30])
        out = self.path("out")
        code, _, err = run_main(
            ["convert-d4rl", self.path("d.hdf5"), "--out", out, "--env-name", "hopper-medium-v2"]
            + SMALL + ["--reference-layout"]
        )
        self.assertEqual(code, 0, err)
        tr, mtr = load(os.path.join(out, "train.npz"))
        te, mte = load(os.path.join(out, "test.npz"))
        self.assertEqual(tr["q"].shape, (20, 3, 3))
        self.assertEqual(tr["u"].shape, (20, 3, 2))
        self.assertEqual(te["q"].shape, (2, 10, 3))
        self.assertEqual(float(tr["dt"]), 0.008)
        self.assertEqual((mtr["system"], mtr["split"], mte["split"]), ("d4rl:hopper-medium-v2", "train", "test"))
        train_eps, test_eps = set(tr["q"][:, :, 0].ravel()), set(te["q"][:, :, 0].ravel())
        self.assertFalse(train_eps & test_eps)
        x = np.load(os.path.join(out, "HopperFull-v0_cl20_xdata.npy"))
        np.testing.assert_array_equal(x, np.concatenate([tr["q"], tr["v"]], 2))
        xe = np.load(os.path.join(out, "HopperFull-v0_episodes_udata.npy"))
        np.testing.assert_array_equal(xe, te["u"])

    def test_d4rl_errors(self):
        cases = [
            ({"drop": ("infos/qvel",)}, "missing 'infos/qvel'"),
            ({"drop": ("timeouts", "terminals")}, "timeouts"),
            ({"nan": True}, "NaN"),
        ]
        for kw, msg in cases:
            write_d4rl(self.path("bad.hdf5"), [30, 30, 30], **kw)
            code, _, err = run_main(["convert-d4rl", self.path("bad.hdf5"), "--out", self.path("o"), "--dt", "0.01"] + SMALL)
            self.assertEqual(code, 2, kw)
            self.assertIn(msg, err)
            self.assertNotIn("Traceback", err)

    def test_d4rl_mismatched_lengths(self):
        with h5py.File(self.path("m.hdf5"), "w") as f:
            f["infos/qpos"] = np.zeros((10, 3))
            f["infos/qvel"] = np.zeros((9, 3))
            f["actions"] = np.zeros((10, 2))
            f["timeouts"] = np.zeros(10)
        code, _, err = run_main(["convert-d4rl", self.path("m.hdf5"), "--out", self.path("o"), "--dt", "0.01"])
        self.assertEqual(code, 2)
        self.assertIn("rows", err)

    def test_unknown_dt_and_not_hdf5(self):
        write_d4rl(self.path("d.hdf5"), [30, 30, 30])
        code, _, err = run_main(["convert-d4rl", self.path("d.hdf5"), "--out", self.path("o"), "--env-name", "robot"])
        self.assertEqual(code, 2)
        self.assertIn("--dt", err)
        with open(self.path("x.hdf5"), "w") as f:
            f.write("not hdf5")
        code, _, err = run_main(["convert-d4rl", self.path("x.hdf5"), "--out", self.path("o"), "--dt", "0.01"])
        self.assertEqual((code, "HDF5" in err), (2, True))
        code, _, err = run_main(["convert-minari", self.path("nothere"), "--out", self.path("o")])
        self.assertEqual(code, 2)

    def test_too_few_steps(self):
        write_d4rl(self.path("d.hdf5"), [30, 30, 30])
        code, _, err = run_main(
            ["convert-d4rl", self.path("d.hdf5"), "--out", self.path("o"), "--dt", "0.01"] + SMALL + ["--train-chunks", "1000"]
        )
        self.assertEqual(code, 2)
        self.assertIn("--train-chunks", err)

    def test_minari(self):
        os.makedirs(self.path("ds/data"))
        write_minari(self.path("ds/data/main_data.hdf5"), [30, 25, 30, 40])
        eps, name = G.minari_episodes(self.path("ds"))
        self.assertEqual(name, "Hopper-v5")
        self.assertEqual([len(e) for e in eps], [30, 25, 30, 40])
        np.testing.assert_array_equal(eps[1].u[-1], eps[1].u[-2])  # last control repeated
        code, _, err = run_main(["convert-minari", self.path("ds"), "--out", self.path("o")] + SMALL)
        self.assertEqual(code, 0, err)
        _, meta = load(self.path("o/train.npz"))
        self.assertEqual(meta["system"], "minari:Hopper-v5")

    def test_minari_observations_only(self):
        write_minari(self.path("m.hdf5"), [30, 30], with_infos=False)
        code, _, err = run_main(["convert-minari", self.path("m.hdf5"), "--out", self.path("o")] + SMALL)
        self.assertEqual(code, 2)
        self.assertIn("full MuJoCo states", err)

    def test_cli_error_has_no_traceback(self):
        p = subprocess.run(
            [sys.executable, "-B", os.path.join(HERE, "generate.py"), "convert-d4rl", self.path("none.hdf5"), "--out", self.path("o")],
            capture_output=True,
            text=True,
        )
        self.assertEqual(p.returncode, 2)
        self.assertTrue(p.stderr.startswith("error: "), p.stderr)


class SplitTest(unittest.TestCase):
    def test_no_leakage_and_contiguous_windows(self):
        lengths = [50, 80, 15, 60, 45, 70, 30, 90]
        q, v, u = tagged_states(lengths)
        eps = [G.Episode(*x) for x in zip(q, v, u)]
        rng = np.random.default_rng(3)
        train, test = G.split_episodes(lengths, 0.25, 40, rng)
        self.assertFalse(set(train) & set(test))
        self.assertEqual(sorted(train + test), list(range(len(lengths))))
        self.assertEqual(len(test), 2)
        self.assertTrue(all(lengths[i] >= 40 for i in test))
        tw = G.train_windows(lengths, train, 3, 100, rng)
        sw = G.test_windows(lengths, test, 40, 2, rng)
        self.assertEqual(len(set(tw)), 100)
        for windows, n, ids in ((tw, 3, train), (sw, 40, test)):
            qq, _, uu, t0 = G.cut(eps, windows, n)
            self.assertTrue(set(qq[:, :, 0].ravel()) <= set(ids))
            np.testing.assert_array_equal(np.diff(qq[:, :, 1], axis=1), 1)  # consecutive steps
            np.testing.assert_array_equal(qq[:, 0, 1], t0)
        # Test windows never overlap.
        spans = sorted((i, s) for i, s in sw)
        for (i, s), (j, r) in zip(spans, spans[1:]):
            self.assertTrue(i != j or r >= s + 40)

    def test_auto_steps_suffice(self):
        # Episodes of full length, as many as auto_steps pays for: the split and both kinds of
        # windows must come out of them for every request, whatever the random draws.
        requests = [
            [],
            ["--train-chunks", "40000", "--test-trajectories", "200", "--test-length", "200"],
            ["--train-chunks", "7", "--test-trajectories", "5", "--test-length", "399", "--chunk", "2"],
            ["--train-chunks", "5000", "--test-trajectories", "30", "--test-fraction", "0.5"],
            ["--train-chunks", "100", "--test-trajectories", "50", "--test-length", "40", "--test-fraction", "0.05"],
        ]
        for extra in requests:
            args = G.parse_args(["generate", "--env", "Hopper-v5", "--out", "x"] + extra)
            for e in (50, 400, 1000):
                if e + 1 < args.test_length:
                    continue
                steps = G.auto_steps(args, e)
                self.assertEqual(steps % e, 0)
                lengths = [e + 1] * (steps // e)
                for seed in range(3):
                    rng = np.random.default_rng(seed)
                    with self.subTest(extra=extra, episode_steps=e, seed=seed):
                        train, test = G.split_episodes(lengths, args.test_fraction, args.test_length, rng)
                        self.assertEqual(len(G.train_windows(lengths, train, args.chunk, args.train_chunks, rng)),
                                         args.train_chunks)
                        self.assertEqual(len(G.test_windows(lengths, test, args.test_length,
                                                            args.test_trajectories, rng)),
                                         args.test_trajectories)

    def test_env_names(self):
        self.assertEqual(G.resolve_dt("hopper-medium-v2", None), 0.008)
        self.assertEqual(G.resolve_dt("mujoco/halfcheetah/expert-v0", None), 0.05)
        self.assertEqual(G.resolve_dt("SwimmerFull-v0", None), 0.04)
        self.assertEqual(G.reference_task("Walker2d-v5"), "Walker2dFull-v0")
        self.assertEqual(G.reference_task("halfcheetah-medium-v2"), "HalfCheetahFull-v0")


class GenerateTest(unittest.TestCase):
    def test_real_hopper_run(self):
        with tempfile.TemporaryDirectory() as d:
            code, out, err = run_main(
                ["generate", "--env", "Hopper-v5", "--out", d, "--steps", "400", "--train-chunks", "200",
                 "--test-trajectories", "2", "--test-length", "50", "--reference-layout"]
            )
            self.assertEqual(code, 0, err)
            tr, meta = load(os.path.join(d, "train.npz"))
            te, mte = load(os.path.join(d, "test.npz"))
            self.assertEqual(tr["q"].shape, (200, 3, 6))
            self.assertEqual(tr["v"].shape, (200, 3, 6))
            self.assertEqual(tr["u"].shape, (200, 3, 3))
            self.assertEqual(te["q"].shape, (2, 50, 6))
            self.assertEqual(tr["q"].dtype, np.float64)
            self.assertAlmostEqual(float(tr["dt"]), 0.008)
            np.testing.assert_allclose(te["t"], np.arange(50) * 0.008)
            self.assertEqual(tr["t0"].shape, (200,))
            self.assertEqual(meta["system"], "mujoco:Hopper-v5")
            self.assertEqual(meta["angular"], [False] * 6)
            self.assertEqual((meta["format_version"], meta["integrator"], meta["split"]), (1, "mujoco", "train"))
            self.assertEqual(mte["split"], "test")
            self.assertEqual(meta["parameters"]["frame_skip"], 4)
            self.assertTrue(np.all(np.abs(tr["u"]) <= 1.0))
            x = np.load(os.path.join(d, "HopperFull-v0_episodes_xdata.npy"))
            self.assertEqual(x.shape, (2, 50, 12))
            # Same seed, same data.
            code, _, _ = run_main(
                ["generate", "--env", "Hopper-v5", "--out", d + "/again", "--steps", "400", "--train-chunks", "200",
                 "--test-trajectories", "2", "--test-length", "50"]
            )
            np.testing.assert_array_equal(load(os.path.join(d, "again/test.npz"))[0]["q"], te["q"])

    def test_generate_too_few_steps(self):
        with tempfile.TemporaryDirectory() as d:
            code, _, err = run_main(["generate", "--env", "Swimmer-v5", "--out", d, "--steps", "100"])
            self.assertEqual(code, 2)
            self.assertIn("error", err.lower())


if __name__ == "__main__":
    unittest.main()
