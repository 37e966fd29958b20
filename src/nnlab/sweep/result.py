"""A sweep's result: its trials and their records (what ``execute`` produces and ``report`` and
``plots`` read; a module of its own so that neither of those imports the one that runs trials)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .spec import SweepSpec, Trial


@dataclass
class SweepResult:
    """A sweep's trials and their records (``records[trial.id]``), in the order of ``trials``.

    ``ran`` trials ran now; ``reused`` were found finished in the output folder.
    """

    spec: SweepSpec
    trials: list[Trial]
    records: dict[str, dict[str, Any]]
    ran: int = 0
    reused: int = 0
    wall_seconds: float = 0.0
    where: str = "here"
    files: dict[str, str] = field(default_factory=dict)

    def record(self, trial: Trial) -> dict[str, Any]:
        return self.records[trial.id]

    def value(self, trial: Trial) -> float | None:
        """The sweep's metric of a finished trial (None: failed, or the split is missing)."""
        rec = self.records.get(trial.id)
        if rec is None or rec.get("status") != "ok":
            return None
        split = rec.get("metrics", {}).get(self.spec.split)
        v = None if split is None else split.get(self.spec.quantity)
        return None if v is None else float(v)
