"""The commands that use a saved model (a folder written by ``nnlab train --save``, or a
``.npz`` model file): ``evaluate``, ``predict``, ``summary`` and ``plot``.

A data set is prepared as the model was trained (its feature maps, its class encoding); labels
the model never saw are refused by name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .common import UsageError, emit, fmt_metrics


def _load(path: str):
    from ..runs.run import load_run_model

    return load_run_model(path)


def _model_data(model, data: str, data_dir: str | None, need_labels: bool = True,
                target: str | None = None):
    """The data set ``data`` prepared as the model was trained: features, class encoding
    (labels the model never saw are refused, by name). ``target``: a CSV's label column (the
    default: the one the model was trained with, else the last)."""
    from ..datasets.registry import load_dataset
    from ..runs.run import apply_features, encode_labels

    extra = getattr(model, "extra", {}) or {}
    config = extra.get("config", {})
    is_csv = Path(data).suffix.lower() == ".csv"
    if target is not None and not is_csv:
        raise UsageError(f"--target {target}: names a CSV file's label column, but {data} is "
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
            raise UsageError(
                f"{data} has {X.shape[1]} features but the model takes {model.input_dim}"
            )
        classes = extra.get("classes") or []
        if need_labels and ds.class_names is not None and not classes:
            raise UsageError(f"{data}: the labels are names ({ds.class_names[0]!r}, ...) but "
                               "the model predicts numbers")
        if classes and need_labels:
            try:
                y = encode_labels(ds.labels(y), classes)
            except ValueError as exc:
                raise UsageError(f"{data}: {exc}") from None
        out[name] = (X, y)
    return out, ds


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Loss and accuracy of a saved model on a data set (its train and test parts, if any)."""
    model = _load(args.model)
    splits, _ = _model_data(model, args.data, args.data_dir, target=args.target)
    metrics = {name: model.evaluate(X, y) for name, (X, y) in splits.items()}
    emit(args, {"model": args.model, "data": args.data, "metrics": metrics},
          fmt_metrics(metrics))
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

        from ..files.format import atomic_write_bytes

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
    emit(args, payload, text)
    return 0


def _predict_inputs(model, args) -> np.ndarray:
    """The examples to predict: a data set as for ``evaluate`` (its test part when it has one),
    or a CSV holding just the model's feature columns."""
    from ..runs.run import apply_features

    extra = getattr(model, "extra", {}) or {}
    path = Path(args.data)
    if path.suffix.lower() == ".csv":
        X = _predict_csv(model, path, args.target)
        X = apply_features(X, extra.get("features"))
        if X.shape[1] != model.input_dim:
            raise UsageError(f"{args.data} has {X.shape[1]} features but the model "
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
    from ..datasets.registry import csv_header, load_csv_features

    extra = getattr(model, "extra", {}) or {}
    names = [str(n) for n in extra.get("feature_names") or []]
    n_in = len(names) or model.input_dim
    header = csv_header(path)
    trained_target = (extra.get("config") or {}).get("target")
    drop = None
    if target is not None:
        if target not in header:
            raise UsageError(f"{path}: --target {target}: no such column; columns: "
                               f"{', '.join(header)}")
        drop = target
    elif len(header) == n_in + 1:
        if trained_target in header:
            drop, why = trained_target, "the model's label column"
        elif names and set(names) <= set(header):
            drop = next(h for h in header if h not in names)
            why = "not one of the model's features"
        else:
            raise UsageError(
                f"{path} has {len(header)} columns but the model takes {n_in}: if one is a label "
                "column, name it with --target NAME")
        print(f"nnlab predict: note: ignoring column {drop!r} of {path.name} ({why})",
              file=sys.stderr)
    X, columns = load_csv_features(path, drop=drop)
    if names and columns != names and sorted(columns) == sorted(names):
        X = X[:, [columns.index(n) for n in names]]
    elif len(columns) != n_in:
        raise UsageError(f"{path} has {len(columns)} feature columns but the model takes "
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
               "l1": getattr(model, "l1", 0.0),
               "classes": extra.get("classes"), "config": extra.get("config")}
    emit(args, payload, model.summary())
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """Plot a saved model: the decision boundary on 2-D data and its cost / validation curves."""
    from ..plotting import new_figure, plot_costs, plot_decision_boundary, save_figure

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
        raise UsageError(
            "nothing to plot: the decision boundary needs 2-D data and a binary model, and "
            "the model file holds no cost history")
    fig, axes = new_figure(panels)
    i = 0
    if raw_2d and binary:
        from ..runs.run import apply_features

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
    emit(args, {"out": str(out), "panels": panels}, f"plot written to {out}")
    return 0



def register(sub: argparse._SubParsersAction) -> None:
    """Add ``evaluate``, ``predict``, ``summary`` and ``plot`` to the ``nnlab`` parser."""
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
