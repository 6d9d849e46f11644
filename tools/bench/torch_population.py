"""PyTorch reference for one training step of a *population* of K runs trained together: the same
models as tools/bench/torch_step.py (2 hidden tanh layers, cos/sin embedding, learned
M^-1 = L L^T, RK4 3/8 on 5-point chunks, AdamW, clipping at global norm 1 per member), with every
layer's weights stacked [K, in, out] and applied with torch.bmm, so phaselab's
`bench train-step --population K` can be set beside it on the same machine. Two details differ
from torch_step.py and cost the same: L's diagonal is softplus + 1e-2 (phaselab's form, no
1e-4 I added to L L^T), and the weights are orthogonal with gain 0.5 (the reference's init).

    python3 tools/bench/torch_population.py --model node-so --population 8 --threads 2
    python3 tools/bench/torch_population.py --model hnn --population 64 --device cuda

Prints one JSON line per population size: {"population": K, "median_ms": ..., "runs_steps_per_s": ...}
"""
import argparse, json, math, statistics, time

import torch


class StackedMlp(torch.nn.Module):
    """K MLPs [in, h, h, out] with weights [K, in, out]; inputs [K, B, in]."""

    def __init__(self, k, sizes):
        super().__init__()
        self.w = torch.nn.ParameterList()
        self.b = torch.nn.ParameterList()
        for i, o in zip(sizes[:-1], sizes[1:]):
            w = torch.empty(k, i, o)
            for m in range(k):
                torch.nn.init.orthogonal_(w[m], gain=0.5)
            bound = 1 / math.sqrt(i)
            self.w.append(torch.nn.Parameter(w))
            self.b.append(torch.nn.Parameter(torch.empty(k, 1, o).uniform_(-bound, bound)))

    def forward(self, x):
        n = len(self.w)
        for j, (w, b) in enumerate(zip(self.w, self.b)):
            x = torch.baddbmm(b, x, w)
            if j + 1 < n:
                x = torch.tanh(x)
        return x


def embed(q):
    return torch.cat([q.cos(), q.sin()], -1)


class Population(torch.nn.Module):
    def __init__(self, kind, k, dof, hidden):
        super().__init__()
        self.kind, self.dof = kind, dof
        h = [hidden, hidden]
        if kind == "node":
            self.net = StackedMlp(k, [3 * dof, *h, 2 * dof])
        else:
            self.mass = StackedMlp(k, [2 * dof, *h, dof * dof])
            out = dof if kind == "node-so" else 1
            d_in = 3 * dof if kind == "node-so" else 2 * dof
            self.net = StackedMlp(k, [d_in, *h, out])

    def minv(self, q):
        k, b, d = q.shape
        r = self.mass(embed(q)).reshape(k, b, d, d)
        diag = torch.nn.functional.softplus(torch.diagonal(r, dim1=-2, dim2=-1)) + 1e-2
        lower = torch.tril(r, -1) + torch.diag_embed(diag)
        return lower @ lower.transpose(-1, -2)

    def forward(self, z):
        d = self.dof
        q, x = z[..., :d], z[..., d:]
        if self.kind == "node":
            return self.net(torch.cat([embed(q), x], -1))
        if self.kind == "node-so":
            qdot = (self.minv(q) @ x.unsqueeze(-1)).squeeze(-1)
            return torch.cat([qdot, self.net(torch.cat([embed(q), x], -1))], -1)
        with torch.enable_grad():
            if not z.requires_grad:
                z = z.requires_grad_(True)
            q, p = z[..., :d], z[..., d:]
            kinetic = 0.5 * (p.unsqueeze(-2) @ self.minv(q) @ p.unsqueeze(-1)).squeeze(-1).squeeze(-1)
            h = (kinetic + self.net(embed(q)).squeeze(-1)).sum()
            g = torch.autograd.grad(h, z, create_graph=True)[0]
        return torch.cat([g[..., d:], -g[..., :d]], -1)


def rk4_38(f, z, h):
    k1 = f(z)
    k2 = f(z + h * k1 / 3)
    k3 = f(z + h * (k2 - k1 / 3))
    k4 = f(z + h * (k1 - k2 + k3))
    return z + h * (k1 + 3 * (k2 + k3) + k4) / 8


def time_population(a, k, device):
    torch.manual_seed(0)
    model = Population(a.model, k, a.dof, a.hidden).to(device)
    params = list(model.parameters())
    opt = torch.optim.AdamW(params, lr=5e-3, weight_decay=1e-4)
    z0 = torch.randn(k, a.batch, 2 * a.dof, device=device)
    target = torch.randn(k, a.batch, a.chunk, 2 * a.dof, device=device)

    def step():
        zs, z = [z0], z0
        for _ in range(a.chunk - 1):
            z = rk4_38(model, z, a.dt)
            zs.append(z)
        # Per-member mean losses, summed: each member's gradient is its own.
        losses = ((torch.stack(zs, 2) - target) ** 2).mean(dim=(1, 2, 3))
        opt.zero_grad()
        losses.sum().backward()
        # Per-member global-norm clipping at 1 (an energy's output bias gets no gradient).
        grads = [p.grad for p in params if p.grad is not None]
        sq = sum(g.reshape(k, -1).pow(2).sum(1) for g in grads)
        scale = 1.0 / sq.sqrt().clamp_min(1.0)
        for g in grads:
            g.mul_(scale.reshape(k, *([1] * (g.dim() - 1))))
        opt.step()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(3):
        step()
    sync()
    times = []
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    med = statistics.median(times)
    return {"impl": "pytorch", "torch": torch.__version__, "device": str(device), "model": a.model,
            "population": k, "hidden": a.hidden, "batch": a.batch, "chunk": a.chunk,
            "threads": torch.get_num_threads(), "median_ms": round(med, 3),
            "runs_steps_per_s": round(k * 1e3 / med, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["node", "node-so", "hnn"], default="node-so")
    ap.add_argument("--population", default="1,2,4,8", help="population sizes, comma-separated")
    ap.add_argument("--dof", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--chunk", type=int, default=5)
    ap.add_argument("--dt", type=float, default=0.03)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    for k in [int(x) for x in a.population.split(",")]:
        print(json.dumps(time_population(a, k, device)), flush=True)


if __name__ == "__main__":
    main()
