"""par's torch.distributed engine: executes par Plans (src/plan/plan.ts) with PyTorch, one
process per plan device, on CPU (Gloo) or CUDA (NCCL). See docs/engines.md."""

__all__ = ["__version__"]
__version__ = "0.1.0"
