"""Hyperparameter sweeps: many training runs of one ``TrainConfig`` with some settings varied,
each over several seeds; locally in worker processes, or on a Dask cluster.

- ``spec``: the sweep file (``[sweep]``, ``[base]``, ``[cases]``, ``[grid]``, ``[random]``), its
  points and trials, and the trials' seeds (``SeedSequence(seed).spawn``);
- ``execute``: ``run_trial`` (one run, its errors recorded), the local and Dask executors, the
  per-trial files that make a sweep resumable, and ``run_sweep``;
- ``report``: the table (mean ± std over seeds), the ``expect`` claims, ``results.json``,
  ``results.csv``, ``best.toml``; ``plots``: the PNGs;
- ``command``: ``nnlab sweep``.

>>> import tempfile
>>> spec = parse_spec('''
... [sweep]
... seeds = 2
... metric = "train.accuracy"
... expect = ["adam > gd"]
... [base]
... dataset = "moons"
... layers = [4]
... epochs = 30
... lr = 0.01
... [cases]
... gd = { optimizer = "gd" }
... adam = { optimizer = "adam" }
... ''')
>>> with tempfile.TemporaryDirectory() as out:
...     result = run_sweep(spec, out, jobs=1, plots=False)
>>> [s.point.label for s in summarize(result)]
['adam', 'gd']
>>> [(c.text, c.held, c.of) for c in check_claims(result)[0]]
[('adam > gd', 2, 2)]
"""

from .execute import TrialStore, run_sweep, run_trial
from .report import (
    Claim,
    PointSummary,
    best_config,
    check_claims,
    format_table,
    summarize,
    write_outputs,
)
from .result import SweepResult
from .spec import (
    Distribution,
    Point,
    SweepError,
    SweepSpec,
    Trial,
    expand,
    load_spec,
    parse_spec,
    points,
    trial_seeds,
)

__all__ = [
    "Claim",
    "Distribution",
    "Point",
    "PointSummary",
    "SweepError",
    "SweepResult",
    "SweepSpec",
    "Trial",
    "TrialStore",
    "best_config",
    "check_claims",
    "expand",
    "format_table",
    "load_spec",
    "parse_spec",
    "points",
    "run_sweep",
    "run_trial",
    "summarize",
    "trial_seeds",
    "write_outputs",
]
