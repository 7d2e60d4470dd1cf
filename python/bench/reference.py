"""Hand-written PyTorch references for `npm run bench -- torch` (bench/torch.ts): the same
models and strategies as par's plans, written the way one would by hand: data parallel with
DistributedDataParallel, tensor parallel with Megatron's column/row-split linears (and
attention split by heads) and their all-reduces. Reads one JSON config on stdin, prints one
JSON line {"stepMs": [...], "throughputMs": x} from rank 0.

Config: {"model": "mlp" | "cnn" | "block", "strategy": "dp" | "tp", "nproc": n, "steps": s,
"warmup": w, "lr": lr, "threads": t, "device": "cpu" | "cuda", "shape": {...}, "modes": [...]
(tp: per linear of the MLP, "col" | "row" | "rep", from par's strategy)}. On CUDA each rank
uses cuda:RANK with NCCL.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sys
import time

# One BLAS thread per rank unless told otherwise, set before torch (and its OpenBLAS) loads,
# as the engine's launcher does: otherwise each rank starts one BLAS thread per core.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, os.environ.get("PAR_REFERENCE_THREADS", "1"))

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


# ----------------------------------------------------------------------------- TP collectives (Megatron's f and g)

class _CopyToTP(torch.autograd.Function):
    """Identity forward, all-reduce of the gradient backward (a column-parallel input)."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[override]
        return x

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        g = g.clone()
        dist.all_reduce(g)
        return g


class _ReduceFromTP(torch.autograd.Function):
    """All-reduce forward (row-parallel partial sums), identity backward."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[override]
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        return g


class _GatherFromTP(torch.autograd.Function):
    """All-gather of feature shards forward, this rank's slice of the gradient backward."""

    @staticmethod
    def forward(ctx, x):  # type: ignore[override]
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.width = x.shape[-1]
        return torch.cat(parts, dim=-1)

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        r = dist.get_rank()
        return g[..., r * ctx.width : (r + 1) * ctx.width].contiguous()


def shard(n: int, world: int, rank: int) -> tuple[int, int]:
    base, extra = divmod(n, world)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


# ----------------------------------------------------------------------------- models

class MLP(nn.Module):
    def __init__(self, sizes: list[int]):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = F.relu(x)
        return x


class TPMLP(nn.Module):
    """Linears split column- or row-wise across the ranks (modes from par's strategy)."""

    def __init__(self, sizes: list[int], modes: list[str], world: int, rank: int):
        super().__init__()
        self.modes = modes
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for (a, b), mode in zip(zip(sizes[:-1], sizes[1:]), modes):
            if mode == "col":
                lo, hi = shard(b, world, rank)
                w, bias = torch.empty(hi - lo, a), torch.empty(hi - lo)
            elif mode == "row":
                lo, hi = shard(a, world, rank)
                w, bias = torch.empty(b, hi - lo), torch.empty(b)
            else:
                w, bias = torch.empty(b, a), torch.empty(b)
            nn.init.uniform_(w, -1 / math.sqrt(a), 1 / math.sqrt(a))
            nn.init.uniform_(bias, -1 / math.sqrt(a), 1 / math.sqrt(a))
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(bias))

    def forward(self, x):
        sharded = False
        n = len(self.modes)
        for i, mode in enumerate(self.modes):
            w, b = self.weights[i], self.biases[i]
            if mode == "row":
                x = _ReduceFromTP.apply(F.linear(x, w)) + b
                sharded = False
            else:
                if sharded:
                    x = _GatherFromTP.apply(x)
                x = F.linear(_CopyToTP.apply(x) if mode == "col" else x, w, b)
                sharded = mode == "col"
            if i < n - 1:
                x = F.relu(x)
        return _GatherFromTP.apply(x) if sharded else x


class TinyCNN(nn.Module):
    def __init__(self, size: int, classes: int):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32 * (size // 4) ** 2, 64)
        self.out = nn.Linear(64, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2, 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2, 2)
        return self.out(F.relu(self.fc(torch.flatten(x, 1))))


class Attention(nn.Module):
    """Causal self-attention with separate Q/K/V/output projections; `heads` of `total` local."""

    def __init__(self, d: int, heads: int, total_heads: int, tp: bool):
        super().__init__()
        hd = d // total_heads
        width = heads * hd
        self.heads, self.hd, self.tp = heads, hd, tp
        self.q = nn.Linear(d, width)
        self.k = nn.Linear(d, width)
        self.v = nn.Linear(d, width)
        self.o = nn.Linear(width, d, bias=not tp)
        self.o_bias = nn.Parameter(torch.zeros(d)) if tp else None

    def forward(self, x):
        b, s, _ = x.shape
        if self.tp:
            x = _CopyToTP.apply(x)
        q = self.q(x).view(b, s, self.heads, self.hd).transpose(1, 2)
        k = self.k(x).view(b, s, self.heads, self.hd).transpose(1, 2)
        v = self.v(x).view(b, s, self.heads, self.hd).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(self.hd))
        mask = torch.triu(torch.full((s, s), -1e9, device=x.device), diagonal=1)
        ctx = (torch.softmax(scores + mask, dim=-1) @ v).transpose(1, 2).reshape(b, s, self.heads * self.hd)
        y = self.o(ctx)
        return _ReduceFromTP.apply(y) + self.o_bias if self.tp else y


