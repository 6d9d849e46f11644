#!/usr/bin/env python3
"""MuJoCo datasets for phaselab: generate with the real engine, or convert D4RL / Minari HDF5.

Subcommands (see tools/mujoco/README.md):
  generate        run a gymnasium MuJoCo env under an exploration policy, record full states
  convert-d4rl    D4RL-style HDF5 (infos/qpos, infos/qvel, actions, timeouts/terminals)
  convert-minari  Minari main_data.hdf5 (episode_N/actions, episode_N/infos/qpos, .../qvel)

All three build a list of episodes (states x_0..x_L and controls aligned with them), split them
into train and test at the episode level, cut windows and write phaselab's trajectory format
(train.npz, test.npz) and optionally the reference code's .npy layout. Bad input exits with
code 2 and a one-line message.
"""

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

FORMAT_VERSION = 1  # crates/phaselab-core/src/data/trajectory_set.rs FORMAT_VERSION
ENVS = ["Hopper-v5", "HalfCheetah-v5", "Swimmer-v5", "Walker2d-v5"]
# Env time steps (frame_skip * model timestep), by lower-case base name (Hopper-v5, hopper-medium-v2,
# HopperFull-v0 and mujoco/hopper/expert-v0 all map to "hopper").
KNOWN_DT = {"hopper": 0.008, "walker2d": 0.008, "halfcheetah": 0.05, "swimmer": 0.04}
REFERENCE_NAMES = {"hopper": "Hopper", "walker2d": "Walker2d", "halfcheetah": "HalfCheetah", "swimmer": "Swimmer"}
# Envs that end an episode when the robot falls (gymnasium's terminate_when_unhealthy).
FALLING_ENVS = {"Hopper-v5", "Walker2d-v5"}


class DataError(Exception):
    """Bad input or an impossible request; reported as `error: ...` with exit code 2."""


@dataclass
class Episode:
    """One episode: states q, v [L+1, D] and controls u [L+1, m], u[k] applied from x_k to x_k+1."""

    q: np.ndarray
    v: np.ndarray
    u: np.ndarray

    def __len__(self):
        return len(self.q)


# ----------------------------------------------------------------------------------------------
# Exploration policy


class GaitOUPolicy:
    """Open-loop exploration: a sinusoidal gait plus Ornstein-Uhlenbeck noise, or OU noise alone.

    Per episode it draws a mode. "gait" (probability 1 - ou_fraction): each actuator j follows
    a_j sin(2 pi f_j t + phi_j) + OU noise (std 0.3), with a base frequency log-uniform in
    [0.25, 4] Hz, per-actuator frequencies either equal to it (coordinated gait, half the gait
    episodes) or spread around it, random phases and amplitudes in [0.3, 1]. "ou": OU noise alone
    with std 0.6 around a random constant offset. The OU time constant is log-uniform in
    [0.03, 0.5] s. Actions are in normalised units [-1, 1], clipped, then mapped to the env bounds.
    """

    def __init__(self, low, high, dt, rng, ou_fraction=0.25):
        self.low, self.high = np.asarray(low, float), np.asarray(high, float)
        self.m, self.dt, self.rng, self.ou_fraction = len(self.low), dt, rng, ou_fraction
        self.modes = {"gait": 0, "ou": 0}

    def start_episode(self):
        """Draw this episode's mode, frequencies, phases, amplitudes and noise parameters."""
        r, m = self.rng, self.m
        self.mode = "ou" if r.random() < self.ou_fraction else "gait"
        self.modes[self.mode] += 1
        base = math.exp(r.uniform(math.log(0.25), math.log(4.0)))
        spread = 0.0 if r.random() < 0.5 else 0.5
        self.freq = base * np.exp(spread * r.standard_normal(m))
        self.phase = r.uniform(0, 2 * math.pi, m)
        self.amp = r.uniform(0.3, 1.0, m)
        tau = math.exp(r.uniform(math.log(0.03), math.log(0.5)))
        self.decay = math.exp(-self.dt / tau)
        self.sigma = 0.6 if self.mode == "ou" else 0.3
        self.offset = r.uniform(-0.5, 0.5, m) if self.mode == "ou" else np.zeros(m)
        self.noise = self.sigma * r.standard_normal(m)
        self.k = 0

    def act(self):
        """Next action (float64, within the bounds)."""
        t = self.k * self.dt
        self.k += 1
        a = self.offset + self.noise
        if self.mode == "gait":
            a = a + self.amp * np.sin(2 * math.pi * self.freq * t + self.phase)
        # Exact OU update: stationary std sigma, correlation time tau.
        self.noise = self.decay * self.noise + self.sigma * math.sqrt(
            1 - self.decay**2
        ) * self.rng.standard_normal(self.m)
        a = np.clip(a, -1.0, 1.0)
        return self.low + (a + 1.0) * 0.5 * (self.high - self.low)


