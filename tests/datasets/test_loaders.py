"""The course's data sets: shapes, first values, both orientations, and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_circles, make_moons

from nnlab.datasets import (
    CAT_CLASSES,
    DataFileError,
    data_dir,
    load_cat,
    load_cat_images,
    load_circles,
    load_flower,
    load_football,
    load_moons,
)


def test_flower_first_point_and_shapes():
    X, Y = load_flower()
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    assert X[:, 0].tolist() == [1.2044422922543190, 3.5761141481288448]
    assert Y[0, :200].sum() == 0 and Y[0, 200:].sum() == 200


def test_circles_are_sklearn_draws_from_the_course_seeds():
    data = load_circles()
    X, y = make_circles(n_samples=300, noise=0.05, random_state=np.random.RandomState(1))
    Xt, yt = make_circles(n_samples=100, noise=0.05, random_state=np.random.RandomState(2))
    assert [a.shape for a in data] == [(2, 300), (1, 300), (2, 100), (1, 100)]
    np.testing.assert_array_equal(data.X_train, X.T)
    np.testing.assert_array_equal(data.Y_train[0], y)
    np.testing.assert_array_equal(data.X_test, Xt.T)
    np.testing.assert_array_equal(data.Y_test[0], yt)


def test_moons_are_sklearn_draws_from_random_state_3():
    X, Y = load_moons()
    Xs, ys = make_moons(n_samples=300, noise=0.2, random_state=np.random.RandomState(3))
    assert X.shape == (2, 300) and Y.shape == (1, 300)
    np.testing.assert_array_equal(X, Xs.T)
    np.testing.assert_array_equal(Y[0], ys)


def test_football_from_data_mat(data_dir):
    data = load_football(data_dir)
    assert [a.shape for a in data] == [(2, 211), (1, 211), (2, 200), (1, 200)]
    assert data.Y_train.sum() == 106 and data.Y_test.sum() == 87
    assert data.X_train.dtype == np.float64


def test_football_found_through_the_environment(monkeypatch, data_dir):
    monkeypatch.setenv("NNLAB_DATA", str(data_dir))
    assert load_football().X_train.shape == (2, 211)


def test_cat_flattened_in_c_order_and_scaled(data_dir):
    data = load_cat(data_dir)
    train_x, train_y, test_x, test_y = load_cat_images(data_dir)
    np.testing.assert_array_equal(data.Y_train[0], train_y)
    np.testing.assert_array_equal(data.Y_test[0], test_y)
    assert [a.shape for a in data] == [(12288, 209), (1, 209), (12288, 50), (1, 50)]
    assert train_x.shape == (209, 64, 64, 3) and train_x.dtype == np.uint8
    # column j is picture j, pixel by pixel (row, column, channel), divided by 255
    np.testing.assert_array_equal(data.X_train[:, 5], train_x[5].reshape(-1) / 255.0)
    np.testing.assert_array_equal(data.X_test[:, 7], test_x[7].reshape(-1) / 255.0)
    assert data.Y_train.sum() == 72 and data.Y_test.sum() == 33
    assert 0.0 <= data.X_train.min() and data.X_train.max() <= 1.0
    assert CAT_CLASSES == ("non-cat", "cat")


@pytest.mark.parametrize(
    ("loader", "n_features"),
    [(load_flower, 2), (load_moons, 2)],
)
def test_sample_orientation_of_single_sets(loader, n_features):
    X, Y = loader()
    Xs, ys = loader(as_samples=True)
    assert Xs.shape == (X.shape[1], n_features) and ys.shape == (X.shape[1],)
    assert ys.dtype == np.int64
    np.testing.assert_array_equal(Xs, X.T)
    np.testing.assert_array_equal(ys, Y[0])


def test_sample_orientation_of_train_test_sets(data_dir):
    for engine, samples in [
        (load_circles(), load_circles(as_samples=True)),
        (load_football(data_dir), load_football(data_dir, as_samples=True)),
        (load_cat(data_dir), load_cat(data_dir, as_samples=True)),
    ]:
        assert samples.X_train.shape == engine.X_train.T.shape
        assert samples.Y_test.shape == (engine.X_test.shape[1],)
        np.testing.assert_array_equal(samples.X_test, engine.X_test.T)
        np.testing.assert_array_equal(samples.Y_train, engine.Y_train[0])


def test_data_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path / "env"))
    assert data_dir(tmp_path / "given") == tmp_path / "given"
    assert data_dir() == tmp_path / "env"
    monkeypatch.delenv("NNLAB_DATA")
    assert data_dir() == Path(os.environ["NNLAB_CACHE"])  # the cache (conftest seals it)


@pytest.mark.parametrize(
    ("loader", "missing"),
    [(load_football, "data.mat"), (load_cat, "train_catvnoncat.h5")],
)
def test_missing_file_names_file_folder_and_contents(tmp_path, loader, missing):
    with pytest.raises(DataFileError) as info:
        loader(tmp_path)
    message = str(info.value)
    assert missing in message and str(tmp_path) in message
    assert "expected" in message


def test_missing_folder_is_reported(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        load_football(tmp_path / "nowhere")


def test_environment_folder_is_named_in_the_error(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    with pytest.raises(DataFileError, match=r"\$NNLAB_DATA"):
        load_cat()


def test_garbage_files_are_malformed_not_crashes(tmp_path):
    (tmp_path / "data.mat").write_bytes(b"not a matlab file at all")
    (tmp_path / "train_catvnoncat.h5").write_bytes(b"not hdf5 either")
    with pytest.raises(DataFileError, match=r"data\.mat .* is malformed"):
        load_football(tmp_path)
    with pytest.raises(DataFileError, match=r"train_catvnoncat\.h5 .* is malformed"):
        load_cat(tmp_path)


def test_wrong_arrays_are_named(tmp_path):
    from scipy.io import savemat

    savemat(tmp_path / "data.mat", {"X": np.zeros((5, 3)), "y": np.zeros((5, 1)),
                                    "Xval": np.zeros((2, 2)), "yval": np.zeros((2, 1))})
    with pytest.raises(DataFileError, match=r"X has shape \(5, 3\)"):
        load_football(tmp_path)
    savemat(tmp_path / "data.mat", {"X": np.zeros((5, 2)), "y": np.zeros((5, 1))})
    with pytest.raises(DataFileError, match="no array 'Xval'"):
        load_football(tmp_path)


def test_cat_file_without_labels(tmp_path):
    import h5py

    with h5py.File(tmp_path / "train_catvnoncat.h5", "w") as f:
        f["train_set_x"] = np.zeros((3, 64, 64, 3), dtype=np.uint8)
    with pytest.raises(DataFileError, match="no dataset 'train_set_y'"):
        load_cat(tmp_path)
    with h5py.File(tmp_path / "train_catvnoncat.h5", "w") as f:
        f["train_set_x"] = np.zeros((3, 32, 32, 3), dtype=np.uint8)
        f["train_set_y"] = np.zeros(3, dtype=np.int64)
    with pytest.raises(DataFileError, match=r"uint8 \(3, 32, 32, 3\)"):
        load_cat(tmp_path)


def test_data_file_error_is_an_os_error():
    assert issubclass(DataFileError, OSError)


def test_the_flower_takes_a_generator_as_random_state():
    """random_state may be a numpy Generator, as its type says (it used to raise
    AttributeError: Generator has no randn); a RandomState keeps the course's points."""
    X, Y = load_flower(random_state=np.random.default_rng(0))
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    again, _ = load_flower(random_state=np.random.default_rng(0))
    np.testing.assert_array_equal(X, again)
    assert not np.array_equal(X, load_flower()[0])
