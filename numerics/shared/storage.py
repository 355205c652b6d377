"""Atomic result files: a temporary file in the same folder, then a rename, so an interrupted run
never leaves a truncated file. JSON refuses NaN and infinities (a numerical failure must be
reported, not written as a number). Topic-free; :mod:`validation.ledger.results` adds ``.npz`` arrays and
provenance on top."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write_bytes", "atomic_write_text", "current_umask", "to_jsonable", "dumps",
           "write_json", "read_json"]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename,
    so that an interrupted run never leaves a truncated file.

    The file gets the permissions a plain ``open(path, "w")`` would give it,
    ``0o666 & ~umask`` (the temporary file starts at ``0o600``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o666 & ~current_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process's file-mode creation mask.

    Read from ``/proc/self/status`` (Linux) without changing it; elsewhere ``os.umask`` is set and
    restored at once (another thread creating a file in between would get the mask ``0o077``).
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, tuples, paths and result dataclasses into plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def dumps(value: Any, indent: int | None = 2) -> str:
    """JSON text; NaN/inf are refused (they mean a numerical failure went unreported)."""
    return json.dumps(to_jsonable(value), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike, value: Any) -> None:
    atomic_write_text(path, dumps(value) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """The JSON value stored at ``path``, or None when the file is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