# ----------------------------------------------------------------------------------------------
# Episodes from the engine


def make_env(env_id, episode_steps, terminate):
    """gym.make with a time limit; falling envs keep going after a fall unless `terminate`."""
    import gymnasium as gym
    import mujoco

    # MuJoCo's default warning handler appends to MUJOCO_LOG.TXT in the working directory.
    mujoco.set_mju_user_warning(lambda msg: print(f"mujoco warning: {msg}", file=sys.stderr))

    kwargs = {"max_episode_steps": episode_steps}
    if env_id in FALLING_ENVS:
        kwargs["terminate_when_unhealthy"] = terminate
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.Error as e:
        raise DataError(f"cannot make env '{env_id}': {e}") from None
    if not hasattr(env.unwrapped, "data") or not hasattr(env.unwrapped.data, "qpos"):
        raise DataError(f"'{env_id}' is not a MuJoCo env (no data.qpos)")
    return env


def run_episodes(env, policy, total_steps, seed, log_every=50_000):
    """Step `env` for exactly `total_steps` actions, recording qpos/qvel and actions per episode.

    An episode of L actions gives L+1 states; its controls u[k] (k < L) are the actions applied
    after state k, and u[L] repeats u[L-1] (no action follows the final state). Episodes end on
    termination or truncation, or when the step budget runs out. The env is reset with `seed` once
    and then continues its own seeded RNG.
    """
    data = env.unwrapped.data
    episodes, steps, first = [], 0, True
    t_start = time.time()
    while steps < total_steps:
        env.reset(seed=seed if first else None)
        first = False
        policy.start_episode()
        qs, vs, us = [data.qpos.copy()], [data.qvel.copy()], []
        done = False
        while not done and steps < total_steps:
            a = policy.act().astype(env.action_space.dtype)
            _, _, term, trunc, _ = env.step(a)
            us.append(a)
            qs.append(data.qpos.copy())
            vs.append(data.qvel.copy())
            steps += 1
            done = term or trunc
            if log_every and steps % log_every == 0:
                rate = steps / (time.time() - t_start)
                print(f"  {steps}/{total_steps} steps ({rate:.0f} steps/s)", file=sys.stderr)
        us.append(us[-1])
        episodes.append(Episode(np.array(qs), np.array(vs), np.array(us, dtype=np.float64)))
    return episodes


# ----------------------------------------------------------------------------------------------
# Split and windows


def check_episodes(episodes, what):
    """Refuse episodes with non-finite values or disagreeing shapes."""
    if not episodes:
        raise DataError(f"{what}: no episodes")
    d, m = episodes[0].q.shape[1], episodes[0].u.shape[1]
    for i, e in enumerate(episodes):
        if e.q.shape != e.v.shape or e.q.shape[1] != d or e.u.shape != (len(e.q), m):
            raise DataError(
                f"{what}: episode {i} has q {e.q.shape}, v {e.v.shape}, u {e.u.shape}; "
                f"expected [L+1, {d}], [L+1, {d}], [L+1, {m}]"
            )
        for name, x in (("qpos", e.q), ("qvel", e.v), ("actions", e.u)):
            bad = ~np.isfinite(x)
            if bad.any():
                k = int(np.argwhere(bad)[0][0])
                raise DataError(f"{what}: episode {i} has NaN or infinite {name} at step {k}")


