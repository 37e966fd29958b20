"""The ``nnlab`` sub-commands that train and use models: train, evaluate, predict, summary,
gradcheck, plot and datasets. ``nnlab.cli`` registers them with ``register(subparsers)``.

Every command takes ``--json``; a user's mistake (a bad value, a missing file, a model that does
not fit the data) is one line on stderr and exit code 2; a failed gradient check or a diverged
run is exit code 1; success is 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np

from .config import FULL_BATCH, ConfigError, TrainConfig

#: Flags of ``train`` / ``gradcheck``: TrainConfig key -> (flag, parser, help).
_LIST = "comma-separated"


class CommandError(Exception):
    """A user's mistake: printed as one line, exit code 2."""


def _ints(text: str) -> list[int]:
    if text.strip().lower() == "none":
        return []  # no hidden layer: logistic (or linear) regression
    try:
        sizes = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        sizes = []
    if not sizes:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of whole numbers like 20,3 (none: no hidden layer)"
        )
    return sizes


def _names(text: str) -> str | list[str]:
    parts = [t.strip() for t in text.split(",") if t.strip()]
    return parts[0] if len(parts) == 1 else parts


def _floats(text: str) -> float | list[float]:
    try:
        parts = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number or a list of numbers") from None
    return parts[0] if len(parts) == 1 else parts


def _batch(text: str) -> int | str:
    """A batch size, or ``"full"`` (kept as the string: None would read as "not given")."""
    if text == FULL_BATCH:
        return FULL_BATCH
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a batch size: give a whole number, or 'full'"
        ) from None


