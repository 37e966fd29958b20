"""The playground's data: each data set built from the settings, uploaded CSV files, the split.

Every set is 2-D points ``X (2, m)`` with labels ``Y (1, m)``: in {0, 1} for two classes, the
class 0 .. K-1 for K classes (``make_blobs``, ``make_arms``), a real value for regression
(``make_regression``). The points are drawn from
the settings' seed and split into training and test points by ``RandomState(seed)`` as well, so the
same settings always give the same points.

>>> from nnlab.playground.settings import Settings
>>> data = build_data(Settings(dataset="xor", n_points=100, test_fraction=0.2))
>>> data.X_train.shape, data.X_test.shape
((2, 80), (2, 20))
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..datasets import DataFileError, load_circles, load_flower, load_football, load_moons
from ..datasets.registry import _is_number
from ..datasets.toy import make_toy
from .settings import MAX_CLASSES, Limits, Settings, SettingsError


@dataclass(frozen=True)
class Upload:
    """A checked CSV file: its points, labels, and how to describe it."""

    id: str
    name: str
    X: np.ndarray
    Y: np.ndarray
    classes: tuple[str, ...]
    columns: tuple[str, str, str] | None

    def summary(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "n_points": int(self.X.shape[1]),
                "classes": list(self.classes),
                "columns": list(self.columns) if self.columns else None}


def parse_csv(text: str, name: str = "upload.csv", limits: Limits | None = None) -> Upload:
    """Read a CSV of 2-D labelled points: three comma-separated columns ``x1, x2, label``.

    A first line whose first two fields are not numbers is a header. Blank lines and lines
    starting with ``#`` are skipped. The label column must hold 2 to 5 distinct values (numbers or
    words): in increasing order (numbers) or in alphabetical order (words) they are the classes
    0, 1, ...
    Raises ``SettingsError`` (field ``upload``) naming the line and the problem.

    >>> up = parse_csv("x,y,colour\\n0,1,red\\n1,0,blue\\n2,2,red\\n1,1,blue\\n")
    >>> up.Y.tolist(), up.classes, up.columns
    ([[1.0, 0.0, 1.0, 0.0]], ('blue', 'red'), ('x', 'y', 'colour'))
    """
    limits = limits or Limits()
    name = (name or "upload.csv")[:100]

    def fail(message: str) -> SettingsError:
        return SettingsError("upload", f"{name}: {message}")

    if len(text.encode("utf-8")) > limits.max_upload_bytes:
        raise fail(f"the file is larger than {limits.max_upload_bytes} bytes "
                   "(raise the limit with --max-upload-bytes)")
    rows: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            rows.append((number, [f.strip().strip('"') for f in stripped.split(",")]))
    if not rows:
        raise fail("the file holds no rows; expected lines x1,x2,label")
    columns = None
    first = rows[0][1]
    if len(first) >= 2 and not (_is_number(first[0]) and _is_number(first[1])):
        if len(first) != 3:
            raise fail(f"line {rows[0][0]}: the header has {len(first)} columns; expected 3 "
                       "(x1, x2, label)")
        columns = (first[0], first[1], first[2])
        rows = rows[1:]
    if len(rows) < 4:
        raise fail(f"{len(rows)} data rows; at least 4 are needed")
    if len(rows) > limits.max_points:
        raise fail(f"{len(rows)} data rows; at most {limits.max_points} are allowed "
                   "(raise the limit with --max-points)")
    points = np.empty((2, len(rows)))
    labels: list[str] = []
    for j, (number, fields) in enumerate(rows):
        if len(fields) != 3:
            raise fail(f"line {number}: {len(fields)} columns; expected 3 (x1, x2, label)")
        for i in range(2):
            try:
                value = float(fields[i])
            except ValueError:
                raise fail(f"line {number}: {fields[i]!r} is not a number") from None
            if not math.isfinite(value):
                raise fail(f"line {number}: {fields[i]!r} is not a finite number")
            points[i, j] = value
        if not fields[2]:
            raise fail(f"line {number}: the label is empty")
        labels.append(fields[2])
    distinct = sorted(set(labels))
    if all(_is_number(x) for x in distinct):
        distinct = sorted(distinct, key=float)
        if len({float(x) for x in distinct}) != len(distinct):
            raise fail(f"the labels {', '.join(distinct)} are the same numbers written "
                       "differently")
    if not 2 <= len(distinct) <= MAX_CLASSES:
        raise fail(f"the label column holds {len(distinct)} distinct values "
                   f"({', '.join(distinct[:5])}{', ...' if len(distinct) > 5 else ''}); "
                   f"expected 2 to {MAX_CLASSES} classes")
    index = {label: k for k, label in enumerate(distinct)}
    Y = np.array([[float(index[x]) for x in labels]])
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return Upload(digest, name, points, Y, tuple(distinct), columns)


class UploadStore:
    """Uploaded files, kept in memory while the server runs: the newest ``max_uploads`` of them."""

    def __init__(self, max_uploads: int):
        self.max_uploads = max_uploads
        self._items: OrderedDict[str, Upload] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, upload: Upload) -> None:
        with self._lock:
            self._items[upload.id] = upload
            self._items.move_to_end(upload.id)
            while len(self._items) > self.max_uploads:
                self._items.popitem(last=False)

    def get(self, upload_id: str) -> Upload:
        with self._lock:
            try:
                upload = self._items[upload_id]
            except KeyError:
                raise SettingsError(
                    "upload", f"the uploaded CSV {upload_id} is not on this server (uploads are "
                    "kept in memory while the server runs): upload the file again"
                ) from None
            self._items.move_to_end(upload_id)
            return upload

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class Data:
    """Training and test points ``(2, m)``, labels ``(1, m)``, and the square view around them
    ``box = (x1_min, x1_max, x2_min, x2_max)`` (for a 1-D set, ``(x1_min, x1_max, y_min,
    y_max)``: the view of the curve)."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    box: tuple[float, float, float, float]
    name: str
    target: str | None = None