def split_episodes(lengths, test_fraction, test_length, rng):
    """Choose test episodes: ceil(test_fraction * n) of those with >= test_length states.

    Returns (train_ids, test_ids), disjoint, at least one of each. An episode is in one split only.
    """
    n = len(lengths)
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"--test-fraction must be in (0, 1), got {test_fraction}")
    if n < 2:
        raise DataError(
            f"only {n} episode; the train/test split is by episode and needs at least 2 "
            "(more --steps, or a shorter --episode-steps)"
        )
    eligible = [i for i in range(n) if lengths[i] >= test_length]
    if not eligible:
        raise DataError(
            f"no episode has the {test_length} states a test trajectory needs "
            f"(longest: {max(lengths)}); use a shorter --test-length"
        )
    n_test = min(max(1, math.ceil(test_fraction * n - 1e-9)), len(eligible), n - 1)
    test = sorted(rng.choice(eligible, size=n_test, replace=False).tolist())
    train = [i for i in range(n) if i not in set(test)]
    return train, test


def train_windows(lengths, ids, chunk, count, rng):
    """`count` distinct random windows of `chunk` states from episodes `ids`: [(episode, start)]."""
    starts = [(i, s) for i in ids for s in range(lengths[i] - chunk + 1)]
    if len(starts) < count:
        raise DataError(
            f"the train episodes hold {len(starts)} windows of {chunk} states, fewer than "
            f"--train-chunks {count}; give more --steps (or fewer --train-chunks)"
        )
    pick = rng.choice(len(starts), size=count, replace=False)
    return [starts[j] for j in sorted(pick)]


def test_windows(lengths, ids, length, count, rng):
    """`count` non-overlapping windows of `length` states from episodes `ids`.

    Each episode is cut into floor(L / length) back-to-back windows after a random offset; then
    `count` of all these are drawn at random.
    """
    pool = []
    for i in ids:
        w = lengths[i] // length
        if w == 0:
            continue
        off = int(rng.integers(0, lengths[i] - w * length + 1))
        pool += [(i, off + j * length) for j in range(w)]
    if len(pool) < count:
        raise DataError(
            f"the test episodes hold {len(pool)} windows of {length} states, fewer than "
            f"--test-trajectories {count}; give more --steps (or fewer/shorter test trajectories)"
        )
    pick = rng.choice(len(pool), size=count, replace=False)
    return [pool[j] for j in sorted(pick)]


def cut(episodes, windows, length):
    """Stack windows [(episode, start)] into q, v, u [N, length, .] and their start indices."""
    q = np.stack([episodes[i].q[s : s + length] for i, s in windows])
    v = np.stack([episodes[i].v[s : s + length] for i, s in windows])
    u = np.stack([episodes[i].u[s : s + length] for i, s in windows])
    return q, v, u, np.array([s for _, s in windows], dtype=np.float64)


# ----------------------------------------------------------------------------------------------
# Output


def phaselab_version():
    """The workspace version from the repository's Cargo.toml, or "unknown"."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Cargo.toml")
    try:
        with open(path) as f:
            m = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M)
        return m.group(1) if m else "unknown"
    except OSError:
        return "unknown"


def atomic_write(path, write):
    """Call write(fileobj) on a temporary file next to `path`, then rename it over `path`."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_trajectory_set(path, q, v, u, t0_steps, dt, meta, dtype):
    """Write phaselab's .npz trajectory set (arrays q, v, u, dt, t, t0, metadata)."""
    n, t, d = q.shape
    if len(meta["angular"]) != d:
        raise DataError(f"internal: angular has {len(meta['angular'])} entries for D = {d}")
    arrays = {
        "q": q.astype(dtype),
        "v": v.astype(dtype),
        "u": u.astype(dtype),
        "dt": np.array(dt, dtype=np.float64),
        "t": np.arange(t, dtype=np.float64) * dt,
        "t0": t0_steps * dt,
        "metadata": np.array(json.dumps(meta, separators=(",", ":"))),
    }
    atomic_write(path, lambda f: np.savez_compressed(f, **arrays))