def _features(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


SETTINGS: dict[str, tuple[Any, str]] = {
    "target": (str, "the label column of a CSV file (default: the last)"),
    "n_samples": (int, "points of a generated data set"),
    "noise": (float, "noise of a generated data set"),
    "features": (_features, "2-D input features, e.g. x1,x2,x1_sq,x2_sq,x1_x2,sin_x1,sin_x2"),
    "layers": (_ints, "hidden layer sizes, e.g. 20,3, or none (default: 10)"),
    "activation": (_names, "hidden activation, one or one per layer: relu, tanh, sigmoid, "
                   "leaky_relu, identity (default: relu)"),
    "output": (str, "output activation (default: from the labels)"),
    "init": (str, "zeros, random, he or xavier (default: he)"),
    "init_scale": (float, "the factor of --init random (default 0.01)"),
    "optimizer": (str, "gd, momentum, rmsprop or adam (default: adam)"),
    "lr": (float, "learning rate α (default: 0.01)"),
    "beta": (float, "momentum's β (default 0.9)"),
    "beta1": (float, "Adam's β1 (default 0.9)"),
    "beta2": (float, "Adam's / RMSprop's β2 (default 0.999)"),
    "epsilon": (float, "Adam's / RMSprop's ε (default 1e-8)"),
    "decay": (float, "learning-rate decay: α = α0 / (1 + decay · epoch) (default 0: none)"),
    "decay_interval": (int, "decay in steps: α0 / (1 + decay · floor(epoch / interval))"),
    "batch_size": (_batch, "examples per update, or 'full' (default: 64)"),
    "epochs": (int, "passes over the data (default: 100)"),
    "l2": (float, "L2 strength λ (default: 0)"),
    "keep_prob": (_floats, "dropout keep probability, one or one per hidden layer (default 1)"),
    "val_split": (float, "fraction held out for validation (default: 0)"),
    "early_stopping": (int, "stop after N epochs without a better validation loss (0: off)"),
    "seed": (int, "seeds every random choice (default: 0)"),
}


#: The settings that do not change a gradient check (how training goes on from the gradient).
TRAINING_ONLY = ("optimizer", "lr", "beta", "beta1", "beta2", "epsilon", "decay",
                 "decay_interval", "batch_size", "epochs", "val_split", "early_stopping")


def _add_settings(p: argparse.ArgumentParser, with_dataset: bool = True,
                  skip: tuple[str, ...] = ()) -> None:
    if with_dataset:
        p.add_argument("dataset", nargs="?", help="a data set's name (nnlab datasets) or a "
                       ".csv / .npz file (default: moons, or the config's)")
    p.add_argument("--config", metavar="FILE.toml", help="read the settings from a TOML file; "
                   "flags override it")
    for key, (kind, text) in SETTINGS.items():
        if key in skip:
            continue
        p.add_argument("--" + key.replace("_", "-"), dest=key, type=kind, default=None,
                       help=text)
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder of the course's data files (default: $NNLAB_DATA)")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Defaults, then the --config file, then the flags; validated."""
    data: dict[str, Any] = {}
    if getattr(args, "config", None):
        data = TrainConfig.from_file(args.config).to_dict()
        if data.get("batch_size") == FULL_BATCH:
            data["batch_size"] = None
    if getattr(args, "dataset", None):
        data["dataset"] = args.dataset
    for key in SETTINGS:
        value = getattr(args, key, None)
        if value is not None:
            data[key] = value
    if data.get("batch_size") == FULL_BATCH:
        data["batch_size"] = None
    for key in ("layers",):
        if key in data and isinstance(data[key], int):
            data[key] = [data[key]]
    return TrainConfig.from_dict(data, where=getattr(args, "config", None) or "flags")


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    if args.json:
        print(json.dumps(payload, indent=1, default=_json_default))
    else:
        print(text)


def _json_default(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"{type(x).__name__} is not JSON serializable")


def _fmt_metrics(metrics: dict[str, dict[str, float]]) -> str:
    lines = []
    for split, m in metrics.items():
        parts = [f"loss {m['loss']:.4f}"]
        if "accuracy" in m:
            parts.append(f"accuracy {100 * m['accuracy']:.2f} %")
        lines.append(f"{split:>5}: " + ", ".join(parts))
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- train


def _check_outputs(args: argparse.Namespace) -> None:
    """The files ``train`` will write can be written (regular files or new paths, in folders
    that exist or can be made): checked before any training."""
    from .io import check_output_path
    from .runner import CONFIG_FILE, MODEL_FILE, model_path

    if args.save:
        file = model_path(args.save)
        check_output_path(file)
        if file.name == MODEL_FILE and file.parent == Path(args.save):
            check_output_path(Path(args.save) / CONFIG_FILE)
    if args.checkpoint:
        check_output_path(args.checkpoint)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a network on a data set and report train / validation (/ test) accuracy."""
    from .runner import run_config, save_run
    from .training import DivergenceError

    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise CommandError(f"--checkpoint-every {args.checkpoint_every}: expected >= 1")
    for flag in ("save", "checkpoint", "resume"):
        if getattr(args, flag) is not None and not getattr(args, flag).strip():
            raise CommandError(f"--{flag} '': give a path")
    config = None if args.resume else config_from_args(args)
    changes = None
    if config is None:
        if args.config or args.dataset:
            raise CommandError("--resume continues a run with its saved settings: don't give "
                               "a data set or --config with it")
        # --epochs sets a new total; any other setting must equal the checkpoint's
        changes = {k: getattr(args, k) for k in SETTINGS if getattr(args, k, None) is not None}
    _check_outputs(args)  # a bad --save / --checkpoint is refused before training, not after
    try:
        result = run_config(
            config, data_dir=args.data_dir, verbose=0 if args.json or args.quiet else 1,
            checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every or 1,
            resume=args.resume, resume_changes=changes,
        )
    except KeyboardInterrupt as exc:
        print(f"nnlab train: {_interrupted(args, exc)}", file=sys.stderr)
        return 130
    except DivergenceError as exc:
        print(f"nnlab train: error: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"error": str(exc), "epoch": exc.epoch}))
        return 1
    rose = _cost_rose(result)
    if rose:
        print(f"nnlab train: warning: {rose}", file=sys.stderr)
    saved = None
    if args.save:
        saved = str(save_run(result, args.save))
    payload = {"config": result.config.to_dict(), "metrics": result.metrics,
               "epochs": result.epochs_run, "stopped_early": result.stopped_early,
               "classes": result.classes, "loss_curve": result.history.loss, "model": saved}
    text = _fmt_metrics(result.metrics)
    text = f"trained {result.epochs_run} epochs" + (
        " (stopped early)" if result.stopped_early else "") + "\n" + text
    if saved:
        text += f"\nmodel saved to {saved}"
    _emit(args, payload, text)
    return 0


def _interrupted(args: argparse.Namespace, exc: KeyboardInterrupt) -> str:
    """What Ctrl-C left behind, and how to go on: one line."""
    import shlex

    if not args.checkpoint:
        if args.resume:
            return (f"interrupted; {args.resume} still holds the run as it was (add --checkpoint "
                    "FILE to keep the progress of a resumed run)")
        return "interrupted; nothing was saved (--checkpoint FILE makes a run resumable)"
    epoch = getattr(exc, "checkpoint_epoch", None)
    if epoch is None:
        return f"interrupted before the first checkpoint was written to {args.checkpoint}"
    again = ["nnlab", "train", "--resume", args.checkpoint, "--checkpoint", args.checkpoint]
    for flag in ("checkpoint_every", "data_dir", "save"):
        if getattr(args, flag, None) is not None:
            again += ["--" + flag.replace("_", "-"), str(getattr(args, flag))]
    return (f"interrupted; {args.checkpoint} holds the run after epoch {epoch}; go on with: "
            + " ".join(shlex.quote(a) for a in again))


def _cost_rose(result) -> str | None:
    """A warning when training ended far above where it started (a learning rate too large
    makes the cost jump instead of descend), else None."""
    loss = result.history.loss
    if not loss:
        return None
    first = result.initial_loss if result.initial_loss is not None else loss[0]
    last = loss[-1]
    if not (np.isfinite(first) and np.isfinite(last)) or not (last > 2 * first and
                                                              last - first > 0.1):
        return None
    start = "before training" if result.initial_loss is not None else "after epoch 1"
    return (f"the cost rose from {first:.4g} ({start}) to {last:.4g} (epoch {len(loss)}): the "
            f"learning rate {result.config.lr:g} is probably too large; try a smaller --lr")


# ------------------------------------------------------------------------- model + data


def _load(path: str):
    from .runner import load_run_model

    return load_run_model(path)


def _model_data(model, data: str, data_dir: str | None, need_labels: bool = True,
                target: str | None = None):
    """The data set ``data`` prepared as the model was trained: features, class encoding
    (labels the model never saw are refused, by name). ``target``: a CSV's label column (the
    default: the one the model was trained with, else the last)."""
    from .datasets.registry import load_dataset
    from .runner import apply_features, encode_labels

    extra = getattr(model, "extra", {}) or {}
    config = extra.get("config", {})
    is_csv = Path(data).suffix.lower() == ".csv"
    if target is not None and not is_csv:
        raise CommandError(f"--target {target}: names a CSV file's label column, but {data} is "
                           "not a .csv file")
    if target is None and is_csv:
        target = config.get("target")
    ds = load_dataset(data, data_dir=data_dir, target=target,
                      n_samples=config.get("n_samples"), noise=config.get("noise"),
                      seed=config.get("seed", 0))
    features = extra.get("features")
    splits = {"data": (ds.X, ds.y)}
    if ds.X_test is not None:
        assert ds.y_test is not None  # a test set comes with its labels
        splits = {"train": (ds.X, ds.y), "test": (ds.X_test, ds.y_test)}
    out = {}
    for name, (X, y) in splits.items():
        X = apply_features(X, features)
        if X.shape[1] != model.input_dim:
            raise CommandError(
                f"{data} has {X.shape[1]} features but the model takes {model.input_dim}"
            )
        classes = extra.get("classes") or []
        if need_labels and ds.class_names is not None and not classes:
            raise CommandError(f"{data}: the labels are names ({ds.class_names[0]!r}, ...) but "
                               "the model predicts numbers")
        if classes and need_labels:
            try:
                y = encode_labels(ds.labels(y), classes)
            except ValueError as exc:
                raise CommandError(f"{data}: {exc}") from None
        out[name] = (X, y)
    return out, ds


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Loss and accuracy of a saved model on a data set (its train and test parts, if any)."""
    model = _load(args.model)
    splits, _ = _model_data(model, args.data, args.data_dir, target=args.target)
    metrics = {name: model.evaluate(X, y) for name, (X, y) in splits.items()}
    _emit(args, {"model": args.model, "data": args.data, "metrics": metrics},
          _fmt_metrics(metrics))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Predictions of a saved model for every example of a data set (or a features-only CSV)."""
    model = _load(args.model)
    X = _predict_inputs(model, args)
    extra = getattr(model, "extra", {}) or {}
    classes = extra.get("classes") or []
    raw = model.predict(X)
    proba = model.predict_proba(X)
    labels = [classes[int(i)] for i in np.ravel(raw)] if classes else np.ravel(raw).tolist()
    if args.out:
        import csv
        import io

        from .io import atomic_write_bytes

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if model.layers[-1].activation in ("sigmoid", "softmax"):
            if proba.shape[1] == 1:  # one sigmoid unit: P(class 1); write both classes'
                proba = np.hstack([1 - proba, proba])
            names = classes if len(classes) == proba.shape[1] else range(proba.shape[1])
            writer.writerow(["prediction", *(f"p_{c}" for c in names)])
            for lab, p in zip(labels, proba, strict=True):
                writer.writerow([lab, *(f"{v:.6g}" for v in p)])
        else:  # a regression: the prediction is the output itself
            writer.writerow(["prediction"])
            writer.writerows([f"{v:.6g}"] for v in labels)
        atomic_write_bytes(args.out, buffer.getvalue().encode("utf-8"))
    payload = {"model": args.model, "data": args.data, "predictions": labels,
               "out": args.out}
    shown = labels[:20]
    text = f"{len(labels)} predictions" + (f" written to {args.out}" if args.out else "") + \
        f"\nfirst {len(shown)}: {' '.join(str(s) for s in shown)}"
    _emit(args, payload, text)
    return 0


def _predict_inputs(model, args) -> np.ndarray:
    """The examples to predict: a data set as for ``evaluate`` (its test part when it has one),
    or a CSV holding just the model's feature columns."""
    from .runner import apply_features

    extra = getattr(model, "extra", {}) or {}
    path = Path(args.data)
    if path.suffix.lower() == ".csv":
        X = _predict_csv(model, path, args.target)
        X = apply_features(X, extra.get("features"))
        if X.shape[1] != model.input_dim:
            raise CommandError(f"{args.data} has {X.shape[1]} features but the model "
                               f"takes {model.input_dim}")
        return X
    splits, _ = _model_data(model, args.data, args.data_dir, need_labels=False,
                            target=args.target)
    return splits["test"][0] if "test" in splits else next(iter(splits.values()))[0]


