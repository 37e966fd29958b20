"""Plotting: the decision-boundary grid labels the plane as the classifier does; files are PNGs."""

from __future__ import annotations

import numpy as np
import pytest

from nnlab import initialize_parameters, predict
from nnlab.plotting import (
    grid_points,
    network_classifier,
    new_figure,
    plot_costs,
    plot_decision_boundary,
    plot_images,
    plot_points,
    plot_relative_differences,
    save_figure,
)

PNG = b"\x89PNG\r\n\x1a\n"


def test_grid_covers_the_data_with_a_margin():
    X = np.array([[0.0, 10.0], [-1.0, 1.0]])
    xx, yy, P = grid_points(X, resolution=11, margin=0.1)
    assert xx.shape == yy.shape == (11, 11) and P.shape == (2, 121)
    assert xx.min() == pytest.approx(-1.0) and xx.max() == pytest.approx(11.0)
    assert yy.min() == pytest.approx(-1.2) and yy.max() == pytest.approx(1.2)
    with pytest.raises(ValueError, match=r"expected \(2, m\)"):
        grid_points(np.zeros((3, 5)))


def test_decision_boundary_labels_each_grid_point_as_the_classifier(tmp_path):
    X = np.array([[-1.0, 1.0, -1.0, 1.0], [-1.0, -1.0, 1.0, 1.0]])
    Y = np.array([[0, 1, 0, 1]])
    fig, (ax,) = new_figure(1)
    labels = plot_decision_boundary(ax, lambda P: (P[0:1] > 0).astype(int), X, Y,
                                    resolution=50)
    xx, _, _ = grid_points(X, 50)
    np.testing.assert_array_equal(labels, (xx > 0).astype(int))
    save_figure(fig, tmp_path / "b.png", "title")
    assert (tmp_path / "b.png").read_bytes()[:8] == PNG


def test_network_classifier_is_predict():
    params = initialize_parameters([2, 3, 1], random_state=0)
    P = np.random.RandomState(1).randn(2, 20)
    classify = network_classifier(params, ["relu", "sigmoid"])
    np.testing.assert_array_equal(classify(P), predict(P, params, ["relu", "sigmoid"]))


def test_new_figure_grid_hides_unused_cells():
    fig, axes = new_figure(7, ncols=4)
    assert len(axes) == 7 and len(fig.axes) == 8
    assert sum(ax.get_visible() for ax in fig.axes) == 7
    with pytest.raises(ValueError):
        new_figure(0)


def test_costs_bars_points_and_images_render(tmp_path):
    fig, axes = new_figure(4)
    plot_costs(axes[0], {"a": [(0, 1.0), (100, 0.5)], "b": [(0, 0.9), (100, 0.2)]}, log=True,
               title="costs")
    plot_relative_differences(axes[1], {"ok": {"W1": 1e-9, "b1": 0.0},
                                        "bad": {"W1": 0.3, "b1": 0.6}}, 2e-7)
    plot_points(axes[2], np.zeros((2, 3)), np.array([[0, 1, 0]]), "points")
    plot_images(axes[3:], np.zeros((1, 4, 4, 3), dtype=np.uint8), ["img"])
    assert [line.get_label() for line in axes[0].get_lines()] == ["a", "b"]
    assert axes[1].get_yscale() == "log"
    save_figure(fig, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG


def test_plotting_never_uses_pyplot():
    """No global figure state and no GUI backend: safe in worker processes."""
    import inspect
    import re

    import nnlab.plotting as plotting

    source = inspect.getsource(plotting)
    assert not re.search(r"^\s*(from|import)\s.*pyplot", source, re.MULTILINE)
    assert "pyplot" not in plotting.__dict__


def test_save_figure_lays_out_once_and_gives_matplotlibs_pixels(tmp_path):
    import matplotlib.image

    def draw():
        fig, axes = new_figure(2, panel_size=(3.0, 2.6))
        plot_costs(axes[0], {"a": [(0, 1.0), (10, 0.5)], "b": [(0, 0.9), (10, 0.2)]}, log=True,
                   title="cost")
        plot_points(axes[1], np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([[0, 1]]), "points")
        return fig

    fig = draw()
    save_figure(fig, tmp_path / "ours.png", "a title")
    assert fig.get_layout_engine() is None  # laid out: savefig draws it once
    reference = draw()
    reference.suptitle("a title")
    reference.savefig(tmp_path / "matplotlib.png", dpi=100, format="png")  # lays out twice
    ours = matplotlib.image.imread(tmp_path / "ours.png")
    theirs = matplotlib.image.imread(tmp_path / "matplotlib.png")
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def test_log_axes_over_two_decades_keep_only_their_labelled_decades(tmp_path):
    fig, axes = new_figure(2)
    plot_costs(axes[0], {"a": [(0, 1.0), (10, 1e-4)]}, log=True)  # four decades
    plot_costs(axes[1], {"a": [(0, 0.7), (10, 0.3)]}, log=True)  # under one: minor labels
    save_figure(fig, tmp_path / "costs.png")
    wide, narrow = axes
    assert wide.yaxis.get_minorticklocs().size == 0 and wide.yaxis.get_majorticklocs().size
    assert narrow.yaxis.get_minorticklocs().size > 0
