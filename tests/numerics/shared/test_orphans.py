"""A killed run leaves nothing behind: after SIGKILL of the process that started a local pool,
its workers, their children (the Hypothesis interpreter) and the multiprocessing resource tracker
end within seconds, and no worker writes a file after its parent died."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups, /proc")

#: Seconds the survivors get to end after the parent was killed.
GRACE = 5.0


def _session_processes(sid: int) -> list:
    """Every live process of the session ``sid`` (zombies count as ended)."""
    found = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getsid(proc.pid) == sid:
                found.append(proc)
        except (ProcessLookupError, PermissionError, psutil.Error):
            continue
    return found


def _kill_and_wait(parent: subprocess.Popen) -> list:
    """SIGKILL ``parent`` alone; return the processes of its session still alive after GRACE."""
    sid = parent.pid  # start_new_session: the session id is the parent's pid
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + GRACE
    alive = _session_processes(sid)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = _session_processes(sid)
    for proc in alive:  # do not leave them to the next test
        try:
            proc.kill()
        except psutil.Error:
            pass
    return alive


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")
            if p.is_file()}


SLOW_TASK = textwrap.dedent("""
    import time
    from pathlib import Path

    def task(item):
        out, index = item
        Path(out, f"started-{index}").write_text("x")
        time.sleep(3.0)
        Path(out, f"done-{index}").write_text("x")   # must never happen after the parent died
        return index
""")

DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import slow_task
    from numerics.shared.executor import run_tasks
    for index, _ in run_tasks(slow_task.task, [(sys.argv[2], k) for k in range(6)], "local:2"):
        print(index, flush=True)
""")


def test_pool_workers_die_with_a_killed_parent_and_write_nothing_after(tmp_path):
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs two cores for a pool of two workers")
    (tmp_path / "slow_task.py").write_text(SLOW_TASK)
    out = tmp_path / "out"
    out.mkdir()
    parent = subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path), str(out)],
                              start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        _wait_for(lambda: len(list(out.glob("started-*"))) >= 2, 60, "two tasks to start")
        workers = psutil.Process(parent.pid).children(recursive=True)
        assert len(workers) >= 2  # two workers (and the resource tracker)
    except BaseException:
        parent.kill()
        raise
    alive = _kill_and_wait(parent)
    assert not alive, f"still running {GRACE} s after the parent was killed: " \
                      f"{[(p.pid, p.name()) for p in alive]}"
    time.sleep(3.5)  # past the end of the tasks that were running
    assert not list(out.glob("done-*")), "a worker wrote a file after its parent died"


def test_killed_ttc_check_leaves_no_process_and_no_late_file(tmp_path):
    out = tmp_path / "check-out"
    parent = subprocess.Popen(["ttc", "check", "markov.unigram_local_min", "--executor", "local:2",
                               "--out", str(out)], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # the pool is up and working: the first batches are stored
        _wait_for(lambda: len(list((out / "tasks").glob("*.json"))) >= 1, 90, "a finished task")
        assert psutil.Process(parent.pid).children(recursive=True)
    except BaseException:
        parent.kill()
        raise
    alive = _kill_and_wait(parent)
    assert not alive, f"still running {GRACE} s after ttc check was killed: " \
                      f"{[(p.pid, p.name()) for p in alive]}"
    before = _snapshot(out)
    time.sleep(2.0)
    assert _snapshot(out) == before, "files were written into --out after the run was killed"
