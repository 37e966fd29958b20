"""The experiments in report order, and ``--only`` name resolution."""

from __future__ import annotations

from types import ModuleType

from . import (
    batchnorm,
    deep,
    descent,
    early_stopping,
    gradient_checking,
    initialization,
    logistic,
    momentum_path,
    normalization,
    optimization,
    planar,
    regularization,
)

#: The experiments in report order, by name.
EXPERIMENTS: dict[str, ModuleType] = {
    m.NAME: m
    for m in (logistic, planar, initialization, regularization, optimization, deep,
              gradient_checking, descent, momentum_path, early_stopping, normalization,
              batchnorm)
}


def resolve(names: list[str] | None) -> list[str]:
    """The experiment names selected by ``names`` (names or letters, any case; None or empty:
    all), in report order. Raises ``ValueError`` for an unknown name."""
    if not names:
        return list(EXPERIMENTS)
    by_letter = {m.LETTER: name for name, m in EXPERIMENTS.items()}
    chosen = set()
    for raw in names:
        key = raw.strip().lower()
        if key in EXPERIMENTS:
            chosen.add(key)
        elif key in by_letter:
            chosen.add(by_letter[key])
        else:
            valid = ", ".join(f"{m.LETTER}/{n}" for n, m in EXPERIMENTS.items())
            raise ValueError(f"unknown experiment {raw!r}: expected one of {valid}")
    return [n for n in EXPERIMENTS if n in chosen]
