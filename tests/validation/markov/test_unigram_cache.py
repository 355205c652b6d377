"""The on-disk cache of the unigram polynomial fit (:mod:`numerics.shared.cache`,
:func:`validation.markov.unigram._polynomial_cached`): keyed by parameters and versions, atomic,
a corrupt file ignored and rewritten, and a warm cache needs no torch."""

import subprocess
import sys

import numpy as np
import pytest

from numerics.shared import cache
from validation.markov import unigram

SMALL = dict(d=2, seq_len=3, seed=5)  # a fit of 4 nodes: well under a second


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TTC_CACHE_DIR", str(tmp_path / "cache"))
    unigram._polynomial_cached.cache_clear()
    yield tmp_path / "cache"
    unigram._polynomial_cached.cache_clear()


def test_cache_dir_defaults_to_home_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("TTC_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / ".cache" / "ttc"


def test_the_fit_is_stored_and_agrees_with_the_exact_hessian(cache_dir):
    poly = unigram.unigram_classification(3, 0.4, method="polynomial", **SMALL)
    files = list(cache_dir.glob("unigram-polynomial-*.npz"))
    assert len(files) == 1 and not list(cache_dir.glob(".*tmp"))
    exact = unigram.unigram_classification(3, 0.4, method="reduced", **SMALL)  # no fit
    assert np.max(np.abs(poly.eigenvalues - exact.eigenvalues)) <= poly.error
    unigram._polynomial_cached.cache_clear()
    again = unigram.unigram_classification(3, 0.4, method="polynomial", **SMALL)
    assert np.array_equal(again.restricted, poly.restricted)


def test_key_holds_parameters_and_library_version(cache_dir, monkeypatch):
    key = {"d": 2, "seq_len": 3, "seed": 5, "pos_scale": 1.0}
    first = cache.cache_path("unigram-polynomial", key)
    assert cache.cache_path("unigram-polynomial", {**key, "seed": 6}) != first
    monkeypatch.setattr(cache, "library_version", lambda: "999.0")
    assert cache.cache_path("unigram-polynomial", key) != first


@pytest.mark.parametrize("damage", [b"", b"not a zip file", None])
def test_a_corrupt_or_foreign_file_is_ignored_and_rewritten(cache_dir, damage):
    good = unigram.unigram_classification(3, 0.4, method="polynomial", **SMALL)
    (path,) = cache_dir.glob("unigram-polynomial-*.npz")
    if damage is None:  # a valid npz holding another key
        np.savez(path, _key=np.array("{}"), coefficients=np.zeros(1), node_error=np.zeros(()),
                 residual=np.zeros(()))
    else:
        path.write_bytes(damage)
    unigram._polynomial_cached.cache_clear()
    again = unigram.unigram_classification(3, 0.4, method="polynomial", **SMALL)
    assert np.array_equal(again.restricted, good.restricted)
    with np.load(path) as data:  # rewritten
        assert str(data["_key"]) != "{}" and data["coefficients"].shape == (4, 3, 3)


def test_compute_is_called_once_and_names_are_checked(cache_dir):
    calls = []

    def compute():
        calls.append(1)
        return {"a": np.arange(3.0)}

    assert cache.cached_arrays("t", {"x": 1}, ("a",), compute)["a"].tolist() == [0, 1, 2]
    assert cache.cached_arrays("t", {"x": 1}, ("a",), compute)["a"].tolist() == [0, 1, 2]
    assert len(calls) == 1
    with pytest.raises(ValueError):
        cache.cached_arrays("t", {"x": 2}, ("b",), compute)


def test_an_unwritable_cache_folder_only_skips_storing(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("TTC_CACHE_DIR", str(blocker / "below"))
    assert cache.cached_arrays("t", {}, ("a",), lambda: {"a": np.ones(2)})["a"].tolist() == [1, 1]


def test_a_warm_cache_needs_no_torch(cache_dir):
    unigram.unigram_classification(3, 0.4, method="polynomial", **SMALL)
    code = ("import sys; from validation.markov.unigram import unigram_classification as u; "
            "r = u(3, 0.4, method='polynomial', d=2, seq_len=3, seed=5); "
            "print('torch' in sys.modules, r.verdict)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**__import__("os").environ,
                                           "TTC_CACHE_DIR": str(cache_dir)})
    assert done.stdout.split()[0] == "False"
