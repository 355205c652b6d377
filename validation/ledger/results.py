"""Result files: atomic writes (:mod:`numerics.shared.storage`), JSON with provenance, ``.npz`` arrays.
Never pickle."""

from __future__ import annotations

import os
import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from numerics.shared.storage import (atomic_write_bytes, atomic_write_text, dumps, read_json,
                                     to_jsonable, write_json)

__all__ = ["atomic_write_bytes", "atomic_write_text", "dumps", "read_json", "to_jsonable", "write_json",
           "write_npz", "provenance"]


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


@lru_cache(maxsize=1)
def provenance() -> dict[str, Any]:
    """Package versions, Python, platform and the git commit of the working tree (if any)."""
    versions = {}
    for package in ("numpy", "scipy", "sympy", "torch", "matplotlib", "cvxpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "packages": versions, "git_commit": commit}
