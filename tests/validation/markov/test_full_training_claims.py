"""The full-profile training claims K4 and R4 run end to end through the ensemble trainer
(validation.markov.training.train_ensemble) at tiny sizes: K4 through train_window, R4 through
its record callback (rank-one energies at steps 0, 100, ... and after the last step)."""

import json

import numpy as np
import pytest

from validation.ledger.claims import CheckContext
from validation.markov.claims import higher_order, reduction


def _measured(outcome):
    return json.loads(json.dumps(outcome.measured, default=float))


@pytest.mark.slow         # ~6 s unloaded (held-out 4096 x 3 seeds), 40 s under load 14
def test_r4_records_energies_through_the_ensemble_trainer(tmp_path, monkeypatch):
    monkeypatch.setattr(reduction, "R4_SEEDS", 3)
    monkeypatch.setattr(reduction, "R4_STEPS", 150)        # records at steps 0, 100 and 150
    outcome = reduction._r4(CheckContext("full", 0, tmp_path))
    measured = _measured(outcome)
    for name in ("W_V", "W_1", "positions"):
        start, end = measured["mean rho at step 0"][name], measured["mean rho at the end"][name]
        assert 0 < start <= 1 and 0 < end <= 1
        assert measured["share of seeds with final rho > 0.99"][name] in (0, 1 / 3, 2 / 3, 1)
    assert 0.5 < measured["mean final held-out loss"] < 0.75         # between H(P)-ish and H(pi)+
    assert (tmp_path / "markov_r4_low_rank.png").exists()


def test_k4_trains_every_window_through_train_window(tmp_path, monkeypatch):
    monkeypatch.setattr(higher_order, "K4_LAYERS", (1,))
    monkeypatch.setattr(higher_order, "K4_WINDOWS", (1, None))
    monkeypatch.setattr(higher_order, "K4_STEPS", 20)
    outcome = higher_order._k4(CheckContext("full", 0, tmp_path))
    measured = _measured(outcome)
    losses = measured["L=1"]
    assert set(losses) == {"1", "causal"}
    assert all(np.isfinite(v) and v > measured["L*_N"] - 0.01 for v in losses.values())
    assert (tmp_path / "markov_k4_window.png").exists()
