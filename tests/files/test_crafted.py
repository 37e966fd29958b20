"""Crafted model files: each is built here, in the test (never committed), and must be refused
with one ``ModelFileError`` line naming what is wrong — before anything large is allocated."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import nnlab
from nnlab import Dense, Model
from nnlab.files.format import CONFIG_KEY, ModelFileError, load_arrays
from nnlab.files.models import PairWarning, load_checkpoint, load_model, save_checkpoint, save_model

SRC = str(Path(__file__).resolve().parents[2] / "src")


# ------------------------------------------------------------------------------ crafting tools


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(a), allow_pickle=True)
    return buf.getvalue()


def _header(shape, descr="<f8") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue()


def _config_member(cfg) -> bytes:
    return _npy(np.frombuffer(json.dumps(cfg).encode(), dtype=np.uint8))


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _config(members: dict[str, bytes]) -> dict:
    return json.loads(np.load(io.BytesIO(members[CONFIG_KEY + ".npy"])).tobytes())


def _write_zip(path: Path, members, deflate: bool = False) -> Path:
    """Write ``members`` (a dict or a list of (name, bytes): names may repeat)."""
    items = members.items() if isinstance(members, dict) else members
    mode = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a repeated name
        with zipfile.ZipFile(path, "w", mode) as zf:
            for name, data in items:
                zf.writestr(name, data)
    return path


def _small_model(out: str = "sigmoid", units: int = 1) -> Model:
    model = Model([Dense(3, "tanh"), Dense(units, out)], random_state=0, input_dim=2)
    return model


def _saved(tmp_path: Path, extra=None, out="sigmoid", units=1, name="m.npz") -> Path:
    path = tmp_path / name
    save_model(_small_model(out, units), path, extra=extra)
    return path


def _edit(path: Path, change) -> Path:
    """Rewrite a saved file with its JSON config changed by ``change(cfg)``."""
    members = _members(path)
    cfg = _config(members)
    change(cfg)
    members[CONFIG_KEY + ".npy"] = _config_member(cfg)
    return _write_zip(path, members)


def zip_bomb(path: Path, gib: float = 1.0) -> Path:
    """A model file of about 1 MB whose W1 member inflates to ``gib`` GiB of zeros (its manifest
    and .npy header agree, so only a budget / inflation check stops it)."""
    rows = int(gib * 1024**3) // (8 * 8192)
    cfg = {"format": "nnlab", "format_version": 1, "kind": "params",
           "arrays": {"W1": {"dtype": "float64", "shape": [rows, 8192]},
                      "b1": {"dtype": "float64", "shape": [rows, 1]}}}
    header = _header((rows, 8192))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr(CONFIG_KEY + ".npy", _config_member(cfg))
        zf.writestr("b1.npy", _npy(np.zeros((rows, 1))))
        with zf.open("W1.npy", "w", force_zip64=True) as f:
            f.write(header)
            chunk = bytes(16 * 1024**2)
            left = rows * 8192 * 8
            while left:
                n = min(left, len(chunk))
                f.write(chunk[:n])
                left -= n
    return path


def big_config(path: Path, mb: int = 200) -> Path:
    """A __config__ member of ``mb`` MB (valid JSON padded with spaces), deflated to ~0.2 MB."""
    base = {"format": "nnlab", "format_version": 1, "kind": "params",
            "arrays": {"W1": {"dtype": "float64", "shape": [1, 2]},
                       "b1": {"dtype": "float64", "shape": [1, 1]}}}
    text = json.dumps(base)[:-1] + " " * (mb * 1024**2) + "}"
    members = {CONFIG_KEY + ".npy": _npy(np.frombuffer(text.encode(), dtype=np.uint8)),
               "W1.npy": _npy(np.ones((1, 2))), "b1.npy": _npy(np.ones((1, 1)))}
    return _write_zip(path, members, deflate=True)


def huge_header(path: Path) -> Path:
    """W1's manifest and .npy header both declare 1e5 x 1e5 float64 (80 GB); no data follows."""
    members = {CONFIG_KEY + ".npy": _config_member(
        {"format": "nnlab", "format_version": 1, "kind": "params",
         "arrays": {"W1": {"dtype": "float64", "shape": [100000, 100000]},
                    "b1": {"dtype": "float64", "shape": [100000, 1]}}}),
        "W1.npy": _header((100000, 100000)), "b1.npy": _npy(np.zeros((100000, 1)))}
    return _write_zip(path, members)


