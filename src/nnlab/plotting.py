"""Pictures of what a network learned: decision boundaries, cost curves, gradient-check bars.

Everything draws on ``matplotlib.figure.Figure`` objects rendered by the Agg backend; pyplot (and
its global state and GUI backends) is never touched, so these functions are safe in worker
processes and never open a window. Data follows the engine's orientation: ``X (2, m)``,
``Y (1, m)``.

>>> import numpy as np
>>> from nnlab.plotting import new_figure, plot_decision_boundary, save_figure
>>> X = np.array([[-1.0, 1.0, -1.0, 1.0], [-1.0, -1.0, 1.0, 1.0]]); Y = np.array([[0, 1, 0, 1]])
>>> fig, axes = new_figure(1)
>>> labels = plot_decision_boundary(axes[0], lambda P: (P[0:1] > 0).astype(int), X, Y)
>>> labels.shape
(250, 250)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ._extras import require
from .network import predict

try:  # matplotlib comes with nnlab[plot]; this module is imported only where a figure is drawn
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator
except ImportError:
    require("matplotlib", "plot", "plotting")  # missing: one line naming the extra
    raise  # installed but broken: the original error

#: Class 0 red, class 1 blue, as in the course's pictures.
POINT_COLORS = ListedColormap(["#d7301f", "#2166ac"])
REGION_COLORS = ListedColormap(["#fcbba1", "#c6dbef"])
#: A function from points ``(2, k)`` to labels ``(1, k)``.
Classifier = Callable[[np.ndarray], np.ndarray]


def new_figure(
    n_panels: int, ncols: int | None = None, panel_size: tuple[float, float] = (4.0, 3.6)
) -> tuple[Figure, list]:
    """A figure with ``n_panels`` axes in a grid (``ncols`` per row, all in one row by default).

    Returns ``(figure, axes)``; unused cells of the grid are hidden.
    """
    if n_panels < 1:
        raise ValueError(f"n_panels={n_panels} must be >= 1")
    ncols = min(n_panels, ncols or n_panels)
    nrows = -(-n_panels // ncols)
    fig = Figure(figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.subplots(nrows, ncols, squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def save_figure(fig: Figure, path: str | os.PathLike[str], title: str | None = None) -> None:
    """Write ``fig`` as a PNG (100 dpi, fast zlib level) at ``path``.

    The constrained layout is worked out once, then fixed: ``savefig`` with a layout engine
    draws the figure twice and lays it out each time (the same pixels, twice the work).
    """
    if title:
        fig.suptitle(title)
    _drop_minor_log_ticks(fig)
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)
        with rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
            fig.set_layout_engine(None)  # no engine (not "none", which still draws twice)
    # zlib level 1: the same pixels in ~10 % more bytes, encoded in a fraction of the time
    fig.savefig(path, dpi=100, format="png", pil_kwargs={"compress_level": 1})


def _drop_minor_log_ticks(fig: Figure) -> None:
    """Log y axes spanning two decades or more lose their minor ticks (unlabelled there: the
    decades carry the labels). Each tick is several artists, and on the course's cost and
    gradient-check plots they took about a third of the drawing time."""
    for ax in fig.axes:
        if ax.get_yscale() != "log":
            continue
        low, high = ax.get_ylim()
        if low > 0 and high / low >= 100:
            ax.yaxis.set_minor_locator(NullLocator())


def grid_points(
    X: np.ndarray, resolution: int = 250, margin: float = 0.1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``resolution × resolution`` grid over the data's bounding box plus ``margin`` of its size.

    Returns ``(xx, yy, P)``: the two coordinate arrays ``(resolution, resolution)`` and the
    points as columns, ``P`` of shape ``(2, resolution²)``.
    """
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(f"X has shape {X.shape}; expected (2, m): points as columns")
    lo, hi = X.min(axis=1), X.max(axis=1)
    pad = margin * np.maximum(hi - lo, 1e-12)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, np.vstack([xx.ravel(), yy.ravel()])


def network_classifier(params: Mapping[str, np.ndarray], activations: Sequence[str]) -> Classifier:
    """The trained network as a ``points (2, k) -> labels (1, k)`` function."""
    return lambda P: predict(P, params, activations)


def plot_decision_boundary(
    ax,
    classify: Classifier,
    X: np.ndarray,
    Y: np.ndarray,
    title: str | None = None,
    resolution: int = 250,
) -> np.ndarray:
    """Shade the plane by the label ``classify`` gives each point, then draw the examples.

    ``X`` is ``(2, m)``, ``Y`` ``(1, m)``. Returns the grid of labels ``(resolution, resolution)``.
    """
    xx, yy, P = grid_points(X, resolution)
    labels = np.asarray(classify(P)).reshape(xx.shape)
    ax.contourf(xx, yy, labels, levels=[-0.5, 0.5, 1.5], cmap=REGION_COLORS)
    ax.scatter(X[0], X[1], c=np.ravel(Y), cmap=POINT_COLORS, vmin=0, vmax=1, s=12,
               edgecolors="white", linewidths=0.4)
    ax.set_xlim(xx.min(), xx.max())
    ax.set_ylim(yy.min(), yy.max())
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return labels


def plot_points(ax, X: np.ndarray, Y: np.ndarray, title: str | None = None) -> None:
    """Scatter the examples ``X (2, m)`` coloured by their label ``Y (1, m)``."""
    ax.scatter(X[0], X[1], c=np.ravel(Y), cmap=POINT_COLORS, vmin=0, vmax=1, s=12,
               edgecolors="white", linewidths=0.4)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)


def plot_costs(
    ax,
    curves: Mapping[str, Sequence[tuple[int, float]]],
    title: str | None = None,
    xlabel: str = "iteration",
    log: bool = False,
) -> None:
    """One line per label: ``curves[label] = [(iteration, cost), ...]``."""
    for label, points in curves.items():
        if not points:
            continue
        it, cost = zip(*points, strict=True)
        ax.plot(it, cost, label=label, linewidth=1.4)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("cost J")
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    if len(curves) > 1:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)


def plot_relative_differences(
    ax,
    checks: Mapping[str, Mapping[str, float]],
    threshold: float,
    title: str | None = None,
) -> None:
    """Grouped bars (log scale): for each check, each parameter's relative difference, with the
    pass threshold as a dashed line. ``checks[label][parameter] = difference``."""
    labels = list(checks)
    names = list(next(iter(checks.values()))) if checks else []
    width = 0.8 / max(len(labels), 1)
    x = np.arange(len(names))
    for i, label in enumerate(labels):
        values = [max(checks[label][n], 1e-18) for n in names]
        ax.bar(x + (i - (len(labels) - 1) / 2) * width, values, width, label=label)
    ax.axhline(threshold, color="black", linestyle="--", linewidth=1,
               label=f"threshold {threshold:g}")
    ax.set_yscale("log")
    ax.set_xticks(x, names)
    ax.set_ylabel("relative difference")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)


def plot_images(
    axes: Sequence, images: np.ndarray, titles: Sequence[str] | None = None
) -> None:
    """Show ``images`` ``(k, h, w, 3)`` (uint8) one per axis, with optional titles."""
    for i, ax in enumerate(axes):
        ax.imshow(images[i])
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
