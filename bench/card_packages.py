"""Benchmark of issue 9, part 4: a card batch's vendor package built in parts by separate Celery worker processes.
Run by bench/run.py after the card batch of step 9, or alone against a seeded database:

    .venv/bin/python bench/card_packages.py --database-url postgres://postgres@127.0.0.1:5432/eseur_bench

Real `celery -A config worker -c 1` processes (the prefork pool with one pool process each, as docker-compose runs
them) on the benchmark database and on Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/15), listening on a
queue of their own; the parts and packages go to a temporary media folder, removed at the end.

  a. 10,000 cards built by one worker process and by two (one queue each, all started first), the same batch from
     nothing (its parts and package removed) in turns, three rounds; the best time of each: target two ≤ 0.6 × one.
     Timed from sending the task until the batch is marked ready. The workers' CPU time is reported beside it: the
     busiest of two against the one is what the ratio comes to when no neighbour takes the CPUs.
  b. 100,000 cards built by two worker processes; the resident memory (VmRSS) of every worker process (each
     worker's main process and its pool process, where the parts and the assembly run) sampled every 20 ms from
     the moment the task is sent: target growth < 500 MB for each process.

The batches are made directly (approved requests, bulk inserted, of members who hold a valid card and have no open
request, in a batch of the central office), so that only the package is measured, not the approval or the
settlement; each package's CSV is checked against the batch's numbers. Alone, the batches and requests it made are
deleted at the end; run.py's database is recreated on every run anyway.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent

SMALL_CARDS = 10_000
LARGE_CARDS = 100_000
TWO_WORKERS_SHARE_TARGET = 0.6
MEMORY_GROWTH_TARGET_MB = 500.0
BUILD_TIMEOUT_SECONDS = 1800
# Builds of the 10,000-card batch by each set of workers, in turns; the best of each is compared.
ROUNDS = 3
REDIS_URL_DEFAULT = "redis://127.0.0.1:6379/15"


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def _descendants(roots: list[int]) -> list[int]:
    """The roots and every process below them (each worker's pool process), from the parent ids in /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
                continue
    found, frontier = list(roots), list(roots)
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User and system CPU time of each process so far (utime and stime of /proc/<pid>/stat)."""
    ticks, seconds = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return seconds


def build_on(workers: list[subprocess.Popen], batch_id: int, *, queue: str) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of all worker processes, CPU seconds of the busiest one) of one build. The CPU
    time is what the build costs whatever runs beside it; the busiest process's is the build's floor in wall time
    with a CPU of its own for each worker."""
    pids = _descendants([worker.pid for worker in workers])
    before = _cpu_seconds(pids)
    wall = build(batch_id, queue=queue)
    used = {pid: seconds - before.get(pid, 0.0) for pid, seconds in _cpu_seconds(pids).items()}
    return wall, sum(used.values()), max(used.values())


class ProcessTreeMemory:
    """Peak resident memory of processes and of their children, sampled in a thread every 20 ms: per process, the
    growth is its peak less its memory when sampling started."""

    def __init__(self, roots: list[int], interval: float = 0.02):
        self.roots, self.interval, self._stop = roots, interval, threading.Event()
        self.start_mb: dict[int, float] = {}
        self.peak_mb: dict[int, float] = {}

    def _sample(self) -> None:
        pids, listed_at = _descendants(self.roots), time.monotonic()
        while not self._stop.is_set():
            if time.monotonic() - listed_at > 1:
                pids, listed_at = _descendants(self.roots), time.monotonic()
            for pid in pids:
                rss = _rss_mb(pid)
                self.start_mb.setdefault(pid, rss)
                self.peak_mb[pid] = max(self.peak_mb.get(pid, 0.0), rss)
            self._stop.wait(self.interval)

    def __enter__(self):
        for pid in _descendants(self.roots):
            self.start_mb[pid] = self.peak_mb[pid] = _rss_mb(pid)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def growth_mb(self) -> dict[int, float]:
        return {pid: self.peak_mb[pid] - self.start_mb[pid] for pid in self.peak_mb}


class WorkersNotStarted(RuntimeError):
    pass


@contextmanager
def celery_workers(count: int, *, queue: str, env: dict, log_dir: Path) -> Iterator[list[subprocess.Popen]]:
    """`count` worker processes on `queue`, started fresh, answering a ping before the block runs."""
    from config.celery import app

    celery = shutil.which("celery", path=str(Path(sys.executable).parent)) or "celery"
    names = [f"bench{number}-{queue}@{socket.gethostname()}" for number in range(1, count + 1)]
    workers = []
    try:
        for name in names:
            log = (log_dir / f"{name.split('@')[0]}.log").open("w")
            workers.append(subprocess.Popen(
                [celery, "-A", "config", "worker", "-c", "1", "-Q", queue, "-n", name, "--without-mingle",
                 "--without-gossip", "-l", "warning"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        deadline = time.monotonic() + 120
        while len(app.control.ping(timeout=0.5, destination=names)) < count:
            if time.monotonic() > deadline or any(worker.poll() is not None for worker in workers):
                # The logs live in the step's temporary folder, removed when the step ends: their ends go in the
                # message that the report keeps.
                tails = {path.name: path.read_text(errors="replace")[-2000:] for path in log_dir.glob("*.log")}
                raise WorkersNotStarted(f"the Celery workers did not start: {tails}")
        yield workers
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def bench_batch(cards: int):
    """A batch of `cards` approved requests of members who hold a valid card and have no open request."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import Role, User
    from cards.models import Card, CardBatch, CardRequest

    central = User.objects.filter(role=Role.CENTRAL, is_active=True).order_by("id").first()
    if central is None:
        raise SystemExit("no active central office user (seed the database first)")
    holders = list(
        Card.objects.filter(status=Card.Status.ACTIVE, member__status="active")
        .exclude(member__card_requests__status__in=CardRequest.OPEN_STATUSES)
        .order_by("id")
        .values_list("member_id", "id", "organization_id")[:cards]
    )
    if len(holders) < cards:
        raise SystemExit(f"only {len(holders)} members hold a valid card without an open request; {cards} needed")
    now = timezone.now()
    with transaction.atomic():
        batch = CardBatch.objects.create(organization=central.organization, created_by=central, card_count=cards)
        CardRequest.objects.bulk_create(
            (
                CardRequest(member_id=member_id, card_id=card_id, organization_id=org_id,
                            status=CardRequest.Status.APPROVED, requested_by=central, decided_by=central,
                            decided_at=now, batch=batch)
                for member_id, card_id, org_id in holders
            ),
            batch_size=5000,
        )  # fmt: skip
    return batch


def batch_remove(batch) -> None:
    from cards.models import CardBatch, CardRequest

    if batch.package:
        batch.package.delete(save=False)
    CardRequest.objects.filter(batch=batch).delete()
    CardBatch.objects.filter(pk=batch.pk).delete()


def build(batch_id: int, *, queue: str) -> float:
    """Seconds from sending the build task until the batch is marked ready."""
    from cards import tasks
    from cards.models import CardBatch

    started = time.perf_counter()
    tasks.card_batch_build.apply_async(args=[batch_id], queue=queue)
    while True:
        status, failure = CardBatch.objects.values_list("status", "failure").get(pk=batch_id)
        if status != CardBatch.Status.BUILDING:
            break
        if time.perf_counter() - started > BUILD_TIMEOUT_SECONDS:
            raise SystemExit(f"batch {batch_id} still building after {BUILD_TIMEOUT_SECONDS} s")
        time.sleep(0.05)
    if status != CardBatch.Status.READY:
        raise SystemExit(f"batch {batch_id}: {status} {failure}")
    return time.perf_counter() - started


def build_reset(batch) -> None:
    """The batch as it was formed: no parts, no package; the next build starts from nothing."""
    from cards.models import CardBatch

    batch.refresh_from_db()
    if batch.package:
        batch.package.delete(save=False)
    batch.chunks.all().delete()
    CardBatch.objects.filter(pk=batch.pk).update(
        status=CardBatch.Status.BUILDING, package="", package_sha256="", failure=""
    )


def package_check(batch) -> tuple[int, int]:
    """The package's CSV holds the batch's numbers in order, each once; returns (parts, bytes)."""
    import csv
    import io
    import json
    import zipfile

    batch.refresh_from_db()
    numbers = list(batch.requests.order_by("card__number").values_list("card__number", flat=True))
    with batch.package.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        with archive.open("personalization.csv") as rows:
            listed = [row[0] for row in csv.reader(io.TextIOWrapper(rows, encoding="utf-8", newline=""))][1:]
    if listed != numbers or manifest["count"] != len(numbers):
        raise SystemExit(f"batch {batch.pk}: the package does not hold the batch's numbers in order")
    return len(manifest["files"]) - 1, batch.package.size


def measure(*, small: int = SMALL_CARDS, large: int = LARGE_CARDS, keep: bool = False) -> dict:
    from django.conf import settings
    from django.test.utils import override_settings
    from partner_api import redis_answering

    from config.celery import app

    redis_url = os.environ.get("BENCH_REDIS_URL", REDIS_URL_DEFAULT)
    if not redis_answering(redis_url):
        return {"redis": redis_url, "error": "Redis не отвечает: обработчиков Celery не запустить"}
    media = Path(tempfile.mkdtemp(prefix="bench-card-packages-"))
    queue = f"bench-packages-{uuid.uuid4().hex[:12]}"
    env = os.environ | {
        "DATABASE_URL": os.environ["DATABASE_URL"], "REDIS_URL": redis_url, "CELERY_TASK_ALWAYS_EAGER": "0",
        "MEDIA_ROOT": str(media), "DEBUG": "0", "CARD_BATCH_CHUNK_SIZE": str(settings.CARD_BATCH_CHUNK_SIZE),
    }  # fmt: skip
    eager = app.conf.task_always_eager
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    # Connections pooled by run.py's earlier steps point at the embedded broker: the pings and the tasks of this
    # step must take new ones to Redis.
    app.close()
    results = {"redis": redis_url, "chunk_size": settings.CARD_BATCH_CHUNK_SIZE, "cpu_count": os.cpu_count()}
    batches = []
    try:
        with override_settings(MEDIA_ROOT=media):
            batches.append(small_batch := bench_batch(small))
            results["load_average_before"] = os.getloadavg()
            # One worker on one queue, two on another, all started before the first build; the same batch built from
            # nothing in turns, one then two, ROUNDS times: the best of each, as neighbours come and go.
            rounds, queues = {1: [], 2: []}, {1: f"{queue}-one", 2: f"{queue}-two"}
            with (
                celery_workers(1, queue=queues[1], env=env, log_dir=media) as one_worker,
                celery_workers(2, queue=queues[2], env=env, log_dir=media) as two_workers,
            ):
                workers = {1: one_worker, 2: two_workers}
                for _ in range(ROUNDS):
                    for count in (1, 2):
                        build_reset(small_batch)
                        rounds[count].append(build_on(workers[count], small_batch.pk, queue=queues[count]))
                        results["small_parts"], results["small_bytes"] = package_check(small_batch)
            results["small_rounds"] = {count: [list(map(float, run)) for run in runs] for count, runs in rounds.items()}
            results["small_one_worker_s"], results["small_one_worker_cpu_s"], _busiest = min(rounds[1])
            results["small_two_workers_s"], results["small_two_workers_cpu_s"], results["small_two_busiest_cpu_s"] = (
                min(rounds[2])
            )

            batches.append(large_batch := bench_batch(large))
            with celery_workers(2, queue=queue, env=env, log_dir=media) as workers:
                with ProcessTreeMemory([worker.pid for worker in workers]) as memory:
                    results["large_two_workers_s"] = build(large_batch.pk, queue=queue)
                growth = memory.growth_mb()
                results["large_growth_mb"] = {str(pid): round(mb, 1) for pid, mb in growth.items()}
                results["large_start_mb"] = {str(pid): round(mb, 1) for pid, mb in memory.start_mb.items()}
                results["large_peak_mb"] = {str(pid): round(mb, 1) for pid, mb in memory.peak_mb.items()}
            results["large_parts"], results["large_bytes"] = package_check(large_batch)
            results["load_average_after"] = os.getloadavg()
            if not keep:
                for batch in batches:
                    batch_remove(batch)
    finally:
        app.conf.update(task_always_eager=eager)
        app.close()
        shutil.rmtree(media, ignore_errors=True)
    return results


def _measured_in_a_process_of_its_own(*, small: int, large: int, keep: bool) -> dict:
    """measure() in a new Python process: run.py's earlier steps leave its Celery app pooled on the embedded broker,
    and its pings then never reach the workers. The other steps still run if this one fails."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as file:
        path = Path(file.name)
    try:
        command = [sys.executable, __file__, "--database-url", os.environ["DATABASE_URL"], "--small", str(small),
                   "--large", str(large), "--results-json", str(path), *(["--keep"] if keep else [])]  # fmt: skip
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if completed.returncode != 0 or not path.stat().st_size:
            print(completed.stdout[-3000:], completed.stderr[-3000:], sep="\n", flush=True)
            return {"error": "шаг завершился с ошибкой (вывод выше)"}
        return json.loads(path.read_text())
    finally:
        path.unlink(missing_ok=True)


def measure_card_packages(*, figure: Callable, grouped: Callable[[float], str], small: int = SMALL_CARDS,
                          large: int = LARGE_CARDS, keep: bool = True) -> tuple[list, dict]:  # fmt: skip
    """run.py's step; `figure` is run.py's Figure. Returns the figures and the details for the JSON."""
    print(
        f"9б/13 Пакет партии на обработчиках Celery: {grouped(small)} билетов одним и двумя процессами, "
        f"{grouped(large)} билетов двумя…",
        flush=True,
    )
    results = _measured_in_a_process_of_its_own(small=small, large=large, keep=keep)
    if "error" in results:
        return [figure("Пакет партии на обработчиках Celery", 0.0, "", "Redis", False, results["error"])], results
    one, two = results["small_one_worker_s"], results["small_two_workers_s"]
    share = two / one
    growth = max(results["large_growth_mb"].values())
    load = " ".join(f"{value:.1f}" for value in results["load_average_before"])
    cpu_share = results["small_two_busiest_cpu_s"] / results["small_one_worker_cpu_s"]
    figures = [
        figure(f"Пакет {grouped(small)} билетов: 1 обработчик (celery -c 1)", one, "с"),
        figure(f"Пакет {grouped(small)} билетов: 2 обработчика (два процесса)", two, "с"),
        figure("  доля времени двух от одного", share, "", f"≤ {TWO_WORKERS_SHARE_TARGET:g}",
               share <= TWO_WORKERS_SHARE_TARGET, f"{share:.2f}"),
        figure("  процессорное время обработчиков: один / два вместе", 0.0, "", "", None,
               f"{results['small_one_worker_cpu_s']:.1f} / {results['small_two_workers_cpu_s']:.1f} с"),
        figure("  доля по процессорному времени самого занятого из двух (без соседей по CPU)", cpu_share, "", "",
               None, f"{cpu_share:.2f}"),
        figure(f"  частей по {results['chunk_size']} билетов", results["small_parts"], "", "", None,
               str(results["small_parts"])),
        figure(f"Пакет {grouped(large)} билетов: 2 обработчика", results["large_two_workers_s"], "с"),
        figure("  билетов в секунду", large / results["large_two_workers_s"], "бил./с"),
        figure("  размер пакета", results["large_bytes"] / 1024 / 1024, "МБ"),
        figure("  рост памяти (RSS) процесса обработчика, наибольший", growth, "МБ",
               f"< {MEMORY_GROWTH_TARGET_MB:g} МБ", growth < MEMORY_GROWTH_TARGET_MB),
        figure("  рост памяти всех процессов обработчиков вместе", sum(results["large_growth_mb"].values()), "МБ"),
        figure("  нагрузка машины (load average) перед сборками", 0.0, "", "", None, load),
    ]  # fmt: skip
    return figures, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""),
                        help="a seeded PostgreSQL database (default: BENCH_DATABASE_URL)")  # fmt: skip
    parser.add_argument("--small", type=int, default=SMALL_CARDS, help=f"cards of the 1-vs-2 batch ({SMALL_CARDS})")
    parser.add_argument("--large", type=int, default=LARGE_CARDS, help=f"cards of the memory batch ({LARGE_CARDS})")
    parser.add_argument("--results-json", help="only measure, and write the results to this file (run.py's step)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark's batches")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Give --database-url (or BENCH_DATABASE_URL) of a seeded PostgreSQL database.")
    sys.path.insert(0, str(BENCH_DIR))
    import run

    run.django_start(args.database_url)
    if args.results_json:
        try:
            results = measure(small=args.small, large=args.large, keep=args.keep)
        except WorkersNotStarted as error:
            results = {"error": str(error)[-1500:]}
        Path(args.results_json).write_text(json.dumps(results, default=list))
        return
    figures, results = measure_card_packages(
        figure=run.Figure, grouped=run.grouped, small=args.small, large=args.large, keep=False
    )
    print(results)
    run.figures_print(figures)
    if any(figure.passed is False for figure in figures):
        sys.exit(1)


if __name__ == "__main__":
    main()