def _predict_csv(model, path: Path, target: str | None) -> np.ndarray:
    """A CSV's feature columns for ``predict``. A label column is dropped only when named
    (``--target``), when it is the column the model was trained to predict, or when the other
    columns are exactly the model's features by name; dropping is said on stderr. Columns named
    as the model's features are put in the model's order."""
    from .datasets.registry import csv_header, load_csv_features

    extra = getattr(model, "extra", {}) or {}
    names = [str(n) for n in extra.get("feature_names") or []]
    n_in = len(names) or model.input_dim
    header = csv_header(path)
    trained_target = (extra.get("config") or {}).get("target")
    drop = None
    if target is not None:
        if target not in header:
            raise CommandError(f"{path}: --target {target}: no such column; columns: "
                               f"{', '.join(header)}")
        drop = target
    elif len(header) == n_in + 1:
        if trained_target in header:
            drop, why = trained_target, "the model's label column"
        elif names and set(names) <= set(header):
            drop = next(h for h in header if h not in names)
            why = "not one of the model's features"
        else:
            raise CommandError(
                f"{path} has {len(header)} columns but the model takes {n_in}: if one is a label "
                "column, name it with --target NAME")
        print(f"nnlab predict: note: ignoring column {drop!r} of {path.name} ({why})",
              file=sys.stderr)
    X, columns = load_csv_features(path, drop=drop)
    if names and columns != names and sorted(columns) == sorted(names):
        X = X[:, [columns.index(n) for n in names]]
    elif len(columns) != n_in:
        raise CommandError(f"{path} has {len(columns)} feature columns but the model takes "
                           f"{n_in}" + ("" if drop else "; name a label column to leave out "
                                        "with --target NAME"))
    return X


