"""Run the benchmarks: ``python benchmarks/run.py [TOPIC ...]``.

Each ``benchmarks/bench_TOPIC.py`` defines ``main()`` that prints one line per target: the name,
the measured time, the baseline measured in the same run and their ratio.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

TOPICS = ("markov", "lsa", "potts", "bayesnet", "certify", "conjecture")


def main(argv: list[str]) -> int:
    topics = argv or TOPICS
    here = Path(__file__).resolve().parent
    for topic in topics:
        path = here / f"bench_{topic}.py"
        if not path.exists():
            print(f"# {topic}: no benchmarks yet")
            continue
        spec = importlib.util.spec_from_file_location(f"bench_{topic}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # so that worker processes can unpickle its functions
        spec.loader.exec_module(module)
        print(f"# {topic}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
