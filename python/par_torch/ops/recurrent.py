"""lstm (src/ops/recurrent.ts): one LSTM layer over batch-first x[batch, seq, input], torch
gate order i, f, g, o, zero initial state. Only `sample` splits."""

from __future__ import annotations

import torch

from ..plan import Shard


def lstm_steps(x: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor,
               h0: torch.Tensor | None = None, c0: torch.Tensor | None = None) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """The recurrence from (h0, c0) (zeros when absent): every step's h, the final h and c."""
    batch, seq, width = x.shape
    hidden = w_hh.shape[1]
    # Every step's input projection at once, both biases folded in (the TS kernel's order).
    xg = (x.reshape(batch * seq, width) @ w_ih.t() + (b_ih + b_hh)).view(batch, seq, 4 * hidden)
    h = h0 if h0 is not None else x.new_zeros(batch, hidden)
    c = c0 if c0 is not None else x.new_zeros(batch, hidden)
    hs: list[torch.Tensor] = []
    w_hh_t = w_hh.t()
    for t in range(seq):
        gates = xg[:, t] + h @ w_hh_t
        gi, gf, gg, go = gates.chunk(4, dim=1)
        c = torch.sigmoid(gf) * c + torch.sigmoid(gi) * torch.tanh(gg)
        h = torch.sigmoid(go) * torch.tanh(c)
        hs.append(h)
    return hs, h, c


def lstm(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    hs, h, _ = lstm_steps(inputs[0], *params)
    return [torch.stack(hs, dim=1) if sh.attrs.get("return_sequences", True) else h]


KERNELS = {"lstm": lstm}
