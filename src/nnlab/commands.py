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
from pathlib import Path
from typing import Any

import numpy as np

from .config import FULL_BATCH, ConfigError, TrainConfig

#: Flags of ``train`` / ``gradcheck``: TrainConfig key -> (flag, parser, help).
_LIST = "comma-separated"


class CommandError(Exception):
    """A user's mistake: printed as one line, exit code 2."""


def _ints(text: str) -> list[int]:
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of whole numbers like 20,3"
        ) from None


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
    "layers": (_ints, "hidden layer sizes, e.g. 20,3 (default: 10)"),
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


def _add_settings(p: argparse.ArgumentParser, with_dataset: bool = True) -> None:
    if with_dataset:
        p.add_argument("dataset", nargs="?", help="a data set's name (nnlab datasets) or a "
                       ".csv / .npz file (default: moons, or the config's)")
    p.add_argument("--config", metavar="FILE.toml", help="read the settings from a TOML file; "
                   "flags override it")
    for key, (kind, text) in SETTINGS.items():
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


def cmd_train(args: argparse.Namespace) -> int:
    """Train a network on a data set and report train / validation (/ test) accuracy."""
    from .runner import run_config, save_run
    from .training import DivergenceError

    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise CommandError(f"--checkpoint-every {args.checkpoint_every}: expected >= 1")
    config = None if args.resume else config_from_args(args)
    if config is None and (args.config or args.dataset):
        raise CommandError("--resume continues a run with its saved settings: don't give "
                           "a data set or --config with it")
    try:
        result = run_config(
            config, data_dir=args.data_dir, verbose=0 if args.json or args.quiet else 1,
            checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every or 1,
            resume=args.resume,
        )
    except DivergenceError as exc:
        print(f"nnlab train: error: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"error": str(exc), "epoch": exc.epoch}))
        return 1
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


# ------------------------------------------------------------------------- model + data


def _load(path: str):
    from .runner import load_run_model

    return load_run_model(path)


def _model_data(model, data: str, data_dir: str | None, need_labels: bool = True):
    """The data set ``data`` prepared as the model was trained: features, class encoding."""
    from .datasets.registry import load_dataset
    from .runner import apply_features, encode_labels

    extra = getattr(model, "extra", {}) or {}
    config = extra.get("config", {})
    target = config.get("target")
    ds = load_dataset(data, data_dir=data_dir, target=target,
                      n_samples=config.get("n_samples"), noise=config.get("noise"),
                      seed=config.get("seed", 0))
    features = extra.get("features")
    splits = {"data": (ds.X, ds.y)}
    if ds.X_test is not None:
        splits = {"train": (ds.X, ds.y), "test": (ds.X_test, ds.y_test)}
    out = {}
    for name, (X, y) in splits.items():
        X = apply_features(X, features)
        if X.shape[1] != model.input_dim:
            raise CommandError(
                f"{data} has {X.shape[1]} features but the model takes {model.input_dim}"
            )
        classes = extra.get("classes") or []
        if classes and need_labels:
            y = encode_labels(y, classes)
        out[name] = (X, y)
    return out, ds


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Loss and accuracy of a saved model on a data set (its train and test parts, if any)."""
    model = _load(args.model)
    splits, _ = _model_data(model, args.data, args.data_dir)
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
        from .io import atomic_write_bytes

        lines = ["prediction" + "".join(f",p{j}" for j in range(proba.shape[1]))]
        for lab, p in zip(labels, proba, strict=True):
            lines.append(f"{lab}" + "".join(f",{v:.6g}" for v in p))
        atomic_write_bytes(args.out, ("\n".join(lines) + "\n").encode("utf-8"))
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
    from .datasets.registry import load_csv_features
    from .runner import apply_features

    extra = getattr(model, "extra", {}) or {}
    path = Path(args.data)
    if path.suffix.lower() == ".csv":
        X = load_csv_features(path)[0] if _features_only(path, model) else None
        if X is not None:
            X = apply_features(X, extra.get("features"))
            if X.shape[1] != model.input_dim:
                raise CommandError(f"{args.data} has {X.shape[1]} features but the model "
                                   f"takes {model.input_dim}")
            return X
    splits, _ = _model_data(model, args.data, args.data_dir, need_labels=False)
    return splits["test"][0] if "test" in splits else next(iter(splits.values()))[0]


def _features_only(path: Path, model) -> bool:
    """Whether a CSV's header has exactly the model's input columns (no label column)."""
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError):
        return False  # the data set loader reports it properly
    extra = getattr(model, "extra", {}) or {}
    n_in = len(extra.get("feature_names") or []) or model.input_dim
    return len(header) == n_in


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
    """Check backprop's gradient against finite differences on a data set and network."""
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
    Y = model._targets(y, X.shape[0], np.float64)
    n = sum(v.size for v in model.params.values())
    if n > args.max_params:
        raise CommandError(
            f"the network has {n} parameters; checking costs 2 forward passes each: use a "
            f"smaller network, or raise --max-params (now {args.max_params})")
    result = gradient_check(model.params, X.T, Y.T, model.activations, lambd=config.l2,
                            epsilon=args.fd_epsilon, loss=model.loss)
    payload = {"difference": result.difference, "per_parameter": result.per_parameter,
               "threshold": result.threshold, "passed": result.passed,
               "failing": result.failing, "examples": int(X.shape[0]), "parameters": n}
    _emit(args, payload, result.report())
    return 0 if result.passed else 1


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
    """List the data sets, or show one: shape, classes and counts, and a scatter plot."""
    from .datasets.registry import DATASETS, FILE_DATASETS, load_dataset

    if not args.name:
        rows = []
        for name in DATASETS:
            row: dict[str, Any] = {"name": name, "file": name in FILE_DATASETS}
            if name not in FILE_DATASETS:  # generated or shipped: cheap to describe
                ds = load_dataset(name)
                row.update(samples=int(ds.X.shape[0]), features=int(ds.X.shape[1]),
                           task=ds.task, description=ds.description)
            else:
                row.update(description="read from the data folder (--data-dir / $NNLAB_DATA)")
            rows.append(row)
        if args.json:
            print(json.dumps({"datasets": rows}))
            return 0
        print("data sets (nnlab datasets NAME shows one):")
        for r in rows:
            size = f"{r['samples']} x {r['features']}, {r['task']}" if "samples" in r else "file"
            print(f"  {r['name']:<20} {size:<28} {r['description']}")
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
        q = sub.add_parser(name, help=fn.__doc__.splitlines()[0].lower().rstrip("."),
                           description=fn.__doc__, epilog=f"example: {example}")
        q.add_argument("model", help="a saved model: a folder or a .npz file")
        q.add_argument("data", help="a data set's name or a .csv / .npz file")
        q.add_argument("--data-dir", metavar="DIR")
        if name == "predict":
            q.add_argument("--out", metavar="FILE.csv", help="write the predictions as CSV")
        q.add_argument("--json", action="store_true", help="print machine-readable JSON")
        q.set_defaults(func=fn)

    q = sub.add_parser("summary", help="show a saved model's layers and shapes",
                       description=cmd_summary.__doc__, epilog="example: nnlab summary runs/m")
    q.add_argument("model")
    q.add_argument("--json", action="store_true", help="print machine-readable JSON")
    q.set_defaults(func=cmd_summary)

    q = sub.add_parser("gradcheck", help="check backprop against finite differences",
                       description=cmd_gradcheck.__doc__, formatter_class=fmt, epilog=(
                           "examples:\n  nnlab gradcheck moons --layers 5,3 --l2 0.7\n"
                           "  nnlab gradcheck iris --layers 4 --activation tanh --examples 10"))
    _add_settings(q)
    q.add_argument("--examples", type=int, default=20, help="examples used (default 20)")
    q.add_argument("--fd-epsilon", dest="fd_epsilon", type=float, default=1e-7,
                   help="ε of the finite differences (default 1e-7)")
    q.add_argument("--max-params", type=int, default=20000, help="refuse larger networks")
    q.set_defaults(func=cmd_gradcheck)

    q = sub.add_parser("plot", help="plot a model's decision boundary and cost curves",
                       description=cmd_plot.__doc__,
                       epilog="example: nnlab plot runs/m moons --out moons.png")
    q.add_argument("model")
    q.add_argument("data")
    q.add_argument("--out", default="nnlab-plot.png", metavar="FILE.png")
    q.add_argument("--data-dir", metavar="DIR")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_plot)

    q = sub.add_parser("datasets", help="list the data sets, or show one",
                       description=cmd_datasets.__doc__,
                       epilog="examples: nnlab datasets;  nnlab datasets moons --plot moons.png")
    q.add_argument("name", nargs="?")
    q.add_argument("--plot", metavar="FILE.png", help="scatter plot of a 2-D data set")
    q.add_argument("--data-dir", metavar="DIR")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_datasets)


#: Errors that are the user's: shown as one line (exit code 2).
def user_errors() -> tuple[type[BaseException], ...]:
    from .datasets import DataFileError
    from .datasets.registry import DataError
    from .io import ModelFileError

    return (CommandError, ConfigError, DataError, DataFileError, ModelFileError, ValueError,
            FileNotFoundError, PermissionError, IsADirectoryError)