def many_lists(path: Path) -> Path:
    """A 15 MB config (under the size limit, 16 KB deflated) of 5 million empty lists: ~400 MB
    once parsed, unless their number is bounded first."""
    base = {"format": "nnlab", "format_version": 1, "kind": "model", "arrays": {}}
    text = json.dumps(base)[:-1] + ', "junk": [' + ",".join(["[]"] * (5 * 1024**2)) + "]}"
    members = {CONFIG_KEY + ".npy": _npy(np.frombuffer(text.encode(), dtype=np.uint8))}
    return _write_zip(path, members, deflate=True)


def many_samples(path: Path, n_samples=30_000_000) -> Path:
    """A tiny moons model whose stored training settings ask for ``n_samples`` points."""
    from nnlab.runs.config import TrainConfig

    cfg = TrainConfig(dataset="moons", layers=[3]).to_dict()
    cfg["n_samples"] = n_samples
    model = Model([Dense(3, "relu"), Dense(1, "sigmoid")], random_state=0, input_dim=2)
    save_model(model, path, extra={"config": cfg, "classes": [0, 1], "task": "binary",
                                   "feature_names": ["x1", "x2"], "features": None})
    return path


# ------------------------------------------------------------------------------ not a model


@pytest.mark.parametrize("content", [b"hello, world\n", np.random.RandomState(0).bytes(3000),
                                     b"", b"PK\x03\x04"])
def test_not_a_zip_says_so_never_numpy_words(tmp_path, content):
    path = tmp_path / "x.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not an nnlab model file: not a zip archive") as err:
        load_arrays(path)
    assert "pickle" not in str(err.value)


def test_fifo_and_devices_refused_without_blocking(tmp_path):
    fifo = tmp_path / "f.npz"
    os.mkfifo(fifo)
    # a FIFO nobody writes to: opening it for reading would block forever without O_NONBLOCK
    code = ("import sys; from nnlab.files.format import load_arrays, ModelFileError\n"
            "for p in sys.argv[1:]:\n"
            "    try: load_arrays(p)\n"
            "    except ModelFileError as e: print(e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(fifo), "/dev/zero", "/dev/null"],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": SRC})
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stderr
    assert "a FIFO (named pipe), not a file" in lines[0]
    assert "a character device, not a file" in lines[1]
    assert "a character device, not a file" in lines[2]


def test_cli_refuses_random_bytes_and_fifo_in_one_line(tmp_path):
    (tmp_path / "r.npz").write_bytes(np.random.RandomState(1).bytes(5000))
    os.mkfifo(tmp_path / "p.npz")
    for name in ("r.npz", "p.npz"):
        out = subprocess.run([sys.executable, "-m", "nnlab", "summary", name], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "PYTHONPATH": SRC})
        assert out.returncode == 2
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert "not an nnlab model file" in out.stderr and "allow_pickle" not in out.stderr


# ------------------------------------------------------------------------------ the archive


def test_duplicate_member_names_refused(tmp_path):
    path = _saved(tmp_path)
    members = list(_members(path).items())
    w1 = next(m for m in members if m[0] == "W1.npy")
    _write_zip(path, [*members, (w1[0], _npy(np.zeros((3, 2))))])
    with pytest.raises(ModelFileError, match=r"'W1\.npy' appears twice"):
        load_arrays(path)


def test_text_dtype_gets_a_reason(tmp_path):
    path = _saved(tmp_path)
    members = _members(path)
    members["W1.npy"] = _npy(np.array([["abc"] * 2] * 3))
    _write_zip(path, members)
    with pytest.raises(ModelFileError, match=r"holds text \(<U3\), but the manifest says float64"):
        load_arrays(path)
    _edit(path, lambda c: c["arrays"]["W1"].update(dtype="<U3"))
    with pytest.raises(ModelFileError, match=r"the dtype '<U3', not a number type"):
        load_arrays(path)


