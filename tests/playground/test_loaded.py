"""Loading a saved nnlab model into the playground: the file ``nnlab train --save`` writes, the
page's own Export model, and files the page refuses with the server's clear message."""

import io
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from starlette.testclient import TestClient

from nnlab import Dense, Model, save
from nnlab.files.models import load_model
from nnlab.playground.loaded import read_model
from nnlab.playground.server import create_app
from nnlab.playground.settings import Limits, SettingsError


@pytest.fixture
def app():
    return create_app(Limits(max_sessions=2, max_units=8, max_upload_bytes=200_000))


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def configure(ws, **message):
    ws.send_json({"type": "configure", **message})
    while True:
        msg = ws.receive_json()
        if msg["type"] in ("ready", "error"):
            if msg["type"] == "ready":
                assert ws.receive_json()["type"] == "state"
            return msg


def model_bytes(tmp_path, model, name="model.npz"):
    path = tmp_path / name
    save(model, path)
    return path.read_bytes()


def test_a_model_from_nnlab_train_save_starts_the_run(app, client, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "nnlab", "train", "moons", "--layers", "4,3", "--epochs", "5",
         "--lr", "0.02", "--save", str(tmp_path / "run")], capture_output=True, text=True,
        timeout=300)
    assert done.returncode == 0, done.stderr
    data = (tmp_path / "run" / "model.npz").read_bytes()
    answer = client.post("/api/model?name=model.npz", content=data)
    assert answer.status_code == 200, answer.text
    loaded = answer.json()
    s = loaded["settings"]
    assert (s["layers"], s["activations"], s["features"]) == ([4, 3], ["relu", "relu"],
                                                               ["x1", "x2"])
    assert (s["problem"], s["classes"], s["dataset"], s["lr"]) == ("classification", 2, "moons",
                                                                   0.02)
    assert loaded["layer_dims"] == [2, 4, 3, 1] and loaded["epoch"] == 5
    with client.websocket_connect("/ws") as ws:
        sid = ws.receive_json()["session"]
        ready = configure(ws, settings=s, model=loaded["id"])
        assert ready["model"]["name"] == "model.npz"
        run = app.state.playground.sessions[sid].lab.runs[0]
        saved = load_model(tmp_path / "run" / "model.npz")
        for k in saved.params:  # the run starts from the file's weights, exactly
            np.testing.assert_array_equal(run.params[k], saved.params[k])
        assert run.epoch == 0
        ws.send_json({"type": "step"})
        assert ws.receive_json()["runs"][0]["epoch"] == 1
        ws.send_json({"type": "reset"})  # Reset goes back to the loaded weights
        while (msg := ws.receive_json())["type"] != "ready":
            pass
        assert msg["model"]["id"] == loaded["id"]
        run = app.state.playground.sessions[sid].lab.runs[0]
        np.testing.assert_array_equal(run.params["W1"], saved.params["W1"])
        # settings whose network is not the model's: the message says what differs
        error = configure(ws, settings={**s, "layers": [5, 3]}, model=loaded["id"])
        assert error["field"] == "model" and error["message"] == (
            "model.npz: the loaded model is layers [2, 4, 3, 1] with relu, relu, sigmoid; "
            "these settings give layers [2, 5, 3, 1] with relu, relu, sigmoid: change the "
            "network and its weights start afresh")
        error = configure(ws, settings=s, model="0123456789abcdef")
        assert error["field"] == "model" and "is not on this server" in error["message"]


def test_the_pages_own_export_loads_back_with_its_classes_and_batch_norm(tmp_path):
    from nnlab.playground.lab import Lab
    from nnlab.playground.settings import parse_settings

    lab = Lab(parse_settings({"dataset": "spiral", "classes": 3, "layers": [5, 4],
                              "batch_norm": [False, True], "features": ["x1", "x2", "sin_x1"]}))
    lab.step(3)
    loaded = read_model(lab.model_file(), "spiral.npz")
    s = loaded.settings
    assert (s["problem"], s["classes"], s["layers"], s["batch_norm"]) == (
        "classification", 3, [5, 4], [False, True])
    assert s["features"] == ["x1", "x2", "sin_x1"] and loaded.epoch == 3
    assert set(loaded.params) == set(lab.runs[0].params)  # γ, β and the running statistics too


@pytest.mark.parametrize("make, message", [
    (lambda tmp: b"hello, not a model", "spiral.npz: "),
    (lambda tmp: b"PK\x03\x04" + b"\x00" * 60, "spiral.npz: "),
    (lambda tmp: model_bytes(tmp, Model([Dense(3, "tanh"), Dense(2, "sigmoid")], input_dim=2,
                                        random_state=0)),
     "spiral.npz: its output is 2 sigmoid units: the playground trains one sigmoid unit (two "
     "classes), a softmax of 2 to 5 units (that many classes) or one identity unit "
     "(regression)"),
    (lambda tmp: model_bytes(tmp, Model([Dense(12, "relu"), Dense(1, "sigmoid")], input_dim=2,
                                        random_state=0)),
     "spiral.npz: a hidden layer of 12 units: this server allows at most 8 (raise the limit "
     "with --max-units)"),
    (lambda tmp: model_bytes(tmp, Model([Dense(3, "relu"), Dense(1, "identity")], input_dim=5,
                                        random_state=0)),
     "spiral.npz: it takes 5 inputs: the playground's inputs are x1, x2 or features of them "
     "(the file names none)"),
])
def test_a_bad_or_crafted_file_is_refused_with_a_clear_message(client, tmp_path, make, message):
    answer = client.post("/api/model?name=spiral.npz", content=make(tmp_path))
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "model" and error["message"].startswith(message), error
    assert str(tmp_path) not in error["message"] and "nnlab-playground-" not in error["message"]


def test_a_pickle_inside_the_archive_is_never_loaded(client):
    """A crafted file: an object array (a pickle) in a zip named like a model. nnlab's reader
    refuses it before reading its data; nothing is unpickled."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        member = io.BytesIO()
        np.save(member, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
        zf.writestr("W1.npy", member.getvalue())
    answer = client.post("/api/model?name=evil.npz", content=buffer.getvalue())
    assert answer.status_code == 422
    assert answer.json()["error"]["message"].startswith("evil.npz: ")


def test_a_file_over_the_limit_is_refused_while_it_streams(client):
    answer = client.post("/api/model?name=big.npz", content=b"x" * 300_000)
    assert answer.status_code == 413
    assert answer.json()["error"]["message"] == (
        "big.npz: the file is larger than 200000 bytes (raise the limit with --max-upload-bytes)")
    with pytest.raises(SettingsError, match="larger than 10 bytes"):
        read_model(b"x" * 11, "x.npz", Limits(max_upload_bytes=10))
