"""The paper registry: every claim, command and check is found through its explicit lists, every
paper has one spelling, and every module of a paper sits in that paper's folder."""

import ast
import json
import re
from pathlib import Path

import pytest

from validation.ledger.checks import load_checks
from validation.ledger.claims import citation, load_claims
from validation.papers import PAPERS, TOPIC_KEYS, TOPICS

ROOT = Path(__file__).resolve().parents[2]


def test_registry_lists_every_claim_module_and_nothing_else():
    """The claim modules on disk are exactly those the registry lists (a new file must be
    registered, a registered file must exist)."""
    on_disk = {".".join(p.relative_to(ROOT).with_suffix("").parts)
               for p in ROOT.glob("validation/*/claims/*.py") if p.name != "__init__.py"}
    listed = {m for t in TOPICS.values() for m in t.claim_modules}
    assert on_disk == listed


def test_every_claim_names_a_registered_paper_of_its_topic():
    claims = load_claims()
    assert len(claims) >= 77 and {c.topic for c in claims} == set(TOPIC_KEYS)
    for c in claims:
        assert c.paper in TOPICS[c.topic].papers, c.id
        assert citation(c) == PAPERS[c.paper].citation


def test_one_spelling_per_paper():
    citations = [p.citation for p in PAPERS.values()]
    assert len(set(citations)) == len(citations)
    for p in PAPERS.values():
        assert re.fullmatch(r"\d{4}\.\d{5}", p.arxiv or "0000.00000"), p.key
        assert str(p.year) in p.label and p.key.split("-")[0] in TOPICS


def test_checks_and_commands_come_from_the_registry():
    checks = load_checks()
    assert {"markov.unigram_local_min", "lsa.theorem33_realizable"} <= set(checks)
    for check in checks.values():
        assert check.paper in TOPICS[check.topic].papers
    from validation.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(TOPIC_KEYS) <= set(sub.choices)
    for key in TOPIC_KEYS:  # help text from the registry
        assert TOPICS[key].paper_list[0].label in sub.choices[key].description


def test_same_folder_names_in_every_layer():
    for key in TOPIC_KEYS:
        assert (ROOT / "theory" / f"{key}.py").is_file()
        for layer in ("numerics", "validation", "tests/numerics", "tests/validation",
                      "benchmarks"):
            assert (ROOT / layer / key).is_dir(), f"{layer}/{key}"
        for concept in ("cli.py", "plots.py", "models.py", "training.py", "claims"):
            assert (ROOT / "validation" / key / concept).exists(), f"validation/{key}/{concept}"


def test_no_module_imports_a_private_name_of_another():
    offenders = []
    for path in list(ROOT.glob("theory/**/*.py")) + list(ROOT.glob("numerics/**/*.py")) \
            + list(ROOT.glob("validation/**/*.py")) + list(ROOT.glob("benchmarks/**/*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
                if node.module.split(".")[0] in ("theory", "numerics", "validation", "benchmarks"):
                    offenders += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}"
                                  for a in node.names if a.name.startswith("_")]
    assert not offenders, offenders


def test_no_module_alias_for_project_modules():
    """Modules are imported by name: an alias only adds a prefix to the module's own name (two
    leaves that collide, e.g. lsa_certified), and means the same module in every file."""
    seen = {}
    for path in ROOT.rglob("*.py"):
        if ".git" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.split(".")[0] in ("theory", "numerics", "validation"):
                for a in node.names:
                    if a.asname and (ROOT / node.module.replace(".", "/") / f"{a.name}.py").exists():
                        target = f"{node.module}.{a.name}"
                        assert a.name in a.asname, f"{path}: {target} as {a.asname}"
                        assert seen.setdefault(a.asname, target) == target, a.asname


@pytest.mark.parametrize("key", TOPIC_KEYS)
def test_results_paper_field_is_the_registry_spelling(tmp_path, key):
    """A resumed record written with an older spelling is reported with the registry's."""
    from validation.ledger.reproduce import reproduce

    claim = next(c for c in load_claims((key,)) if c.id.endswith(("levels", "identity",
                                                                    "anchor", "mle_anchor")))
    reproduce(tmp_path, topics=(key,), claim_ids=[claim.id])
    path = tmp_path / "claims" / f"{claim.id}.json"
    old = json.loads(path.read_text())
    old["paper"] = "an older spelling"
    path.write_text(json.dumps(old))
    records = reproduce(tmp_path, topics=(key,), claim_ids=[claim.id]).records
    assert records[0]["resumed"] and records[0]["paper"] == citation(claim)