def write_npy(path, x):
    """Write one .npy file atomically."""
    atomic_write(path, lambda f: np.save(f, x))


def env_key(name):
    """Lower-case base name of an env: Hopper-v5, hopper-medium-v2, HopperFull-v0 and
    mujoco/hopper/expert-v0 all give "hopper"."""
    parts = name.lower().split("/")
    key = re.split(r"[-_]", parts[1] if len(parts) >= 3 else parts[-1])[0]
    return key[:-4] if key.endswith("full") else key


def reference_task(name):
    """The reference code's task name (its file prefix): Hopper-v5 -> HopperFull-v0."""
    key = env_key(name)
    if key in REFERENCE_NAMES:
        return REFERENCE_NAMES[key] + "Full-v0"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def build_and_write(episodes, args, system, dt, source, parameters):
    """Split episodes, cut windows, write train.npz / test.npz (and the reference layout)."""
    check_episodes(episodes, system)
    d, m = episodes[0].q.shape[1], episodes[0].u.shape[1]
    lengths = [len(e) for e in episodes]
    rng = np.random.default_rng([args.seed, 1])
    train_ids, test_ids = split_episodes(lengths, args.test_fraction, args.test_length, rng)
    tr = train_windows(lengths, train_ids, args.chunk, args.train_chunks, rng)
    te = test_windows(lengths, test_ids, args.test_length, args.test_trajectories, rng)
    os.makedirs(args.out, exist_ok=True)
    dtype = np.float32 if args.float32 else np.float64
    base = {
        "format_version": FORMAT_VERSION,
        "system": system,
        "parameters": dict(
            parameters,
            episodes=len(episodes),
            train_episodes=len(train_ids),
            test_episodes=len(test_ids),
            states=int(sum(lengths)),
        ),
        "angular": [False] * d,
        "seed": args.seed,
        "phaselab_version": phaselab_version(),
    }
    task = args.reference_task or reference_task(system.split(":", 1)[1])
    for split, windows, length, ref in (
        ("train", tr, args.chunk, "cl20"),
        ("test", te, args.test_length, "episodes"),
    ):
        q, v, u, t0 = cut(episodes, windows, length)
        meta = dict(base, split=split, integrator="mujoco", source=source)
        write_trajectory_set(os.path.join(args.out, f"{split}.npz"), q, v, u, t0, dt, meta, dtype)
        print(f"wrote {os.path.join(args.out, split + '.npz')}: N={len(q)} T={length} D={d} m={m}")
        if args.reference_layout:
            for kind, x in (("x", np.concatenate([q, v], axis=2)), ("u", u)):
                p = os.path.join(args.out, f"{task}_{ref}_{kind}data.npy")
                write_npy(p, x.astype(dtype))
            print(f"wrote {os.path.join(args.out, f'{task}_{ref}_[xu]data.npy')}")
    print(
        f"{len(episodes)} episodes ({len(train_ids)} train, {len(test_ids)} test), "
        f"{sum(lengths) - len(lengths)} steps, dt {dt}"
    )


# ----------------------------------------------------------------------------------------------
# Subcommands


def auto_steps(args, episode_steps):
    """Steps that give enough windows when every episode runs its full `episode_steps`."""
    e = episode_steps
    per_test = (e + 1) // args.test_length
    if per_test == 0:
        raise DataError(f"--episode-steps {e} is too short for --test-length {args.test_length}")
    n_test = math.ceil(args.test_trajectories / per_test)
    n_train = math.ceil(args.train_chunks * (args.chunk - 1) / e)
    f = args.test_fraction
    n = max(math.ceil(n_test / f - 1e-9), math.ceil(n_train / (1 - f) - 1e-9) + 1, 2)
    while min(max(1, math.ceil(f * n - 1e-9)), n - 1) < n_test:
        n += 1
    return n * e


