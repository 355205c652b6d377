"""`ttc check`: the named conjectures, the JSON contract, errors, and the Dask executor."""

import json
from fractions import Fraction

import pytest

from numerics.shared.conjecture import Budget
from theory.errors import InputError
from validation.ledger.checks import parse_param, run_check
from validation.cli import main
from validation.lsa.checks import realizability_margin_exact

SMALL = Budget(grid=5, random=8, hypothesis=20, local_searches=1, local_evaluations=20,
               shrink=20, batch=4)


def test_check_json_contract_and_counterexample(run_json, tmp_path):
    out = run_json("check", "lsa.theorem33_realizable", "--executor", "serial",
                   "--out", str(tmp_path / "c"))
    assert {"holds", "counterexample", "points", "worst_margin"} <= set(out)
    assert out["holds"] is False and out["points"] > 100
    # independent reference: Theorem 3.3's parameters exist iff n >= the smallest realisable n,
    # computed by theory.lsa with exact rationals; the counterexample must need more than n
    from theory.lsa import smallest_realizable_n

    p, n = Fraction(out["counterexample"]["p"]), out["counterexample"]["n"]
    assert smallest_realizable_n(p, n_max=100).n_min > n >= 10
    assert out["counterexample"] == {"p": 0.99, "n": 10}  # shrunk to two decimals


def test_check_narrowed_box_holds_and_resumes(run_json, tmp_path):
    args = ("check", "lsa.theorem33_realizable", "--param", "n=13:40", "--param", "p=1/10:99/100",
            "--executor", "serial", "--out", str(tmp_path / "c"))
    first = run_json(*args)
    assert first["holds"] is True and first["counterexample"] is None
    assert first["parameters"] == {"p": [0.1, 0.99, "real"], "n": [13, 40, "int"]}
    assert 0 < first["worst_margin"] < 1e-2  # closest to failing near p = 0.99, n = 13
    again = run_json(*args)  # resumed from the stored tasks: the same answer
    for out in (first, again):
        del out["seconds"], out["executor_reason"]
    assert again == first


def test_check_without_name_lists_checks(run_json):
    listing = run_json("check")
    assert "lsa.theorem33_realizable" in listing
    assert listing["lsa.theorem33_realizable"]["domains"]["p"] == "a real number in (0, 1)"
    assert listing["markov.unigram_local_min"]["domains"]["S"].startswith("an integer in [2, 100]")


