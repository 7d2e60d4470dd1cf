"""Training losses (src/ops/losses.ts): each task returns its share of the mean (its sum
divided by the GLOBAL count), so the shares of all tasks sum to the loss."""

from __future__ import annotations

from math import prod

import torch

from ..plan import Shard


def softmax_cross_entropy(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    logits, labels = inputs
    classes = logits.shape[-1]
    logp = torch.log_softmax(logits.reshape(-1, classes), dim=1)
    lab = labels.reshape(-1, 1).long()
    # A label outside [0, classes) picks nothing (tfjs's oneHot gives a zero row).
    valid = ((lab >= 0) & (lab < classes)).to(logp.dtype)
    picked = logp.gather(1, lab.clamp(0, classes - 1)) * valid
    return [-picked.sum() / prod(sh.space_sizes)]


def mse(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    pred, target = inputs
    return [torch.square(pred - target).sum() / prod(sh.space_sizes)]


KERNELS = {"softmax_cross_entropy": softmax_cross_entropy, "mse": mse}