class Block(nn.Module):
    """Pre-LN transformer block: x + attn(ln(x)), then + down(gelu(up(ln(·)))); a classifier
    on the mean over the sequence."""

    def __init__(self, d: int, heads: int, world: int, tp: bool, classes: int):
        super().__init__()
        local_heads = heads // world if tp else heads
        self.ln1 = nn.LayerNorm(d)
        self.ln2 = nn.LayerNorm(d)
        self.attn = Attention(d, local_heads, heads, tp)
        hidden = 4 * d // world if tp else 4 * d
        self.tp = tp
        self.up = nn.Linear(d, hidden)
        self.down = nn.Linear(hidden, d, bias=not tp)
        self.down_bias = nn.Parameter(torch.zeros(d)) if tp else None
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        mid = x + self.attn(self.ln1(x))
        h = self.ln2(mid)
        if self.tp:
            h = _CopyToTP.apply(h)
        y = self.down(F.gelu(self.up(h)))
        if self.tp:
            y = _ReduceFromTP.apply(y) + self.down_bias
        return self.head((mid + y).mean(dim=1))


# ----------------------------------------------------------------------------- one rank

def build(cfg: dict, world: int, rank: int, device: torch.device = torch.device("cpu")):
    s = cfg["shape"]
    tp = cfg["strategy"] == "tp"
    per = s["batch"] if tp else s["batch"] // world
    g = torch.Generator().manual_seed(rank)
    if cfg["model"] == "mlp":
        sizes = [s["features"]] + [s["hidden"]] * (s["layers"] + 1) + [s["classes"]]
        model = TPMLP(sizes, cfg["modes"], world, rank) if tp else MLP(sizes)
        batches = [(torch.rand(per, s["features"], generator=g) * 2 - 1, torch.randint(0, s["classes"], (per,), generator=g)) for _ in range(2)]
        loss_fn = F.cross_entropy
    elif cfg["model"] == "cnn":
        model = TinyCNN(s["size"], s["classes"])
        batches = [(torch.rand(per, 3, s["size"], s["size"], generator=g) * 2 - 1, torch.randint(0, s["classes"], (per,), generator=g)) for _ in range(2)]
        loss_fn = F.cross_entropy
    else:
        model = Block(s["hidden"], s["heads"], world, tp, s["classes"])
        batches = [(torch.rand(per, s["seq"], s["hidden"], generator=g) * 2 - 1, torch.randint(0, s["classes"], (per,), generator=g)) for _ in range(2)]
        loss_fn = F.cross_entropy
    model = model.to(device)
    batches = [(x.to(device), y.to(device)) for x, y in batches]
    return model, batches, loss_fn


def rank_main(rank: int, world: int, port: int, cfg: dict, out) -> None:
    torch.set_num_threads(cfg["threads"])
    cuda = cfg.get("device", "cpu") == "cuda"
    device = torch.device("cuda", rank) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    model, batches, loss_fn = build(cfg, world, rank, device)
    if cfg["strategy"] == "dp" and world > 1:
        model = nn.parallel.DistributedDataParallel(model, device_ids=[rank] if cuda else None)
    opt = torch.optim.SGD(model.parameters(), lr=cfg["lr"])
    times = []
    dist.barrier()
    t_all = 0.0
    for step in range(cfg["warmup"] + cfg["steps"]):
        if step == cfg["warmup"]:
            dist.barrier()
            t_all = time.perf_counter()
        t0 = time.perf_counter()
        x, y = batches[step % 2]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        times.append((time.perf_counter() - t0) * 1000)
    total = (time.perf_counter() - t_all) * 1000
    if rank == 0:
        out.put({"stepMs": times[cfg["warmup"]:], "throughputMs": total / cfg["steps"]})
    dist.destroy_process_group()


def main() -> None:
    cfg = json.load(sys.stdin)
    world = cfg["nproc"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn" if cfg.get("device", "cpu") == "cuda" else "fork")
    out = ctx.SimpleQueue()
    procs = [ctx.Process(target=rank_main, args=(r, world, port, cfg, out)) for r in range(world)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    if any(p.exitcode != 0 for p in procs):
        sys.exit(1)
    sys.stdout.write(json.dumps(out.get()) + "\n")


if __name__ == "__main__":
    main()
