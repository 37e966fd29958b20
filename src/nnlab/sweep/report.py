"""What a sweep found: the points ranked by the metric (mean ± std over seeds), the ``expect``
claims checked seed by seed, and the files.

``write_outputs`` writes, next to ``trials/``:

- ``results.json``: the sweep's settings, the ranked points, the claims, the best point and
  every trial (settings, status, metrics, error); no timings, so the same sweep gives the same
  file wherever and however it ran;
- ``results.csv``: one row per trial;
- ``best.toml``: the best point's settings with the seed of its best trial, ready for
  ``nnlab train --config best.toml``;
- ``metric_vs_params.png``: the metric against each swept parameter (every trial, and the
  mean ± std of each value); ``learning_curves.png``: loss and accuracy curves of the top trials.

The mean and the standard deviation (the sample one, ``ddof=1``) are over a point's finished
trials; a point with a failed or diverged trial ranks after every point without one, so the best
point is never one that only some seeds can train.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files.format import atomic_write_bytes
from ..runs.config import TrainConfig
from .result import SweepResult
from .spec import SPLITS, Point, Trial

RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
BEST_TOML = "best.toml"
PARAMS_PNG = "metric_vs_params.png"
CURVES_PNG = "learning_curves.png"
#: Trials whose learning curves are drawn.
TOP_CURVES = 5


@dataclass
class PointSummary:
    """One point's trials: the metric of each finished one, its mean and sample std."""

    point: Point
    trials: list[Trial]
    values: list[float]
    failed: int
    errors: list[str] = field(default_factory=list)
    best: Trial | None = None

    @property
    def mean(self) -> float | None:
        if not self.values:
            return None
        try:
            return math.fsum(self.values) / len(self.values)
        except OverflowError:  # pragma: no cover - values near the float limit
            return math.inf

    @property
    def std(self) -> float | None:
        if not self.values:
            return None
        if len(self.values) == 1:
            return 0.0
        m = self.mean
        assert m is not None  # values is not empty
        try:
            var = math.fsum((v - m) ** 2 for v in self.values) / (len(self.values) - 1)
        except OverflowError:  # values near the float limit (a run on its way to diverging)
            return math.inf
        return math.sqrt(var)


@dataclass
class Claim:
    """``better > worse`` held on ``held`` of ``of`` seeds (the better one finished with a
    strictly better metric, or finished where the other failed)."""

    better: str
    worse: str
    held: int
    of: int

    @property
    def text(self) -> str:
        return f"{self.better} > {self.worse}"


def _better(a: float, b: float, goal: str) -> bool:
    return a > b if goal == "max" else a < b


def summarize(result: SweepResult) -> list[PointSummary]:
    """The points, best first: by the mean of their finished trials' metric, the points with a
    failed or diverged trial after those whose every trial finished, the points without a
    finished trial last (in sweep order)."""
    spec = result.spec
    by_point: dict[int, PointSummary] = {}
    for trial in result.trials:
        s = by_point.setdefault(trial.point.index, PointSummary(trial.point, [], [], 0))
        s.trials.append(trial)
        v = result.value(trial)
        rec = result.records.get(trial.id, {})
        if v is None:
            s.failed += 1
            error = rec.get("error") or f"no {spec.metric} (status {rec.get('status', 'missing')})"
            if error not in s.errors:
                s.errors.append(error)
            continue
        s.values.append(v)
        best = None if s.best is None else result.value(s.best)
        if best is None or _better(v, best, spec.goal):
            s.best = trial
    sign = -1.0 if spec.goal == "max" else 1.0
    return sorted(by_point.values(), key=lambda s: (
        s.mean is None, s.failed > 0, sign * s.mean if s.mean is not None else 0.0,
        s.point.index))


def check_claims(result: SweepResult) -> tuple[list[Claim], int]:
    """Each ``expect`` claim's count, and the number of seeds on which all of them held."""
    spec = result.spec
    table: dict[tuple[str, int], float | None] = {}
    for trial in result.trials:
        table[(trial.point.label, trial.seed_index)] = result.value(trial)
    claims = []
    all_held = [True] * spec.seeds
    for better, worse in spec.expect:
        held = 0
        for k in range(spec.seeds):
            a, b = table.get((better, k)), table.get((worse, k))
            ok = a is not None and (b is None or _better(a, b, spec.goal))
            held += ok
            all_held[k] &= ok
        claims.append(Claim(better, worse, held, spec.seeds))
    return claims, sum(all_held) if spec.expect else 0


