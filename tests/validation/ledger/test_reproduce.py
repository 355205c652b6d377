"""The claims ledger and `ttc reproduce`: verdicts, errors as results, atomic outputs, resume."""

import json
from pathlib import Path

import pytest

from validation.ledger import claims
from theory.errors import InputError
from validation.ledger.claims import Outcome, compare, decide
from validation.cli import main
from validation.ledger.reproduce import reproduce, run_claim


def test_compare_and_decide():
    assert compare(1.0, 1.0 + 1e-9, 1e-8).verdict == "confirmed"
    assert compare(1.0, 1.1, 1e-8).verdict == "refuted"
    assert compare(1.0, float("nan"), 1.0).verdict == "refuted"  # NaN never confirms
    assert decide(False, 0, 1, 0).verdict == "refuted"
    with pytest.raises(ValueError):
        Outcome(0, 0, 0, "maybe")


def test_duplicate_claim_id_is_refused():
    @claims.claim("markov.unique_once", paper="markov-p1", reference="y", statement="z")
    def _check(ctx):
        return decide(True, 0, 0, 0)

    with pytest.raises(ValueError, match="registered twice"):
        claims.claim("markov.unique_once", paper="markov-p1", reference="y", statement="z")(_check)
    claims._REGISTRY.pop("markov.unique_once")


@pytest.mark.parametrize("claim_id, paper", [("markov.x", "Makkuva et al."),  # not a key
                                             ("markov.x", "lsa-ding"),        # another topic's
                                             ("test.x", "markov-p1")])        # unknown topic
def test_claim_paper_must_be_registered_for_its_topic(claim_id, paper):
    with pytest.raises(ValueError, match="is not a paper of topic"):
        claims.claim(claim_id, paper=paper, reference="y", statement="z")


def test_failing_check_becomes_error_verdict(tmp_path):
    def boom(ctx):
        raise RuntimeError("solver exploded")

    bad = claims.Claim("markov.boom", "markov", "markov-p1", "ref", "statement", boom)
    record = run_claim(bad, "quick", 0, tmp_path)
    assert record["verdict"] == "error" and "solver exploded" in record["note"]
    assert record["as_expected"] is False


def test_claim_seeds_are_stable_and_distinct():
    a = claims.Claim("a.x", "a", "", "", "", lambda c: None)
    b = claims.Claim("a.y", "a", "", "", "", lambda c: None)
    assert a.seed_for(0) == a.seed_for(0) != b.seed_for(0)


def test_reproduce_writes_outputs_and_resumes(tmp_path):
    ids = ["markov.levels", "markov.degenerate"]
    run = reproduce(tmp_path, topics=("markov",), claim_ids=ids)
    assert run.all_as_expected and [r["id"] for r in run.records] == ids and not run.unexpected
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["summary"]["claims"] == 2 and results["provenance"]["packages"]["numpy"]
    html = (tmp_path / "index.html").read_text()
    assert "markov.levels" in html and "<table>" in html
    assert not any(p.name.endswith(".tmp") for p in tmp_path.rglob("*"))
    again = reproduce(tmp_path, topics=("markov",), claim_ids=ids)
    assert again.all_as_expected and all(r.get("resumed") for r in again.records)
    # another seed does not reuse the records
    with pytest.raises(InputError, match="another run"):  # a folder never mixes two runs
        reproduce(tmp_path, topics=("markov",), claim_ids=ids, seed=5)
    other = reproduce(tmp_path, topics=("markov",), claim_ids=ids, seed=5, overwrite=True)
    assert not any(r.get("resumed") for r in other.records)
    assert json.loads((tmp_path / "results.json").read_text())["seed"] == 5


def test_reproduce_refuses_a_file_as_folder(tmp_path, capsys):
    (tmp_path / "f").write_text("")
    assert main(["reproduce", "--out", str(tmp_path / "f"), "--claim", "markov.levels"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--out" in err and "folder" in err and len(err.splitlines()) == 1


def test_report_embeds_figures(tmp_path):
    run = reproduce(tmp_path, topics=("markov",), claim_ids=["markov.basins"])
    assert run.all_as_expected and run.records[0]["figures"] == ["markov_landscape.png"]
    assert "data:image/png;base64," in (tmp_path / "index.html").read_text()


def test_reproduce_cli_bad_claim_id(capsys, tmp_path):
    code = main(["reproduce", "--out", str(tmp_path), "--claim", "markov.nope"])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: claim='markov.nope'")


def test_parallel_run_equals_sequential_run(tmp_path):
    ids = ["markov.levels", "markov.global_curve"]
    sequential = reproduce(tmp_path / "one", topics=("markov",), claim_ids=ids, jobs=1).records
    parallel = reproduce(tmp_path / "two", topics=("markov",), claim_ids=ids, jobs=2)
    assert parallel.all_as_expected and [r["id"] for r in parallel.records] == ids
    assert [r["measured"] for r in parallel.records] == [r["measured"] for r in sequential]


def test_report_lists_findings_and_decision_paths():
    from validation.ledger.report import render

    base = {"topic": "markov", "paper": "P", "reference": "R", "predicted": 1, "measured": 2,
            "tolerance": 0, "note": "", "figures": [], "seconds": 0.1}
    records = [
        {**base, "id": "markov.a", "statement": "holds", "verdict": "confirmed",
         "expected": "confirmed", "as_expected": True, "method": "certified (arb)"},
        {**base, "id": "markov.b", "statement": "needs a condition", "verdict": "refuted",
         "expected": "refuted", "as_expected": True, "method": ""},
        {**base, "id": "markov.c", "statement": "surprise", "verdict": "confirmed",
         "expected": "refuted", "as_expected": False},
    ]
    meta = {"profile": "quick", "seed": 0, "provenance": {}}
    summary = {"claims": 3, "as_expected": 2, "by_verdict": {"confirmed": 2, "refuted": 1, "error": 0}}
    page = render(meta, summary, records, Path("/nonexistent"))
    findings = page[page.index("Findings"):page.index("<h2 id='markov'>")]
    assert "markov.b" in findings and "markov.c" in findings and "markov.a" not in findings
    assert "NOT as expected" in findings  # markov.c was expected refuted but came out confirmed
    assert "decided by: certified (arb)" in page and page.count("decided by:") == 1


def test_two_runs_with_one_seed_are_identical_outside_seconds_and_timings(tmp_path):
    """Claims that time something keep the times in `timings`: the records of two runs agree in
    every other field (the claims chosen all measure a wall or CPU time)."""
    ids = ["lsa.quadrature", "lsa.thm35_recovery", "potts.r1_solver"]
    runs = [reproduce(tmp_path / name, topics=("lsa", "potts"), claim_ids=ids, jobs=1).records
            for name in ("one", "two")]
    strip = lambda records: [{k: v for k, v in r.items() if k not in ("seconds", "timings")}
                             for r in records]
    assert strip(runs[0]) == strip(runs[1])
    assert all(r["timings"] for r in runs[0]), [r["id"] for r in runs[0] if not r["timings"]]
