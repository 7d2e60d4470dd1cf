"""Coded errors of the torch engine. The codes are the TypeScript table's
(src/engines/torch/codes.ts, PAR8001-PAR8049); a test checks that the two agree. Every
failure the launcher reports is one JSON line {"event": "error", "code", "message",
"hint"} on stdout and one readable line on stderr, never a Python traceback (set
PAR_TORCH_DEBUG=1 to see tracebacks of unexpected errors).
"""

from __future__ import annotations

CODES: dict[str, str] = {
    "PAR8001": "no Python that can import torch",
    "PAR8002": "torch is older than 1.13",
    "PAR8003": "the requested device or backend is not available",
    "PAR8004": "the plan cannot run on the torch engine",
    "PAR8005": "the number of ranks disagrees with the plan's devices",
    "PAR8006": "an instruction failed on a rank",
    "PAR8007": "a rank died",
    "PAR8008": "a rank waited past the timeout",
    "PAR8009": "a data file for a graph input is missing or unreadable",
    "PAR8010": "a data file disagrees with the model's input (shape, dtype, layout)",
    "PAR8011": "the launcher could not start the ranks",
    "PAR8012": "the engine's output could not be understood",
    "PAR8013": "the torch run disagrees with the single-device reference",
    "PAR8014": "the export directory cannot be written",
    "PAR8015": "bad command line",
    "PAR8016": "the plan file cannot be read",
    "PAR8017": "a param's given values are missing or of the wrong length",
    "PAR8018": "a message or kernel result has the wrong number of elements",
    "PAR8019": "the engine failed unexpectedly",
    "PAR8020": "the torch engine's run of a plan disagrees with the tfjs runtime's",
}

HINTS: dict[str, str] = {
    "PAR8001": "apt-get install python3-torch libopenblas0-pthread (or set PAR_PYTHON to a Python with torch)",
    "PAR8003": "use --device cpu, or run on a machine with CUDA GPUs and torch built with NCCL",
    "PAR8004": "compile the plan with par (`par compile`); the torch engine needs every op's signature",
    "PAR8005": "start one rank per plan device (--nproc = the plan's device count)",
    "PAR8008": "a peer is stuck or gone; raise --timeout for very slow steps",
    "PAR8009": "put one <input id>.npy per graph input in the data directory",
    "PAR8010": "save the array as float32 (f32 inputs) or int32/int64 (i32 inputs), C order, shape [k*batch, ...]",
    "PAR8011": "check that the master address and port are free and reachable",
    "PAR8015": "python3 -m par_torch --help",
    "PAR8016": "the plan is a par-plan JSON file written by `par compile`",
    "PAR8019": "rerun with PAR_TORCH_DEBUG=1 for the Python traceback and report it",
}


class EngineError(Exception):
    """A failure with a code from CODES; `message` says what, `hint` what to do."""

    def __init__(self, code: str, message: str, hint: str | None = None):
        assert code in CODES, code
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint if hint is not None else HINTS.get(code)

    def record(self) -> dict:
        out = {"event": "error", "code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out
