"""lstm, gru and rnn (src/ops/recurrent.ts): one layer over batch-first x[batch, seq, input],
torch gate orders (LSTM i, f, g, o; GRU r, z, n), from given initial states (optional
inputs h0 and, for lstm, c0; zeros when absent), forwards or `reverse` (y[t] stays the
output at position t; the final state is the one after position 0), optionally returning
the final state. Only `sample` splits."""

from __future__ import annotations

from typing import Callable

import torch

from ..plan import Shard

# One step: (xg_t = x_t·W_ihᵀ + b_ih, h, c, W_hh, b_hh, attrs) → (h', c').
Step = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | None", torch.Tensor, torch.Tensor, dict], "tuple[torch.Tensor, torch.Tensor | None]"]


def _lstm_step(xg, h, c, w_hh, b_hh, attrs):
    gates = xg + b_hh + h @ w_hh.t()
    gi, gf, gg, go = gates.chunk(4, dim=1)
    c = torch.sigmoid(gf) * c + torch.sigmoid(gi) * torch.tanh(gg)
    return torch.sigmoid(go) * torch.tanh(c), c


def _gru_step(xg, h, c, w_hh, b_hh, attrs):
    xr, xz, xn = xg.chunk(3, dim=1)
    wr, wz, wn = w_hh.chunk(3, dim=0)
    br, bz, bn = b_hh.chunk(3, dim=0)
    r = torch.sigmoid(xr + br + h @ wr.t())
    z = torch.sigmoid(xz + bz + h @ wz.t())
    if attrs.get("linear_before_reset", True) is not False:
        hn = r * (h @ wn.t() + bn)
    else:
        hn = (r * h) @ wn.t() + bn
    n = torch.tanh(xn + hn)
    # h' = (1 − z)·n + z·h = n + z·(h − n), the TS kernel's order.
    return n + z * (h - n), None


def _rnn_step(xg, h, c, w_hh, b_hh, attrs):
    pre = xg + b_hh + h @ w_hh.t()
    return (torch.relu(pre) if attrs.get("nonlinearity", "tanh") == "relu" else torch.tanh(pre)), None


def recurrent_steps(step: Step, cell_state: bool, x: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor,
                    attrs: dict, h0: torch.Tensor | None = None, c0: torch.Tensor | None = None, reverse: bool = False):
    """The recurrence (src/ops/recurrent.ts `recurrentSteps`): every step's h in sequence
    order, the final h and c."""
    batch, seq, width = x.shape
    hidden = w_hh.shape[1]
    gates = w_ih.shape[0]
    # Every step's input projection at once (one big matMul), as the TS kernel.
    xg = (x.reshape(batch * seq, width) @ w_ih.t() + b_ih).view(batch, seq, gates)
    h = h0 if h0 is not None else x.new_zeros(batch, hidden)
    c = (c0 if c0 is not None else x.new_zeros(batch, hidden)) if cell_state else None
    hs: list[torch.Tensor] = [x] * seq
    for k in range(seq):
        t = seq - 1 - k if reverse else k
        h, c = step(xg[:, t], h, c, w_hh, b_hh, attrs)
        hs[t] = h
    return hs, h, c


def lstm_steps(x, w_ih, w_hh, b_ih, b_hh, h0=None, c0=None):
    """The LSTM recurrence (lstm_chunk's): every step's h, the final h and c."""
    return recurrent_steps(_lstm_step, True, x, w_ih, w_hh, b_ih, b_hh, {}, h0, c0)


def _layer(step: Step, cell_state: bool):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        a = sh.attrs
        x = inputs[0]
        h0 = inputs[1] if len(inputs) > 1 else None
        c0 = inputs[2] if len(inputs) > 2 else None
        reverse = bool(a.get("reverse", False))
        hs, h, c = recurrent_steps(step, cell_state, x, *params, a, h0, c0, reverse)
        last = hs[0] if reverse else hs[-1]
        y = torch.stack(hs, dim=1) if a.get("return_sequences", True) else last.clone()
        if not a.get("return_state", False):
            return [y]
        return [y, h.clone()] + ([c] if cell_state else [])

    return kernel


KERNELS = {"lstm": _layer(_lstm_step, True), "gru": _layer(_gru_step, False), "rnn": _layer(_rnn_step, False)}
