"""Atomic result files: a temporary file in the same folder, then a rename, so an interrupted run
never leaves a truncated file. JSON refuses NaN and infinities (a numerical failure must be
reported, not written as a number). Topic-free; :mod:`validation.ledger.results` adds ``.npz`` arrays and
provenance on top."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_write_bytes", "atomic_write_text", "current_umask", "to_jsonable", "dumps",
           "check_output_file", "check_output_folder", "check_input_file", "read_text_file",
           "non_finite_path",
           "write_json", "read_json"]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename,
    so that an interrupted run never leaves a truncated file.

    The file gets the permissions a plain ``open(path, "w")`` would give it,
    ``0o666 & ~umask`` (the temporary file starts at ``0o600``). The folder is created when
    missing. :class:`InputError` for a ``path`` that is not a non-empty path or ``data`` that
    is not bytes."""
    from theory.errors import InputError

    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not text or not text.strip() or text.endswith(os.sep):
        raise InputError("path", path, "a file path (not empty, not ending in a separator)")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError("data", type(data).__name__, "bytes")
    path = Path(text)
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
    """:func:`atomic_write_bytes` of ``text`` in UTF-8 (:class:`InputError` unless a str)."""
    from theory.errors import InputError

    if not isinstance(text, str):
        raise InputError("text", type(text).__name__, "a str")
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
    """JSON text of ``value`` (through :func:`to_jsonable`).

    Raises
    ------
    NumericalFailure
        A NaN or an infinity anywhere in ``value`` (a numerical failure went unreported), naming
        where (``claims.3.measured``).
    InputError
        A value JSON cannot hold (naming its type and where).
    """
    from theory.errors import InputError, NumericalFailure

    plain = to_jsonable(value)
    try:
        return json.dumps(plain, indent=indent, allow_nan=False)
    except ValueError:
        where = non_finite_path(plain)
        if where is None:
            raise
        raise NumericalFailure(f"non-finite number at {where}: results never hold "
                               f"NaN or infinities") from None
    except TypeError as exc:
        raise InputError("value", type(value).__name__, f"JSON-serialisable data ({exc})") from None


def non_finite_path(value: Any, path: str = "") -> str | None:
    """Where a result holds NaN, an infinity or a complex number (a key path), or None.

    Looks into dicts, lists, tuples, dataclasses, numpy arrays and scalars; sympy objects are
    not inspected (they are exact by construction)."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int, Fraction)):
        return None
    if isinstance(value, complex):
        return path or "result"
    if isinstance(value, float):
        return None if math.isfinite(value) else (path or "result")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = ((f.name, getattr(value, f.name)) for f in dataclasses.fields(value))
    elif isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    elif hasattr(value, "dtype") and hasattr(value, "tolist"):  # numpy arrays and scalars
        if value.dtype.kind == "c":
            return path or "result"
        if value.dtype.kind == "f":
            return None if bool(np.all(np.isfinite(value))) else (path or "result")
        return None
    else:
        return None
    for key, item in items:
        found = non_finite_path(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def write_json(path: str | os.PathLike, value: Any) -> None:
    """Write ``value`` as JSON (:func:`dumps`) to ``path`` atomically."""
    atomic_write_text(path, dumps(value) + "\n")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_json(path: str | os.PathLike) -> Any:
    """The JSON value stored at ``path``, or None when the file is missing, unreadable, not
    UTF-8, not JSON or holding ``NaN``/``Infinity`` (which :func:`dumps` never writes: such a
    file is corrupt, and a resumed run recomputes it)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except (OSError, ValueError, TypeError, RecursionError):
        return None


# ---------------------------------------------------------------------------------------------
# Paths: the one place where output and input paths are validated


#: Largest input file read (network, context, model files): 256 MiB.
MAX_INPUT_BYTES = 256 * 2**20


def check_output_file(name: str, path, suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` as a :class:`Path` a file can be written to, else :class:`InputError` naming
    ``name``: not empty, not an existing folder, its parent an existing writable folder (never
    created silently under a regular file), and ending in one of ``suffixes`` when given."""
    from theory.errors import InputError

    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not text or not text.strip():
        raise InputError(name, path, "a file path (not empty)")
    path = Path(text)
    if path.is_dir() or text.endswith(os.sep):
        raise InputError(name, text, "a file path (this is a folder)")
    if suffixes and path.suffix.lower() not in suffixes:
        raise InputError(name, text, f"a file name ending in {' or '.join(suffixes)}")
    parent = path.parent if str(path.parent) else Path(".")
    _check_writable_folder(name, text, parent)
    return path


def check_output_folder(name: str, path) -> Path:
    """``path`` as a folder to write into (created if missing, with its parents), else
    :class:`InputError`: not empty, not a file, not below a file, writable."""
    from theory.errors import InputError

    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not text or not text.strip():
        raise InputError(name, path, "a folder path (not empty)")
    folder = Path(text)
    if folder.exists() and not folder.is_dir():
        raise InputError(name, text, "a folder (this is a file)")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(name, text, f"a folder path ({existing} is a file)")
    _check_writable_folder(name, text, existing)
    return folder


def _check_writable_folder(name: str, text: str, folder: Path) -> None:
    from theory.errors import InputError

    if not folder.exists():
        raise InputError(name, text, f"a path in an existing folder ({folder} does not exist)")
    if not folder.is_dir():
        raise InputError(name, text, f"a path in a folder ({folder} is a file)")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(name, text, f"a path in a writable folder ({folder} is not writable)")


def check_input_file(name: str, path, max_bytes: int = MAX_INPUT_BYTES) -> Path:
    """``path`` as an existing, readable regular file of at most ``max_bytes``, else
    :class:`InputError` naming ``name``."""
    from theory.errors import InputError

    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else None
    if not text or not text.strip():
        raise InputError(name, path, "a file path (not empty)")
    path = Path(text)
    if not path.exists():
        raise InputError(name, text, "an existing file")
    if not path.is_file():
        raise InputError(name, text, "a regular file (this is a folder or a device)")
    if not os.access(path, os.R_OK):
        raise InputError(name, text, "a readable file")
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(name, text, f"a file of at most {max_bytes} bytes (it has {size})")
    return path


def read_text_file(name: str, path, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The UTF-8 text of the file ``path`` (checked with :func:`check_input_file`);
    :class:`InputError` naming ``name`` for a binary or non-UTF-8 file."""
    from theory.errors import InputError

    data = check_input_file(name, path, max_bytes).read_bytes()
    if b"\x00" in data:
        raise InputError(name, os.fspath(path), "a text file (this one is binary)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(name, os.fspath(path), f"a UTF-8 text file ({exc.reason} at byte "
                                                f"{exc.start})") from None
