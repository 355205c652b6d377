"""The fuzz table: bad inputs generated from the declared parameters of every `ttc` command.

For every command, every option declared with a domain (:func:`validation.cli.add_argument`) or
with choices gets the bad values its declaration generates (malformed text, NaN, infinities,
overflow, values just past and far past each end, sweeps with such an element or malformed sweeps;
bad paths for path options), on top of a valid
base command line built from the declarations' examples. Each case must exit 2 with exactly one
`error:` line on standard error, nothing on standard output, within 10 s; the whole table runs in
a child interpreter capped at 2 GiB of address space. A new command joins
the table by declaring its parameters; a required option without a declaration fails
:func:`test_every_required_option_is_declared`."""

import signal
import time

from validation.cli import (MAX_SWEEP, SWEEP_KINDS, DomainType, ExecutorType, PathType, build_parser,
                            example_text, leaf_commands, main)

TIME_LIMIT = 10  # seconds per case


COMMANDS = leaf_commands(build_parser())


def _option_actions(parser):
    return [a for a in parser._actions if a.option_strings and a.dest != "help"]


def _base_argv(prefix, parser, tmp_path):
    argv = list(prefix)
    for action in _option_actions(parser):
        if action.required:
            value = example_text(action, tmp_path)
            if value is None:
                return None
            argv += [action.option_strings[0], value]
    return argv


def _bad_sweeps(kind):
    """Sweep texts (``validation.cli``: ``LOW:HIGH``, ``LOW:HIGH:COUNT``, ``a,b,c``) that hold a
    bad element or are malformed: refused whether or not the option sweeps."""
    if kind.domain.kind not in SWEEP_KINDS:
        return []
    good, far = kind.domain.example_text(), kind.domain.bad_texts()[-1]
    return [f"{good},{far}", f"{far},{good}", f"{good}:{far}", f"{good}:{far}:3", f"{good},",
            f"{good}:{good}:2", f"{good},{good}:{good}", "1:2:3:4",
            f"0:{MAX_SWEEP + 1}", f"0:{MAX_SWEEP + 2}:{MAX_SWEEP + 1}"]  # too many points


def _bad_values(action, tmp_path):
    kind = action.type
    if isinstance(kind, DomainType):
        return kind.domain.bad_texts() + _bad_sweeps(kind)
    if isinstance(kind, PathType):
        a_file = tmp_path / "a-file.txt"
        a_file.write_text("x")
        binary = tmp_path / "binary.bin"
        binary.write_bytes(bytes(range(256)) * 4)
        if kind.kind == "input":
            return ["", str(tmp_path / "missing.json"), str(tmp_path), str(binary)]
        if kind.kind == "folder":  # a missing folder is created: not a bad value
            return ["", str(a_file), str(a_file / "below-a-file")]
        suffix = kind.suffixes[0] if kind.suffixes else ".json"
        bad = ["", str(tmp_path), str(a_file / f"below-a-file{suffix}"),
               str(tmp_path / "no-such-dir" / f"x{suffix}")]
        if kind.suffixes:
            bad.append(str(tmp_path / "wrong-suffix.xyz"))
        return bad
    if isinstance(kind, ExecutorType):
        return ["", "nope", "local:0", "local:-1", "local:1e9", "dask://", "dask://host",
                "dask://host:0", "dask://host:99999", "dask://tls://host:8786", "dask://a b:1"]
    if action.choices:
        return ["not-a-choice"]
    return []


def _cases(tmp_path):
    cases = []
    for prefix, parser in COMMANDS:
        base = _base_argv(prefix, parser, tmp_path)
        if base is None:
            continue
        cases.append((base + ["--no-such-option", "1"], "--no-such-option"))
        for action in _option_actions(parser):
            flag = action.option_strings[0]
            for bad in _bad_values(action, tmp_path):
                argv = [t for t in base]
                if flag in argv:
                    argv[argv.index(flag) + 1] = bad
                else:
                    argv += [flag, bad]
                cases.append((argv, flag))
    return cases


def test_every_required_option_is_declared(tmp_path):
    """A command whose required options cannot be filled from declarations is not fuzzed: refuse
    that (declare the option with add_argument, or give a PathType an example)."""
    missing = [" ".join(prefix) for prefix, parser in COMMANDS
               if _base_argv(prefix, parser, tmp_path) is None]
    assert not missing, missing


def _alarm(signum, frame):
    raise TimeoutError(f"case took longer than {TIME_LIMIT} s")


def run_table(tmp_path, capture) -> tuple[int, list[str]]:
    """Run every case in this process; ``capture()`` returns ``(stdout, stderr)`` written since
    the last call. Returns the number of cases and the failures."""
    cases = _cases(tmp_path)
    failures = []
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for argv, flag in cases:
            start = time.perf_counter()
            signal.alarm(TIME_LIMIT)
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code
            except TimeoutError as exc:
                code = f"timeout: {exc}"
            finally:
                signal.alarm(0)
            out, err = capture()
            lines = err.strip().splitlines()
            ok = (code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error:")
                  and time.perf_counter() - start < TIME_LIMIT)
            if not ok:
                failures.append(f"{' '.join(argv)!r} [{flag}] -> code {code}, "
                                f"stderr {err.strip()[:200]!r}, stdout {out[:80]!r}")
    finally:
        signal.signal(signal.SIGALRM, previous)
    return len(cases), failures


MEMORY_CAP = 2 * 2**30  # bytes of address space for the whole table


def test_fuzz_table_every_bad_input_exits_2_with_one_error_line(tmp_path):
    """The table runs in a child interpreter whose address space is capped at 2 GiB (so a case
    that allocated beyond that would fail there), each case with a 10 s alarm."""
    import json
    import resource
    import subprocess
    import sys

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    run = subprocess.run([sys.executable, __file__, str(tmp_path)], capture_output=True, text=True,
                         preexec_fn=cap, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["cases"] >= 200, report["cases"]
    assert not report["failures"], (f"{len(report['failures'])} of {report['cases']} cases:\n"
                                    + "\n".join(report["failures"][:40]))


if __name__ == "__main__":  # the child of the test above: run the table, print one JSON line
    import contextlib
    import io
    import json
    import pathlib
    import sys

    out, err = io.StringIO(), io.StringIO()

    def capture():
        texts = out.getvalue(), err.getvalue()
        for stream in (out, err):
            stream.seek(0)
            stream.truncate()
        return texts

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        count, failures = run_table(pathlib.Path(sys.argv[1]), capture)
    print(json.dumps({"cases": count, "failures": failures}))
