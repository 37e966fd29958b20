"""Data sets by name, and the user's own CSV / NPZ files, for the command line and sweeps.

Everything here is in scikit-learn's orientation: ``X`` is ``(n_samples, n_features)`` float64
and ``y`` is ``(n_samples,)`` (int class labels, or floats for regression).

>>> ds = load_dataset("moons")
>>> ds.X.shape, ds.y.shape, ds.task, ds.classes
((300, 2), (300,), 'binary', [0, 1])
"""

from __future__ import annotations

import csv
import math
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._files import DataFileError
from .catalog import CATALOG, FILE_DATASETS, DatasetInfo  # noqa: F401 (names of this module)


class DataError(ValueError):
    """Data that cannot be used: an unknown name, an unreadable file, bad values."""


@dataclass
class Dataset:
    """A data set in scikit-learn's orientation.

    Attributes:
        name: its name, or the file it came from.
        X, y: ``(n_samples, n_features)`` features and ``(n_samples,)`` labels / targets.
        task: "binary", "multiclass" or "regression".
        X_test, y_test: a separate test set, when the data set comes with one.
        feature_names: one name per column of X.
        description: one line about it.
        class_names: the user's labels (strings) when a file's labels were not numbers: ``y``
            holds indices into this sorted list.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    feature_names: list[str] = field(default_factory=list)
    description: str = ""
    class_names: list | None = None

    def __post_init__(self) -> None:
        if not self.feature_names:
            self.feature_names = [f"x{i + 1}" for i in range(self.X.shape[1])]

    @property
    def classes(self) -> list:
        """The sorted class labels, as the user wrote them (empty for regression)."""
        if self.task == "regression":
            return []
        if self.class_names is not None:
            return list(self.class_names)
        return sorted(np.unique(self.y).tolist())

    def labels(self, y: np.ndarray) -> list:
        """The user's labels of ``y`` (``self.y`` or ``self.y_test``): the strings where the
        file held strings, else the values themselves.

        >>> Dataset("d", np.zeros((2, 1)), np.array([1, 0]), "binary",
        ...         class_names=["no", "yes"]).labels(np.array([1, 0]))
        ['yes', 'no']
        """
        if self.class_names is None:
            return y.tolist()
        return [self.class_names[int(i)] for i in y]


def _task_of(y: np.ndarray) -> str:
    if np.issubdtype(y.dtype, np.floating) and not np.all(y == np.round(y)):
        return "regression"
    n = len(np.unique(y))
    return "binary" if n <= 2 else "multiclass"


def _from_engine(name: str, pair, description: str) -> Dataset:
    X, Y = pair
    return Dataset(name, np.ascontiguousarray(X.T), Y.ravel().astype(np.int64), "binary",
                   description=description)


def _about(name: str) -> str:
    return CATALOG[name].description


def _from_traintest(name: str, data, description: str) -> Dataset:
    return Dataset(
        name, np.ascontiguousarray(data.X_train.T), data.Y_train.ravel().astype(np.int64),
        "binary", np.ascontiguousarray(data.X_test.T), data.Y_test.ravel().astype(np.int64),
        description=description,
    )


def _flower(n: int | None, noise: float | None, seed: int, data_dir) -> Dataset:
    from .planar import load_flower

    return _from_engine("flower", load_flower(n_per_class=(n or 400) // 2), _about("flower"))


def _circles(n: int | None, noise: float | None, seed: int, data_dir) -> Dataset:
    from .synthetic import load_circles

    return _from_traintest("circles", load_circles(n_train=n or 300, noise=0.05 if noise is None
                                                   else noise),
                           _about("circles"))


def _moons(n: int | None, noise: float | None, seed: int, data_dir) -> Dataset:
    from .synthetic import load_moons

    return _from_engine("moons", load_moons(n_samples=n or 300, noise=0.2 if noise is None
                                            else noise),
                        _about("moons"))


def _football(n: int | None, noise: float | None, seed: int, data_dir) -> Dataset:
    from .football import load_football

    return _from_traintest("football", load_football(data_dir), _about("football"))


def _cat(n: int | None, noise: float | None, seed: int, data_dir) -> Dataset:
    from .cats import load_cat

    return _from_traintest("cat", load_cat(data_dir), _about("cat"))


def _toy(kind: str):
    def load(n: int | None, noise: float | None, seed: int, data_dir) -> Dataset:
        from .toy import make_toy

        return _from_engine(kind, make_toy(kind, n or 300, noise, random_state=seed),
                            _about(kind))

    return load


def _quantiles(n: int | None, noise: float | None, seed: int, data_dir) -> Dataset:
    from sklearn.datasets import make_gaussian_quantiles

    X, y = make_gaussian_quantiles(n_samples=n or 300, n_features=2, n_classes=2,
                                   random_state=np.random.RandomState(seed))
    return Dataset("gaussian-quantiles", X, y.astype(np.int64), "binary",
                   description=_about("gaussian-quantiles"))


def _sklearn(loader: str, name: str, task: str):
    def load(n: int | None, noise: float | None, seed: int, data_dir) -> Dataset:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)()
        y = bunch.target
        y = y.astype(np.float64) if task == "regression" else y.astype(np.int64)
        names = [str(f) for f in getattr(bunch, "feature_names", [])]
        return Dataset(name, bunch.data.astype(np.float64), y, task, feature_names=names,
                       description=_about(name))

    return load


Loader = Callable[[int | None, float | None, int, object], Dataset]
DATASETS: dict[str, Loader] = {
    "flower": _flower,
    "circles": _circles,
    "moons": _moons,
    "football": _football,
    "cat": _cat,
    "xor": _toy("xor"),
    "blobs": _toy("blobs"),
    "spiral": _toy("spiral"),
    "gaussian-quantiles": _quantiles,
    "digits": _sklearn("load_digits", "digits", "multiclass"),
    "breast-cancer": _sklearn("load_breast_cancer", "breast-cancer", "binary"),
    "iris": _sklearn("load_iris", "iris", "multiclass"),
    "wine": _sklearn("load_wine", "wine", "multiclass"),
    "diabetes": _sklearn("load_diabetes", "diabetes", "regression"),
}


def load_dataset(
    name: str,
    *,
    n_samples: int | None = None,
    noise: float | None = None,
    seed: int = 0,
    data_dir: str | os.PathLike | None = None,
    target: str | None = None,
) -> Dataset:
    """A data set by name (see ``DATASETS``), or a user's ``.csv`` / ``.npz`` file by path.

    ``n_samples`` and ``noise`` apply to generated sets; ``seed`` to the generated sets that take
    one (the course's sets keep the course's seeds). ``target`` names a CSV's label column.
    """
    if name in DATASETS:
        try:
            return DATASETS[name](n_samples, noise, seed, data_dir)
        except DataFileError as exc:
            raise DataError(str(exc)) from None
    path = Path(name)
    if path.suffix.lower() == ".csv":
        return load_csv(path, target)
    if path.suffix.lower() == ".npz":
        return load_npz(path)
    raise DataError(
        f"unknown data set {name!r}: use one of {', '.join(DATASETS)}, or a .csv / .npz file"
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, expected a .csv file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read it ({exc})") from None


def _number(text: str, path: Path, row: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"{path}: row {row}, column {column!r}: {text!r} is not a number"
        ) from None
    if not math.isfinite(value):
        raise DataError(f"{path}: row {row}, column {column!r}: {text!r} is not finite")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the data rows of a CSV file, checked for shape. A first row of numbers
    is refused (it would be taken for column names and its example lost)."""
    text = _read_text(path)
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:  # e.g. a field over the csv module's 128 KB limit
        raise DataError(f"{path}: not a readable CSV file ({exc})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise DataError(f"{path}: the file is empty; expected a header row and data rows")
    header = [h.strip() for h in rows[0]]
    if all(_is_number(h) for h in header):
        raise DataError(
            f"{path}: the first row holds numbers ({','.join(header)[:60]}), not column names: "
            "add a header row naming the columns, e.g. x1,x2,label"
        )
    body = rows[1:]
    if not body:
        raise DataError(f"{path}: has a header but no data rows")
    for i, r in enumerate(body, start=2):
        if len(r) != len(header):
            raise DataError(
                f"{path}: row {i} has {len(r)} fields but the header has {len(header)}"
            )
    return header, body


#: Column names that say "the labels": a CSV whose first column has one of these (and whose last
#: column does not) must name its label column rather than have the last one taken silently.
LABEL_NAMES = frozenset({"label", "labels", "target", "y", "class", "classes", "category",
                         "outcome"})


def load_csv(path: str | os.PathLike, target: str | None = None) -> Dataset:
    """A CSV file with a header row: numeric feature columns and one label column (``target``,
    default the last). Labels may be numbers or strings (strings become classes)."""
    path = Path(path)
    header, body = _read_csv(path)
    if len(header) < 2:
        raise DataError(f"{path}: needs at least two columns (features and a label)")
    defaulted = target is None
    target = header[-1] if target is None else target
    first = header[0].strip().lower()
    if defaulted and first in LABEL_NAMES and target.strip().lower() not in LABEL_NAMES:
        raise DataError(
            f"{path}: the first column is named {header[0]!r}, but without --target the last "
            f"column, {target!r}, holds the labels; say which: --target {header[0]} "
            f"(target={header[0]!r}), or --target {target} to keep the last"
        )
    if target not in header:
        raise DataError(
            f"{path}: no column named {target!r} for the labels; columns: {', '.join(header)}"
        )
    t = header.index(target)
    try:
        X = [[_number(v, path, i, header[j]) for j, v in enumerate(r) if j != t]
             for i, r in enumerate(body, start=2)]
    except DataError as exc:
        if defaulted:  # a label column first (or anywhere) reads as a feature: say how to name it
            column = next((header[j] for j in range(len(header)) if j != t and not all(
                _is_number(r[j]) for r in body)), None)
            if column is not None:
                raise DataError(f"{exc}; if {column!r} holds the labels, name it: "
                                f"--target {column} (target={column!r})") from None
        raise
    y, names = _labels([r[t].strip() for r in body], path)
    feature_names = [h for j, h in enumerate(header) if j != t]
    return Dataset(str(path), np.array(X, dtype=np.float64), y, _task_of(y),
                   feature_names=feature_names, description=f"{len(X)} rows from {path.name}",
                   class_names=names)


def csv_header(path: str | os.PathLike) -> list[str]:
    """The column names of a CSV file (which is checked as ``load_csv`` checks it)."""
    return _read_csv(Path(path))[0]


def load_csv_features(path: str | os.PathLike,
                      drop: str | None = None) -> tuple[np.ndarray, list[str]]:
    """A CSV file of numeric feature columns (a header row), for prediction: ``X (n_samples,
    n_features)`` and the column names; ``drop`` names a column to leave out (a label column).

    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "new.csv"
    >>> _ = f.write_text("x1,label,x2\\n0.5,yes,1\\n")
    >>> load_csv_features(f, drop="label")
    (array([[0.5, 1. ]]), ['x1', 'x2'])
    """
    path = Path(path)
    header, body = _read_csv(path)
    if drop is not None and drop not in header:
        raise DataError(f"{path}: no column named {drop!r}; columns: {', '.join(header)}")
    keep = [j for j, h in enumerate(header) if h != drop]
    X = [[_number(r[j], path, i, header[j]) for j in keep] for i, r in enumerate(body, start=2)]
    return np.array(X, dtype=np.float64).reshape(len(body), len(keep)), [header[j] for j in keep]


def _labels(labels: list[str], path: Path) -> tuple[np.ndarray, list[str] | None]:
    """The labels as numbers, and the sorted class names when they are strings (then the
    numbers are indices into the names)."""
    if any(s == "" for s in labels):
        raise DataError(f"{path}: a label is empty (row {labels.index('') + 2})")
    try:
        values = np.array([float(s) for s in labels])
    except ValueError:
        return _encode_names(labels), sorted(set(labels))
    if not np.all(np.isfinite(values)):
        raise DataError(f"{path}: the labels hold NaN or infinity")
    if np.all(values == np.round(values)):
        return values.astype(np.int64), None
    return values, None


def _encode_names(labels: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(sorted(set(labels)))}
    return np.array([index[s] for s in labels], dtype=np.int64)


def load_npz(path: str | os.PathLike) -> Dataset:
    """An ``.npz`` file with arrays ``X`` (n_samples, n_features) and ``y`` (n_samples,);
    read without pickle."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if not hasattr(npz, "files") or not {"X", "y"} <= set(npz.files):
                raise DataError(f"{path}: expected arrays named X and y in the .npz file")
            X, y = npz["X"], npz["y"]
    except DataError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, AttributeError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    if not isinstance(X, np.ndarray) or not isinstance(y, np.ndarray):
        raise DataError(f"{path}: X and y must be NumPy arrays")
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(X) == 0 or X.shape[1] == 0:
        raise DataError(
            f"{path}: X {X.shape} and y {y.shape} must be (n_samples, n_features) and "
            "(n_samples,) with at least one sample and one feature"
        )
    if not (np.issubdtype(X.dtype, np.number) and not np.iscomplexobj(X)):
        raise DataError(f"{path}: X has dtype {X.dtype}; expected real numbers")
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        raise DataError(f"{path}: X holds NaN or infinity")
    if np.iscomplexobj(y) or not (np.issubdtype(y.dtype, np.number) or y.dtype.kind in "US"):
        raise DataError(f"{path}: y has dtype {y.dtype}; expected numbers or strings")
    names = None
    if y.dtype.kind in "US":
        labels = [s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s)
                  for s in y.tolist()]
        y, names = _encode_names(labels), sorted(set(labels))
    elif not np.all(np.isfinite(y)):
        raise DataError(f"{path}: y holds NaN or infinity")
    return Dataset(str(path), X, y, _task_of(y), description=f"{len(X)} rows from {path.name}",
                   class_names=names)