def test_listing_and_unknown_names_import_no_model():
    # listing the checks must not import torch or the S-state model (seconds of start-up); the
    # margins import them when they are first evaluated
    import subprocess
    import sys

    code = ("import sys; from validation.cli import main; main(['check', '--json']); "
            "code = main(['check', 'lsa.nope']); "
            "heavy = [m for m in ('torch', 'validation.markov.states', 'sympy') "
            "if m in sys.modules]; "
            "print(code, heavy, file=sys.stderr)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.stderr.strip().splitlines()[-1] == "2 []", run.stderr[-2000:]


def test_grid_tries_every_integer_of_the_range(run_json, tmp_path):
    # the README's n = 13:200 example: 188 integers fit the quick budget (256 per axis), so the
    # grid is 9 values of p times every n; before, it was 9 x 9 = 81 points
    out = run_json("check", "lsa.theorem33_realizable", "--param", "n=13:200",
                   "--executor", "serial", "--out", str(tmp_path / "c"))
    assert out["holds"] is True
    assert out["grid_sizes"] == {"p": 9, "n": 188} and out["phases"]["grid"] == 9 * 188
    assert out["points"] == sum(out["phases"].values())
    assert out["margin_type"] == "exact" and out["atol"] == 0.0 and "exact" in out["tolerance"]


@pytest.mark.parametrize("argv, fragment", [
    (["check", "lsa.nope"], "NAME"),
    (["check", "nope"], "NAME"),
    (["check", "lsa.theorem33_realizable", "--param", "q=1:2"], "--param"),
    (["check", "lsa.theorem33_realizable", "--param", "p=abc"], "--param"),
    (["check", "lsa.theorem33_realizable", "--param", "n=3.5:9"], "integer"),
    (["check", "lsa.theorem33_realizable", "--param", "p=0.9:0.1"], "LOW <= HIGH"),
    # the domains: p in (0, 1) open at both ends, n >= 1
    (["check", "lsa.theorem33_realizable", "--param", "p=0:1"], "--param"),
    (["check", "lsa.theorem33_realizable", "--param", "p=0.5:1"], "(0, 1)"),
    (["check", "lsa.theorem33_realizable", "--param", "n=0:12"], "--param"),
    (["check", "markov.unigram_local_min", "--param", "S=1:3"], "--param"),
    (["check", "markov.unigram_local_min", "--param", "pos_scale=0"], "--param"),
    (["check", "lsa.theorem33_realizable", "--param", "p=1e99999999"], "--param"),
    (["check", "lsa.theorem33_realizable", "--atol", "-1e-3"], "--atol"),
    (["check", "lsa.theorem33_realizable", "--timeout", "0"], "--timeout"),
    (["check", "lsa.theorem33_realizable", "--executor", "gpu"], "executor"),
    (["check", "lsa.theorem33_realizable", "--seed", "-1"], "seed"),
])
def test_check_bad_input_is_one_error_line(argv, fragment, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path / "x")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("error: ") and fragment in err


def test_parse_param():
    p = parse_param("p=1/4:0.5")
    assert (p.name, p.low, p.high) == ("p", 0.25, 0.5)
    s = parse_param(" S = 3")
    assert (s.name, s.low, s.high) == ("S", 3.0, 3.0)
    assert repr(s) == "ParamRange(name='S', low=3.0, high=3.0)"


def test_realizability_terms_are_the_sympy_polynomial():
    # the margin's table of terms against the derivation (theory.lsa, sympy), and values at a
    # few rationals against sympy's substitution
    import sympy as sp

    from theory import lsa
    from validation.lsa.checks import REALIZABILITY_TERMS

    poly = sp.Poly(lsa.theorem33_realizability_polynomial(), lsa.p, lsa.n)
    assert sorted((i, j, int(c)) for (i, j), c in poly.terms()) == sorted(REALIZABILITY_TERMS)
    for p, n in ((Fraction(1, 3), 7), (Fraction(99, 100), 10), (Fraction(0.123456), 55)):
        exact = poly.as_expr().subs({lsa.p: sp.Rational(p.numerator, p.denominator), lsa.n: n})
        assert realizability_margin_exact(p, n).value == Fraction(int(exact.p), int(exact.q))


def test_named_check_domains_are_declared_and_hold_the_default_box():
    from theory.domains import PROBABILITY, integer
    from validation.ledger.checks import named_check

    with pytest.raises(ValueError, match="domains"):
        named_check("lsa.bad_domain", paper="lsa-ding", reference="", statement="",
                    parameters={"p": (0.1, 0.9)}, domains={})
    with pytest.raises(InputError, match="both ends of p"):
        named_check("lsa.bad_domain", paper="lsa-ding", reference="", statement="",
                    parameters={"p": (0.0, 0.9)}, domains={"p": PROBABILITY})
    with pytest.raises(ValueError, match="integer"):
        named_check("lsa.bad_domain", paper="lsa-ding", reference="", statement="",
                    parameters={"p": (0.1, 0.9)}, domains={"p": integer(0, 1)})
    from validation.ledger.checks import get_check

    assert repr(get_check("lsa.theorem33_realizable")).endswith(
        "domains={'p': 'a real number in (0, 1)', 'n': 'an integer in [1, 1000000]'})")


def test_realizability_margin_sign_is_exact():
    # smallest realisable n at p = 1/2 is 6 (theory.lsa, exact): R(1/2, 5) < 0 <= R(1/2, 6)
    assert realizability_margin_exact(Fraction(1, 2), 5).value < 0
    assert realizability_margin_exact(Fraction(1, 2), 6).value >= 0


@pytest.fixture(scope="module")
def dask_address():
    """A real Dask cluster (scheduler and two worker processes) on the loopback interface."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        yield cluster.scheduler_address.replace("tcp://", "dask://")


def test_dask_cluster_equals_local_pool_bit_for_bit(tmp_path, dask_address):
    on_dask = run_check("lsa.theorem33_realizable", seed=7, budget=SMALL,
                        executor=dask_address, store=tmp_path / "dask")
    on_pool = run_check("lsa.theorem33_realizable", seed=7, budget=SMALL,
                        executor="local:2", store=tmp_path / "pool")
    assert on_dask.points > 40
    assert json.dumps(on_dask.answer()) == json.dumps(on_pool.answer())
    stored = sorted(p.name for p in (tmp_path / "dask" / "tasks").iterdir())
    assert stored == sorted(p.name for p in (tmp_path / "pool" / "tasks").iterdir())


def test_sharp_realizability_bound_is_13():
    from validation.lsa.claims.realizability import no_root_on_unit_interval, smallest_n

    # by hand: R(0, 12) = 16*144 - 38*12 - 185 > 0 and R(1, 12) = 9(144 - 144 - 12) < 0, so
    # R(., 12) changes sign on [0, 1]; R(1, 13) = 9(169 - 156 - 12) = 9 > 0
    assert not no_root_on_unit_interval(12) and no_root_on_unit_interval(13)
    assert smallest_n(Fraction(99, 100)) == 13 and smallest_n(Fraction(1, 2)) == 6


def test_reproduce_on_dask_equals_local(tmp_path, dask_address):
    from validation.ledger.reproduce import reproduce

    ids = ["lsa.identity", "lsa.thm33_anchor"]
    run = reproduce(tmp_path / "dask", topics=("lsa",), claim_ids=ids, executor=dask_address)
    on_dask = run.records
    local = reproduce(tmp_path / "local", topics=("lsa",), claim_ids=ids, jobs=1).records
    assert run.all_as_expected and [r["id"] for r in on_dask] == ids
    strip = lambda records: [{k: v for k, v in r.items() if k not in ("seconds", "provenance")}
                             for r in records]
    assert json.dumps(strip(on_dask)) == json.dumps(strip(local))
