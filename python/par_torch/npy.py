"""Reading .npy files (NumPy's format 1.0-3.0) without NumPy: parse the header, then map
the data and take only the rows a rank needs (torch.frombuffer over an mmap)."""

from __future__ import annotations

import ast
import mmap
import os
import struct
from dataclasses import dataclass

import torch

from .errors import EngineError

MAGIC = b"\x93NUMPY"

DTYPES = {
    "<f4": torch.float32,
    "<i4": torch.int32,
    "<i8": torch.int64,
    "|i1": torch.int8,
    "<f8": torch.float64,
    "<f2": torch.float16,
    "|u1": torch.uint8,
}


@dataclass
class NpyArray:
    path: str
    descr: str
    shape: tuple[int, ...]
    offset: int
    itemsize: int
    mm: mmap.mmap | None = None

    @property
    def dtype(self) -> torch.dtype | None:
        return DTYPES.get(self.descr)

    def rows(self, start: int, count: int) -> torch.Tensor:
        """Rows [start, start + count) along axis 0, mapped (not read) until used."""
        dtype = self.dtype
        assert dtype is not None
        if self.mm is None:
            with open(self.path, "rb") as f:
                # ACCESS_COPY: private pages, writable for torch.frombuffer, never written back.
                self.mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        row = 1
        for s in self.shape[1:]:
            row *= s
        n = count * row
        if n == 0:
            return torch.empty((count, *self.shape[1:]), dtype=dtype)
        t = torch.frombuffer(self.mm, dtype=dtype, count=n, offset=self.offset + start * row * self.itemsize)
        return t.view(count, *self.shape[1:])


def open_npy(path: str) -> NpyArray:
    if not os.path.exists(path):
        raise EngineError("PAR8009", f"data file {path} does not exist")
    try:
        with open(path, "rb") as f:
            head = f.read(10)
            if len(head) < 10 or head[:6] != MAGIC:
                raise EngineError("PAR8010", f"{path} is not a .npy file (no NumPy magic)")
            major = head[6]
            if major == 1:
                header_len = struct.unpack("<H", head[8:10])[0]
                start = 10
            else:
                f.seek(8)
                header_len = struct.unpack("<I", f.read(4))[0]
                start = 12
            f.seek(start)
            header = f.read(header_len).decode("latin1")
    except OSError as e:
        raise EngineError("PAR8009", f"cannot read data file {path}: {e.strerror}") from None
    try:
        meta = ast.literal_eval(header)
    except (ValueError, SyntaxError):
        raise EngineError("PAR8010", f"{path}: malformed .npy header") from None
    if meta.get("fortran_order"):
        raise EngineError("PAR8010", f"{path} is in Fortran order", "save it C-contiguous (np.ascontiguousarray)")
    descr = meta.get("descr")
    if not isinstance(descr, str):
        raise EngineError("PAR8010", f"{path}: structured arrays are not supported")
    itemsize = int(descr[2:]) if descr[2:].isdigit() else 0
    return NpyArray(path=path, descr=descr, shape=tuple(int(s) for s in meta["shape"]), offset=start + header_len, itemsize=itemsize)