def cmd_summary(args: argparse.Namespace) -> int:
    """The layers of a saved model: shapes of W, b, Z and A, parameter counts, settings."""
    model = _load(args.model)
    extra = getattr(model, "extra", {}) or {}
    layers = [{"units": layer.units, "activation": layer.activation, "init": layer.init_name,
               "keep_prob": layer.keep_prob} for layer in model.layers]
    payload = {"model": args.model, "layer_dims": model.layer_dims, "layers": layers,
               "params": model.count_params(), "loss": model.loss,
               "optimizer": model.optimizer.name, "l2": model.l2,
               "classes": extra.get("classes"), "config": extra.get("config")}
    _emit(args, payload, model.summary())
    return 0


# --------------------------------------------------------------------------------- gradcheck


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """Check backprop's gradient against finite differences on a data set and network.

    Exit status 0 when it passes or is inconclusive at a relu kink, 1 on a mistake."""
    from .gradcheck import gradient_check
    from .runner import build_model, prepare_data

    config = config_from_args(args)
    if any(k < 1 for k in config.keep_probs()):
        raise CommandError(
            "gradient checking is refused with dropout on (--keep-prob < 1): each forward pass "
            "draws a new mask, so the finite differences would not measure the gradient"
        )
    if args.examples < 1:
        raise CommandError(f"--examples {args.examples}: expected >= 1")
    prepared = prepare_data(config.replace(val_split=0.0, early_stopping=0), args.data_dir)
    model = build_model(config, prepared.X_train.shape[1], prepared.task, len(prepared.classes))
    X = prepared.X_train[: args.examples]
    y = prepared.y_train[: args.examples]
    Y = model._targets(y, X.shape[0], np.dtype(np.float64))
    assert model.params is not None  # built
    n = sum(v.size for v in model.params.values())
    if n > args.max_params:
        raise CommandError(
            f"the network has {n} parameters; checking costs 2 forward passes each: use a "
            f"smaller network, or raise --max-params (now {args.max_params})")
    result = gradient_check(model.params, X.T, Y.T, model.activations, lambd=config.l2,
                            epsilon=args.fd_epsilon, loss=model.loss)
    payload = {"difference": result.difference, "per_parameter": result.per_parameter,
               "threshold": result.threshold, "passed": result.passed,
               "failing": result.failing, "examples": int(X.shape[0]), "parameters": n,
               "verdict": result.verdict, "inconclusive": result.inconclusive,
               "at_kink": result.at_kink, "difference_off_kink": result.difference_off_kink,
               "kinks": [k._asdict() for k in result.kinks]}
    _emit(args, payload, result.report())
    # inconclusive at a kink is no mistake found: exit 0 (the report says INCONCLUSIVE)
    return 1 if result.verdict == "wrong" else 0


