"""The claims with a certified path: certified with python-flint, refuted when a certificate
fails, and the uncertified floating-point path when python-flint is absent (patched away)."""

import pytest
import sympy as sp

pytest.importorskip("flint")

from numerics import certify as NC  # noqa: E402
from numerics import lsa_certified as LC  # noqa: E402
from numerics import markov_certified as MC  # noqa: E402
from validation.claims import CheckContext  # noqa: E402

HALF = sp.Rational(1, 2)


@pytest.fixture
def quick_context(tmp_path):
    return CheckContext("quick", 0, tmp_path)



def test_markov_certified_path(quick_context):
    from validation import markov_critical_claims as MCL

    out = MCL._unigram_hessian(quick_context)
    assert out.verdict == "confirmed" and out.method == NC.CERTIFIED_METHOD


def test_markov_failed_certificate_refutes(quick_context, monkeypatch):
    from validation import markov_critical_claims as MCL

    def fake(p, q, **kwargs):
        return {"certified": False, "tubes": 0, "tube_w_range": None, "failed_tubes": [[0, 1]],
                "excluded_boxes": 0, "covered_boxes": 0, "uncovered_count": 3,
                "curve_hessian": {"tubes_positive_definite_normal": 0}, "seconds": 0.0}

    monkeypatch.setattr(MC, "certify_critical_set", fake)
    out = MCL._critical_set(quick_context)
    assert out.verdict == "refuted" and out.method == NC.CERTIFIED_METHOD


def test_markov_uncertified_fallback(quick_context, monkeypatch):
    from validation import markov_critical_claims as MCL

    monkeypatch.setattr(NC, "certification_available", lambda: False)
    out = MCL._unigram_hessian(quick_context)
    assert out.verdict == "confirmed" and out.method == NC.UNCERTIFIED_METHOD
    out = MCL._critical_set(quick_context)
    assert out.verdict == "confirmed" and out.method == NC.UNCERTIFIED_METHOD



def test_lsa_certified_path(quick_context):
    from validation import lsa_realizability_claims as L

    out = L._thm33_certified(quick_context)
    assert out.verdict == "confirmed" and out.method == NC.CERTIFIED_POINT_METHOD
    assert out.measured["failed"] == []


def test_lsa_failed_certificate_refutes(quick_context, monkeypatch):
    from validation import lsa_realizability_claims as L

    real = LC.certify_theorem33
    monkeypatch.setattr(LC, "certify_theorem33",
                        lambda p, n: {**real(p, n), "certified": p != HALF})
    out = L._thm33_certified(quick_context)
    assert out.verdict == "refuted" and out.method == NC.CERTIFIED_POINT_METHOD


def test_lsa_uncertified_fallback(quick_context, monkeypatch):
    from validation import lsa_realizability_claims as L

    monkeypatch.setattr(NC, "certification_available", lambda: False)
    out = L._thm33_certified(quick_context)
    assert out.verdict == "confirmed" and out.method == NC.UNCERTIFIED_METHOD
