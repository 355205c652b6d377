"""Atomic writes: whole files or none, with the permissions of a plain ``open``; JSON refuses
NaN."""

import os
import stat
import sys

import numpy as np
import pytest

from numerics.shared import storage
from theory.errors import InputError, NumericalFailure


@pytest.fixture
def umask():
    """Set the process umask for one test, restored afterwards."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield lambda mask: os.umask(mask)
    os.umask(saved)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002, 0o077])
def test_written_files_get_the_mode_open_would_give(tmp_path, umask, mask):
    umask(mask)
    storage.atomic_write_bytes(tmp_path / "figure.png", b"\x89PNG")
    storage.write_json(tmp_path / "out" / "results.json", {"a": 1})
    with open(tmp_path / "plain.txt", "w") as handle:
        handle.write("x")
    plain = stat.S_IMODE(os.stat(tmp_path / "plain.txt").st_mode)
    assert plain == 0o666 & ~mask
    for name in ("figure.png", "out/results.json"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == plain, name


def test_current_umask_reads_without_changing(umask):
    umask(0o037)
    assert storage.current_umask() == 0o037
    assert storage.current_umask() == 0o037  # unchanged by the first read


def test_current_umask_without_proc(monkeypatch, umask):
    umask(0o026)

    def no_proc(*args, **kwargs):
        raise OSError("no /proc")

    monkeypatch.setattr("builtins.open", no_proc)
    assert storage.current_umask() == 0o026
    monkeypatch.undo()
    assert storage.current_umask() == 0o026


def test_overwrite_is_whole_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "x.json"
    storage.write_json(target, {"v": 1})
    storage.write_json(target, {"v": [1, 2, 3]})
    assert storage.read_json(target) == {"v": [1, 2, 3]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_failed_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "x.json"
    storage.write_json(target, {"v": 1})
    with pytest.raises(NumericalFailure, match="v.1"):
        storage.write_json(target, {"v": [1.0, float("nan")]})
    assert storage.read_json(target) == {"v": 1}
    assert storage.to_jsonable({"a": np.float64(0.5), "b": (np.arange(2),)}) == \
        {"a": 0.5, "b": [[0, 1]]}


def test_read_json_refuses_non_finite_constants(tmp_path):
    target = tmp_path / "nan.json"
    for text in ('{"v": NaN}', '{"v": Infinity}', '[-Infinity]', "\xff", "{"):
        target.write_bytes(text.encode("latin-1"))
        assert storage.read_json(target) is None


def test_writes_refuse_bad_arguments(tmp_path):
    with pytest.raises(InputError, match="data"):
        storage.atomic_write_bytes(tmp_path / "x", "text, not bytes")
    with pytest.raises(InputError, match="text"):
        storage.atomic_write_text(tmp_path / "x", b"bytes")
    for path in ("", "   ", None, str(tmp_path) + "/"):
        with pytest.raises(InputError, match="path"):
            storage.atomic_write_bytes(path, b"x")
    with pytest.raises(InputError, match="value"):
        storage.dumps({"f": object()})
    with pytest.raises(NumericalFailure, match="a.b"):
        storage.dumps({"a": {"b": np.float64("inf")}})
