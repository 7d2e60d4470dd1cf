"""Step and instruction clocks. On CPU a mark is the host clock. On CUDA a mark records an
event on the current stream (kernels run asynchronously), resolved to times after the
step's synchronisation; either way marks come back as epoch milliseconds."""

from __future__ import annotations

import time

import torch


class HostTimer:
    def __init__(self) -> None:
        # perf_counter's precision, anchored to the epoch once.
        self.offset = time.time() * 1000 - time.perf_counter() * 1000

    def mark(self) -> float:
        return time.perf_counter() * 1000 + self.offset

    def resolve(self, marks: list[float]) -> list[float]:
        return marks

    def sync(self) -> None:
        pass


class CudaTimer:
    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.events: list[torch.cuda.Event] = []
        self.anchor_event: torch.cuda.Event | None = None
        self.anchor_ms = 0.0

    def begin(self) -> None:
        torch.cuda.synchronize(self.device)
        self.anchor_ms = time.time() * 1000
        self.anchor_event = torch.cuda.Event(enable_timing=True)
        self.anchor_event.record()
        self.events.clear()

    def mark(self) -> float:
        e = torch.cuda.Event(enable_timing=True)
        e.record()
        self.events.append(e)
        return float(len(self.events) - 1)  # an index, resolved after the step

    def sync(self) -> None:
        torch.cuda.synchronize(self.device)

    def resolve(self, marks: list[float]) -> list[float]:
        assert self.anchor_event is not None
        return [self.anchor_ms + self.anchor_event.elapsed_time(self.events[int(m)]) for m in marks]