def cmd_generate(args):
    """Run a MuJoCo env under the exploration policy and write the dataset."""
    import gymnasium
    import mujoco

    episode_steps = args.episode_steps or 2 * args.test_length
    terminate = args.terminate_when_unhealthy
    env = make_env(args.env, episode_steps, terminate)
    model = env.unwrapped.model
    nq, nv, nu = model.nq, model.nv, model.nu
    if nq != nv:
        raise DataError(
            f"{args.env} has nq = {nq} != nv = {nv} (a free joint's quaternion); phaselab's q and v "
            "must have the same size D"
        )
    dt = float(env.unwrapped.dt)
    steps = args.steps if args.steps is not None else auto_steps(args, episode_steps)
    print(f"{args.env}: nq=nv={nq} nu={nu} dt={dt}; {steps} steps, episodes of <= {episode_steps}")
    rng = np.random.default_rng([args.seed, 0])
    space = env.action_space
    policy = GaitOUPolicy(space.low, space.high, dt, rng, args.ou_fraction)
    t = time.time()
    episodes = run_episodes(env, policy, steps, args.seed)
    secs = time.time() - t
    print(f"simulated {steps} steps in {secs:.1f} s ({steps / max(secs, 1e-9):.0f} steps/s)")
    env.close()
    parameters = {
        "nq": nq,
        "nv": nv,
        "nu": nu,
        "frame_skip": int(env.unwrapped.frame_skip),
        "timestep": float(model.opt.timestep),
        "episode_steps": episode_steps,
        "terminate_when_unhealthy": bool(terminate) if args.env in FALLING_ENVS else None,
        "action_low": [float(x) for x in space.low],
        "action_high": [float(x) for x in space.high],
        "policy_modes": dict(policy.modes),
        "mujoco": mujoco.__version__,
        "gymnasium": gymnasium.__version__,
    }
    source = (
        f"tools/mujoco/generate.py: gymnasium {args.env}, full qpos/qvel, exploration policy "
        f"sinusoidal gait + Ornstein-Uhlenbeck noise ({args.ou_fraction:g} of episodes OU only), "
        f"seed {args.seed}, {steps} steps"
    )
    build_and_write(episodes, args, f"mujoco:{args.env}", dt, source, parameters)


def resolve_dt(name, dt):
    """dt from --dt or the table of known envs; refuse when neither gives one."""
    if dt is not None:
        if not (math.isfinite(dt) and dt > 0):
            raise DataError(f"--dt must be finite and > 0, got {dt}")
        return dt
    key = env_key(name)
    if key in KNOWN_DT:
        return KNOWN_DT[key]
    raise DataError(
        f"unknown time step for '{name}': pass --dt (known: "
        + ", ".join(f"{k} {v}" for k, v in KNOWN_DT.items())
        + ")"
    )


def open_hdf5(path):
    """Open an HDF5 file for reading, with a clear error when it is missing or not HDF5."""
    import h5py

    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise DataError(f"{path}: not a readable HDF5 file ({e})") from None


def read_array(group, key, where, ndim):
    """group[key] as a float64 array with `ndim` dimensions, or a DataError naming what is wrong."""
    if key not in group:
        raise DataError(f"{where}: missing '{key}'")
    ds = group[key]
    if not hasattr(ds, "shape") or ds.dtype.kind not in "fiub":
        raise DataError(f"{where}: '{key}' is not a numeric array")
    x = np.asarray(ds[()], dtype=np.float64)
    if x.ndim == 1 and ndim == 2:
        x = x[:, None]
    if x.ndim != ndim:
        raise DataError(f"{where}: '{key}' has shape {x.shape}, expected {ndim} dimensions")
    return x


def check_state_sizes(q, v, where):
    """Refuse state arrays with nq != nv or disagreeing lengths."""
    if q.shape[1] != v.shape[1]:
        raise DataError(
            f"{where}: qpos has {q.shape[1]} columns but qvel {v.shape[1]} (nq != nv, e.g. a free "
            "joint's quaternion); phaselab needs q and v of the same size"
        )
    if len(q) != len(v):
        raise DataError(f"{where}: qpos has {len(q)} rows but qvel {len(v)}")