def test_object_member_refused_without_numpy_words(tmp_path):
    path = _saved(tmp_path)
    members = _members(path)
    members["W1.npy"] = _npy(np.array([[None] * 2] * 3, dtype=object))
    _write_zip(path, members)
    with pytest.raises(ModelFileError, match="Python objects") as err:
        load_arrays(path)
    assert "allow_pickle" not in str(err.value)


@pytest.mark.parametrize("make, message", [
    (zip_bomb, "would inflate"),
    (big_config, "__config__ entry is .* bytes, over the"),
    (huge_header, "over the .* budget"),
    (many_lists, "lists/objects"),
])
def test_bounded_before_reading(tmp_path, make, message):
    path = make(tmp_path / "x.npz")
    assert path.stat().st_size < 1.5 * 1024**2
    with pytest.raises(ModelFileError, match=message):
        nnlab.load(path)


def test_header_that_disagrees_with_the_entry_size(tmp_path):
    """The header declares more data than the member holds: refused before any read."""
    path = _saved(tmp_path)
    members = _members(path)
    members["W1.npy"] = _header((3, 2))  # the header alone, no numbers
    _write_zip(path, members)
    with pytest.raises(ModelFileError, match="its header declares"):
        load_arrays(path)


# ------------------------------------------------------------------------------ stored fields


@pytest.mark.parametrize("classes, message", [
    (5, "extra.classes=5 must be a list"),
    ([0], "extra.classes has 1 labels but the output layer"),
    ({"a": 1}, "must be a list"),
    (["a", 1], "one type"),
    (["a", "a"], "repeats a label"),
    ([True, False], "one type"),
    ([0.5, float("nan")], "not finite"),
    ([0, 1, 2], "has 3 labels"),
])
def test_classes_validated_against_the_output_layer(tmp_path, classes, message):
    path = _saved(tmp_path)
    _edit(path, lambda c: c["extra"].update(classes=classes))
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


@pytest.mark.parametrize("classes", [["no", "yes"], [0, 1], [-1.5, 2.0], None])
def test_user_labels_load(tmp_path, classes):
    path = _saved(tmp_path, extra={"classes": classes})
    assert load_model(path).extra["classes"] == classes