# ------------------------------------------------------------------------------------- plot


def cmd_plot(args: argparse.Namespace) -> int:
    """Plot a saved model: the decision boundary on 2-D data and its cost / validation curves."""
    from .plotting import new_figure, plot_costs, plot_decision_boundary, save_figure

    model = _load(args.model)
    splits, ds = _model_data(model, args.data, args.data_dir)
    history = model.history
    curves = {}
    if history is not None and history.loss:
        curves["train loss"] = list(enumerate(history.loss))
        if history.val_loss:
            curves["validation loss"] = list(enumerate(history.val_loss))
    extra = getattr(model, "extra", {}) or {}
    raw_2d = ds.X.shape[1] == 2
    binary = model.layers[-1].activation == "sigmoid" and model.layers[-1].units == 1
    panels = (1 if raw_2d and binary else 0) + (1 if curves else 0)
    if panels == 0:
        raise CommandError(
            "nothing to plot: the decision boundary needs 2-D data and a binary model, and "
            "the model file holds no cost history")
    fig, axes = new_figure(panels)
    i = 0
    if raw_2d and binary:
        from .runner import apply_features

        _, y = next(iter(splits.values()))  # the first split: the data set's own points

        def classify(P: np.ndarray) -> np.ndarray:
            return model.predict(apply_features(P.T, extra.get("features"))).reshape(1, -1)

        plot_decision_boundary(axes[i], classify, ds.X.T, y.reshape(1, -1),
                               title=f"decision boundary on {args.data}")
        i += 1
    if curves:
        plot_costs(axes[i], curves, title="cost per epoch", xlabel="epoch")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, out)
    _emit(args, {"out": str(out), "panels": panels}, f"plot written to {out}")
    return 0


