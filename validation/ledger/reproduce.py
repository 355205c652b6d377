"""``ttc reproduce``: run the claims ledger, write results and the HTML report, resume.

Layout of the output folder::

    DIR/index.html        self-contained report (figures embedded)
    DIR/results.json      one record per claim plus provenance
    DIR/figures/          the figures as PNG
    DIR/claims/<id>.json  one record per finished claim (what a resumed run reuses)

Every file is written atomically as soon as its claim finishes, so a stopped run loses at most
the claim that was running; running again with the same folder, profile and seed reuses the
finished records.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from numerics.shared.executor import parse_executor, run_tasks
import torch  # noqa: F401  (loaded before any claim, so that limit_threads sets its threads)

from numerics.shared.threads import limit_threads
from theory.results import result
from theory.errors import InputError, check_choice, check_int
from validation.ledger.claims import PROFILES, CheckContext, Claim, citation, load_claims
from validation.ledger.report import write_report
from validation.ledger.results import provenance, read_json, to_jsonable, write_json
from validation.papers import TOPIC_KEYS


@result
class Reproduction:
    """What ``ttc reproduce`` ran.

    Attributes
    ----------
    records : list of dict
        One record per claim, in ledger order, with the keys of ``results.json``'s ``claims``.
    all_as_expected : bool
        Every verdict is the one the ledger expects (the command's exit status 0).
    out_dir : Path
        The output folder (``index.html``, ``results.json``, ``figures/``, ``claims/``).
    """

    records: list
    all_as_expected: bool
    out_dir: Path

    @property
    def unexpected(self) -> list:
        """The records whose verdict is not the expected one."""
        return [r for r in self.records if not r["as_expected"]]


def _record(claim: Claim, profile: str, seed: int) -> dict:
    return {
        "id": claim.id, "topic": claim.topic, "paper": citation(claim), "reference": claim.reference,
        "statement": claim.statement, "expected": claim.expected, "profile": profile, "seed": seed,
    }


def run_claim(claim: Claim, profile: str, seed: int, figures_dir: Path) -> dict:
    """Run one claim's check; an exception becomes the verdict ``"error"`` with its traceback."""
    record = _record(claim, profile, seed)
    context = CheckContext(profile=profile, seed=claim.seed_for(seed), figures_dir=figures_dir)
    start = time.perf_counter()
    try:
        with limit_threads(1):  # every claim on one thread, wherever it runs: bit-identical
            outcome = claim.check(context)
        record.update(predicted=outcome.predicted, measured=outcome.measured,
                      tolerance=outcome.tolerance, verdict=outcome.verdict, note=outcome.note,
                      figures=list(outcome.figures), method=outcome.method,
                      timings=dict(outcome.timings))
    except Exception as exc:  # a failing check is a result to report, not a crash of the run
        record.update(predicted=None, measured=None, tolerance=None, verdict="error",
                      note=f"{type(exc).__name__}: {exc}", figures=[], method="", timings={},
                      traceback=traceback.format_exc())
    record["seconds"] = round(time.perf_counter() - start, 3)
    record["as_expected"] = record["verdict"] == claim.expected
    return to_jsonable(record)


def _run_in_worker(task: tuple) -> dict:
    claim_id, topic, profile, seed, figures_dir = task
    (claim,) = [c for c in load_claims((topic,)) if c.id == claim_id]
    return run_claim(claim, profile, seed, Path(figures_dir))


def _claim_folder(out: Path, profile: str, seed: int, overwrite: bool) -> None:
    """Refuse an output folder that holds another run (profile or seed), unless ``overwrite``;
    then the other run's claim records are removed."""
    if out.exists() and not out.is_dir():
        raise InputError("out", str(out), "a folder (this is a file)")
    previous = read_json(out / "results.json")
    if not isinstance(previous, dict):
        return
    theirs = (previous.get("profile"), previous.get("seed"))
    if theirs == (profile, seed):
        return
    if not overwrite:
        raise InputError("out", str(out), f"a folder without another run (it holds profile="
                         f"{theirs[0]}, seed={theirs[1]}); use --overwrite to replace it")
    for record in (out / "claims").glob("*.json"):
        record.unlink()


def _load_finished(path: Path, profile: str, seed: int) -> dict | None:
    import json

    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if record.get("profile") != profile or record.get("seed") != seed:
        return None
    if record.get("verdict") == "error":  # errors are retried
        return None
    return record


def _progress(total: int):
    if sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(total=total, unit="claim", file=sys.stderr)
    return None


def reproduce(out_dir: str | Path = "reproduce-out", profile: str = "quick",
              topics=TOPIC_KEYS, seed: int = 0, claim_ids=None,
              jobs: int = 1, executor: str | None = None,
              overwrite: bool = False) -> Reproduction:
    """Run every claim of ``topics`` on ``profile`` and write the outputs (module docstring).

    Parameters
    ----------
    out_dir : folder for ``index.html``, ``results.json``, ``figures/`` and ``claims/``.
    profile : ``"quick"`` or ``"full"``.
    topics : papers to run, any of :data:`validation.papers.TOPIC_KEYS`.
    seed : base seed; each claim derives its own from it and its id.
    claim_ids : optionally, only these claim ids.
    jobs : claims run at once, each in its own process (one thread each) when > 1; at most the
        number of cores.
    executor : where claims run instead (:mod:`numerics.shared.executor`), e.g. ``"dask://HOST:PORT"``;
        the workers must see ``out_dir`` (figures are written there). Default: ``local:jobs``.
    overwrite : replace a run with another profile or seed in ``out_dir`` (without it such a
        folder is refused: a resumed run never mixes two runs).

    Returns
    -------
    Reproduction
        The records (as in ``results.json``) and whether every verdict is the expected one.
    """
    check_choice("profile", profile, PROFILES)
    check_int("seed", seed, 0)
    check_int("jobs", jobs, 1)
    topics = tuple(topics)
    for topic in topics:
        check_choice("only", topic, TOPIC_KEYS)
    claims = [c for c in load_claims(topics) if profile in c.profiles]
    if claim_ids is not None:
        unknown = set(claim_ids) - {c.id for c in claims}
        if unknown:
            raise InputError("claim", sorted(unknown)[0], "a claim id of the ledger")
        claims = [c for c in claims if c.id in set(claim_ids)]
    cores = os.cpu_count() or 1  # more processes than cores only add start-up time
    spec = parse_executor(f"local:{min(jobs, cores)}" if executor is None else executor)
    out = Path(out_dir)
    figures_dir, claims_dir = out / "figures", out / "claims"
    _claim_folder(out, profile, seed, overwrite)
    claims_dir.mkdir(parents=True, exist_ok=True)
    meta = {"profile": profile, "seed": seed, "topics": list(topics), "provenance": provenance()}

    finished: dict[str, dict] = {}
    pending = []
    for claim in claims:
        record = _load_finished(claims_dir / f"{claim.id}.json", profile, seed)
        if record is None:
            pending.append(claim)
        else:  # the paper's spelling comes from the registry, also for records of older runs
            finished[claim.id] = {**record, "paper": citation(claim), "resumed": True}
    bar = _progress(len(claims))
    if bar is not None:
        bar.update(len(finished))

    def done(record: dict) -> None:
        write_json(claims_dir / f"{record['id']}.json", record)
        finished[record["id"]] = record
        _write_outputs(out, meta, [finished[c.id] for c in claims if c.id in finished])
        if bar is not None:
            bar.update()

    if spec.kind == "local" and (spec.workers == 1 or len(pending) <= 1):
        for claim in pending:
            if bar is not None:
                bar.set_description(claim.id)
            done(run_claim(claim, profile, seed, figures_dir))
    else:
        tasks = [(c.id, c.topic, profile, seed, str(figures_dir.resolve())) for c in pending]
        for _, record in run_tasks(_run_in_worker, tasks, spec):
            done(record)
    if bar is not None:
        bar.close()
    records = [finished[c.id] for c in claims]
    _write_outputs(out, meta, records)
    return Reproduction(records, all(r["as_expected"] for r in records), out)


def _write_outputs(out: Path, meta: dict, records: list[dict]) -> None:
    summary = {
        "claims": len(records),
        "as_expected": sum(r["as_expected"] for r in records),
        "by_verdict": {v: sum(r["verdict"] == v for r in records)
                       for v in ("confirmed", "refuted", "error")},
    }
    write_json(out / "results.json", {**meta, "summary": summary, "claims": records})
    write_report(out / "index.html", meta, summary, records, out / "figures")