def best_config(result: SweepResult, summaries: list[PointSummary] | None = None
                ) -> tuple[PointSummary, TrainConfig] | None:
    """The best point and its settings with the seed of its best trial (None: nothing ran)."""
    summaries = summarize(result) if summaries is None else summaries
    if not summaries or summaries[0].best is None:
        return None
    top = summaries[0]
    assert top.best is not None  # checked above
    return top, TrainConfig.from_dict(top.best.config)


# ---------------------------------------------------------------------------------- the table


def _fmt(v: float | None, quantity: str) -> str:
    if v is None:
        return "-"
    return f"{100 * v:.2f}" if quantity == "accuracy" else f"{v:.5g}"


def format_table(result: SweepResult, summaries: list[PointSummary] | None = None) -> str:
    """The ranked points as a text table, with the claims and the best point below it."""
    spec = result.spec
    summaries = summarize(result) if summaries is None else summaries
    unit = " %" if spec.quantity == "accuracy" else ""
    head = (f"sweep {spec.name}: {spec.n_points()} point(s) x {spec.seeds} seed(s) = "
            f"{spec.n_trials()} trials; {spec.metric}{unit}, "
            f"{'higher' if spec.goal == 'max' else 'lower'} is better")
    width = max([len("point")] + [len(s.point.label) for s in summaries])
    width = min(width, 48)
    rows = [head, "",
            f"{'rank':>4}  {'point':<{width}}  {'mean ± std':>17}  {'min':>7}  {'max':>7}  "
            f"{'ok':>7}"]
    for rank, s in enumerate(summaries, 1):
        label = s.point.label if len(s.point.label) <= width else s.point.label[:width - 1] + "…"
        mean_std = (f"{_fmt(s.mean, spec.quantity)} ± {_fmt(s.std, spec.quantity)}"
                    if s.values else "-")
        lo = _fmt(min(s.values), spec.quantity) if s.values else "-"
        hi = _fmt(max(s.values), spec.quantity) if s.values else "-"
        ok = f"{len(s.values)}/{len(s.trials)}"
        rows.append(f"{rank:>4}  {label:<{width}}  {mean_std:>17}  {lo:>7}  {hi:>7}  {ok:>7}")
        if s.errors:
            rows.append(f"{'':>4}  {'':<{width}}  failed: {s.errors[0][:90]}")
    claims, together = check_claims(result)
    if claims:
        rows.append("")
        for c in claims:
            rows.append(f"expect {c.text}: held on {c.held} of {c.of} seeds")
        if len(claims) > 1:
            rows.append(f"all {len(claims)} together: held on {together} of {spec.seeds} seeds")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------- the files


def _trial_row(result: SweepResult, trial: Trial) -> dict[str, Any]:
    rec = result.records.get(trial.id, {})
    row: dict[str, Any] = {
        "index": trial.index, "id": trial.id, "point": trial.point.index,
        "label": trial.point.label, "params": trial.point.params,
        "seed_index": trial.seed_index, "seed": trial.seed,
        "status": rec.get("status", "missing"), result.spec.metric: result.value(trial),
    }
    for key in ("metrics", "epochs_run", "stopped_early", "error", "epoch"):
        if key in rec:
            row[key] = rec[key]
    return row


