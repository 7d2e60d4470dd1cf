"""Facts about this machine the launcher needs before torch is imported."""

from __future__ import annotations

import os


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1
