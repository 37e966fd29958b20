"""Where the course's files are read from (--data-dir, $NNLAB_DATA, the cache), the messages
when they are missing, and `nnlab datasets` listing without building a data set."""

from __future__ import annotations

import json
import shutil

import pytest

from nnlab.datasets import DataFileError, data_dir, load_football
from nnlab.datasets._files import find_data_file, locate, search_folders


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """An empty $NNLAB_DATA folder and an empty cache."""
    env, cache = tmp_path / "env", tmp_path / "cache"
    env.mkdir()
    cache.mkdir()
    monkeypatch.setenv("NNLAB_DATA", str(env))
    monkeypatch.setenv("NNLAB_CACHE", str(cache))
    return env, cache


def test_search_order_is_data_dir_then_env_then_cache(folders, tmp_path):
    env, cache = folders
    given = tmp_path / "given"
    assert [f for f, _ in search_folders()] == [env, cache]
    assert [f for f, _ in search_folders(given)] == [given]  # given: the only one
    assert data_dir() == env and data_dir(given) == given
    (cache / "data.mat").write_bytes(b"in the cache")
    assert locate("data.mat") == cache / "data.mat"
    (env / "data.mat").write_bytes(b"in the env folder")
    assert locate("data.mat") == env / "data.mat"
    assert locate("data.mat", given) is None


def test_the_cache_is_found_when_nnlab_data_is_unset(folders, monkeypatch):
    _, cache = folders
    monkeypatch.delenv("NNLAB_DATA")
    (cache / "data.mat").write_bytes(b"x")
    assert find_data_file("data.mat", "football") == cache / "data.mat"


def test_a_missing_file_names_every_folder_searched_and_how_to_get_it(folders):
    env, cache = folders
    with pytest.raises(DataFileError) as info:
        find_data_file("data.mat", "a long description of the file format")
    message = str(info.value)
    assert f"{env} ($NNLAB_DATA)" in message and f"{cache} ($NNLAB_CACHE)" in message
    assert "`nnlab datasets fetch`" in message and "file format" not in message
    assert info.value.missing and info.value.data_file == "data.mat"


def test_a_missing_folder_given_says_so_and_how_to_fetch_into_it(folders, tmp_path):
    with pytest.raises(DataFileError, match="does not exist") as info:
        load_football(tmp_path / "nowhere")
    assert f"nnlab datasets fetch --data-dir {tmp_path / 'nowhere'}" in str(info.value)


def test_course_data_in_the_cache_is_loaded(folders, monkeypatch, data_dir):
    _, cache = folders
    monkeypatch.delenv("NNLAB_DATA")
    shutil.copy(data_dir / "data.mat", cache / "data.mat")
    assert load_football().X_train.shape == (2, 211)


def test_a_malformed_file_is_not_missing(folders):
    env, _ = folders
    (env / "data.mat").write_bytes(b"not a matlab file")
    with pytest.raises(DataFileError, match="malformed") as info:
        load_football()
    assert not info.value.missing and info.value.data_file == "data.mat"


# ------------------------------------------------------------------- nnlab datasets (list)


def test_the_catalog_describes_every_data_set_as_loading_it_would(course_data):
    from nnlab.datasets.registry import CATALOG, DATASETS, load_dataset

    assert list(CATALOG) == list(DATASETS)
    for name, about in CATALOG.items():
        if about.files and course_data is None:
            continue  # the generated ones are still checked (see conftest.py)
        ds = load_dataset(name)
        assert (ds.X.shape, ds.task, ds.description) == (
            (about.samples, about.features), about.task, about.description), name
        test = 0 if ds.X_test is None else ds.X_test.shape[0]
        assert test == about.test_samples, name


def test_listing_builds_no_data_set(monkeypatch, capsys):
    from nnlab.cli import main
    from nnlab.datasets import registry

    def refuse(*args):
        raise AssertionError("nnlab datasets built a data set to list it")

    for name in registry.DATASETS:
        monkeypatch.setitem(registry.DATASETS, name, refuse)
    assert main(["datasets", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)["datasets"]}
    assert rows["cat"]["files"] == ["train_catvnoncat.h5", "test_catvnoncat.h5"]
    assert (rows["cat"]["samples"], rows["cat"]["features"]) == (209, 12288)
    assert rows["iris"] == {"name": "iris", "file": False, "samples": 150, "features": 4,
                            "task": "multiclass", "description": registry.CATALOG["iris"]
                            .description}
    assert main(["datasets"]) == 0
    assert "football" in capsys.readouterr().out
