"""Half-open boxes [lo, hi) in global coordinates, and where one lies inside a buffer.

A buffer holds one region of a tensor in row-major order; `within(holder)` gives the
slices that address region r inside a buffer holding `holder`, so copies, sends and
receives work on views instead of gathering elements.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod


@dataclass(frozen=True)
class Region:
    lo: tuple[int, ...]
    hi: tuple[int, ...]

    @staticmethod
    def of(d: dict) -> "Region":
        return Region(tuple(int(x) for x in d["lo"]), tuple(int(x) for x in d["hi"]))

    @staticmethod
    def whole(shape: list[int] | tuple[int, ...]) -> "Region":
        return Region(tuple(0 for _ in shape), tuple(int(s) for s in shape))

    def shape(self) -> list[int]:
        return [max(0, h - l) for l, h in zip(self.lo, self.hi)]

    def volume(self) -> int:
        return prod(self.shape())

    def slices(self) -> tuple[slice, ...]:
        """Indexing a whole tensor with these gives the region."""
        return tuple(slice(l, h) for l, h in zip(self.lo, self.hi))

    def within(self, holder: "Region") -> tuple[slice, ...]:
        """Indexing a buffer that holds `holder` with these gives this region."""
        return tuple(slice(l - hl, h - hl) for l, h, hl in zip(self.lo, self.hi, holder.lo))

    def intersect(self, other: "Region") -> "Region | None":
        lo = tuple(max(a, b) for a, b in zip(self.lo, other.lo))
        hi = tuple(min(a, b) for a, b in zip(self.hi, other.hi))
        if any(h <= l for l, h in zip(lo, hi)):
            return None
        return Region(lo, hi)

    def equals_holder(self, holder: "Region") -> bool:
        return self.lo == holder.lo and self.hi == holder.hi

    def is_contiguous_in(self, holder: "Region") -> bool:
        """True when the region is one contiguous run of the holder's row-major order."""
        rank = len(self.lo)
        p = rank - 1
        while p >= 0 and self.lo[p] == holder.lo[p] and self.hi[p] == holder.hi[p]:
            p -= 1
        return all(self.hi[i] - self.lo[i] == 1 for i in range(p))

    def label(self) -> str:
        return "[" + ",".join(f"{l}:{h}" for l, h in zip(self.lo, self.hi)) + "]"
