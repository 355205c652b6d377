"""Run the benchmarks: ``python benchmarks/run.py [--smoke] [TOPIC ...]``.

Every benchmark module is listed in :data:`BENCHMARKS` (topic -> files, no discovery by file
name) and defines ``main(smoke: bool = False)``, which prints one line per target: the name, the
measured time, the baseline measured in the same run and their ratio.

``--smoke`` runs every target once at a tiny size (all topics together in well under two
minutes), so that a benchmark broken by a change in the library fails in CI instead of rotting.
An exception in one benchmark is reported with its name and the run goes on; the exit status is 1
when any benchmark failed, 0 otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: topic -> the benchmark files (relative to this folder) that measure it.
BENCHMARKS = {
    "markov": ("markov/bench_canonical.py", "markov/bench_training.py",
               "markov/bench_ensemble.py"),
    "lsa": ("lsa/bench_optimum.py", "lsa/bench_part2.py"),
    "potts": ("potts/bench_sampling_fit.py",),
    "bayesnet": ("bayesnet/bench_mle_construction.py",),
    "certify": ("shared/bench_certify.py",),
    "conjecture": ("shared/bench_conjecture.py",),
}
TOPICS = tuple(BENCHMARKS)


def load(relative: str):
    """Import the benchmark file ``relative`` as the module named by its file name.

    Its folder goes on ``sys.path`` and the module into ``sys.modules`` under that name, so that
    worker processes (spawned, given this ``sys.path``) can unpickle its functions."""
    path = HERE / relative
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(topics, smoke: bool) -> list[str]:
    """Run the benchmarks of ``topics``; the files that raised, each reported as it failed."""
    failed = []
    for topic in topics:
        print(f"# {topic}", flush=True)
        for relative in BENCHMARKS[topic]:
            start = time.perf_counter()
            try:
                load(relative).main(smoke=smoke)
            except Exception:  # noqa: BLE001 - report it with its name and go on
                failed.append(relative)
                print(f"FAILED {relative}:", flush=True)
                traceback.print_exc()
                sys.stderr.flush()
            print(f"## {relative}: {time.perf_counter() - start:.1f} s", flush=True)
    return failed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks (all topics by default).")
    parser.add_argument("topics", nargs="*", metavar="TOPIC",
                        help=f"one of {', '.join(TOPICS)} (default: all)")
    parser.add_argument("--smoke", action="store_true",
                        help="every benchmark once at a tiny size (CI); exit 1 on any error")
    args = parser.parse_args(argv)
    unknown = [t for t in args.topics if t not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown topic(s) {', '.join(unknown)}; expected {', '.join(TOPICS)}")
    root = str(HERE.parent)
    if root not in sys.path:  # `benchmarks.timing` for every benchmark
        sys.path.insert(0, root)
    start = time.perf_counter()
    failed = run(args.topics or TOPICS, args.smoke)
    print(f"# {'smoke' if args.smoke else 'benchmarks'}: {time.perf_counter() - start:.1f} s, "
          + (f"{len(failed)} failed: {', '.join(failed)}" if failed else "all ran"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