def test_classes_of_softmax_and_regression(tmp_path):
    ok = _saved(tmp_path, extra={"classes": ["a", "b", "c"]}, out="softmax", units=3)
    assert load_model(ok).extra["classes"] == ["a", "b", "c"]
    bad = _saved(tmp_path, extra={"classes": ["a", "b"]}, out="softmax", units=3, name="b.npz")
    with pytest.raises(ModelFileError, match="takes 3"):
        load_model(bad)
    reg = _saved(tmp_path, extra={"classes": []}, out="identity", name="r.npz")
    assert load_model(reg).extra["classes"] == []
    reg2 = _saved(tmp_path, extra={"classes": [0, 1]}, out="identity", name="r2.npz")
    with pytest.raises(ModelFileError, match="predicts no classes"):
        load_model(reg2)


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(extra=[1, 2]), "extra must be an object"),
    (lambda c: c["extra"].update(config=[1]), "extra.config .* must be an object"),
    (lambda c: c["extra"].update(config={"dataset": "moons", "n_samples": 30_000_000}),
     "extra.config: n_samples=30000000 is out of range"),
    (lambda c: c["extra"].update(config={"dataset": "moons", "n_samples": 3e7}),
     "extra.config: n_samples=.* must be a whole number"),
    (lambda c: c["extra"].update(config={"dataset": "moons", "lr": -1}), "extra.config: lr"),
    (lambda c: c["extra"].update(config={"bogus": 1}), "extra.config: .*unknown setting"),
    (lambda c: c["extra"].update(task="cats"), "extra.task"),
    (lambda c: c["extra"].update(features=["x1", "zz"]), "extra.features"),
    (lambda c: c["extra"].update(features=["x1"]), "names 1 inputs but W1 takes 2"),
    (lambda c: c["extra"].update(feature_names="x1"), "feature_names"),
    (lambda c: c.update(history={"epoch": [0, 1], "history": {"loss": [1.0]}}),
     r"history.history\['loss'\] must be 2"),
    (lambda c: c.update(history={"epoch": "x"}), "history.epoch"),
    (lambda c: c.update(history=[1]), "history must be an object"),
    (lambda c: c.update(history={"epoch": [0], "history": {"loss": ["a"]}}), "history.history"),
    (lambda c: c.update(history={"epoch": [0], "history": {"loss": [1e999]}}),
     "history.history"),
])
def test_stored_fields_validated_on_load(tmp_path, change, message):
    path = _saved(tmp_path, extra={"config": {"dataset": "moons"}})
    _edit(path, change)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(model=[1]), "model must be an object"),
    (lambda c: c["model"].update(layers="abc"), "model.layers must be a list"),
    (lambda c: c["model"]["layers"].__setitem__(0, [1]), "model.layers must be a list"),
    (lambda c: c["model"].update(layers=[]), "at least one layer"),
    (lambda c: c["model"]["layers"][0].update(units=-3), "units=-3"),
    (lambda c: c["model"]["layers"][0].update(units=10**9), "do not match the layers"),
    (lambda c: c["model"]["layers"][0].update(keep_prob=5), "keep_prob"),
    (lambda c: c["model"]["optimizer"]["hyperparams"].update(learning_rate=-1), "learning_rate"),
    (lambda c: c["model"].update(l2=-1), "l2"),
    (lambda c: c.update(pair=5), "malformed pair entry"),
])
def test_model_description_validated(tmp_path, change, message):
    path = _edit(_saved(tmp_path), change)
    with pytest.raises(ModelFileError, match=message):
        nnlab.load(path)


def test_stored_training_settings_validated_as_a_new_run(tmp_path):
    """The hypothesis: a stored config loads exactly when TrainConfig accepts it as new."""
    from nnlab.runs.config import ConfigError, TrainConfig

    path = _saved(tmp_path)

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(n=st.one_of(st.integers(-5, 3_000_000), st.floats(allow_nan=False,
                                                               allow_infinity=False)),
           lr=st.floats(-1, 2000, allow_nan=False))
    def check(n, lr):
        cfg = {"dataset": "moons", "n_samples": n, "lr": lr}
        _edit(path, lambda c: c["extra"].update(config=cfg))
        try:
            TrainConfig.from_dict(cfg)
            ok = True
        except ConfigError:
            ok = False
        if ok:
            load_model(path)
        else:
            with pytest.raises(ModelFileError, match=r"extra\.config"):
                load_model(path)

    check()


def test_checkpoint_fields_validated(tmp_path):
    model = _small_model()
    save_checkpoint(model, tmp_path / "ck.npz", epoch=3)
    for change, message in [
        (lambda c: c.update(epoch=10**12), "epoch="),
        (lambda c: c.update(learning_rate="fast"), "learning_rate="),
        (lambda c: c.update(early_stopping=[1]), "early_stopping must be an object"),
        (lambda c: c.update(early_stopping={"best": "x", "wait": 0}), "early_stopping.best"),
        (lambda c: c.update(early_stopping={"best": 1.0, "wait": -1}), "early_stopping.wait"),
    ]:
        _edit(tmp_path / "ck.npz", change)
        with pytest.raises(ModelFileError, match=message):
            load_checkpoint(tmp_path / "ck.npz")
        save_checkpoint(model, tmp_path / "ck.npz", epoch=3)


def _fitted(kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 5 iterations do not converge: not the point here
        return _fit(kind)


def _fit(kind):
    from nnlab import LogisticRegression, MLPClassifier, MLPRegressor

    rng = np.random.RandomState(0)
    X = rng.randn(40, 3)
    if kind == "reg":
        return MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(
            X, X[:, 0])
    y = (X[:, 0] > 0).astype(int)
    if kind == "logreg":
        return LogisticRegression(max_iter=5).fit(X, y)
    return MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, y)


