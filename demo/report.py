"""What a seeding wrote and how long each of its phases took: filled in by the steps, read by the command and the
benchmark."""

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

# Where a step tells the operator how far it got (the command's stdout, or nothing).
Say = Callable[[str], None]
# From this many members on, the large steps say how far they got.
PROGRESS_MIN_MEMBERS = 100_000


@dataclass
class DemoSeedReport:
    """Counts by kind of row and seconds by phase; `phases` are the top-level ones, whose sum is the total."""

    members: int
    seed: int
    organizations: dict[str, int] = field(default_factory=dict)
    chairs: int = 0
    trainings: int = 0
    users: int = 0
    cards: int = 0
    card_requests: int = 0
    consents: int = 0
    reports: int = 0
    partners: int = 0
    purchases: int = 0
    # The large tables (members, cards, card requests) are written with their indexes and keys dropped and rebuilt.
    indexes_rebuilt: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    phases: list[str] = field(default_factory=list)

    @contextmanager
    def timed(self, phase: str, *, part: bool = False):
        """Time a phase; `part=True` for a part of a phase that is already timed (members_copy within members)."""
        started = time.perf_counter()
        yield
        self.seconds[phase] = time.perf_counter() - started
        if not part:
            self.phases.append(phase)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds[phase] for phase in self.phases)


def grouped(value: int) -> str:
    """4 000 000 with non-breaking spaces, as the progress lines print counts."""
    return f"{value:,}".replace(",", "\u00a0")
