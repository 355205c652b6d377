"""EXACT COVER -> Problem C.10 (lsa.md Part 2 §F): the three checks agree."""

import numpy as np
import pytest

from numerics.lsa import reduction
from theory import lsa
from theory.errors import InputError


def test_spec_instances():
    # lsa.md Part 2 §F: d = 4, 2 covers, LM ~7e-32; no cover, basis {1}, LM 0.337
    r = reduction.reduction("1,2;3;2,3;1", starts=200, seed=0)
    assert r.d == 4 and sorted(r.covers) == [[1, 2], [3, 4]] and not r.groebner_infeasible
    assert r.best_local_residual < 1e-20 and r.local.decoded_is_cover
    r = reduction.reduction("1,2;2,3;1,3", starts=200, seed=0)
    assert r.d == 3 and r.covers == [] and r.groebner_infeasible
    assert r.best_local_residual == pytest.approx(0.337, abs=1e-3)


def test_brute_force_and_groebner_agree_on_random_instances():
    rng = np.random.default_rng(0)
    for _ in range(6):
        N = int(rng.integers(2, 5))
        sets = [set(rng.integers(1, 5, int(rng.integers(1, 3))).tolist()) for _ in range(N)]
        covers = reduction.exact_covers(sets)
        assert lsa.exact_cover_groebner(sets)[1] == (not covers)
        for x in covers:
            assert reduction.cover_residual(sets, x) == 0.0


def test_dimension_rule():
    assert lsa.exact_cover_dimension(4, 3) == 4       # 1 + 8 + 3 = 12 <= 15
    assert lsa.exact_cover_dimension(3, 3) == 3       # 1 + 6 + 3 = 10 <= 10
    assert lsa.exact_cover_dimension(1, 10) == 4      # 1 + 2 + 10 = 13 <= 15


@pytest.mark.parametrize("text", ["", " ", "1,,2", "1;;2", "a", "1;2;3;4;5;6;7;8;9", "0", "65",
                                  "1.5", "-1", "1," * 1500])
def test_parse_sets_refuses(text):
    with pytest.raises(InputError):
        reduction.parse_sets(text)


def test_parse_sets():
    assert reduction.parse_sets("1,2;3") == [frozenset({1, 2}), frozenset({3})]
