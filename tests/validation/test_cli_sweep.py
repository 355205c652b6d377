"""Sweeps, CSV output, the parameter echo and option consistency of the `ttc` command line
(:mod:`validation.cli`; issue 13)."""

import argparse
import csv
import io
import json
import subprocess
import sys

import pytest

from validation import cli
from validation.cli import build_parser, example_text, leaf_commands, main, parameters_used


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _error(capsys, *argv) -> str:
    code, out, err = _run(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error:"), (code, err)
    return lines[0]


# ------------------------------------------------------------------------------------ sweeps

def test_integer_range_is_one_json_object_equal_to_the_single_runs(run_json):
    swept = run_json("markov", "summary", "--p", "0.2", "--states", "3:6")
    assert swept["parameter"] == "--states" and swept["values"] == [3, 4, 5, 6]
    assert [point["states"] for point in swept["sweep"]] == [3, 4, 5, 6]
    for point in swept["sweep"]:  # each point is the command's own output for that value
        single = run_json("markov", "summary", "--p", "0.2", "--states", str(point["states"]))
        assert {k: v for k, v in point.items() if k != "states"} == single


def test_real_range_has_count_evenly_spaced_points_ends_included(run_json):
    swept = run_json("markov", "critical", "--p", "0.1:0.5:5", "--q", "0.3")
    assert swept["values"] == [0.1, 0.2, 0.3, 0.4, 0.5]  # written out: k/10, correctly rounded
    assert [p["parameters"]["p"] for p in swept["sweep"]] == swept["values"]


def test_list_of_exact_rationals_echoes_them_exactly(run_json):
    swept = run_json("lsa", "optimum", "--d", "1", "--p", "1/3,1/2", "--n", "4")
    assert swept["values"] == ["1/3", "1/2"]
    assert [p["parameters"]["p"] for p in swept["sweep"]] == ["1/3", "1/2"]
    assert [p["p"] for p in swept["sweep"]] == ["1/3", "1/2"]


def test_seeds_sweep(run_json):
    swept = run_json("markov", "train", "--p", "0.2", "--q", "0.3", "--steps", "3", "--seed", "0,1")
    losses = [p["final_loss"] for p in swept["sweep"]]
    assert len(losses) == 2 and losses[0] != losses[1]


@pytest.mark.parametrize("argv, named", [
    (["markov", "summary", "--p", "0.1,2", "--q", "0.3"], "'2'"),                 # element
    (["markov", "summary", "--p", "0.1:1:3", "--q", "0.3"], "HIGH '1'"),          # open end
    (["markov", "summary", "--p", "0.1:0.5", "--q", "0.3"], "LOW:HIGH:COUNT"),    # no COUNT
    (["markov", "summary", "--p", "0.5:0.1:3", "--q", "0.3"], "LOW < HIGH"),
    (["markov", "summary", "--p", "0.1:0.5:1", "--q", "0.3"], "COUNT"),
    (["markov", "summary", "--p", "0.2", "--states", "3:5:2"], "LOW:HIGH (every integer)"),
    (["markov", "summary", "--p", "0.2", "--states", "3,4:5"], "one value or one sweep"),
    (["markov", "summary", "--p", "0.2", "--states", "2:100000"], "at most 10000 points"),
    (["markov", "summary", "--p", "0.2", "--states", "3,"], "''"),
])
def test_bad_sweeps_exit_2_naming_the_option(capsys, argv, named):
    line = _error(capsys, *argv)
    flag = argv[argv.index(next(a for a in argv if ":" in a or "," in a)) - 1]
    assert f"argument {flag}" in line and named in line, line


def test_two_swept_options_are_refused(capsys):
    line = _error(capsys, "markov", "summary", "--p", "0.1,0.2", "--q", "0.3,0.4")
    assert "--q" in line and "only one option sweeps" in line


def test_too_large_sweep_is_refused_before_any_work(capsys):
    import time

    start = time.perf_counter()
    _error(capsys, "markov", "train", "--p", "0.2", "--q", "0.3", "--seed", f"0:{10**18}")
    assert time.perf_counter() - start < 5  # refused when read, nothing enumerated


@pytest.mark.parametrize("argv", [
    ["reproduce", "--seed", "0:3"],
    ["check", "markov.unigram_local_min", "--seed", "0,1"],
    ["bayesnet", "sample", "--network", "NET", "--n", "1:3", "--out", "OUT"],  # writes files
])
def test_commands_that_do_not_sweep_refuse_the_syntax(capsys, tmp_path, argv):
    net = tmp_path / "net.json"
    net.write_text(json.dumps({"variables": [{"name": "A", "card": 2, "parents": [],
                                               "cpt": [[0.5, 0.5]]}]}))
    argv = [str(net) if a == "NET" else str(tmp_path / "s.csv") if a == "OUT" else a for a in argv]
    line = _error(capsys, *argv)
    assert "a single value: this command does not sweep" in line
    assert not (tmp_path / "s.csv").exists()


def test_a_failing_point_stops_the_sweep_naming_the_point(capsys):
    line = _error(capsys, "lsa", "correlated", "--p", "1/2", "--n", "1:3", "--c1", "1", "--c2", "0")
    assert "--c1" in line and "at sweep point --n=1" in line


def test_sweep_without_json_is_a_table(capsys):
    code, out, err = _run(capsys, "markov", "summary", "--p", "0.1,0.2,0.3", "--q", "0.3")
    lines = out.strip().splitlines()
    assert code == 0 and err == "" and len(lines) == 4
    assert lines[0].split()[:2] == ["p", "q"] and lines[3].split()[:2] == ["0.3", "0.3"]


def test_progress_bar_only_on_a_terminal(capsys, monkeypatch):
    _run(capsys, "markov", "summary", "--p", "0.1,0.2", "--q", "0.3", "--json")
    assert capsys.readouterr().err == ""  # not a terminal: nothing on stderr

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    fake = Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    assert main(["markov", "summary", "--p", "0.1,0.2", "--q", "0.3", "--json"]) == 0
    assert "2/2" in fake.getvalue()
    assert len(capsys.readouterr().out.strip().splitlines()) == 1


# ------------------------------------------------------------------------------------ CSV

def test_csv_has_one_row_per_point(capsys, tmp_path):
    path = tmp_path / "sweep.csv"
    code, out, _ = _run(capsys, "markov", "summary", "--p", "0.2", "--states", "3:5", "--csv",
                        str(path), "--json")
    rows = list(csv.DictReader(path.open()))
    assert code == 0 and [r["states"] for r in rows] == ["3", "4", "5"]
    assert [float(r["entropy_rate"]) for r in rows] == [p["entropy_rate"]
                                                       for p in json.loads(out)["sweep"]]
    assert "pi" not in rows[0] and rows[0]["parameters.p"] == "0.2"  # lists are left out


def test_csv_of_a_single_run_is_one_row(capsys, tmp_path):
    path = tmp_path / "one.csv"
    assert _run(capsys, "markov", "summary", "--p", "0.2", "--q", "0.3", "--csv", str(path))[0] == 0
    assert len(list(csv.DictReader(path.open()))) == 1


def test_csv_cells_cannot_be_formulas(tmp_path):
    path = tmp_path / "x.csv"
    cli.write_csv(path, {"sweep": [{"name": "=HYPERLINK(1)", "x": -1.5, "y": "+1", "z": "@a",
                                    "w": "-x", "ok": "a=b"}]})
    header, row = list(csv.reader(path.open()))
    assert dict(zip(header, row)) == {"name": "'=HYPERLINK(1)", "x": "-1.5", "y": "'+1",
                                      "z": "'@a", "w": "'-x", "ok": "a=b"}


def test_csv_path_is_checked_when_read(capsys, tmp_path):
    line = _error(capsys, "markov", "summary", "--p", "0.2", "--q", "0.3", "--csv",
                  str(tmp_path / "x.txt"))
    assert "--csv" in line


# ------------------------------------------------------------------ repeated options, modes

def test_repeated_claim_and_only_accumulate(monkeypatch, capsys):
    args = build_parser([]).parse_args(["reproduce", "--claim", "A", "--claim", "B", "C",
                                        "--only", "markov", "--only", "lsa"])
    assert args.claim == ["A", "B", "C"] and args.only == ["markov", "lsa"]
    import validation.ledger.reproduce as reproduce

    seen = {}

    def fake(out, **kwargs):
        seen.update(kwargs)
        return reproduce.Reproduction([], True, out)

    monkeypatch.setattr(reproduce, "reproduce", fake)
    assert main(["reproduce", "--claim", "A", "--claim", "B", "--only", "markov"]) == 0
    assert seen["claim_ids"] == ["A", "B"] and seen["topics"] == ["markov"]


def test_jobs_with_an_executor_is_an_error(capsys, tmp_path):
    line = _error(capsys, "reproduce", "--out", str(tmp_path / "o"), "--jobs", "2", "--executor",
                  "serial", "--claim", "no-such-claim")
    assert line.startswith("error: --jobs=2") and not (tmp_path / "o").exists()


@pytest.mark.parametrize("argv, flag", [
    (["markov", "summary", "--p", "0.2", "--q", "0.3", "--states", "3"], "--q"),
    (["markov", "train", "--p", "0.2", "--q", "0.3", "--d", "4"], "--d"),
    (["potts", "replica", "--scenario", "logistic", "--alpha", "1", "--lam", "0.1", "--delta",
      "0.5"], "--delta"),
    (["potts", "replica", "--scenario", "ridge", "--alpha", "1", "--lam", "0.1", "--quadrature",
      "21"], "--quadrature"),
    (["bayesnet", "construct", "--graph", "chain", "--network", "NET", "--n", "3", "--beta", "1"],
     "--graph"),
    (["bayesnet", "mle", "--network", "NET", "--context", "CTX", "--target", "A", "--ess", "2"],
     "--ess"),
])
def test_an_option_that_does_not_apply_is_an_error(capsys, tmp_path, argv, flag):
    net, ctx = tmp_path / "net.json", tmp_path / "ctx.csv"
    net.write_text(json.dumps({"variables": [{"name": "A", "card": 2, "parents": [],
                                               "cpt": [[0.5, 0.5]]}]}))
    ctx.write_text("A\n0\n1\n")
    argv = [str(net) if a == "NET" else str(ctx) if a == "CTX" else a for a in argv]
    assert _error(capsys, *argv).startswith(f"error: {flag}=")


def test_summary_of_the_s_state_chain_states_its_lambda_regime(run_json):
    # lambda = 1 - pS/(S-1): S = 3, p = 0.3 -> 0.55; p = 0.9 -> -0.35 (by hand)
    low = run_json("markov", "summary", "--p", "0.3", "--states", "3")
    high = run_json("markov", "summary", "--p", "0.9", "--states", "3")
    assert low["regime"] == "lambda>0" and abs(low["second_eigenvalue"] - 0.55) < 1e-15
    assert high["regime"] == "lambda<0" and abs(high["second_eigenvalue"] + 0.35) < 1e-15
    assert run_json("markov", "summary", "--p", "0.2", "--q", "0.3")["regime"] == "p+q<1"


# ------------------------------------------------------------------------- parameter echo

QUERIES = [(prefix, parser) for prefix, parser in leaf_commands(build_parser())
           if parser.get_default("ttc_parser") is parser]


def test_there_are_query_commands():
    assert len(QUERIES) >= 15, [" ".join(p) for p, _ in QUERIES]


@pytest.mark.parametrize("prefix, parser", QUERIES, ids=[" ".join(p) for p, _ in QUERIES])
def test_the_echo_holds_every_option_given(prefix, parser, tmp_path):
    """Generated from the parser: every option with a value given on the command line (its
    example) is echoed in ``parameters`` with the parsed value."""
    argv, given = list(prefix), {}
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "json", "csv"):
            continue
        if action.nargs == 0:  # flags
            argv.append(action.option_strings[0])
            given[action.dest] = action.const
            continue
        value = example_text(action, tmp_path)
        try:  # a type of its own (an axis range LOW:HIGH) may not read the domain's example
            if value is None or (action.type is not None and action.type(value) is None):
                continue
        except argparse.ArgumentTypeError:
            continue
        argv += [action.option_strings[0], value]
        given[action.dest] = value
    args = build_parser().parse_args(argv)
    echo = parameters_used(args)
    for dest in given:
        assert dest in echo, (dest, echo)
        assert echo[dest] == cli._plain(getattr(args, dest))