# --------------------------------------------------------------------------------- datasets


def cmd_datasets(args: argparse.Namespace) -> int:
    """List the data sets, or show one: shape, classes and counts, and a scatter plot.

    ``nnlab datasets fetch`` downloads the course's files (verified by SHA-256) into the cache or
    --data-dir; ``nnlab datasets status`` says where each is found and whether its hash matches
    (exit 1 when one is missing or wrong)."""
    from .datasets.registry import CATALOG, load_dataset

    if args.name == "fetch":
        return _datasets_fetch(args)
    if args.name == "status":
        return _datasets_status(args)
    if not args.name:  # described from the catalog: nothing is built or read
        rows = []
        for name, about in CATALOG.items():
            row: dict[str, Any] = {"name": name, "file": bool(about.files),
                                   "samples": about.samples, "features": about.features,
                                   "task": about.task, "description": about.description}
            if about.files:
                row["files"] = list(about.files)
            rows.append(row)
        if args.json:
            print(json.dumps({"datasets": rows}))
            return 0
        print("data sets (nnlab datasets NAME shows one; nnlab datasets fetch gets the course's "
              "files):")
        for r in rows:
            size = f"{r['samples']} x {r['features']}, {r['task']}"
            print(textwrap.fill(f"  {r['name']:<20} {size:<24} {r['description']}", 100,
                                subsequent_indent=" " * 48, break_long_words=False))
        return 0
    ds = load_dataset(args.name, data_dir=args.data_dir)
    info: dict[str, Any] = {"name": args.name, "samples": int(ds.X.shape[0]),
                            "features": int(ds.X.shape[1]), "task": ds.task,
                            "description": ds.description}
    if ds.task != "regression":
        values, counts = np.unique(ds.y, return_counts=True)
        info["classes"] = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
    if ds.X_test is not None:
        info["test_samples"] = int(ds.X_test.shape[0])
    if args.plot:
        if ds.X.shape[1] != 2:
            raise CommandError(f"--plot needs 2-D data; {args.name} has {ds.X.shape[1]} features")
        from .plotting import new_figure, plot_points, save_figure

        fig, axes = new_figure(1)
        plot_points(axes[0], ds.X.T, ds.y.reshape(1, -1), title=args.name)
        save_figure(fig, args.plot)
        info["plot"] = args.plot
    text = "\n".join(f"{k}: {v}" for k, v in info.items())
    _emit(args, info, text)
    return 0


