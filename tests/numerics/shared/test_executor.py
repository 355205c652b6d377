"""Executor names: what parse_executor accepts and how it refuses (always InputError naming
``executor``), and TLS addresses only with a TLS configuration."""

import pytest

from numerics.shared.executor import ExecutorSpec, parse_executor, run_tasks
from theory.errors import InputError


@pytest.mark.parametrize("spec, address", [
    ("dask://127.0.0.1:8786", "127.0.0.1:8786"),
    ("dask://localhost:1", "localhost:1"),
    ("dask://scheduler.example.org:65535", "scheduler.example.org:65535"),
    ("dask://tcp://10.0.0.2:8786", "tcp://10.0.0.2:8786"),
    ("dask://[::1]:8786", "[::1]:8786"),
    ("dask://tcp://[fe80::1]:8786", "tcp://[fe80::1]:8786"),
    ("dask://dask_scheduler:8786", "dask_scheduler:8786"),
])
def test_dask_addresses_accepted(spec, address):
    parsed = parse_executor(spec)
    assert parsed == ExecutorSpec("dask", address=address)
    assert str(parsed) == spec


@pytest.mark.parametrize("spec", [
    "dask://host", "dask://host:", "dask://:8786", "dask://host:0", "dask://host:65536",
    "dask://host:99999999999999999999", "dask://host:-1", "dask://host:8786/path",
    "dask://999.1.1.1:8786", "dask://1.2.3:8786", "dask://-bad:8786", "dask://bad-:8786",
    "dask://a b:8786", "dask://ho$t:8786", "dask://" + "a" * 64 + ":1", "dask://[::1:8786",
    "dask://[nothex]:8786", "dask://[127.0.0.1]:8786", "dask://::1:8786", "dask://udp://h:1",
    "dask://inproc://h:1", "dask://tcp://h", "dask://host:8786\n", "dask://host:８７８６",
    "local:0", "local:257", "local:-1", "local:1.5", "local:", "local:٣", "local:2\n",
    "gpu", "", "Serial", 3, None.__class__, ["local"],
])
def test_bad_executor_names_are_input_errors_naming_executor(spec):
    with pytest.raises(InputError, match="executor"):
        parse_executor(spec)


def test_tls_needs_a_tls_configuration(tmp_path):
    dask = pytest.importorskip("dask")
    with pytest.raises(InputError, match="distributed.comm.tls.ca-file"):
        parse_executor("dask://tls://scheduler:8786")
    ca, cert = tmp_path / "ca.pem", tmp_path / "client.pem"
    with dask.config.set({"distributed.comm.tls.ca-file": str(ca),
                          "distributed.comm.tls.client.cert": str(cert)}):
        with pytest.raises(InputError, match="existing file"):  # named files must exist
            parse_executor("dask://tls://scheduler:8786")
        ca.write_text("ca")
        cert.write_text("cert")
        assert parse_executor("dask://tls://scheduler:8786").address == "tls://scheduler:8786"
        with dask.config.set({"distributed.comm.tls.client.key": str(tmp_path / "missing.key")}):
            with pytest.raises(InputError, match="client.key"):
                parse_executor("dask://tls://scheduler:8786")
    with dask.config.set({"distributed.comm.tls.ca-file": str(ca)}):
        with pytest.raises(InputError, match="client.cert"):
            parse_executor("dask://tls://scheduler:8786")


def test_local_pool_size():
    assert parse_executor("local:256").workers == 256
    assert parse_executor("local:01").workers == 1


def _square(x):
    return x * x


def test_more_workers_than_cores_still_run_every_task():
    assert sorted(run_tasks(_square, [1, 2, 3], "local:8")) == [(0, 1), (1, 4), (2, 9)]


def test_die_with_parent_ends_a_process_whose_parent_is_already_gone():
    import subprocess
    import sys

    code = ("import os, sys; from numerics.shared.executor import die_with_parent; "
            "die_with_parent(int(sys.argv[1])); print('alive')")
    alive = subprocess.run([sys.executable, "-c", code, str(__import__("os").getpid())],
                           capture_output=True, text=True, timeout=60)
    assert alive.returncode == 0 and alive.stdout.strip() == "alive"
    orphan = subprocess.run([sys.executable, "-c", code, "1"], capture_output=True, text=True,
                            timeout=60)  # "its parent was pid 1": it is not any more
    assert orphan.returncode == 1 and orphan.stdout == ""


def test_an_unreachable_scheduler_is_an_input_error_within_ten_seconds():
    import socket
    import time

    pytest.importorskip("distributed")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(InputError, match="reachable Dask scheduler"):
        list(run_tasks(_square, [1, 2], f"dask://127.0.0.1:{port}"))
    assert time.perf_counter() - start < 10


def test_unsendable_reason_names_what_cannot_reach_a_worker():
    import functools
    import subprocess
    import sys

    from numerics.shared.executor import unsendable_reason

    assert unsendable_reason(_square) is None
    assert unsendable_reason(functools.partial(_square, 2)) is None
    assert "cannot be pickled" in unsendable_reason(lambda x: x)
    offset = 1
    assert "cannot be pickled" in unsendable_reason(lambda x: x + offset)
    assert unsendable_reason(lambda x: x, "serial") is None
    # a function of __main__ typed on standard input (no file a worker could import)
    code = ("from numerics.shared.executor import unsendable_reason\n"
            "def f(x):\n    return x\nprint(unsendable_reason(f))\n")
    run = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True,
                         timeout=60)
    assert "'f' of __main__" in run.stdout, run.stderr[-2000:]