def d4rl_episodes(path):
    """Episodes of a D4RL-style file, split after every row whose timeouts or terminals is set.

    D4RL stores the state before each action (infos/qpos[i] with actions[i]), so an episode of
    rows s..e has states x_s..x_e with controls u_s..u_e: the last control is the real action
    taken after the last recorded state.
    """
    with open_hdf5(path) as f:
        q = read_array(f, "infos/qpos", path, 2)
        v = read_array(f, "infos/qvel", path, 2)
        u = read_array(f, "actions", path, 2)
        flags = np.zeros(len(q), dtype=bool)
        found = False
        for key in ("timeouts", "terminals"):
            if key in f:
                x = read_array(f, key, path, 1)
                if len(x) != len(q):
                    raise DataError(f"{path}: '{key}' has {len(x)} rows but infos/qpos {len(q)}")
                flags |= x != 0
                found = True
    if not found:
        raise DataError(f"{path}: missing both 'timeouts' and 'terminals' (needed to find episodes)")
    check_state_sizes(q, v, path)
    if len(u) != len(q):
        raise DataError(f"{path}: actions has {len(u)} rows but infos/qpos {len(q)}")
    ends = list(np.flatnonzero(flags) + 1)
    if not ends or ends[-1] != len(q):
        ends.append(len(q))
    episodes, s = [], 0
    for e in ends:
        if e - s >= 2:
            episodes.append(Episode(q[s:e], v[s:e], u[s:e]))
        s = e
    return episodes


def minari_file(path):
    """main_data.hdf5 of a Minari dataset directory (or the file itself)."""
    if os.path.isdir(path):
        for root, _, files in sorted(os.walk(path)):
            if "main_data.hdf5" in files:
                return os.path.join(root, "main_data.hdf5")
        raise DataError(f"{path}: no main_data.hdf5 inside (not a Minari dataset directory)")
    return path


def minari_env_name(f, path):
    """The env id recorded in a Minari file's attributes, else the dataset directory's name."""
    spec = f.attrs.get("env_spec")
    if spec is not None:
        try:
            return json.loads(spec)["id"]
        except (ValueError, KeyError, TypeError):
            pass
    for key in ("dataset_id", "env_name"):
        if key in f.attrs:
            return str(f.attrs[key])
    return os.path.basename(os.path.dirname(os.path.abspath(path)))


def minari_episodes(path):
    """Episodes of a Minari main_data.hdf5: groups episode_N with actions and infos/qpos, qvel.

    States may have L+1 rows (Minari records the reset info too) for L actions, then the last
    control repeats the one before; or L rows like D4RL. Returns (episodes, env name).
    """
    path = minari_file(path)
    episodes = []
    with open_hdf5(path) as f:
        names = sorted(
            (k for k in f.keys() if re.fullmatch(r"episode_\d+", k)), key=lambda k: int(k[8:])
        )
        if not names:
            raise DataError(f"{path}: no 'episode_N' groups (not a Minari main_data.hdf5)")
        for name in names:
            g, where = f[name], f"{path}:{name}"
            if "infos" not in g or "qpos" not in g["infos"] or "qvel" not in g["infos"]:
                raise DataError(
                    f"{where}: no infos/qpos and infos/qvel; phaselab needs full MuJoCo states, "
                    "which observations alone do not give (e.g. Hopper's drop the root x and clip "
                    "velocities)"
                )
            q = read_array(g, "infos/qpos", where, 2)
            v = read_array(g, "infos/qvel", where, 2)
            u = read_array(g, "actions", where, 2)
            check_state_sizes(q, v, where)
            if len(q) == len(u) + 1:
                u = np.concatenate([u, u[-1:]]) if len(u) else u
            elif len(q) != len(u):
                raise DataError(f"{where}: {len(q)} states for {len(u)} actions (expected L+1 or L)")
            if len(q) >= 2 and len(u) == len(q):
                episodes.append(Episode(q, v, u))
        env_name = minari_env_name(f, path)
    return episodes, env_name


