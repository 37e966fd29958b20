"""``nnlab export`` as a user runs it: a saved run to ONNX (run by onnxruntime) and safetensors
(read back by ``nnlab.load``), and the mistakes that are one line on stderr with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import nnlab
from cli_checks import one_line_error
from nnlab.files.format import save_params


def nnlab_cli(*args, cwd, check=None):
    out = subprocess.run([sys.executable, "-m", "nnlab", *map(str, args)], cwd=cwd,
                         capture_output=True, text=True, timeout=180)
    if check is not None:
        assert out.returncode == check, (out.stdout, out.stderr)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run trained on 2-D feature maps of the moons, saved as a folder."""
    d = tmp_path_factory.mktemp("export")
    nnlab_cli("train", "moons", "--features", "x1,x2,x1_sq,x1_x2,sin_x2", "--layers", "6,4",
              "--activation", "tanh", "--epochs", "30", "--save", "m", cwd=d, check=0)
    return d


POINTS = np.random.RandomState(0).uniform(-1.5, 2.5, (200, 2))


def test_export_onnx_runs_in_onnxruntime_on_the_raw_points(run):
    ort = pytest.importorskip("onnxruntime")
    from nnlab.runs.run import apply_features

    out = nnlab_cli("export", "m", "--format", "onnx", cwd=run, check=0)
    assert out.stdout.startswith("wrote m/model.onnx: ONNX graph (opset 17), float64")
    model = nnlab.load(run / "m")
    inputs = apply_features(POINTS, model.extra["features"])
    session = ort.InferenceSession(str(run / "m" / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    proba, label = session.run(["probabilities", "label"], {"X": POINTS})
    np.testing.assert_allclose(proba[:, 1:], model.predict_proba(inputs), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(label, model.predict(inputs))

    out = nnlab_cli("export", "m", "-o", "m32.onnx", "--dtype", "float32", "--json", cwd=run,
                    check=0)
    payload = json.loads(out.stdout)
    assert payload["format"] == "onnx" and payload["dtype"] == "float32"
    assert payload["layer_dims"] == [5, 6, 4, 1]
    session = ort.InferenceSession(str(run / "m32.onnx"), providers=["CPUExecutionProvider"])
    (proba,) = session.run(["probabilities"], {"X": POINTS.astype(np.float32)})
    np.testing.assert_allclose(proba[:, 1:], model.predict_proba(inputs), rtol=0, atol=1e-6)


def test_export_safetensors_is_read_back_by_nnlab_load(run):
    pytest.importorskip("safetensors")
    nnlab_cli("export", "m", "-o", "weights.safetensors", cwd=run, check=0)
    model, again = nnlab.load(run / "m"), nnlab.load(run / "weights.safetensors")
    X = np.random.RandomState(1).randn(30, 5)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert again.extra["features"] == model.extra["features"]
    assert again.extra["classes"] == model.extra["classes"]
    # and the file can itself be exported
    nnlab_cli("export", "weights.safetensors", "--format", "onnx", cwd=run, check=0)
    assert (run / "weights.onnx").is_file()
    line = one_line_error(nnlab_cli("export", "weights.safetensors", "--format", "safetensors",
                                    cwd=run))
    assert line.endswith("weights.safetensors is already safetensors: name another file with "
                         "--out")


def test_export_of_an_estimator_file(tmp_path):
    pytest.importorskip("onnxruntime")
    X = np.random.RandomState(0).randn(50, 3)
    est = nnlab.MLPRegressor((4,), solver="lbfgs", random_state=0).fit(X, X[:, 0] * X[:, 1])
    nnlab.save(est, tmp_path / "est.npz")
    out = nnlab_cli("export", "est.npz", "--format", "onnx", cwd=tmp_path, check=0)
    assert "est.onnx" in out.stdout
    import onnxruntime as ort

    session = ort.InferenceSession(str(tmp_path / "est.onnx"),
                                   providers=["CPUExecutionProvider"])
    (pred,) = session.run(["predictions"], {"X": X})
    np.testing.assert_allclose(pred[:, 0], est.predict(X), rtol=0, atol=1e-12)


def test_mistakes_are_one_line_and_exit_code_2(run, tmp_path):
    pytest.importorskip("safetensors")
    cases = {
        ("export", "m", "--format", "xml"): "invalid choice: 'xml'",
        ("export", "m"): "say which format to write: --format onnx|safetensors",
        ("export", "m", "-o", "m.bin"): "the suffix '.bin' names none",
        ("export", "nothere", "--format", "onnx"): "no such model file",
        ("export", "m", "-o", "m", "--format", "onnx"): "is a folder",
    }
    for argv, message in cases.items():
        assert message in one_line_error(nnlab_cli(*argv, cwd=run)), argv

    (tmp_path / "notes.npz").write_text("not a model")
    (tmp_path / "notes.safetensors").write_text("not a model either")
    save_params(tmp_path / "params.npz", {"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))})
    from nnlab.files.export import to_safetensors
    from nnlab.files.tensorfile import decode_safetensors, encode_safetensors

    arrays, meta = decode_safetensors(to_safetensors(nnlab.load(run / "m")))
    arrays["W2"] = np.zeros((6, 6))  # a wrong shape, its manifest entry to match
    config = json.loads(meta["nnlab"])
    config["arrays"]["W2"]["shape"] = [6, 6]
    meta["nnlab"] = json.dumps(config)
    (tmp_path / "wrong.safetensors").write_bytes(encode_safetensors(arrays, meta))
    del arrays["W2"]  # a missing key
    config["arrays"].pop("W2")
    meta["nnlab"] = json.dumps(config)
    (tmp_path / "missing.safetensors").write_bytes(encode_safetensors(arrays, meta))
    cases = {
        "notes.npz": "not an nnlab model file",
        "notes.safetensors": "not a safetensors file",
        "params.npz": "a bare parameter file",
        "wrong.safetensors": "W2 (6, 6) and b2 (4, 1) do not fit layer 1's size 6",
        "missing.safetensors": "found ['W1', 'W3', 'b1', 'b2', 'b3']",
    }
    for name, message in cases.items():
        line = one_line_error(nnlab_cli("export", name, "--format", "onnx", cwd=tmp_path))
        assert line.startswith("nnlab export: error: ") and message in line, line


def test_without_onnx_the_command_says_how_to_install_it(run, monkeypatch, capsys):
    from nnlab.cli import main

    monkeypatch.setitem(sys.modules, "onnx", None)  # as if the extra were not installed
    assert main(["export", str(run / "m"), "-o", str(run / "never.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ['nnlab export: error: exporting to ONNX needs onnx, which is not installed: '
                   'pip install "nnlab[export]"']
    assert not (run / "never.onnx").exists()


def test_the_saved_model_commands_read_an_exported_safetensors_file(run, tmp_path):
    """``nnlab evaluate / predict / summary`` take the exported file as they take the run: the
    same numbers (its feature maps travel in the metadata); an estimator's export is refused."""
    nnlab_cli("export", run / "m", "--format", "safetensors", "-o", tmp_path / "m.safetensors",
              cwd=run, check=0)
    for command in ("evaluate", "predict"):
        from_run = nnlab_cli(command, run / "m", "moons", "--json", cwd=run, check=0)
        exported = nnlab_cli(command, tmp_path / "m.safetensors", "moons", "--json", cwd=run,
                             check=0)
        got, want = json.loads(exported.stdout), json.loads(from_run.stdout)
        assert got.pop("model").endswith("m.safetensors")
        want.pop("model")
        assert got == want
    summary = nnlab_cli("summary", tmp_path / "m.safetensors", cwd=run, check=0)
    assert "total params" in summary.stdout
    X = np.random.RandomState(1).randn(40, 2)
    est = nnlab.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit(X, X[:, 0] > 0)
    nnlab.export(est, tmp_path / "est.safetensors", format="safetensors")
    refused = nnlab_cli("evaluate", tmp_path / "est.safetensors", "moons", cwd=run, check=2)
    assert "estimator" in one_line_error(refused)