@pytest.mark.parametrize("kind, change, message", [
    ("clf", lambda c: c["fitted"]["classes_"]["array"].append(2), "classes_ has 3 labels"),
    ("clf", lambda c: c["fitted"].update(n_features_in_=5), "n_features_in_=5"),
    ("clf", lambda c: c["params"].update(hidden_layer_sizes={"seq": [-4], "tuple": True}),
     "hidden_layer_sizes must be > 0"),
    ("clf", lambda c: c["params"].update(hidden_layer_sizes={"seq": [7], "tuple": True}),
     r"hidden_layer_sizes \[7\] does not match"),
    ("clf", lambda c: c.update(label_type="weird"), "label_type"),
    ("clf", lambda c: c["fitted"]["classes_"].update(array=[1, 1]), "distinct labels"),
    ("reg", lambda c: c["fitted"].update(n_outputs_=3), "n_outputs_=3"),
    ("logreg", lambda c: c["fitted"].update(n_features_in_=2), "n_features_in_=2"),
])
def test_estimator_attributes_validated(tmp_path, kind, change, message):
    est = _fitted(kind)
    path = tmp_path / "e.npz"
    nnlab.save(est, path)
    nnlab.load(path)  # the file as written loads
    _edit(path, change)
    with pytest.raises(ModelFileError, match=message):
        nnlab.load(path)


def test_pair_mismatch_is_detected(tmp_path):
    model = _small_model()
    folder = tmp_path / "run"
    save_model(model, folder / "model.npz", companion=(folder / "config.toml", "a = 1\n"))
    assert (folder / "config.toml").read_text().startswith("# nnlab pair ")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(folder / "model.npz")  # the pair matches: no warning
    old = (folder / "config.toml").read_bytes()
    save_model(model, folder / "model.npz", companion=(folder / "config.toml", "a = 2\n"))
    (folder / "config.toml").write_bytes(old)  # as a crash between the two renames leaves it
    with pytest.warns(PairWarning, match="was not written with"):
        load_model(folder / "model.npz")


# ------------------------------------------------------------------------------ memory


PROBE = textwrap.dedent("""
    import sys, os
    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    from nnlab.cli import main
    case, path, good = sys.argv[1:4]
    cmd = {"evaluate": ["evaluate", None, "moons"], "summary": ["summary", None],
           "predict": ["predict", None, "moons"]}[case]
    sys.stdout = open(os.devnull, "w")
    main([c or good for c in cmd])  # warm up on a sound model: imports, data set code
    before = hwm()
    rc = main([c or path for c in cmd])
    sys.stdout = sys.__stdout__
    print(rc, hwm() - before)
""")


def measure(case: str, path: Path, good: Path, src: str = SRC) -> tuple[int, int]:
    """(exit code, MB above the baseline) of ``nnlab <case>`` on ``path`` in a fresh process."""
    out = subprocess.run([sys.executable, "-c", PROBE, case, str(path), str(good)],
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": src})
    rc, mb = out.stdout.split()[-2:]
    return int(rc), int(mb)


@pytest.mark.parametrize("make, case", [(zip_bomb, "summary"), (big_config, "summary"),
                                        (huge_header, "summary"), (many_lists, "summary"),
                                        (many_samples, "evaluate"), (many_samples, "predict")])
def test_crafted_files_stay_within_memory(tmp_path, make, case):
    good = many_samples(tmp_path / "good.npz", n_samples=200)
    path = make(tmp_path / "x.npz")
    assert path.stat().st_size <= 1024**2 + 200_000
    rc, mb = measure(case, path, good)
    assert rc == 2
    assert mb < 300, f"{make.__name__}: {mb} MB above the baseline"


# ------------------------------------------------------------------------------ the class


_DTYPES = ["<f8", "<f4", "<i8", "|u1", "|b1", "<U3", "|O", ">f8", "<c16", "|S2"]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest_shape=st.lists(st.integers(0, 10**7), max_size=3),
       header_shape=st.none() | st.lists(st.integers(0, 10**7), max_size=3),
       manifest_dtype=st.sampled_from(_DTYPES), header_dtype=st.none() | st.sampled_from(_DTYPES),
       data=st.binary(max_size=600), deflate=st.booleans(), fortran=st.booleans())