def cmd_convert(args, kind):
    """Convert a D4RL or Minari file to phaselab's format."""
    if kind == "d4rl":
        episodes = d4rl_episodes(args.input)
        name = args.env_name or os.path.splitext(os.path.basename(args.input))[0]
    else:
        episodes, found = minari_episodes(args.input)
        name = args.env_name or found
    dt = resolve_dt(name, args.dt)
    if not episodes:
        raise DataError(f"{args.input}: no episode with at least 2 states")
    d, m = episodes[0].q.shape[1], episodes[0].u.shape[1]
    parameters = {"nq": d, "nv": d, "nu": m, "env_name": name, "input": os.path.basename(args.input)}
    source = f"tools/mujoco/generate.py convert-{kind} {os.path.basename(args.input)} (seed {args.seed})"
    build_and_write(episodes, args, f"{kind}:{name}", dt, source, parameters)


# ----------------------------------------------------------------------------------------------
# Command line


def add_common(p):
    """Options shared by all subcommands: output, split and windows."""
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--train-chunks", type=int, default=40000, help="train windows (default 40000)")
    p.add_argument("--chunk", type=int, default=3, help="states per train window (default 3)")
    p.add_argument("--test-trajectories", type=int, default=200, help="test windows (default 200)")
    p.add_argument("--test-length", type=int, default=200, help="states per test window (default 200)")
    p.add_argument("--test-fraction", type=float, default=0.2, help="episodes held out (default 0.2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the policy, resets and split")
    p.add_argument("--float32", action="store_true", help="store q, v, u as float32")
    p.add_argument(
        "--reference-layout",
        action="store_true",
        help="also write {task}_cl20_[xu]data.npy (train) and {task}_episodes_[xu]data.npy (test)",
    )
    p.add_argument("--reference-task", help="task prefix of those files (default e.g. HopperFull-v0)")


def check_options(args):
    """Refuse impossible option values before any work is done."""
    if args.chunk < 2:
        raise DataError(f"--chunk must be at least 2 states, got {args.chunk}")
    if args.test_length < 2:
        raise DataError(f"--test-length must be at least 2 states, got {args.test_length}")
    if args.train_chunks < 1 or args.test_trajectories < 1:
        raise DataError("--train-chunks and --test-trajectories must be at least 1")
    if not 0.0 < args.test_fraction < 1.0:
        raise DataError(f"--test-fraction must be in (0, 1), got {args.test_fraction}")
    if args.cmd == "generate":
        if args.steps is not None and args.steps < 1:
            raise DataError(f"--steps must be positive, got {args.steps}")
        if args.episode_steps is not None and args.episode_steps < 1:
            raise DataError(f"--episode-steps must be positive, got {args.episode_steps}")
        if not 0.0 <= args.ou_fraction <= 1.0:
            raise DataError(f"--ou-fraction must be in [0, 1], got {args.ou_fraction}")


def parse_args(argv):
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate", help="simulate a gymnasium MuJoCo env")
    g.add_argument(
        "--env", required=True, help=f"gymnasium MuJoCo env with nq == nv: {', '.join(ENVS)}"
    )
    g.add_argument("--steps", type=int, help="total env steps (default: enough for the windows)")
    g.add_argument("--episode-steps", type=int, help="max steps per episode (default 2*test-length)")
    g.add_argument("--ou-fraction", type=float, default=0.25, help="episodes of OU noise only")
    g.add_argument(
        "--terminate-when-unhealthy",
        action="store_true",
        help="Hopper/Walker2d: end episodes on a fall as gymnasium does (default: keep going)",
    )
    add_common(g)
    for kind in ("d4rl", "minari"):
        c = sub.add_parser(f"convert-{kind}", help=f"convert a {kind} HDF5 dataset")
        c.add_argument("input", help="HDF5 file" + (" or dataset directory" if kind == "minari" else ""))
        c.add_argument("--env-name", help="name for the metadata and the dt table (default: from the file)")
        c.add_argument("--dt", type=float, help="time step between rows (default: known per env)")
        add_common(c)
    return ap.parse_args(argv)


def main(argv=None):
    """Entry point; returns the exit code (2 for bad input)."""
    args = parse_args(argv)
    try:
        check_options(args)
        if args.cmd == "generate":
            cmd_generate(args)
        else:
            cmd_convert(args, args.cmd.split("-")[1])
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