def make_blobs(n_points: int, classes: int, noise: float, seed: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """K gaussian blobs, their centres evenly on a circle of radius 2, spread 0.3 + noise; point
    i is of class i mod K.

    >>> X, Y = make_blobs(9, 3, 0.1, seed=0)
    >>> X.shape, Y.tolist()
    ((2, 9), [[0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 1.0, 2.0]])
    """
    rng = np.random.RandomState(seed)
    labels = np.arange(n_points) % classes
    angle = 2 * np.pi * labels / classes
    X = 2.0 * np.vstack([np.cos(angle), np.sin(angle)]) + (0.3 + noise) * rng.randn(2, n_points)
    return X, labels[None, :].astype(np.float64)


def make_arms(n_points: int, classes: int, noise: float, seed: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """A spiral of K arms: point i is of arm i mod K, at a random distance t ∈ [0, 1) along it
    (radius 3t, angle 2πk/K + 3.5t), moved by 2·noise·N(0, 1).

    >>> X, Y = make_arms(8, 4, 0.0, seed=0)
    >>> Y.tolist()
    [[0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0]]
    """
    rng = np.random.RandomState(seed)
    labels = np.arange(n_points) % classes
    t = rng.uniform(0.05, 1.0, n_points)
    angle = 2 * np.pi * labels / classes + 3.5 * t
    X = 3 * t * np.vstack([np.cos(angle), np.sin(angle)]) + 2 * noise * rng.randn(2, n_points)
    return X, labels[None, :].astype(np.float64)


def make_regression(name: str, n_points: int, noise: float, seed: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform on [-3, 3]² and a real target, plus noise·N(0, 1): ``plane``,
    y = (x1 + x2) / 6 (between -1 and 1), or ``gaussian``, a positive bump at (1.5, 1.5) and a
    negative one at (-1.5, -1.5).

    >>> X, Y = make_regression("plane", 5, 0.0, seed=0)
    >>> bool(np.allclose(Y, (X[0] + X[1]) / 6))
    True
    """
    rng = np.random.RandomState(seed)
    X = rng.uniform(-3, 3, size=(2, n_points))
    if name == "plane":
        y = (X[0] + X[1]) / 6
    else:
        bump = lambda c: np.exp(-((X[0] - c) ** 2 + (X[1] - c) ** 2) / 2)  # noqa: E731
        y = bump(1.5) - bump(-1.5)
    y = y + noise * rng.randn(n_points)
    return X, y[None, :]


#: The 1-D regression sets (issue 20): y against x1 alone, drawn as a curve. Each maps x in
#: [-3, 3] to about [-1, 1].
CURVE_FUNCTIONS = {
    "sine": lambda x: 0.8 * np.sin(np.pi * x / 2),
    "step": lambda x: np.where(x < 0, -0.8, 0.8),
    "abs": lambda x: np.abs(x) / 1.5 - 1.0,
    "cubic": lambda x: (x**3 - 6 * x) / 9,
}


def make_curve(name: str, n_points: int, noise: float, seed: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """A 1-D regression set: x1 uniform on [-3, 3], y = f(x1) + noise·N(0, 1) with f one of
    ``CURVE_FUNCTIONS`` (``sine``, ``step``, ``abs``, ``cubic``); the second input x2 is 0 (the
    network sees features of x1 only).

    >>> X, Y = make_curve("abs", 4, 0.0, seed=0)
    >>> X.shape, bool(np.allclose(Y, np.abs(X[0]) / 1.5 - 1)), X[1].tolist()
    ((2, 4), True, [0.0, 0.0, 0.0, 0.0])
    """
    rng = np.random.RandomState(seed)
    x = rng.uniform(-3, 3, size=n_points)
    y = CURVE_FUNCTIONS[name](x) + noise * rng.randn(n_points)
    return np.vstack([x, np.zeros(n_points)]), np.asarray(y, dtype=np.float64)[None, :]


def curve_box(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[float, float, float, float]:
    """The view of a 1-D set: x1 across (a 5 % margin), y up (a 15 % margin)."""
    x = np.hstack([X[0] for X, _ in parts])
    y = np.hstack([Y[0] for _, Y in parts])
    x_pad = max(float(x.max() - x.min()) * 0.05, 1e-3)
    y_pad = max(float(y.max() - y.min()) * 0.15, 0.1)
    return (float(x.min() - x_pad), float(x.max() + x_pad),
            float(y.min() - y_pad), float(y.max() + y_pad))


def split(
    X: np.ndarray, Y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the columns with ``RandomState(seed).permutation(m)``; the first
    ``round(test_fraction · m)`` (at least 1, at most m - 2) are the test points."""
    order, n_test = split_order(X.shape[1], test_fraction, seed)
    test, train = order[:n_test], order[n_test:]
    return X[:, train], Y[:, train], X[:, test], Y[:, test]


def split_order(m: int, test_fraction: float, seed: int) -> tuple[np.ndarray, int]:
    """``split``'s shuffle of the m columns and its number of test points (the first ones)."""
    n_test = min(max(1, round(test_fraction * m)), m - 2)
    return np.random.RandomState(seed).permutation(m), n_test


def view_box(*arrays: np.ndarray) -> tuple[float, float, float, float]:
    """A square around all the points, with a margin of 10 %."""
    X = np.hstack(arrays)
    lo, hi = X.min(axis=1), X.max(axis=1)
    center = (lo + hi) / 2
    half = max(float(np.max(hi - lo)) / 2 * 1.1, 1e-3)
    return (float(center[0] - half), float(center[0] + half),
            float(center[1] - half), float(center[1] + half))


def build_data(settings: Settings, uploads: UploadStore | None = None) -> Data:
    """The points of ``settings.dataset``, split into training and test points.

    Raises ``SettingsError`` when the football file is missing or an upload is unknown.
    """
    s = settings
    name, target = s.dataset, None
    if s.dataset == "football":
        try:
            data = load_football()
        except DataFileError as exc:
            raise SettingsError("dataset", f"football: {exc}") from None
        parts = tuple(data)
    elif s.dataset == "circles":
        n_test = min(max(1, round(s.test_fraction * s.n_points)), s.n_points - 2)
        data = load_circles(
            n_train=s.n_points - n_test, n_test=n_test, noise=s.noise,
            train_random_state=s.seed, test_random_state=(s.seed + 1) % 2**32,
        )
        parts = tuple(data)
    else:
        if s.dataset in CURVE_FUNCTIONS:
            X, Y = make_curve(s.dataset, s.n_points, s.noise, s.seed)
        elif s.problem == "regression":
            X, Y = make_regression(s.dataset, s.n_points, s.noise, s.seed)
        elif s.classes > 2 and s.dataset == "blobs":
            X, Y = make_blobs(s.n_points, s.classes, s.noise, s.seed)
        elif s.classes > 2 and s.dataset == "spiral":
            X, Y = make_arms(s.n_points, s.classes, s.noise, s.seed)
        elif s.dataset == "moons":
            X, Y = load_moons(n_samples=s.n_points, noise=s.noise, random_state=s.seed)
        elif s.dataset == "flower":
            X, Y = load_flower(n_per_class=max(2, s.n_points // 2), random_state=s.seed)
        elif s.dataset == "csv":
            if uploads is None or s.upload is None:
                raise SettingsError("upload", "uploaded CSV: choose a CSV file to upload first")
            upload = uploads.get(s.upload)
            if len(upload.classes) != s.classes:
                raise SettingsError("classes", f"{upload.name} has {len(upload.classes)} classes "
                                    f"({', '.join(upload.classes)}): set the number of classes "
                                    f"to {len(upload.classes)}")
            X, Y = upload.X, upload.Y
            name = upload.name
            target = upload.columns[2] if upload.columns else None
        else:
            X, Y = make_toy(s.dataset, s.n_points, s.noise, random_state=s.seed)
        parts = split(X, Y, s.test_fraction, s.seed)
    X_train, Y_train, X_test, Y_test = (np.asarray(a, dtype=np.float64) for a in parts)
    box = (curve_box((X_train, Y_train), (X_test, Y_test)) if s.dataset in CURVE_FUNCTIONS
           else view_box(X_train, X_test))
    return Data(X_train, Y_train, X_test, Y_test, box, name, target)
