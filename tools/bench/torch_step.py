"""Time one PyTorch training step of NODE, NODE+SO or HNN, for comparison with phaselab.

`phaselab bench train-step` times one optimiser step of its own models and then runs this script
with the same configuration, so that both figures come from the same machine:

    phaselab bench train-step --model node-so --torch tools/bench/torch_step.py

The script can also be run by itself (it needs `pip install torch`):

    python3 tools/bench/torch_step.py --model hnn --dof 2 --hidden 256 --batch 200 --threads 2

What is timed
-------------
The models follow the reference code of Gruver et al., "Deconstructing the Inductive Biases of
Hamiltonian Neural Networks" (ICLR 2022, https://arxiv.org/abs/2202.04836), published at
https://github.com/ngruver/decon-hnn (models in src/models/nn.py, src/models/reduced_hnns.py and
src/models/hnn.py, training loop in src/train/trainer.py), for a chain pendulum whose D coordinates
are all angles:

* every network is an MLP with two hidden tanh layers of width `--hidden`;
* a configuration q enters a network through phi(q) = [cos q, sin q];
* the learned inverse mass matrix is M^-1(q) = L(q) L(q)^T + 1e-4 I, where L is lower triangular,
  its strictly lower part and (through softplus) its diagonal read from an MLP on phi(q);
* NODE:     dz/dt = f(phi(q), v) for z = [q, v] (no second-order structure);
* NODE+SO:  z = [q, p], dq/dt = M^-1(q) p, dp/dt = g(phi(q), p);
* HNN:      z = [q, p], H(q, p) = p^T M^-1(q) p / 2 + V(phi(q)),
            dq/dt = dH/dp, dp/dt = -dH/dq (the gradient is taken by autograd with a graph, so the
            training step differentiates through it a second time).

One training step rolls the batch forward over a chunk of `--chunk` points with one step of
torchdiffeq's "rk4" (the 3/8 rule, see `rk4_38`) per observation interval `--dt`, takes the mean
squared error against a target chunk, back-propagates, clips the gradient to global norm 1 and
takes an AdamW step (lr 5e-3, weight decay 1e-4). The initial states and targets are random: the
values do not matter for a timing, only the shapes do, and so the weights keep PyTorch's default
initialisation (the reference uses orthogonal weights of gain 0.5; the cost is the same).

Output
------
Exactly one JSON line on stdout, which `phaselab bench train-step` parses (it reads "median_ms"
to print the ratio of the two step times):

    {"impl": "pytorch", "torch": "2.x", "model": "node-so", "dof": 2, "hidden": 256, "batch": 200,
     "chunk": 5, "threads": 2, "median_ms": ..., "p10_ms": ..., "p90_ms": ...}

Nothing else may be printed on stdout; errors go to stderr (phaselab shows their last line).
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn

MODELS = ("node", "node-so", "hnn")


def two_layer_tanh(d_in, width, d_out):
    """The reference's MLP: Linear -> tanh -> Linear -> tanh -> Linear."""
    return nn.Sequential(
        nn.Linear(d_in, width),
        nn.Tanh(),
        nn.Linear(width, width),
        nn.Tanh(),
        nn.Linear(width, d_out),
    )


def angle_features(q):
    """phi(q) = [cos q, sin q]: every coordinate of a chain pendulum is an angle."""
    return torch.cat([torch.cos(q), torch.sin(q)], dim=-1)


class InverseMass(nn.Module):
    """M^-1(q) = L L^T + 1e-4 I with L lower triangular and a softplus (positive) diagonal.

    The MLP outputs D*D numbers per state; the entries below the diagonal are used as they are,
    the diagonal ones through softplus, the ones above are ignored. L L^T is then symmetric
    positive semi-definite and the 1e-4 I term makes it definite.
    """

    def __init__(self, dof, width):
        super().__init__()
        self.dof = dof
        self.net = two_layer_tanh(2 * dof, width, dof * dof)

    def forward(self, q):
        raw = self.net(angle_features(q)).reshape(-1, self.dof, self.dof)
        diagonal = nn.functional.softplus(torch.diagonal(raw, dim1=-2, dim2=-1))
        lower = torch.tril(raw, diagonal=-1) + torch.diag_embed(diagonal)
        eye = torch.eye(self.dof, dtype=raw.dtype, device=raw.device)
        return lower @ lower.transpose(-1, -2) + 1e-4 * eye


class Node(nn.Module):
    """Neural ODE on z = [q, v]: dz/dt = f(cos q, sin q, v), both halves free."""

    def __init__(self, dof, width):
        super().__init__()
        self.dof = dof
        self.f = two_layer_tanh(3 * dof, width, 2 * dof)

    def forward(self, z):
        q, v = z.split(self.dof, dim=-1)
        return self.f(torch.cat([angle_features(q), v], dim=-1))


