"""Optimizer steps on one weight shard, with the formulas and hyper-parameters of
src/runtime/exec/optimizer.ts (torch.optim's: SGD; momentum without dampening; Adam with
bias correction at step + 1 and epsilon outside the square root). In place, in float32:
the TS loop evaluates each element in float64 and rounds once, so the two engines' updates
agree to about one float32 ulp."""

from __future__ import annotations

import math
from typing import Callable

import torch


def make_update(cfg: dict, p: torch.Tensor, g: torch.Tensor, m: torch.Tensor | None, v: torch.Tensor | None) -> Callable[[int], None]:
    """A closure applying one step at (0-based) training step `step`."""
    lr = float(cfg["learningRate"])
    kind = cfg["kind"]
    if kind == "sgd":
        def sgd(step: int) -> None:
            p.add_(g, alpha=-lr)

        return sgd
    if kind == "momentum":
        mu = float(cfg.get("momentum", 0.9))
        assert m is not None, "momentum needs an `m` buffer"

        def momentum(step: int) -> None:
            m.mul_(mu).add_(g)
            p.add_(m, alpha=-lr)

        return momentum
    if kind == "adam":
        b1 = float(cfg.get("beta1", 0.9))
        b2 = float(cfg.get("beta2", 0.999))
        eps = float(cfg.get("epsilon", 1e-8))
        assert m is not None and v is not None, "adam needs `m` and `v` buffers"
        denom = torch.empty_like(p)

        def adam(step: int) -> None:
            c1 = 1 - math.pow(b1, step + 1)
            c2 = 1 - math.pow(b2, step + 1)
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            # p -= (lr · m/c1) / (sqrt(v/c2) + eps)
            torch.div(v, c2, out=denom).sqrt_().add_(eps)
            p.addcdiv_(m, denom, value=-lr / c1)

        return adam
    raise ValueError(f"unknown optimizer {kind!r}")