def to_json(result: SweepResult) -> dict[str, Any]:
    """Everything ``results.json`` holds (no timings: the same sweep gives the same JSON)."""
    from .._version import __version__

    spec = result.spec
    summaries = summarize(result)
    claims, together = check_claims(result)
    best = best_config(result, summaries)
    return {
        "nnlab": __version__,
        "sweep": {
            "name": spec.name, "seed": spec.seed, "seeds": spec.seeds, "metric": spec.metric,
            "goal": spec.goal, "points": spec.n_points(), "trials": spec.n_trials(),
            "axes": spec.axes(), "base": spec.base, "cases": spec.cases, "grid": spec.grid,
            "random": {k: d.describe() for k, d in spec.random.items()},
            "n_samples": spec.n_samples,
            "expect": [f"{a} > {b}" for a, b in spec.expect],
        },
        "points": [
            {"rank": rank, "label": s.point.label, "params": s.point.params,
             "mean": s.mean, "std": s.std,
             "min": min(s.values) if s.values else None,
             "max": max(s.values) if s.values else None,
             "values": s.values, "trials": len(s.trials), "ok": len(s.values),
             "failed": s.failed, "errors": s.errors}
            for rank, s in enumerate(summaries, 1)
        ],
        "expect": [{"claim": c.text, "held": c.held, "of": c.of} for c in claims],
        "expect_all": {"held": together, "of": spec.seeds} if claims else None,
        "best": None if best is None else {
            "label": best[0].point.label, "seed": best[1].seed, "mean": best[0].mean,
            "std": best[0].std, "config": best[1].to_dict()},
        "trials": [_trial_row(result, t) for t in result.trials],
    }


def to_csv(result: SweepResult) -> str:
    """One row per trial: its point, seed, swept values, status, every metric, error."""
    spec = result.spec
    axes = spec.axes()
    metric_cols = [f"{s}_{q}" for s in SPLITS for q in ("loss", "accuracy")]
    header = ["index", "id", "point", "label", "seed_index", "seed", *axes, "status",
              spec.metric, *metric_cols, "epochs_run", "stopped_early", "error"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for trial in result.trials:
        rec = result.records.get(trial.id, {})
        metrics = rec.get("metrics", {})
        value = result.value(trial)
        writer.writerow([
            trial.index, trial.id, trial.point.index, trial.point.label, trial.seed_index,
            trial.seed, *(_csv_value(trial.point.params.get(a)) for a in axes),
            rec.get("status", "missing"), _csv_value(value),
            *(_csv_value(metrics.get(c.split("_")[0], {}).get(c.split("_")[1]))
              for c in metric_cols),
            rec.get("epochs_run", ""), rec.get("stopped_early", ""), rec.get("error", ""),
        ])
    return buf.getvalue()


def _csv_value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return json.dumps(v)
    return repr(v) if isinstance(v, float) else str(v)


def best_toml(result: SweepResult) -> str | None:
    """``best.toml``: the best point's settings, ready for ``nnlab train --config``."""
    best = best_config(result)
    if best is None:
        return None
    top, config = best
    spec = result.spec
    std = "" if top.std is None else f" ± {_fmt(top.std, spec.quantity)}"
    unit = " %" if spec.quantity == "accuracy" else ""
    lines = [
        f"# best point of sweep {spec.name!r}: {top.point.label}",
        f"# {spec.metric}: {_fmt(top.mean, spec.quantity)}{std}{unit} over {len(top.values)} "
        f"seed(s); seed = its best trial's",
        "# train it: nnlab train --config best.toml",
    ]
    return "\n".join(lines) + "\n" + config.to_toml()


def _finite(x: Any) -> Any:
    """JSON has no inf / NaN: they become null."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_outputs(result: SweepResult, out_dir: str | Path, plots: bool = True
                  ) -> dict[str, str]:
    """Write results.json, results.csv, best.toml and (with ``plots``) the PNGs; return
    ``{kind: path}`` of what was written."""
    out = Path(out_dir)
    files = {}
    payload = json.dumps(_finite(to_json(result)), indent=1, allow_nan=False,
                         ensure_ascii=False)
    atomic_write_bytes(out / RESULTS_JSON, (payload + "\n").encode("utf-8"))
    files["json"] = str(out / RESULTS_JSON)
    atomic_write_bytes(out / RESULTS_CSV, to_csv(result).encode("utf-8"))
    files["csv"] = str(out / RESULTS_CSV)
    best = best_toml(result)
    if best is not None:
        atomic_write_bytes(out / BEST_TOML, best.encode("utf-8"))
        files["best"] = str(out / BEST_TOML)
    if plots:
        from .plots import plot_curves, plot_params

        if plot_params(result, out / PARAMS_PNG):
            files["params_plot"] = str(out / PARAMS_PNG)
        if plot_curves(result, out / CURVES_PNG, TOP_CURVES):
            files["curves_plot"] = str(out / CURVES_PNG)
    return files