def test_replica_echoes_rho_delta_and_lambda_with_defaults(run_json):
    ridge = run_json("potts", "replica", "--scenario", "ridge", "--alpha", "0.5,1", "--lam", "0.01")
    assert ridge["parameters"] == {"scenario": "ridge", "alpha": [0.5, 1.0], "lam": 0.01,
                                   "rho": 1.0, "delta": 0.5}
    logistic = run_json("potts", "replica", "--scenario", "logistic", "--alpha", "1", "--lam",
                        "0.1", "--rho", "2", "--quadrature", "11")
    assert logistic["parameters"] == {"scenario": "logistic", "alpha": [1.0], "lam": 0.1,
                                      "rho": 2.0, "quadrature": 11}


def test_construct_echoes_the_default_graph(run_json):
    out = run_json("bayesnet", "construct", "--n", "2", "--beta", "3")
    assert out["parameters"] == {"graph": "general5", "n": 2, "beta": 3.0, "seed": 0,
                                 "backend": "numpy"}


# ------------------------------------------------------------------------------- start-up

def test_the_parser_imports_neither_sympy_nor_torch():
    code = ("import sys, validation.cli as c; c.build_parser(); "
            "print(sorted(m for m in ('sympy', 'torch', 'scipy', 'cvxpy', 'matplotlib') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("argv", [["--help"], ["markov", "--help"], ["lsa", "--help"],
                                  ["potts", "--help"], ["bayesnet", "--help"],
                                  ["markov", "summary", "--help"]])
def test_help_imports_neither_sympy_nor_torch(argv):
    code = ("import sys; from validation.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('modules', 'sympy' in sys.modules, 'torch' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True)
    assert "modules False False" in done.stderr, done.stderr[-500:]
    assert "usage:" in done.stdout


def test_top_level_help_lists_every_paper(capsys):
    code, out, _ = _run(capsys, "--help")
    assert code == 0
    for topic in ("markov", "lsa", "potts", "bayesnet", "reproduce", "check"):
        assert topic in out
