"""A `celery worker` for tests/test_faults.py whose pool process dies once at a chosen moment of a job, the way a
worker dies when the kernel's OOM killer or a deploy's SIGKILL takes it: os._exit on the spot, no `finally`, no
`except`, no rollback sent (the open transaction dies with the connection). A marker file makes it die only once, so
the rerun of the job (its message handed back to the queue) goes through. Never part of the product.

    FAULT_DIE_AT=<moment> FAULT_MARKER=<file> python -m tests.fault_worker <celery worker options>

Moments:
    import-commit  the commit of a member import has written the members, not yet their history nor its status
    batch-part     part 2 of a card batch's package has its PDF in storage, not yet its CSV nor its record
    batch-package  the ZIP of a card batch's package is half copied into storage
"""

import os
import sys
from pathlib import Path

KILLED = 137  # what a shell reports for a process ended by SIGKILL


def _about_to_die() -> bool:
    """True the first time only: the marker records that the worker has died here once."""
    marker = Path(os.environ["FAULT_MARKER"])
    if marker.exists():
        return False
    marker.write_text(str(os.getpid()))
    return True


def _die() -> None:
    sys.stdout.flush()
    os._exit(KILLED)


def _arm_import_commit() -> None:
    from membership import imports
    from membership.models import Member

    write_rows = imports.write_rows

    def write_then_die(model, **kwargs):
        written = write_rows(model, **kwargs)
        if model is Member and _about_to_die():
            _die()
        return written

    imports.write_rows = write_then_die


def _arm_batch_part() -> None:
    from django.core.files.storage import FileSystemStorage

    save = FileSystemStorage.save

    def save_then_die(self, name, content, max_length=None):
        if "/chunk-0002-" in name and name.endswith(".csv") and _about_to_die():
            _die()
        return save(self, name, content, max_length)

    FileSystemStorage.save = save_then_die


def _arm_batch_package() -> None:
    from cards import batch_build

    class DiesHalfCopied(batch_build.File):
        def chunks(self, chunk_size=None):
            if _about_to_die():
                self.seek(0)
                yield self.read(max(1, self.size // 2))
                _die()
            yield from super().chunks(chunk_size)

    batch_build.File = DiesHalfCopied


MOMENTS = {"import-commit": _arm_import_commit, "batch-part": _arm_batch_part, "batch-package": _arm_batch_package}


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    MOMENTS[os.environ["FAULT_DIE_AT"]]()  # before the pool forks: its processes inherit the armed code
    from config.celery import app

    app.worker_main(["worker", *sys.argv[1:]])


if __name__ == "__main__":
    main()
