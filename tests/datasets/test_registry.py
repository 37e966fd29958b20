import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnlab.datasets.registry import (
    DATASETS,
    DataError,
    csv_header,
    load_csv,
    load_csv_features,
    load_dataset,
    load_npz,
)

GENERATED = [n for n in DATASETS if n not in ("football", "cat")]


@pytest.mark.parametrize("name", GENERATED)
def test_every_named_set_loads_in_sample_orientation(name):
    ds = load_dataset(name)
    assert ds.X.ndim == 2 and ds.X.dtype == np.float64 and len(ds.X) == len(ds.y)
    assert np.all(np.isfinite(ds.X)) and len(ds.feature_names) == ds.X.shape[1]
    assert ds.task in ("binary", "multiclass", "regression")
    if ds.task != "regression":
        assert ds.y.dtype == np.int64 and len(ds.classes) >= 2


def test_course_sets_match_the_engine_loaders():
    from nnlab.datasets import load_flower, load_moons

    X, Y = load_flower()
    ds = load_dataset("flower")
    assert np.array_equal(ds.X, X.T) and np.array_equal(ds.y, Y.ravel())
    X, Y = load_moons()
    assert np.array_equal(load_dataset("moons").X, X.T)


def test_seed_changes_generated_sets_reproducibly():
    a, b = load_dataset("xor", seed=1), load_dataset("xor", seed=1)
    c = load_dataset("xor", seed=2)
    assert np.array_equal(a.X, b.X) and not np.array_equal(a.X, c.X)


def test_file_sets_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match=r"data\.mat"):
        load_dataset("football", data_dir=tmp_path)


def test_unknown_name():
    with pytest.raises(DataError, match="unknown data set 'mnist': use one of flower"):
        load_dataset("mnist")


def test_csv_round_trip_with_string_labels(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,label\n1,2,cat\n3,4.5,dog\n-1,0,cat\n")
    ds = load_csv(p)
    assert ds.X.tolist() == [[1, 2], [3, 4.5], [-1, 0]]
    assert ds.y.tolist() == [0, 1, 0] and ds.feature_names == ["a", "b"]
    with pytest.raises(DataError, match="'cat' is not a number"):
        load_csv(p, target="a")  # then "label" would be a feature, and it is not numeric
    q = tmp_path / "e.csv"
    q.write_text("y,x\n1.5,2\n2.5,3\n")
    ds2 = load_csv(q, target="y")
    assert ds2.task == "regression" and ds2.X.tolist() == [[2], [3]]


@pytest.mark.parametrize(
    "text, target, message",
    [
        ("", None, "empty"),
        ("a,b,y\n", None, "header but no data rows"),
        ("a,b,y\n1,2\n", None, "row 2 has 2 fields but the header has 3"),
        ("a,b,y\n1,2,0\n", "label", "no column named 'label'"),
        ("a,b,y\n1,x,0\n", None, "row 2, column 'b': 'x' is not a number"),
        ("a,b,y\n1,nan,0\n", None, "is not finite"),
        ("a,b,y\n1,2,\n", None, "a label is empty"),
    ],
)
def test_bad_csv(tmp_path, text, target, message):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=message):
        load_csv(p, target)


def test_npz(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, X=np.ones((4, 2)), y=np.array([0, 1, 0, 1]))
    ds = load_npz(p)
    assert ds.X.shape == (4, 2) and ds.task == "binary"
    np.savez(p, X=np.ones((4, 2)), y=np.array([0, 1]))
    with pytest.raises(DataError, match="must be"):
        load_npz(p)
    np.savez(p, X=np.array([[1 + 2j]]), y=np.array([0]))
    with pytest.raises(DataError, match="real numbers"):
        load_npz(p)
    np.savez(p, X=np.array([[np.inf]]), y=np.array([0]))
    with pytest.raises(DataError, match="NaN or infinity"):
        load_npz(p)
    np.savez(p, X=np.array([[1.0]], dtype=object), y=np.array([0]), allow_pickle=True)
    with pytest.raises(DataError):
        load_npz(p)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=500), suffix=st.sampled_from([".csv", ".npz"]))
