"""The playground's "Export Python": a script that retrains the page's run with ``nnlab.Model``.

The script builds the same data (``nnlab.playground.data.build_data`` from the run's data
settings; an uploaded CSV's points are written into it), the same network (``Dense`` layers with
the run's initializer, seeded with the run's seed) and trains it with ``Model.fit`` on the
textbook's numbers (``fast="exact"``), epoch for epoch as the page did: every change made while
training (learning rate, λ, keep_prob, optimizer, batch size ...) and every weight edited by hand
is replayed at the epoch it was made. Its weights are then the page's, bit for bit. Run it with a
file name to save the model (``python run.py model.npz``).

What it cannot replay is said instead: a change made in the middle of an epoch (after Step by
mini-batch) refuses the export (``SettingsError``); an epoch under way when exporting is left out
(the script trains the whole epochs, and says so).

>>> from nnlab.playground.lab import Lab
>>> from nnlab.playground.settings import parse_settings
>>> lab = Lab(parse_settings({"dataset": "xor", "n_points": 40, "layers": [3]}))
>>> _ = lab.step(2)
>>> text = python_snippet(lab)
>>> "model.fit(X, y, epochs=2, initial_epoch=0" in text
True
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from .settings import DATA_KEYS, Settings, SettingsError

if TYPE_CHECKING:
    from .lab import Lab, LabRun

#: The Adam, momentum and RMSprop hyperparameters a run's settings hold.
_OPTIMIZER_KEYS = ("beta", "beta1", "beta2", "epsilon")


def _plain(text: str) -> str:
    """A name for the script's comments and docstring: letters, digits, ``. - _`` and spaces only
    (an uploaded file's name is the page's to choose: it must not end a comment or a string)."""
    return re.sub(r"[^\w.\- ]", "_", text)[:100]


def _array(values: np.ndarray) -> str:
    """An array as Python source that gives it back exactly (``repr`` of a float round-trips)."""
    return f"np.array({np.asarray(values, dtype=np.float64).tolist()!r})"


def _optimizer(s: Settings) -> str:
    hp = s.optimizer_hyperparams()
    hp.pop("learning_rate", None)
    args = "".join(f", {k}={v!r}" for k, v in hp.items())
    return f"get_optimizer({s.optimizer!r}, learning_rate={s.lr!r}{args})"


def _layers(s: Settings, output: str, n_out: int) -> str:
    init = repr(s.init)
    scale = f", init_scale={s.init_scale!r}" if s.init == "random" else ""
    hidden = [f"        Dense({n}, {a!r}, init={init}{scale}, keep_prob={s.keep_prob!r}"
              + (", batch_norm=True" if bn else "") + "),"
              for n, a, bn in zip(s.layers, s.activations, s.batch_norm, strict=True)]
    return "\n".join([*hidden, f"        Dense({n_out}, {output!r}, init={init}{scale}),"])


def _batch(s: Settings) -> str:
    return "None" if s.batch_size is None else str(s.batch_size)


def _callbacks(s: Settings) -> str:
    if not s.decay:
        return "[]"
    return f"[LearningRateScheduler(schedule_from({s.lr!r}, {s.decay!r}))]"


def _changes(old: Settings, new: Settings) -> list[str]:
    """The lines that give ``model`` the new learning settings (as ``LabRun.change`` does)."""
    lines = []
    if new.optimizer != old.optimizer:
        lines.append(f"model.set_optimizer({_optimizer(new)})  # a fresh optimizer state")
    elif any(getattr(new, k) != getattr(old, k) for k in _OPTIMIZER_KEYS):
        lines.append(f"model.optimizer = {_optimizer(new)}  # its state kept")
    if new.lr != old.lr or new.optimizer != old.optimizer:
        lines.append(f"model.learning_rate = {new.lr!r}")
    if new.l2 != old.l2:
        lines.append(f"model.l2 = {new.l2!r}")
    if new.l1 != old.l1:
        lines.append(f"model.l1 = {new.l1!r}")
    if new.keep_prob != old.keep_prob:
        lines.append(f"model.layers[:-1] = [replace(layer, keep_prob={new.keep_prob!r}) "
                     "for layer in model.layers[:-1]]")
    return lines


def _data_lines(lab: Lab, run: LabRun) -> list[str]:
    s = run.settings
    data = {k: getattr(s, k) for k in DATA_KEYS if k not in ("upload",)}
    if s.dataset != "csv":
        return [f"settings = parse_settings({data!r})",
                "data = build_data(settings)"]
    from .data import split, split_order

    # the uploaded file's points, in the file's order (the split is drawn from the seed)
    X = np.hstack([lab.data.X_train, lab.data.X_test])
    Y = np.hstack([lab.data.Y_train, lab.data.Y_test])
    order, n_test = split_order(X.shape[1], s.test_fraction, s.seed)
    assert n_test == lab.data.X_test.shape[1]
    inverse = np.empty_like(order)
    inverse[np.concatenate([order[n_test:], order[:n_test]])] = np.arange(X.shape[1])
    X, Y = X[:, inverse], Y[:, inverse]
    check = split(X, Y, s.test_fraction, s.seed)
    assert np.array_equal(check[0], lab.data.X_train)
    return [f"# the uploaded file {_plain(lab.data.name)}: x1, x2 and the class of each point",
            f"points = {_array(X)}",
            f"labels = {_array(Y)}",
            f"X_train, Y_train, X_test, Y_test = split(points, labels, {s.test_fraction!r}, "
            f"{s.seed!r})",
            "data = Data(X_train, Y_train, X_test, Y_test, (0, 0, 0, 0), "
            f"{lab.data.name!r})"]


def python_snippet(lab: Lab, run_index: int = 0) -> str:
    """A Python script that retrains run ``run_index`` of ``lab`` with ``nnlab.Model`` to the
    epoch it has reached, with the same weights; ``SettingsError`` when the run holds what the
    script cannot replay (a change made in the middle of an epoch)."""
    run = lab.runs[run_index]
    if run.unrecorded:
        raise SettingsError("export", f"the run was changed more than {len(run.journal)} times: "
                                      "too many changes for a Python export to replay")
    for event in run.journal:
        if event["batch"]:
            raise SettingsError(
                "export", f"a change was made in the middle of epoch {event['epoch']} (after "
                f"mini-batch {event['batch']}): the Python export replays whole epochs; reset, "
                "or make changes between epochs")
    first: Settings = run.first_settings  # the settings the run started with
    output, n_out = run.output, run.layer_dims[-1]
    partial = run.batch
    target = ("data.Y_train[0].astype(int)  # class indices: fit one-hot encodes them"
              if output == "softmax" else "data.Y_train.T")
    lines = [
        f'"""Retrain the nnlab playground\'s run{" " + _plain(run.label) if run.label else ""} '
        f"({_plain(lab.data.name)}, {run.epoch} epochs) with nnlab.Model.",
        "",
        "The same data, network, seed and changes as the page: the weights come out the same, bit",
        "for bit. `python this_file.py model.npz` also saves the model (nnlab.load reads it).",
    ]
    if partial:
        lines.append(f"(The page had made {partial} mini-batch(es) of epoch {run.epoch} too: "
                     "they are not replayed.)")
    lines += [
        '"""',
        "",
        "import sys",
        "from dataclasses import replace",
        "",
        "import numpy as np",
        "",
        "import nnlab",
        "from nnlab import Dense, Model",
        "from nnlab.callbacks import LearningRateScheduler",
        "from nnlab.datasets.features import expand_features",
        "from nnlab.optimizers import get_optimizer, schedule_from",
        "from nnlab.playground.data import Data, build_data, split",
        "from nnlab.playground.settings import parse_settings",
        "",
        "",
        "def set_weight(model, key, row, column, value):",
        '    """A weight edited on the page, from the next update on."""',
        "    params = {k: np.array(v) for k, v in model.params.items()}",
        "    params[key][row, column] = value",
        "    model.params = params",
        "",
        "",
        *_data_lines(lab, run),
        f"features = {list(first.features)!r}",
        "X = expand_features(data.X_train, features).T  # one row per example",
        f"y = {target}",
        "",
        "model = Model(",
        "    [",
        _layers(first, output, n_out),
        "    ],",
        f"    optimizer={_optimizer(first)},",
        f"    learning_rate={first.lr!r}, l2={first.l2!r}, l1={first.l1!r}, "
        f'random_state={first.seed!r}, fast="exact",',
        ")",
        "model.build(X.shape[1])  # the initial weights, drawn from the seed",
    ]
    if run.initial is not None:
        lines.append("# the weights loaded into the page (a model file) replace them")
        lines.append("model.params = {")
        lines += [f"    {k!r}: {_array(v)}," for k, v in run.initial.items()]
        lines.append("}")
        lines.append("model.opt_state = model.optimizer.init(model.params)")
    settings, epoch = first, 0
    events: list[dict[str, Any] | None] = [*run.journal, None]
    for item in events:
        until = run.epoch if item is None else item["epoch"]
        if until > epoch:
            lines.append(f"model.fit(X, y, epochs={until}, initial_epoch={epoch}, "
                         f"batch_size={_batch(settings)}, callbacks={_callbacks(settings)}, "
                         "verbose=0)")
            epoch = until
        if item is None:
            break
        if item["kind"] == "weight":
            lines.append(f"set_weight(model, 'W{item['layer']}', {item['row']}, "
                         f"{item['column']}, {item['value']!r})")
        else:
            new = item["settings"]
            lines.append(f"# epoch {epoch}: changed on the page")
            lines += _changes(settings, new)
            settings = new
    lines += [
        "",
        "if len(sys.argv) > 1:",
        "    nnlab.save(model, sys.argv[1])",
        "print('train loss', model.evaluate(X, y)['loss'])",
        "",
    ]
    return "\n".join(lines)


__all__ = ["python_snippet"]
