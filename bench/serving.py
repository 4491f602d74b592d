"""The app served as in production, and load on it from outside: gunicorn with docker-compose.yml's settings on a
loopback port, and `wrk` against it. Shared by bench/stats.py (dashboards) and bench/partner_api.py (partner API)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# docker-compose.yml: WEB_CONCURRENCY 3 sync workers (one thread each), DB_CONN_MAX_AGE 60.
GUNICORN_WORKERS = 3
LOAD_CONNECTIONS = 4
LOAD_THREADS = 2

# wrk counts 3xx as success; a redirect to the login page must not pass, so the script counts statuses itself and
# prints the percentiles wrk's own --latency table leaves out (95th). A script of a step may put its own init() and
# request() before this; each thread gets its number (`thread_number`, from 1) for what it must keep unique.
WRK_COUNTING = """
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end
function response(status, headers, body)
  responses = (responses or 0) + 1
  if status < 200 or status > 299 then not_2xx = (not_2xx or 0) + 1 end
end
function done(summary, latency, requests)
  local seen, bad = 0, 0
  for _, thread in ipairs(threads) do
    seen = seen + (thread:get("responses") or 0)
    bad = bad + (thread:get("not_2xx") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"responses":%d,"not_2xx":%d,"socket_errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, seen, bad,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn_serving(*, env: dict[str, str] | None = None):
    """gunicorn as docker-compose.yml runs it (3 sync workers), on loopback, DEBUG off, the benchmark database.
    Without REDIS_URL in `env` each worker has its own local-memory cache; `env` may also name another settings
    module (DJANGO_SETTINGS_MODULE, with PYTHONPATH)."""
    port = free_port()
    server_env = {**os.environ, "WEB_CONCURRENCY": str(GUNICORN_WORKERS), "DB_CONN_MAX_AGE": "60", "DEBUG": "0"}
    server_env.pop("REDIS_URL", None)
    server_env.update(env or {})
    gunicorn = Path(sys.executable).parent / "gunicorn"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [str(gunicorn), "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--timeout", "60"],
            cwd=ROOT,
            env=server_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while not answers(f"{base}/accounts/login/"):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise SystemExit(f"gunicorn did not start:\n{log.read().decode(errors='replace')[-3000:]}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=5).read()
    except OSError:
        return False
    return True


def wrk_required() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")


def wrk_run(url: str, *, seconds: int, script: str, headers: tuple[str, ...] = (), args: tuple[str, ...] = ()) -> dict:
    """One `wrk` run with a script that ends in WRK_COUNTING: its figures, and requests per second."""
    command = ["wrk", "-t", str(LOAD_THREADS), "-c", str(LOAD_CONNECTIONS), "-d", f"{seconds}s", "--timeout", "10s",
               "--latency", "-s", script]  # fmt: skip
    for header in headers:
        command += ["-H", header]
    command.append(url)
    if args:
        command += ["--", *args]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"wrk failed ({completed.returncode}): {completed.stderr.strip()[:2000]}")
    line = next((line for line in completed.stdout.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result: {completed.stdout[-2000:]}")
    result = json.loads(line.removeprefix("BENCH "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1_000_000)
    return result


@contextmanager
def wrk_script(text: str):
    """A script file for wrk's -s, removed afterwards."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as script:
        script.write(text)
    try:
        yield script.name
    finally:
        os.unlink(script.name)