def test_random_bytes_only_raise_data_error(tmp_path, data, suffix):
    p = tmp_path / f"r{suffix}"
    p.write_bytes(data)
    try:
        load_dataset(str(p))
    except DataError:
        pass


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet="0123456789,.-e\nabn ", max_size=200))
def test_random_csv_text_only_raises_data_error(tmp_path, text):
    p = tmp_path / "r.csv"
    p.write_text(text)
    try:
        ds = load_csv(p)
    except DataError:
        return
    assert ds.X.shape[0] == ds.y.shape[0] >= 1 and np.all(np.isfinite(ds.X))


def test_string_labels_keep_their_names(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,answer\n1,2,yes\n3,4,no\n5,6,yes\n")
    ds = load_csv(p)
    assert ds.classes == ["no", "yes"] and ds.y.tolist() == [1, 0, 1]
    assert ds.labels(ds.y) == ["yes", "no", "yes"]
    q = tmp_path / "n.csv"
    q.write_text("a,label\n1,3\n2,5\n")
    ds = load_csv(q)
    assert ds.classes == [3, 5] and ds.labels(ds.y) == [3, 5] and ds.class_names is None
    r = tmp_path / "s.npz"
    np.savez(r, X=np.ones((3, 1)), y=np.array(["eel", "dog", "eel"]))
    ds = load_npz(r)
    assert ds.classes == ["dog", "eel"] and ds.labels(ds.y) == ["eel", "dog", "eel"]


@pytest.mark.parametrize("text, message", [
    ("1,2,0\n3,4,1\n", "the first row holds numbers"),
    ("1.5,-2,3e1\n3,4,1\n", "the first row holds numbers"),
    ("a,b,y\n1," + "7" * 200_000 + ",0\n", "not a readable CSV file"),
    ("label,a,b\nyes,1,2\nno,3,4\n", "say which: --target label (target='label')"),
    ("lab,a,b\nyes,1,2\nno,3,4\n", "if 'lab' holds the labels, name it: --target lab"),
])
def test_csv_mistakes_that_used_to_be_silent_or_a_traceback(tmp_path, text, message):
    p = tmp_path / "d.csv"
    p.write_text(text)
    with pytest.raises(DataError, match=re.escape(message)):
        load_csv(p)


def test_no_target_hint_when_the_target_was_named(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("label,a,b\nyes,1,2\nno,3,4\n")
    with pytest.raises(DataError) as info:
        load_csv(p, target="b")
    assert "--target" not in str(info.value)
    assert load_csv(p, target="label").classes == ["no", "yes"]


def test_features_with_a_column_left_out(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("x1,label,x2\n0.5,yes,1\n2,no,3\n")
    X, names = load_csv_features(p, drop="label")
    assert X.tolist() == [[0.5, 1], [2, 3]] and names == ["x1", "x2"]
    with pytest.raises(DataError, match="'yes' is not a number"):
        load_csv_features(p)
    with pytest.raises(DataError, match="no column named 'y'"):
        load_csv_features(p, drop="y")
    assert csv_header(p) == ["x1", "label", "x2"]


def test_a_label_first_csv_with_numeric_labels_must_name_its_target(tmp_path):
    """A first column named like the labels, numeric, with no --target: the last column would be
    taken as the labels silently (a regression on a feature); it is refused with the fix."""
    p = tmp_path / "d.csv"
    p.write_text("label,x1,x2\n1,0.5,0.25\n0,-1.5,2.0\n1,0.1,-0.3\n")
    with pytest.raises(DataError, match=r"first column is named 'label'.*--target label"):
        load_csv(p)
    assert load_csv(p, target="label").feature_names == ["x1", "x2"]
    assert load_csv(p, target="x2").feature_names == ["label", "x1"]  # asked for: allowed
    q = tmp_path / "e.csv"
    q.write_text("y,x1,target\n1,0.5,0\n0,-1.5,1\n")  # both ends look like labels: the last
    assert load_csv(q).feature_names == ["y", "x1"]
