"""A sweep's plots (matplotlib's Agg backend, through ``nnlab.plotting``).

- ``plot_params``: one panel per swept parameter, the metric of every finished trial against the
  parameter's value, and the mean ± std of each value (numbers on a numeric axis, log-scaled for a
  ``loguniform`` draw or values spanning two decades; names, cases and layer lists as categories).
- ``plot_curves``: the training loss (and validation loss, dashed) and accuracy curves of the
  best trials.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np

from ..files.format import atomic_write_bytes
from .result import SweepResult
from .spec import format_value


def _save(fig: Any, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, dpi=100, format="png")
    atomic_write_bytes(path, buf.getvalue())


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def plot_params(result: SweepResult, path: Path) -> bool:
    """The metric against each swept parameter; False when nothing is swept or nothing ran."""
    from ..plotting import new_figure

    spec = result.spec
    axes_names = spec.axes()
    valued = [(t, result.value(t)) for t in result.trials]
    finished = [(t, v) for t, v in valued if v is not None]
    if not axes_names or not finished:
        return False
    fig, axes = new_figure(len(axes_names), ncols=min(3, len(axes_names)),
                           panel_size=(4.4, 3.4))
    scale = 100.0 if spec.quantity == "accuracy" else 1.0
    ylabel = spec.metric + (" (%)" if spec.quantity == "accuracy" else "")
    for ax, name in zip(axes, axes_names, strict=True):
        xs = [t.point.params[name] for t, _ in finished]
        ys = np.array([v * scale for _, v in finished])
        numeric = _numeric(xs)
        if numeric:
            pos = np.array(xs, dtype=float)
            ticks = None
            dist = spec.random.get(name)
            positive = bool(np.all(pos > 0))
            if positive and ((dist is not None and dist.log_scale) or
                             pos.max() / pos.min() >= 100):
                ax.set_xscale("log")
        else:
            ticks = []
            for x in xs:
                if format_value(x) not in ticks:
                    ticks.append(format_value(x))
            pos = np.array([ticks.index(format_value(x)) for x in xs], dtype=float)
        ax.scatter(pos, ys, s=12, alpha=0.45, color="C0", label="trials")
        groups: dict[float, list[float]] = {}
        for p, y in zip(pos.tolist(), ys.tolist(), strict=True):
            groups.setdefault(p, []).append(y)
        gx = sorted(groups)
        means = [float(np.mean(groups[g])) for g in gx]
        stds = [float(np.std(groups[g], ddof=1)) if len(groups[g]) > 1 else 0.0 for g in gx]
        if len(gx) <= 40:  # a random search's continuous draws: the dots say it all
            ax.errorbar(gx, means, yerr=stds, color="C3", marker="o", markersize=4,
                        linewidth=1.2, capsize=3, label="mean ± std")
        if ticks is not None:
            ax.set_xticks(range(len(ticks)))
            ax.set_xticklabels(ticks, rotation=30 if len(ticks) > 3 else 0, ha="right"
                               if len(ticks) > 3 else "center", fontsize=8)
            ax.set_xlim(-0.5, len(ticks) - 0.5)
        ax.set_xlabel(name)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    failed = sum(1 for t in result.trials if result.value(t) is None)
    note = f" ({failed} failed trial(s) not shown)" if failed else ""
    fig.suptitle(f"sweep {spec.name}: {spec.metric} per parameter{note}", fontsize=10)
    _save(fig, path)
    return True


def plot_curves(result: SweepResult, path: Path, top: int = 5) -> bool:
    """Loss and accuracy curves of the ``top`` best trials; False when no trial finished."""
    from ..plotting import new_figure

    spec = result.spec
    valued = [(t, result.value(t)) for t in result.trials]
    ranked = [(t, v) for t, v in valued if v is not None]
    sign = -1.0 if spec.goal == "max" else 1.0
    ranked.sort(key=lambda tv: (sign * tv[1], tv[0].index))
    seen: set[str] = set()
    chosen = []
    for t, v in ranked:
        if t.id not in seen:
            seen.add(t.id)
            chosen.append((t, v))
        if len(chosen) == top:
            break
    if not chosen:
        return False
    fig, (ax_loss, ax_acc) = new_figure(2, panel_size=(5.2, 3.8))
    any_acc = any_val = False
    for i, (t, _) in enumerate(chosen):
        curve = result.records[t.id].get("curve", {})
        epochs = curve.get("epoch", [])
        label = f"{t.point.label}, seed {t.seed_index}"
        color = f"C{i}"
        for key, ax, style in (("loss", ax_loss, "-"), ("val_loss", ax_loss, "--"),
                               ("accuracy", ax_acc, "-"), ("val_accuracy", ax_acc, "--")):
            ys = curve.get(key)
            if not ys:
                continue
            pts = [(e, y) for e, y in zip(epochs, ys, strict=False) if y is not None
                   and math.isfinite(y)]
            if not pts:
                continue
            any_acc |= ax is ax_acc
            any_val |= key.startswith("val_")
            ax.plot(*zip(*pts, strict=True), style, color=color, linewidth=1.2,
                    label=label if key in ("loss", "accuracy") else None)
    dashed = " (dashed: validation)" if any_val else ""
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cost J" + dashed)
    ax_loss.set_yscale("log")
    ax_loss.grid(alpha=0.3)
    ax_loss.legend(fontsize=7)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy" + dashed)
    ax_acc.grid(alpha=0.3)
    if not any_acc:
        ax_acc.set_visible(False)
    fig.suptitle(f"sweep {spec.name}: learning curves of the top {len(chosen)} trial(s) by "
                 f"{spec.metric}", fontsize=10)
    _save(fig, path)
    return True
