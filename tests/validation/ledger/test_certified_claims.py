"""The claims with a certified path: certified with python-flint, refuted when a certificate
fails, and the uncertified floating-point path when python-flint is absent (patched away)."""

import dataclasses

import pytest
import sympy as sp

pytest.importorskip("flint")

from numerics.shared import certify  # noqa: E402
from numerics.lsa import certified as lsa_certified  # noqa: E402
from numerics.markov import certified as markov_certified  # noqa: E402
from validation.ledger.claims import CheckContext  # noqa: E402

HALF = sp.Rational(1, 2)


@pytest.fixture
def quick_context(tmp_path):
    return CheckContext("quick", 0, tmp_path)



def test_markov_certified_path(quick_context):
    from validation.markov.claims import critical as markov_critical_claims

    out = markov_critical_claims._unigram_hessian(quick_context)
    assert out.verdict == "confirmed" and out.method == certify.CERTIFIED_METHOD


def test_markov_failed_certificate_refutes(quick_context, monkeypatch):
    from validation.markov.claims import critical as markov_critical_claims

    def fake(p, q, **kwargs):  # a certificate that failed: one tube, three boxes left
        return markov_certified.CriticalSetCertificate(
            p=p, q=q, box={}, certified=False, tubes=0, tube_w_range=None, failed_tubes=[[0, 1]],
            excluded_boxes=0, covered_boxes=0, uncovered_count=3, uncovered=[],
            unigram_bias=[0.0, 0.0], unigram_bias_inside=True,
            curve_hessian=markov_certified.CurveHessianCertificate(0, [], ""), seconds=0.0,
            prec_bits=53)

    monkeypatch.setattr(markov_certified, "certify_critical_set", fake)
    out = markov_critical_claims._critical_set(quick_context)
    assert out.verdict == "refuted" and out.method == certify.CERTIFIED_METHOD


def test_markov_uncertified_fallback(quick_context, monkeypatch):
    from validation.markov.claims import critical as markov_critical_claims

    monkeypatch.setattr(certify, "certification_available", lambda: False)
    out = markov_critical_claims._unigram_hessian(quick_context)
    assert out.verdict == "confirmed" and out.method == certify.UNCERTIFIED_METHOD
    out = markov_critical_claims._critical_set(quick_context)
    assert out.verdict == "confirmed" and out.method == certify.UNCERTIFIED_METHOD



def test_lsa_certified_path(quick_context):
    from validation.lsa.claims import realizability as lsa_realizability_claims

    out = lsa_realizability_claims._thm33_certified(quick_context)
    assert out.verdict == "confirmed" and out.method == certify.CERTIFIED_POINT_METHOD
    assert out.measured["failed"] == []


def test_lsa_failed_certificate_refutes(quick_context, monkeypatch):
    from validation.lsa.claims import realizability as lsa_realizability_claims

    real = lsa_certified.certify_theorem33
    monkeypatch.setattr(lsa_certified, "certify_theorem33",
                        lambda p, n: dataclasses.replace(real(p, n), certified=p != HALF))
    out = lsa_realizability_claims._thm33_certified(quick_context)
    assert out.verdict == "refuted" and out.method == certify.CERTIFIED_POINT_METHOD


def test_lsa_uncertified_fallback(quick_context, monkeypatch):
    from validation.lsa.claims import realizability as lsa_realizability_claims

    monkeypatch.setattr(certify, "certification_available", lambda: False)
    out = lsa_realizability_claims._thm33_certified(quick_context)
    assert out.verdict == "confirmed" and out.method == certify.UNCERTIFIED_METHOD
