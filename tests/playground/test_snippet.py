"""The playground's "Export Python": the script, run as a user runs it, retrains the page's run
with ``nnlab.Model`` to the same weights, bit for bit."""

import subprocess
import sys

import numpy as np
import pytest
from starlette.testclient import TestClient

from nnlab import load
from nnlab.playground.lab import Lab
from nnlab.playground.server import create_app
from nnlab.playground.settings import Limits, SettingsError, parse_settings
from nnlab.playground.snippet import python_snippet


def run_script(text, folder):
    """Run the exported script with Python (a subprocess) and load the model it saves."""
    script = folder / "run.py"
    script.write_text(text)
    done = subprocess.run([sys.executable, str(script), str(folder / "model.npz")],
                          capture_output=True, text=True, timeout=300, cwd=folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("train loss ")
    return load(folder / "model.npz")


def assert_same_weights(params, model):
    assert sorted(params) == sorted(model.params)
    for k in params:  # bit for bit
        np.testing.assert_array_equal(model.params[k], params[k], err_msg=k)


CASES = {
    # two classes, mini-batches, changes of α, λ, λ1 and the optimizer, a weight edited by hand
    "moons": {"dataset": "moons", "n_points": 120, "layers": [4, 3]},
    # 1-D regression, the full batch, momentum with a decaying α
    "sine": {"problem": "regression", "dataset": "sine", "n_points": 80, "layers": [6],
             "batch_size": "full", "optimizer": "momentum", "lr": 0.05, "decay": 0.1},
    # three classes, dropout, random init with a scale, batch norm in the first layer
    "blobs": {"dataset": "blobs", "classes": 3, "n_points": 90, "layers": [5, 4],
              "keep_prob": 0.8, "init": "random", "init_scale": 0.5,
              "batch_norm": [True, False], "features": ["x1", "x2", "x1_x2"]},
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_script_retrains_the_same_weights(name, tmp_path):
    raw = CASES[name]
    lab = Lab(parse_settings(raw))
    lab.step(6)
    lab.change(parse_settings({**raw, "lr": 0.02, "l2": 0.1, "l1": 0.01}))
    lab.step(3)
    lab.set_weight(1, 0, 0, 0.7)
    lab.step(2)
    lab.change(parse_settings({**raw, "lr": 0.02, "l2": 0.1, "l1": 0.01, "optimizer": "rmsprop",
                               "batch_size": 16}))
    lab.step(2)
    text = python_snippet(lab)
    assert "from nnlab import Dense, Model" in text and 'fast="exact"' in text
    assert text.count("model.fit(") == 4  # the run's four stretches between changes
    model = run_script(text, tmp_path)
    assert_same_weights(lab.runs[0].params, model)


def test_a_change_made_in_the_middle_of_an_epoch_is_refused_and_a_partial_epoch_left_out(
        tmp_path):
    raw = {"dataset": "xor", "n_points": 100, "layers": [3], "batch_size": 16}
    lab = Lab(parse_settings(raw))
    lab.step(2)
    lab.step_once("batch")  # epoch 2, one mini-batch in
    text = python_snippet(lab)  # the whole epochs only, and it says so
    assert "model.fit(X, y, epochs=2, initial_epoch=0" in text
    assert "1 mini-batch(es) of epoch 2 too: they are not replayed" in text
    whole = Lab(parse_settings(raw))
    whole.step(2)
    assert_same_weights(whole.runs[0].params, run_script(text, tmp_path))
    lab.change(parse_settings({**raw, "lr": 0.05}))
    with pytest.raises(SettingsError, match="a change was made in the middle of epoch 2 \\(after "
                                            "mini-batch 1\\): the Python export replays whole "
                                            "epochs") as error:
        python_snippet(lab)
    assert error.value.field == "export"


def test_the_export_of_an_uploaded_csv_run_and_of_a_loaded_model(tmp_path):
    """Through the server, as the page asks for it: the CSV's points are written into the
    script; a run started from a loaded model file starts the script from its weights."""
    lines = ["x,y,fruit"] + [f"{cx + (i % 7) / 10:.2f},{(i * 3 % 11) / 10 - 0.5:.2f},{name}"
                             for name, cx in (("apple", -2), ("kiwi", 0), ("pear", 2))
                             for i in range(20)]
    app = create_app(Limits(max_sessions=2))
    with TestClient(app) as client:
        upload = client.post("/api/upload?name=fruit.csv", content="\n".join(lines)).json()
        with client.websocket_connect("/ws") as ws:
            sid = ws.receive_json()["session"]
            ws.send_json({"type": "configure", "settings": {
                "dataset": "csv", "upload": upload["id"], "classes": 3, "layers": [4]}})
            while ws.receive_json()["type"] != "state":
                pass
            for _ in range(5):
                ws.send_json({"type": "step"})
                assert ws.receive_json()["type"] == "snapshot"
            answer = client.get(f"/api/sessions/{sid}/run.py?run=0")
            assert answer.status_code == 200 and answer.headers["content-type"].startswith(
                "text/x-python")
            assert 'filename="nnlab-csv-epoch5.py"' in answer.headers["content-disposition"]
            assert "# the uploaded file fruit.csv" in answer.text
            lab = app.state.playground.sessions[sid].lab
            (tmp_path / "csv").mkdir()
            assert_same_weights(lab.runs[0].params, run_script(answer.text, tmp_path / "csv"))
            # the page's own model file, loaded back: the run starts from its weights
            saved = client.get(f"/api/sessions/{sid}/model.npz?run=0").content
            loaded = client.post("/api/model?name=fruit.npz", content=saved).json()
            ws.send_json({"type": "configure", "model": loaded["id"], "settings": {
                "dataset": "csv", "upload": upload["id"], "classes": 3, "layers": [4],
                "seed": 5}})
            while ws.receive_json()["type"] != "state":
                pass
            for _ in range(3):
                ws.send_json({"type": "step"})
                ws.receive_json()
            text = client.get(f"/api/sessions/{sid}/run.py?run=0").text
            assert "the weights loaded into the page (a model file) replace them" in text
            lab = app.state.playground.sessions[sid].lab
            (tmp_path / "loaded").mkdir()
            assert_same_weights(lab.runs[0].params, run_script(text, tmp_path / "loaded"))
        missing = client.get(f"/api/sessions/{sid}/run.py?run=0")
        assert missing.status_code == 404


def test_a_run_changed_too_often_is_not_exported(monkeypatch):
    monkeypatch.setattr("nnlab.playground.lab.MAX_JOURNAL", 2)
    lab = Lab(parse_settings({"dataset": "xor", "n_points": 40, "layers": [3]}))
    for value in (0.1, 0.2, 0.3):
        lab.set_weight(1, 0, 0, value)
    assert len(lab.runs[0].journal) == 2 and lab.runs[0].unrecorded == 1
    with pytest.raises(SettingsError, match="changed more than 2 times: too many changes"):
        python_snippet(lab)


def test_an_uploaded_files_name_cannot_end_a_comment_or_a_string_of_the_script():
    from nnlab.playground.data import UploadStore, parse_csv

    name = 'x"""\nimport os  # .csv'
    rows = "".join(f"{i % 5},{i % 3},{'a' if i % 2 else 'b'}\n" for i in range(20))
    store = UploadStore(2)
    upload = parse_csv(rows, name)
    store.add(upload)
    lab = Lab(parse_settings({"dataset": "csv", "upload": upload.id, "layers": [2]}), uploads=store)
    lab.step(1)
    text = python_snippet(lab)
    compile(text, "run.py", "exec")  # still Python
    assert "\nimport os" not in text and "x____import os  _ .csv" in text
    assert repr(name) in text  # (the data's name, as a Python string)
