"""An on-disk cache of arrays computed from a few parameters (e.g. the unigram polynomial fit of
:mod:`validation.markov.unigram`, about 20 s to compute).

Location: ``$TTC_CACHE_DIR`` when set, else ``~/.cache/ttc/``. One ``.npz`` file per entry, named
``KIND-DIGEST.npz`` with ``DIGEST`` a SHA-256 of the entry's key: its parameters, the library
version (``importlib.metadata.version("transformer-theory-companion")``) and whatever else the
caller adds (versions of the packages the result depends on, a format number). Files are written
atomically (:func:`numerics.shared.storage.atomic_write_bytes`); a file that cannot be read, holds
another key or non-finite numbers is ignored and rewritten; a folder that cannot be written only
means the result is not kept. Deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from numerics.shared.storage import atomic_write_bytes

__all__ = ["cache_dir", "library_version", "package_version", "cache_path", "cached_arrays"]

#: The distribution name whose version keys every entry.
DISTRIBUTION = "transformer-theory-companion"


def cache_dir() -> Path:
    """``$TTC_CACHE_DIR`` if set (and not empty), else ``~/.cache/ttc``."""
    folder = os.environ.get("TTC_CACHE_DIR", "").strip()
    return Path(folder) if folder else Path.home() / ".cache" / "ttc"


def package_version(name: str) -> str:
    """The installed version of distribution ``name`` (``"unknown"`` when not installed); read
    from the package metadata, without importing the package."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def library_version() -> str:
    """The version of this library (:data:`DISTRIBUTION`)."""
    return package_version(DISTRIBUTION)


def _key_text(kind: str, key: dict) -> str:
    return json.dumps({"kind": kind, "library": library_version(), **key}, sort_keys=True)


def cache_path(kind: str, key: dict) -> Path:
    """Where the entry ``(kind, key)`` lives (``key``: JSON-serialisable parameters)."""
    digest = hashlib.sha256(_key_text(kind, key).encode()).hexdigest()[:32]
    return cache_dir() / f"{kind}-{digest}.npz"


def _load(path: Path, key_text: str, names: tuple[str, ...]) -> dict | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["_key"]) != key_text or set(data.files) != {"_key", *names}:
                return None
            arrays = {name: np.array(data[name]) for name in names}
    except Exception:  # missing, truncated, corrupt or foreign: recompute
        return None
    if any(a.dtype.kind in "fc" and not np.all(np.isfinite(a)) for a in arrays.values()):
        return None
    return arrays


def cached_arrays(kind: str, key: dict, names: tuple[str, ...],
                  compute: Callable[[], dict]) -> dict:
    """The arrays ``names`` of the entry ``(kind, key)``: read from the cache, or computed by
    ``compute()`` (a dict of arrays with exactly those names) and stored.

    Parameters
    ----------
    kind : str
        A short name of what is cached (part of the file name), e.g. ``"unigram-polynomial"``.
    key : dict
        Everything the result depends on besides the library version (parameters, versions of
        other packages, a format number); JSON-serialisable.
    names : tuple of str
        The arrays stored.
    compute : callable
        ``() -> {name: array}``, called on a miss.
    """
    path, key_text = cache_path(kind, key), _key_text(kind, key)
    hit = _load(path, key_text, tuple(names))
    if hit is not None:
        return hit
    arrays = {name: np.asarray(value) for name, value in compute().items()}
    if set(arrays) != set(names):
        raise ValueError(f"compute() returned {sorted(arrays)}, expected {sorted(names)}")
    buffer = io.BytesIO()
    np.savez(buffer, _key=np.array(key_text), **arrays)
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError:  # a read-only or full cache folder: the result is simply not kept
        pass
    return arrays