class NodeSo(nn.Module):
    """NODE+SO on z = [q, p]: dq/dt = M^-1(q) p, dp/dt = g(cos q, sin q, p)."""

    def __init__(self, dof, width):
        super().__init__()
        self.dof = dof
        self.inverse_mass = InverseMass(dof, width)
        self.g = two_layer_tanh(3 * dof, width, dof)

    def forward(self, z):
        q, p = z.split(self.dof, dim=-1)
        dq = (self.inverse_mass(q) @ p.unsqueeze(-1)).squeeze(-1)
        dp = self.g(torch.cat([angle_features(q), p], dim=-1))
        return torch.cat([dq, dp], dim=-1)


class Hnn(nn.Module):
    """Separable Hamiltonian network on z = [q, p].

    H(q, p) = p^T M^-1(q) p / 2 + V(q), and the vector field is J grad H with
    J = [[0, I], [-I, 0]], i.e. dq/dt = dH/dp, dp/dt = -dH/dq. grad H is built with
    create_graph=True so that the loss can be differentiated through it.
    """

    def __init__(self, dof, width):
        super().__init__()
        self.dof = dof
        self.inverse_mass = InverseMass(dof, width)
        self.potential = two_layer_tanh(2 * dof, width, 1)

    def hamiltonian(self, z):
        q, p = z.split(self.dof, dim=-1)
        row, col = p.unsqueeze(-2), p.unsqueeze(-1)
        kinetic = 0.5 * (row @ self.inverse_mass(q) @ col).squeeze(-1).squeeze(-1)
        return kinetic + self.potential(angle_features(q)).squeeze(-1)

    def forward(self, z):
        with torch.enable_grad():
            if not z.requires_grad:
                z = z.requires_grad_(True)
            (grad,) = torch.autograd.grad(self.hamiltonian(z).sum(), z, create_graph=True)
            dh_dq, dh_dp = grad.split(self.dof, dim=-1)
            return torch.cat([dh_dp, -dh_dq], dim=-1)


def rk4_38(f, z, h):
    """One step of the 3/8-rule Runge-Kutta method (torchdiffeq's "rk4") for an autonomous f.

        k1 = f(z)
        k2 = f(z + h k1 / 3)
        k3 = f(z + h (k2 - k1 / 3))
        k4 = f(z + h (k1 - k2 + k3))
        z' = z + h (k1 + 3 k2 + 3 k3 + k4) / 8
    """
    k1 = f(z)
    k2 = f(z + h * k1 / 3)
    k3 = f(z + h * (k2 - k1 / 3))
    k4 = f(z + h * (k1 - k2 + k3))
    return z + h * (k1 + 3 * k2 + 3 * k3 + k4) / 8


def build(model, dof, width):
    return {"node": Node, "node-so": NodeSo, "hnn": Hnn}[model](dof, width)


def parse_args():
    ap = argparse.ArgumentParser(description="Time one PyTorch training step (prints one JSON line).")
    ap.add_argument("--model", choices=MODELS, default="node-so")
    ap.add_argument("--dof", type=int, default=2, help="degrees of freedom D (pendulum links)")
    ap.add_argument("--hidden", type=int, default=256, help="width of the hidden layers")
    ap.add_argument("--batch", type=int, default=200, help="chunks per step")
    ap.add_argument("--chunk", type=int, default=5, help="points per chunk (chunk - 1 RK4 steps)")
    ap.add_argument("--dt", type=float, default=0.03, help="observation interval")
    ap.add_argument("--steps", type=int, default=30, help="timed steps (after 3 warm-up steps)")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    return ap.parse_args()


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = build(a.model, a.dof, a.hidden)
    optimiser = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=1e-4)
    start = torch.randn(a.batch, 2 * a.dof)
    target = torch.randn(a.batch, a.chunk, 2 * a.dof)

    def train_step():
        states = [start]
        for _ in range(a.chunk - 1):
            states.append(rk4_38(model, states[-1], a.dt))
        loss = torch.mean((torch.stack(states, dim=1) - target) ** 2)
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimiser.step()

    for _ in range(3):  # warm-up: allocator, thread pool, first-call overheads
        train_step()
    times_ms = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        train_step()
        times_ms.append((time.perf_counter() - t0) * 1e3)
    times_ms.sort()
    n = len(times_ms)
    print(json.dumps({
        "impl": "pytorch",
        "torch": torch.__version__,
        "model": a.model,
        "dof": a.dof,
        "hidden": a.hidden,
        "batch": a.batch,
        "chunk": a.chunk,
        "threads": a.threads,
        "median_ms": round(statistics.median(times_ms), 3),
        "p10_ms": round(times_ms[n // 10], 3),
        "p90_ms": round(times_ms[9 * n // 10], 3),
    }))


if __name__ == "__main__":
    main()
