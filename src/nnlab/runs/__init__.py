"""A training run described by its settings, end to end: what ``nnlab train`` and each trial of
``nnlab sweep`` run.

- ``config``: ``TrainConfig``, a run's settings, validated, read from and written to TOML;
- ``run``: a ``TrainConfig`` → data, split, ``Model``, fit, metrics, model file
  (``run_config``, ``save_run``, ``load_run_model``).

Nothing is imported here: ``from nnlab.runs.run import run_config``.
"""
