"""The torch kernel registry: one entry per op of the TypeScript registry
(src/ops/registry.ts), organised by family like src/ops/. A kernel maps a task's input
pieces and weight shard to its output pieces, given the task's Shard; its backward is
autograd of the same code (kept from the forward instruction, run at the backward one)."""

from __future__ import annotations

from . import affine, attention, conv, dropout, elementwise, embedding, indexing, linear, logic, losses, matmul, norm, pool, recurrent, reduce, resize, shape_ops, shared, transformer
from .common import Kernel

FAMILIES = [linear, matmul, conv, pool, norm, embedding, elementwise, losses, shape_ops, reduce, dropout, recurrent, attention, affine, shared, logic, resize, indexing, transformer]

KERNELS: dict[str, Kernel] = {}
SOURCES: dict[str, str] = {}
for _family in FAMILIES:
    for _name, _kernel in _family.KERNELS.items():
        if _name in KERNELS:
            raise RuntimeError(f"duplicate torch kernel {_name}")
        KERNELS[_name] = _kernel
        SOURCES[_name] = f"python/par_torch/ops/{_family.__name__.rsplit('.', 1)[-1]}.py"


def kernel_names() -> list[str]:
    return sorted(KERNELS)
