"""numerics.shared.threads.limit_threads: the one thread mechanism reaches a BLAS library that is
already loaded (numpy's), torch and the environment, and restores all three."""

import os

import numpy as np  # noqa: F401  (loads numpy's BLAS before the block)
import pytest
from threadpoolctl import threadpool_info

from numerics.shared.threads import THREAD_VARIABLES, limit_threads


def _blas_threads():
    return {pool["filepath"]: pool["num_threads"] for pool in threadpool_info()
            if pool["user_api"] == "blas"}


def test_loaded_blas_is_limited_and_restored():
    before = _blas_threads()
    if not before:
        pytest.skip("numpy reports no BLAS thread pool")
    with limit_threads(1):
        assert set(_blas_threads().values()) == {1}
    assert _blas_threads() == before


def test_torch_and_environment_are_limited_and_restored():
    torch = pytest.importorskip("torch")
    saved_env = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    saved_torch = torch.get_num_threads()
    with limit_threads(1):
        assert torch.get_num_threads() == 1
        assert all(os.environ[name] == "1" for name in THREAD_VARIABLES)
    assert torch.get_num_threads() == saved_torch
    assert {name: os.environ.get(name) for name in THREAD_VARIABLES} == saved_env


def test_bad_thread_count_is_refused_by_name():
    with pytest.raises(ValueError, match="threads"):
        with limit_threads(0):
            pass