def _datasets_fetch(args: argparse.Namespace) -> int:
    """``nnlab datasets fetch``: download the course's files, verified, and say where."""
    from .datasets import fetch

    if fetch.offline():
        raise CommandError(f"${fetch.OFFLINE_ENV} is set: downloads are off (unset it to fetch)")

    def announce(line: str) -> None:
        if not args.json:
            print(f"nnlab datasets fetch: {line}", file=sys.stderr, flush=True)

    got = fetch.fetch(data_dir=args.data_dir, announce=announce)
    files = [{"name": n, "path": str(p), "downloaded": d} for n, (p, d) in got.items()]
    lines = [f"{f['name']}: {'downloaded' if f['downloaded'] else 'already there'}, sha256 ok: "
             f"{f['path']}" for f in files]
    _emit(args, {"files": files}, "\n".join(lines))
    return 0


def _datasets_status(args: argparse.Namespace) -> int:
    """``nnlab datasets status``: the search order, and each file: where, hash ok."""
    from .datasets import fetch

    found = fetch.status(args.data_dir)
    ok = all(s.hash_ok for s in found)
    if args.json:
        print(json.dumps({"files": [s.to_json() for s in found], "ok": ok}))
        return 0 if ok else 1
    print("\n".join(fetch.describe_search(args.data_dir)))
    for s in found:
        if s.path is None:
            state = "missing (nnlab datasets fetch gets it)"
        else:
            state = (f"{'sha256 ok' if s.hash_ok else 'WRONG sha256'}: {s.path} ({s.how})")
        print(f"  {s.name:<20} {state}")
    return 0 if ok else 1


# ------------------------------------------------------------------------------- registration