@example(manifest_shape=[2, 3], header_shape=None, manifest_dtype="<f8", header_dtype=None,
         data=bytes(range(48)), deflate=True, fortran=True)
def test_any_member_loads_exactly_as_declared_or_is_refused(
        tmp_path, manifest_shape, header_shape, manifest_dtype, header_dtype, data, deflate,
        fortran):
    """Whatever a member's manifest entry, .npy header and data say, loading either returns
    exactly the declared array or raises ModelFileError (never another error, never a read
    beyond the declared size)."""
    header_shape = manifest_shape if header_shape is None else header_shape
    header_dtype = manifest_dtype if header_dtype is None else header_dtype
    dtype_name = str(np.dtype(manifest_dtype)) if manifest_dtype != "|O" else "object"
    cfg = {"format": "nnlab", "format_version": 1, "kind": "x",
           "arrays": {"A": {"dtype": dtype_name, "shape": manifest_shape}}}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.dtype(header_dtype).str if header_dtype != "|O" else "|O",
              "fortran_order": fortran, "shape": tuple(header_shape)})
    path = _write_zip(tmp_path / "h.npz", {CONFIG_KEY + ".npy": _config_member(cfg),
                                           "A.npy": buf.getvalue() + data}, deflate=deflate)
    try:
        arrays, _ = load_arrays(path)
    except ModelFileError as exc:
        assert "\n" not in str(exc) and "allow_pickle" not in str(exc)
        return
    a = arrays["A"]
    assert list(a.shape) == manifest_shape and str(a.dtype) == dtype_name
    assert a.nbytes == len(data)


def test_deeply_nested_config_is_one_error(tmp_path):
    path = tmp_path / "deep.npz"
    text = b"[" * 200_000 + b"]" * 200_000
    _write_zip(path, {CONFIG_KEY + ".npy": _npy(np.frombuffer(text, dtype=np.uint8))})
    with pytest.raises(ModelFileError, match="nested too deeply"):
        load_arrays(path)


def test_cli_save_dir_writes_a_consistent_pair(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nnlab", "train", "moons", "--epochs", "1",
                          "--quiet", "--save", "run"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": SRC})
    assert out.returncode == 0, out.stderr
    cfg = _config(_members(tmp_path / "run" / "model.npz"))
    assert "pair" in cfg  # the folder's two files are written as one pair
    text = (tmp_path / "run" / "config.toml").read_text()
    assert text.startswith(f"# nnlab pair {cfg['pair']['id']}")
    from nnlab.runs.config import TrainConfig

    assert TrainConfig.from_toml(text).dataset == "moons"  # still a valid --config file


def wide_model(path: Path, n_samples=2000) -> Path:
    """A valid 800 KB model: 100,000 float16 hidden units, whose stored settings ask for 2,000
    moons points; one pass over them all would hold 2000 x 100000 activations per array."""
    from nnlab.runs.config import TrainConfig

    cfg = TrainConfig(dataset="moons", layers=[100_000]).to_dict()
    cfg["n_samples"] = n_samples
    model = Model([Dense(100_000, "relu"), Dense(1, "sigmoid")], random_state=0)
    model.build(2, dtype=np.float16)
    save_model(model, path, extra={"config": cfg, "classes": [0, 1], "task": "binary",
                                   "feature_names": ["x1", "x2"], "features": None})
    return path


@pytest.mark.parametrize("case", ["evaluate", "predict"])
def test_a_wide_stored_model_is_run_in_row_chunks(tmp_path, case):
    """A sound model file under 1 MB can still describe a wide network: prediction and
    evaluation go through it in row chunks (Model.PREDICT_BYTES), not in one pass."""
    good = many_samples(tmp_path / "good.npz", n_samples=200)
    path = wide_model(tmp_path / "wide.npz")
    assert path.stat().st_size <= 1024**2
    rc, mb = measure(case, path, good)
    assert rc == 0
    assert mb < 300, f"{case}: {mb} MB above the baseline"
