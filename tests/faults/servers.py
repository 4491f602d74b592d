"""The servers the fault tests stop and start: a redis-server of the test's own, on a port from 6390–6399, which the
test kills (SIGKILL, as a crash: nothing is saved) and starts again, the shared Redis of REDIS_URL never; a Celery
worker inside the test process, for the jobs queued once Redis is back; and a `celery worker` process that dies once
at a chosen moment (dying_worker.py), PostgreSQL only (a process cannot reach the test run's in-memory SQLite).
"""

import contextlib
import importlib
import os
import runpy
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError, connection
from kombu import pools as kombu_pools

from registry import cache as degrading_cache

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = shutil.which("redis-server")
# Ports kept for the suite's own Redis servers: the shared Redis (6379) is never the one a test stops.
PRIVATE_REDIS_PORTS = range(6390, 6400)
WAIT_SECONDS = 90

needs_redis_server = pytest.mark.skipif(
    REDIS_SERVER is None, reason="no redis-server on PATH: the tests that stop Redis start one of their own"
)


def _free_port() -> int:
    for port in PRIVATE_REDIS_PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as redis-server binds: past TIME_WAIT
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"ports {PRIVATE_REDIS_PORTS.start}–{PRIVATE_REDIS_PORTS.stop - 1} are all taken")


class RedisServer:
    """A redis-server the test may crash and start again on the same port, without persistence."""

    def __init__(self, directory: Path):
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        restarted = self.process is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        if restarted:  # the portal leaves an unreachable Redis alone for a moment after an error (registry.cache)
            time.sleep(degrading_cache.REDIS_PAUSE_SECONDS)

    def stop(self) -> None:
        """Crash it: SIGKILL, nothing saved, every connection cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def production_settings(redis_url: str) -> dict:
    """config/settings.py as production reads it with REDIS_URL set to `redis_url`."""
    saved = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = redis_url
    try:
        return runpy.run_path(str(ROOT / "config" / "settings.py"))
    finally:
        if saved is None:
            del os.environ["REDIS_URL"]
        else:
            os.environ["REDIS_URL"] = saved


def celery_point_at(app, values: dict) -> None:
    """Point the Celery app of this process at another broker and result backend, dropping its connections."""
    app.conf.update(values)
    kombu_pools.reset()  # every pooled broker connection closed and forgotten: the next one is to the new broker
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local = threading.local()  # the result backend of each thread, built anew from the new settings


@contextlib.contextmanager
def celery_worker_thread():
    """A worker in this process on the app's broker, for the tests' transactional database."""
    from config.celery import app

    # The default queue named: an earlier worker of the run (tests/test_celery_worker.py) left its own selected.
    queues = [app.conf.task_default_queue]
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=30, queues=queues) as worker:
        yield worker


def stored_files(root: Path) -> list[str]:
    """Every file under `root`, as storage names."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def wait_for(condition, *, what: str, seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = condition()
        except OperationalError:
            # SQLite's shared in-memory test database answers "table is locked" while the worker writes to it.
            if connection.vendor != "sqlite":
                raise
            result = None
        if result:
            return result
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.1)


def database_url_of_this_test() -> str:
    """The URL of the database this test runs on (pytest-django's test_… database), for a worker process."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


@contextlib.contextmanager
def worker_process(*, redis_url: str, die_at: str, media_root: Path, log_dir: Path, environment: dict | None = None):
    """`celery worker` (prefork, one pool process) on the test database and `redis_url`, whose pool process dies
    once at `die_at` (dying_worker.py); yields the marker file that exists once it has died."""
    from config.celery import app

    marker = log_dir / f"died-at-{die_at}"
    name = f"dies-at-{die_at}-{os.getpid()}@{socket.gethostname()}"
    env = os.environ | {
        "DATABASE_URL": database_url_of_this_test(), "REDIS_URL": redis_url, "MEDIA_ROOT": str(media_root),
        "CELERY_TASK_ALWAYS_EAGER": "0", "FAULT_DIE_AT": die_at, "FAULT_MARKER": str(marker), **(environment or {}),
    }  # fmt: skip
    log = (log_dir / f"worker-{die_at}.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.dying_worker", "-P", "prefork", "-c", "1", "-n", name, "--without-mingle",
         "--without-gossip", "-l", "info"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(lambda: app.control.ping(timeout=0.5, destination=[name]), what="the worker process answering")
        yield marker
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()


def remove_access_log_rows_on_sqlite() -> None:
    """A transactional test's flush cannot delete access-log rows on SQLite (the 152-FZ trigger): drop them here."""
    importlib.import_module("tests.test_celery_worker")._remove_rows_the_trigger_guards()