def register(sub: argparse._SubParsersAction) -> None:
    """Add the commands to the ``nnlab`` parser's sub-parsers."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("train", help="train a network on a data set", formatter_class=fmt,
                       description=cmd_train.__doc__, epilog=(
                           "examples:\n"
                           "  nnlab train moons --layers 5,2 --optimizer adam --lr 0.01 "
                           "--epochs 200\n"
                           "  nnlab train football --layers 20,3 --batch-size full --l2 0.7 "
                           "--save runs/l2\n"
                           "  nnlab train data.csv --target label --val-split 0.2 "
                           "--early-stopping 10\n"
                           "  nnlab train --config exp.toml --lr 0.1\n"
                           "  nnlab train moons --checkpoint ck.npz --checkpoint-every 10\n"
                           "  nnlab train --resume ck.npz"))
    _add_settings(p)
    p.add_argument("--save", metavar="PATH", help="write the model: a folder (model.npz and "
                   "config.toml) or a .npz file")
    p.add_argument("--checkpoint", metavar="FILE.npz", help="write a checkpoint for --resume")
    p.add_argument("--checkpoint-every", type=int, metavar="N", help="epochs between "
                   "checkpoints (default 1)")
    p.add_argument("--resume", metavar="FILE.npz", help="continue a checkpointed run exactly")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    for name, fn, example in (
        ("evaluate", cmd_evaluate, "nnlab evaluate runs/l2 football"),
        ("predict", cmd_predict, "nnlab predict runs/m moons --out predictions.csv"),
    ):
        assert fn.__doc__ is not None  # every command has a docstring
        q = sub.add_parser(name, help=fn.__doc__.splitlines()[0].lower().rstrip("."),
                           description=fn.__doc__, epilog=f"example: {example}")
        q.add_argument("model", help="a saved model: a folder or a .npz file")
        q.add_argument("data", help="a data set's name or a .csv / .npz file" + (
            " (a .csv of just the model's feature columns will do)" if name == "predict"
            else ""))
        q.add_argument("--data-dir", metavar="DIR",
                       help="folder of the course's data files (default: $NNLAB_DATA)")
        q.add_argument("--target", metavar="NAME", help="the label column of a CSV file "
                       + ("(left out of the features)" if name == "predict" else
                          "(default: the model's, else the last)"))
        if name == "predict":
            q.add_argument("--out", metavar="FILE.csv", help="write the predictions as CSV: "
                           "the predicted label and p_<label>, each class's probability")
        q.add_argument("--json", action="store_true", help="print machine-readable JSON")
        q.set_defaults(func=fn)

    q = sub.add_parser("summary", help="show a saved model's layers and shapes",
                       description=cmd_summary.__doc__, epilog="example: nnlab summary runs/m")
    q.add_argument("model", help="a saved model: a folder or a .npz file")
    q.add_argument("--json", action="store_true", help="print machine-readable JSON")
    q.set_defaults(func=cmd_summary)

    q = sub.add_parser("gradcheck", help="check backprop against finite differences",
                       description=cmd_gradcheck.__doc__, formatter_class=fmt, epilog=(
                           "examples:\n  nnlab gradcheck moons --layers 5,3 --l2 0.7\n"
                           "  nnlab gradcheck iris --layers 4 --activation tanh --examples 10"))
    _add_settings(q, skip=TRAINING_ONLY)
    q.add_argument("--examples", type=int, default=20, help="examples used (default 20)")
    q.add_argument("--fd-epsilon", dest="fd_epsilon", type=float, default=1e-7,
                   help="ε of the finite differences (default 1e-7)")
    q.add_argument("--max-params", type=int, default=20000, help="refuse larger networks")
    q.set_defaults(func=cmd_gradcheck)

    q = sub.add_parser("plot", help="plot a model's decision boundary and cost curves",
                       description=cmd_plot.__doc__,
                       epilog="example: nnlab plot runs/m moons --out moons.png")
    q.add_argument("model", help="a saved model: a folder or a .npz file")
    q.add_argument("data", help="the data set to draw the boundary on: a data set's name or a "
                   ".csv / .npz file")
    q.add_argument("--out", default="nnlab-plot.png", metavar="FILE.png",
                   help="the picture to write (default: nnlab-plot.png)")
    q.add_argument("--data-dir", metavar="DIR",
                   help="folder of the course's data files (default: $NNLAB_DATA)")
    q.add_argument("--json", action="store_true", help="print machine-readable JSON")
    q.set_defaults(func=cmd_plot)

    q = sub.add_parser("datasets", help="list the data sets, show one, or fetch the course's "
                       "files", description=cmd_datasets.__doc__, formatter_class=fmt,
                       epilog="examples:\n  nnlab datasets\n  nnlab datasets moons --plot "
                       "moons.png\n  nnlab datasets fetch\n  nnlab datasets status")
    q.add_argument("name", nargs="?", help="a data set's name, or fetch / status")
    q.add_argument("--plot", metavar="FILE.png", help="scatter plot of a 2-D data set")
    q.add_argument("--data-dir", metavar="DIR", help="the folder of the course's files (fetch: "
                   "where they go; default: $NNLAB_DATA, then the cache)")
    q.add_argument("--json", action="store_true", help="print machine-readable JSON")
    q.set_defaults(func=cmd_datasets)


#: Errors that are the user's: shown as one line (exit code 2).
def user_errors() -> tuple[type[BaseException], ...]:
    from .datasets import DataFileError
    from .datasets.registry import DataError
    from .io import FileWriteError, ModelFileError

    return (CommandError, ConfigError, DataError, DataFileError, ModelFileError, ValueError,
            FileNotFoundError, PermissionError, IsADirectoryError, FileWriteError)

