"""Point-to-point messages of a plan on torch.distributed.

Plan tags are strings unique within a step; each becomes an integer (its index in the
plan's sorted tag list, offset by the step) so that no two messages between a pair share
a tag across nearby steps. Sends never block (isend of a tensor nothing writes again
this step, or of a private copy); they are completed at the end of the step.

Backends that match messages by tag (Gloo) receive in any order. NCCL matches a pair's
messages in issue order and a send waits for its receive on the GPU, so with
`ordered=True` every directed pair of ranks gets a group of its own (no two directions
share a stream) and a receiver posts its receives in the sender's order, staging the
messages it does not need yet. Tests force the ordered mode on Gloo to cover its logic.
"""

from __future__ import annotations

from datetime import timedelta

import torch
import torch.distributed as dist

from .errors import EngineError

TAG_STEPS = 64  # step residues in the integer tag space


class P2P:
    def __init__(self, plan_tags: list[str], timeout_s: float, ordered: bool, pair_groups: dict[tuple[int, int], object] | None):
        self.tag_index = {t: i for i, t in enumerate(sorted(set(plan_tags)))}
        self.ntags = max(1, len(self.tag_index))
        self.timeout = timedelta(seconds=timeout_s)
        self.ordered = ordered
        self.pair_groups = pair_groups or {}
        self.pending: list[tuple[object, torch.Tensor]] = []
        # ordered mode: per sender, the (tag, shape, dtype) of its sends to us, in its order.
        self.expect: dict[int, list[tuple[str, list[int], torch.dtype]]] = {}
        self.cursor: dict[int, int] = {}
        self.staged: dict[tuple[int, str], tuple[object, torch.Tensor]] = {}

    def int_tag(self, tag: str, step: int) -> int:
        return (step % TAG_STEPS) * self.ntags + self.tag_index[tag]

    def send(self, to: int, tag: str, step: int, t: torch.Tensor) -> None:
        group = self.pair_groups.get((dist.get_rank(), to)) if self.ordered else None
        work = dist.isend(t, to, group=group, tag=self.int_tag(tag, step))
        self.pending.append((work, t))

    def expect_from(self, sender: int, messages: list[tuple[str, list[int], torch.dtype]]) -> None:
        """Ordered mode: the sender's sends to this rank within one step, in its order."""
        self.expect[sender] = messages

    def recv(self, sender: int, tag: str, step: int, out: torch.Tensor) -> None:
        """Receives message `tag` from `sender` into `out` (a contiguous tensor)."""
        if not self.ordered:
            self._wait(dist.irecv(out, sender, tag=self.int_tag(tag, step)))
            return
        key = (sender, tag)
        if key not in self.staged:
            self._post_until(sender, tag, step, out)
        work, buf = self.staged.pop(key)
        self._wait(work)
        if buf is not out:
            out.copy_(buf)

    def _post_until(self, sender: int, tag: str, step: int, out: torch.Tensor) -> None:
        order = self.expect.get(sender, [])
        group = self.pair_groups.get((sender, dist.get_rank()))
        i = self.cursor.get(sender, 0)
        while i < len(order):
            t, shape, dtype = order[i]
            buf = out if t == tag else torch.empty(shape, dtype=dtype, device=out.device)
            self.staged[(sender, t)] = (dist.irecv(buf, sender, group=group, tag=self.int_tag(t, step)), buf)
            i += 1
            if t == tag:
                break
        else:
            raise EngineError("PAR8004", f"no send of tag {tag} from rank {sender} in the plan")
        self.cursor[sender] = i

    def finish_step(self) -> None:
        for work, _ in self.pending:
            self._wait(work)
        self.pending.clear()
        self.cursor.clear()
        if self.staged:
            raise EngineError("PAR8004", f"messages received but never used: {sorted(t for _, t in self.staged)}")

    def _wait(self, work) -> None:
        try:
            work.wait(self.timeout)
        except RuntimeError as e:
            raise comm_error(e) from None


def comm_error(e: BaseException) -> EngineError:
    """A communication failure as a coded error: a timeout, or a peer gone. The caller
    attaches where it happened (`where`)."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if "timed out" in text.lower() or "timeout" in text.lower():
        return EngineError("PAR8008", f"waited past the timeout ({text})")
    err = EngineError("PAR8007", f"a peer is gone ({text})")
    err.secondary = True  # type: ignore[attr-defined]
    return err
