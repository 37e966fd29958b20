"""Every endpoint and WebSocket message of the playground server, good values and bad, through
Starlette's TestClient (the app runs in-process; nothing listens on a port)."""

import contextlib
import io
import time

import numpy as np
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from nnlab.files.format import load_params
from nnlab.playground.server import CSP, create_app
from nnlab.playground.settings import Limits
from nnlab.runs.config import TrainConfig

CSV = "x1,x2,label\n" + "".join(
    f"{x:.2f},{y:.2f},{'in' if x * x + y * y < 1 else 'out'}\n"
    for x, y in np.random.RandomState(0).uniform(-2, 2, size=(80, 2))
)


@pytest.fixture
def app():
    return create_app(Limits(max_sessions=3, max_points=1000, max_upload_bytes=20_000))


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def receive(ws, kind, limit=500):
    """The next message of type ``kind``, skipping others (snapshots while playing)."""
    for _ in range(limit):
        msg = ws.receive_json()
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind!r} message among {limit}")


@contextlib.contextmanager
def open_session(client, settings=None, compare=None):
    """A connected page: (websocket, session id, its "ready" message once configured)."""
    with client.websocket_connect("/ws") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "hello" and hello["session"]
        ready = None
        if settings is not None:
            ws.send_json({"type": "configure", "settings": settings, "compare": compare})
            ready = receive(ws, "ready")
            assert receive(ws, "state")["playing"] is False
        yield ws, hello["session"], ready


def wait_until(predicate, seconds=20.0):
    """Poll ``predicate`` (a guard against hanging, not a timing requirement)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


# -- HTTP -----------------------------------------------------------------------------------------


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>nnlab playground</title>" in page.text
    assert page.headers["content-security-policy"] == CSP
    for path in ("/static/app.js", "/static/draw.js", "/static/playground.css",
                 "/static/favicon.svg"):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/nothing.js").status_code == 404
    # nothing from the internet: no absolute URLs in the page and its scripts
    for path in ("/", "/static/app.js", "/static/draw.js", "/static/playground.css"):
        text = client.get(path).text
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path


def test_options_and_status(client, course_data):
    o = client.get("/api/options").json()
    assert [d["name"] for d in o["datasets"]] == [
        "moons", "circles", "flower", "xor", "blobs", "spiral", "football", "csv", "plane",
        "gaussian", "sine", "step", "abs", "cubic"]
    assert o["curve_sets"] == ["sine", "step", "abs", "cubic"]
    assert o["problems"] == ["classification", "regression"] and o["max_classes"] == 5
    assert o["limits"]["max_sessions"] == 3 and o["limits"]["max_units"] == 16
    assert set(o["presets"]) == {"init", "optimizer", "regularization"}
    assert o["defaults"]["batch_size"] == 32 and o["defaults"]["l2"] == 0.01
    assert o["live"] == ["lr", "decay", "l2", "l1", "keep_prob", "optimizer", "beta", "beta1",
                         "beta2", "epsilon", "batch_size"]
    assert o["defaults"]["l1"] == 0.0 and o["defaults"]["batch_norm"] == [False, False]
    assert o["speeds"][0] == 1 and o["speeds"][-1] is None and o["default_speed"] == 10
    assert "x1_x2" in [f["name"] for f in o["features"]]
    football = next(d for d in o["datasets"] if d["name"] == "football")
    # tests/conftest.py points NNLAB_DATA at the course's files when it finds them
    present = course_data is not None and (course_data / "data.mat").is_file()
    assert (football["unavailable"] is None) == present
    status = client.get("/api/status").json()
    assert status["sessions"] == 0 and status["limits"]["max_points"] == 1000


def test_football_is_offered_only_with_its_file(client, monkeypatch, tmp_path):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    o = client.get("/api/options").json()
    football = next(d for d in o["datasets"] if d["name"] == "football")
    assert "data.mat not found" in football["unavailable"]
    assert all(d["unavailable"] is None for d in o["datasets"] if d["name"] != "football")


def test_validate_good_and_bad(client):
    ok = client.post("/api/validate", json={"settings": {"lr": "0.5", "layers": "3,2"},
                                            "compare": [{"init": "zeros"}, {"init": "he"}]})
    assert ok.status_code == 200
    body = ok.json()
    assert body["settings"]["lr"] == 0.5 and body["settings"]["layers"] == [3, 2]
    assert [v["label"] for v in body["compare"]] == ["A", "B"]
    bad = client.post("/api/validate", json={"settings": {"n_points": 5000}})
    assert bad.status_code == 422
    assert bad.json()["error"] == {
        "field": "n_points",
        "message": "number of points (n_points) = 5000 is out of range: allowed 10 ≤ n_points ≤ "
                   "1000 (raise the limit with --max-points)",
    }
    assert client.post("/api/validate", content=b"{oops").json()["error"]["message"] == (
        "the request body is not JSON")
    assert client.post("/api/validate", json=[1]).status_code == 422
    bad_compare = client.post("/api/validate", json={"settings": {}, "compare": [{}]})
    assert "a comparison runs 2 to 4 settings" in bad_compare.json()["error"]["message"]
    other_site = client.post("/api/validate", json={}, headers={"origin": "http://evil.example"})
    assert other_site.status_code == 403


def test_upload_good_and_bad(client):
    ok = client.post("/api/upload?name=ring.csv", content=CSV.encode(),
                     headers={"content-type": "text/csv"})
    assert ok.status_code == 200
    up = ok.json()
    assert up["name"] == "ring.csv" and up["n_points"] == 80 and up["classes"] == ["in", "out"]
    assert up["columns"] == ["x1", "x2", "label"] and len(up["id"]) == 16
    assert client.get("/api/status").json()["uploads"] == 1
    bad = client.post("/api/upload?name=bad.csv", content=b"1,2,0\n3,oops,1\n5,6,0\n7,8,1\n")
    assert bad.status_code == 422
    assert bad.json()["error"] == {"field": "upload",
                                   "message": "bad.csv: line 2: 'oops' is not a number"}
    big = client.post("/api/upload?name=big.csv", content=b"1,1,0\n" * 5000)
    assert big.status_code == 413 and "larger than 20000 bytes" in big.json()["error"]["message"]
    binary = client.post("/api/upload?name=x.png", content=b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert binary.status_code == 422 and "not UTF-8 text" in binary.json()["error"]["message"]
    other_site = client.post("/api/upload", content=CSV.encode(),
                             headers={"origin": "http://evil.example"})
    assert other_site.status_code == 403


# -- the WebSocket session ------------------------------------------------------------------------


def test_configure_step_play_pause_reset(client):
    settings = {"dataset": "moons", "layers": "4", "lr": "0.03"}
    with open_session(client, settings) as (ws, _, ready):
        assert ready["settings"]["layers"] == [4] and not ready["comparing"]
        assert len(ready["data"]["train"]) == 210 and len(ready["data"]["test"]) == 90
        assert ready["snapshot"]["runs"][0]["epoch"] == 0
        ws.send_json({"type": "step"})
        snap = receive(ws, "snapshot")
        assert snap["runs"][0]["epoch"] == 1 and [r[0] for r in snap["runs"][0]["rows"]] == [1]
        ws.send_json({"type": "play"})
        assert receive(ws, "state")["playing"] is True
        epochs = [receive(ws, "snapshot")["runs"][0]["epoch"] for _ in range(3)]
        assert epochs == sorted(epochs) and epochs[0] > 1
        ws.send_json({"type": "pause"})
        state = receive(ws, "state")
        assert state["playing"] is False
        ws.send_json({"type": "reset"})
        again = receive(ws, "ready")
        assert again["snapshot"]["runs"][0]["epoch"] == 0
        assert again["snapshot"]["runs"][0]["metrics"] == ready["snapshot"]["runs"][0]["metrics"]


def test_same_settings_and_seed_give_the_same_run(client):
    settings = {"dataset": "spiral", "layers": "6,6", "activations": "relu", "batch_size": "20",
                "keep_prob": "0.9", "seed": "5"}
    rows = []
    for _ in range(2):
        with open_session(client, settings) as (ws, _, _):
            for _ in range(5):
                ws.send_json({"type": "step"})
                snap = receive(ws, "snapshot")
            rows.append((snap["runs"][0]["metrics"], snap["runs"][0]["boundary"]))
    assert rows[0] == rows[1]


def test_bad_messages_are_answered_and_the_session_goes_on(client):
    with open_session(client) as (ws, _, _):
        ws.send_json({"type": "play"})
        assert "the page has not sent its settings" in receive(ws, "error")["message"]
        ws.send_text("{not json")
        assert receive(ws, "error")["message"] == "message is not JSON"
        ws.send_json({"type": "explode"})
        assert "unknown message type 'explode'" in receive(ws, "error")["message"]
        ws.send_json(["configure"])
        assert "unknown message type None" in receive(ws, "error")["message"]
        ws.send_text("x" * 70_000)
        assert "message too large" in receive(ws, "error")["message"]
        ws.send_bytes(b"\x00\x01")
        assert "binary messages are not understood" in receive(ws, "error")["message"]
        ws.send_json({"type": "configure", "settings": {"lr": "-1"}})
        error = receive(ws, "error")
        assert error["field"] == "lr"
        assert error["message"] == "learning rate (lr) = -1 is out of range: allowed 0 < lr ≤ 10"
        ws.send_json({"type": "configure", "settings": {"dataset": "csv"}})
        assert receive(ws, "error")["field"] == "upload"
        ws.send_json({"type": "configure", "settings": {"layers": "4"}, "compare": [{"lr": 2}]})
        assert "2 to 4 settings" in receive(ws, "error")["message"]
        ws.send_json({"type": "configure", "settings": "lr=1"})
        assert "settings must be an object" in receive(ws, "error")["message"]
        # after all that, the session still works
        ws.send_json({"type": "configure", "settings": {"layers": "2"}})
        assert receive(ws, "ready")["settings"]["layers"] == [2]
        ws.send_json({"type": "gradcheck", "run": 3})
        assert receive(ws, "error")["field"] == "run"


def test_a_bad_value_keeps_the_previous_setup(client):
    with open_session(client, {"layers": "3"}) as (ws, _, _):
        ws.send_json({"type": "configure", "settings": {"layers": "3,x"}})
        error = receive(ws, "error")
        assert error["field"] == "layers" and "hidden layer 2" in error["message"]
        ws.send_json({"type": "step"})
        assert receive(ws, "snapshot")["runs"][0]["epoch"] == 1  # the old network trains on


def test_gradcheck_and_its_refusal_with_dropout(client):
    settings = {"dataset": "xor", "layers": "3", "activations": "tanh"}
    with open_session(client, settings) as (ws, _, _):
        ws.send_json({"type": "step"})
        receive(ws, "snapshot")
        ws.send_json({"type": "gradcheck"})
        result = receive(ws, "gradcheck")
        assert result["passed"] and result["epoch"] == 1 and result["failing"] == []
        assert result["difference"] < 1e-7 and set(result["per_parameter"]) == {
            "W1", "b1", "W2", "b2"}
        ws.send_json({"type": "configure", "settings": {"layers": "3", "keep_prob": "0.8"}})
        assert receive(ws, "ready")["dropout"] is True
        ws.send_json({"type": "gradcheck"})
        error = receive(ws, "error")
        assert error["field"] == "gradcheck"
        assert "gradient checking is refused with dropout on" in error["message"]


def test_compare_preset_over_the_socket(client):
    options = client.get("/api/options").json()
    preset = options["presets"]["optimizer"]
    with open_session(client, preset["base"], preset["variants"]) as (ws, sid, ready):
        assert ready["comparing"] is True
        assert [r["label"] for r in ready["runs"]] == ["gradient descent", "momentum", "Adam"]
        ws.send_json({"type": "step"})
        snap = receive(ws, "snapshot")
        assert [r["epoch"] for r in snap["runs"]] == [1, 1, 1]
        config = client.get(f"/api/sessions/{sid}/config.toml?run=2")
        assert TrainConfig.from_toml(config.text).optimizer == "adam"
        assert "momentum-epoch1.toml" in client.get(
            f"/api/sessions/{sid}/config.toml?run=1").headers["content-disposition"]


def test_exports_of_an_open_session(client, tmp_path):
    settings = {"dataset": "circles", "layers": "5", "features": "x1_sq,x2_sq"}
    with open_session(client, settings) as (ws, sid, _):
        for _ in range(3):
            ws.send_json({"type": "step"})
            receive(ws, "snapshot")
        config = client.get(f"/api/sessions/{sid}/config.toml")
        assert config.status_code == 200
        assert config.headers["content-disposition"] == (
            'attachment; filename="nnlab-circles-epoch3.toml"')
        cfg = TrainConfig.from_toml(config.text)
        assert cfg.dataset == "circles" and cfg.epochs == 3 and cfg.features == ["x1_sq", "x2_sq"]
        model = client.get(f"/api/sessions/{sid}/model.npz")
        assert model.status_code == 200
        path = tmp_path / "model.npz"
        path.write_bytes(model.content)
        params, meta = load_params(path)
        assert params["W1"].shape == (5, 2) and meta["epoch"] == 3
        assert np.load(io.BytesIO(model.content), allow_pickle=False)["W1"].shape == (5, 2)
        bad_run = client.get(f"/api/sessions/{sid}/model.npz?run=1")
        assert bad_run.status_code == 422 and bad_run.json()["error"]["field"] == "run"
        assert client.get(f"/api/sessions/{sid}/config.toml?run=-1").status_code == 422
    gone = client.get(f"/api/sessions/{sid}/config.toml")
    assert gone.status_code == 404 and "no such session" in gone.json()["error"]["message"]
    assert client.get("/api/sessions/nope/model.npz").status_code == 404


def test_uploaded_csv_trains(client):
    up = client.post("/api/upload?name=ring.csv", content=CSV.encode()).json()
    settings = {"dataset": "csv", "upload": up["id"], "test_fraction": "0.25", "layers": "6"}
    with open_session(client, settings) as (ws, sid, ready):
        assert ready["data"]["name"] == "ring.csv"
        assert len(ready["data"]["train"]) == 60 and len(ready["data"]["test"]) == 20
        cfg = TrainConfig.from_toml(client.get(f"/api/sessions/{sid}/config.toml").text)
        assert cfg.dataset == "ring.csv" and cfg.target == "label" and cfg.n_samples is None
        ws.send_json({"type": "configure", "settings": {"dataset": "csv",
                                                        "upload": "0123456789abcdef"}})
        error = receive(ws, "error")
        assert error["field"] == "upload" and "upload the file again" in error["message"]


def test_a_diverging_run_reports_and_the_page_goes_on(client):
    settings = {"dataset": "blobs", "n_points": 10, "optimizer": "gd", "lr": 10, "l2": 10,
                "layers": "3"}
    with open_session(client, settings) as (ws, _, _):
        ws.send_json({"type": "play"})
        events = []
        while True:
            msg = ws.receive_json()
            if msg["type"] == "snapshot":
                events += msg["events"]
            if msg["type"] == "state" and not msg["playing"]:
                break
        assert [e["kind"] for e in events] == ["diverged"]
        assert "training diverged at epoch" in events[0]["message"]
        assert "stopped" in msg["reason"]
        ws.send_json({"type": "play"})
        assert "press reset" in receive(ws, "state")["reason"]
        ws.send_json({"type": "reset"})
        assert receive(ws, "ready")["snapshot"]["runs"][0]["epoch"] == 0


def test_training_stops_when_the_page_goes_away(app, client):
    pg = app.state.playground
    with open_session(client, {"dataset": "moons"}) as (ws, _, _):
        ws.send_json({"type": "play"})
        receive(ws, "snapshot")
        (session,) = pg.sessions.values()
        assert session.playing
    wait_until(lambda: not pg.sessions)
    assert session.closed and session.lab.closed and session.task.done()
    inflight = session._inflight  # the last turn given to a training thread
    wait_until(lambda: inflight.done())
    epoch = session.lab.runs[0].epoch
    time.sleep(0.3)
    assert session.lab.runs[0].epoch == epoch
    assert client.get("/api/status").json()["sessions"] == 0


def test_the_session_limit_turns_pages_away_with_a_message(app, client):
    with contextlib.ExitStack() as stack:
        for _ in range(3):
            stack.enter_context(open_session(client))
        extra = stack.enter_context(client.websocket_connect("/ws"))
        error = extra.receive_json()
        assert error["type"] == "error" and error["field"] == "session"
        assert "the server is busy: 3 pages are open, the limit is 3" in error["message"]
        assert "--max-sessions" in error["message"]
        with pytest.raises(WebSocketDisconnect) as info:
            extra.receive_json()
        assert info.value.code == 1013
    wait_until(lambda: not app.state.playground.sessions)
    with open_session(client, {}) as (_, _, ready):  # room again
        assert ready["type"] == "ready"


def test_a_page_of_another_site_cannot_connect(client):
    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}):
            pass
    assert info.value.code == 1008
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "hello"


def test_only_the_allowed_host_names_are_answered():
    app = create_app(hosts=frozenset({"127.0.0.1", "localhost"}))
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        assert local.get("/").status_code == 200
        assert local.get("/api/status", headers={"host": "localhost:8000"}).status_code == 200
        rebound = local.get("/", headers={"host": "evil.example:8000"})
        assert rebound.status_code == 400
        assert "answers requests for 127.0.0.1, localhost only" in rebound.json()["error"][
            "message"]
        with local.websocket_connect("/ws", headers={"host": "127.0.0.1:8000"}) as ws:
            assert ws.receive_json()["type"] == "hello"
        with pytest.raises(WebSocketDisconnect) as info:
            with local.websocket_connect("/ws", headers={"host": "evil.example:8000"}):
                pass
        assert info.value.code == 1008


def test_speed_step_by_mini_batch_and_a_change_without_reset(client):
    settings = {"dataset": "moons", "n_points": 100, "layers": "4", "optimizer": "gd",
                "lr": "0.05", "batch_size": "full"}
    with open_session(client, settings) as (ws, _, _ready):
        ws.send_json({"type": "speed", "epochs_per_second": 1})
        assert receive(ws, "state")["speed"] == 1
        ws.send_json({"type": "play", "speed": "max"})
        assert receive(ws, "state")["speed"] is None
        receive(ws, "snapshot")
        ws.send_json({"type": "pause"})
        assert receive(ws, "state")["playing"] is False
        ws.send_json({"type": "step"})
        epoch = receive(ws, "snapshot")["runs"][0]["epoch"]
        # a change without reset: the epoch count kept, the change marked
        ws.send_json({"type": "change", "settings": {**settings, "lr": "0.5",
                                                     "batch_size": "20"}})
        changed = receive(ws, "changed")
        assert changed["changes"] == ["α 0.05 → 0.5, batch full → 20"]
        assert changed["epoch"] == epoch and changed["settings"]["batch_size"] == 20
        ws.send_json({"type": "step", "unit": "batch"})
        snap = receive(ws, "snapshot")
        run, step = snap["runs"][0], snap["step"]
        assert run["epoch"] == epoch and (run["batch"], run["batches"]) == (1, 4)
        assert step["unit"] == "batch" and step["steps_after"] == step["steps_before"] + 1
        assert run["marks"] == [{"epoch": epoch, "step": epoch, "label": changed["changes"][0]}]
        # what cannot change without a reset, and bad values: a message naming the field
        for message, field, text in [
            ({"type": "change", "settings": {**settings, "layers": "5"}}, "layers",
             "hidden layers cannot change without a reset"),
            ({"type": "speed", "epochs_per_second": 0}, "speed", "speed = 0 epochs per second"),
            ({"type": "play", "speed": "fast"}, "speed", "speed = fast is not a number"),
            ({"type": "step", "unit": "week"}, "unit", "step unit 'week' is unknown"),
        ]:
            ws.send_json(message)
            error = receive(ws, "error")
            assert error["field"] == field and text in error["message"], error
        ws.send_json({"type": "step"})
        assert receive(ws, "snapshot")["runs"][0]["epoch"] == epoch + 1


def test_a_slow_speed_paces_the_epochs(client):
    """At 5 epochs per second, a second of playing trains a handful of epochs, not hundreds (a
    tolerant check of the pace, not a timing requirement)."""
    with open_session(client, {"dataset": "xor", "n_points": 60, "layers": "3"}) as (ws, _, _r):
        ws.send_json({"type": "play", "speed": 5})
        assert receive(ws, "state")["playing"] is True
        start = time.monotonic()
        epochs = [receive(ws, "snapshot")["runs"][0]["epoch"] for _ in range(5)]
        elapsed = time.monotonic() - start
        ws.send_json({"type": "pause"})
        receive(ws, "state")
        assert epochs == [1, 2, 3, 4, 5]  # one epoch a snapshot
        assert elapsed > 0.5  # five epochs at 5 per second take about 0.8 s, far from 0


def test_three_classes_and_regression_over_the_socket(client):
    three = {"dataset": "blobs", "classes": 3, "n_points": 120}
    with open_session(client, three) as (ws, sid, ready):
        assert (ready["output"], ready["classes"]) == ("softmax", 3)
        assert ready["runs"][0]["layer_dims"][-1] == 3
        assert {p[2] for p in ready["data"]["train"]} == {0, 1, 2}
        assert "classes" in ready["snapshot"]["runs"][0]
        config = client.get(f"/api/sessions/{sid}/config.toml?run=0")
        assert config.status_code == 422 and "export the model instead" in config.text
        assert client.get(f"/api/sessions/{sid}/model.npz?run=0").status_code == 200
    with open_session(client, {"problem": "regression", "dataset": "plane"}) as (ws, _, ready):
        assert ready["output"] == "identity" and ready["value_scale"] > 0
        assert ready["snapshot"]["runs"][0]["metrics"]["test_accuracy"] is None
        ws.send_json({"type": "configure", "settings": {"problem": "regression",
                                                        "dataset": "moons"}})
        error = receive(ws, "error")
        assert error["field"] == "dataset" and "regression uses plane, gaussian, sine" in error[
            "message"]


def test_a_weight_edited_over_the_socket_is_in_the_engines_params(app, client):
    settings = {"dataset": "xor", "n_points": 60, "layers": "3", "batch_size": "full"}
    with open_session(client, settings) as (ws, sid, _ready):
        ws.send_json({"type": "step"})
        receive(ws, "snapshot")
        ws.send_json({"type": "weight", "layer": 1, "row": 2, "column": 0, "value": -1.25})
        snap = receive(ws, "snapshot")
        assert snap["edited"].startswith("W1[2,0] ") and snap["edited"].endswith(" → -1.25")
        run = snap["runs"][0]
        assert run["weights"][0]["W"][2][0] == -1.25 and run["epoch"] == 1
        assert run["marks"][-1] == {"epoch": 1, "step": 1, "label": snap["edited"]}
        stepper = app.state.playground.sessions[sid].lab.runs[0].loop.stepper
        assert stepper.state()[0]["W1"][2, 0] == -1.25  # the running network's own weights
        for message, text in [({"layer": 1, "row": 9, "column": 0, "value": 1},
                               "W1[9, 0] is not a weight: W1 is 3 × 2, counting from 0"),
                              ({"layer": 1, "row": 0, "column": 0, "value": 1e9},
                               "weight = 1000000000.0 is not a number between -100 and 100"),
                              ({"layer": "1", "row": 0, "column": 0, "value": 1},
                               "layer = '1' is not a layer of this network (1 to 2)")]:
            ws.send_json({"type": "weight", **message})
            error = receive(ws, "error")
            assert error["field"] == "weight" and error["message"] == text, error
        ws.send_json({"type": "step"})
        assert receive(ws, "snapshot")["runs"][0]["epoch"] == 2  # the session goes on


def test_one_d_regression_l1_and_batch_norm_over_the_socket(client):
    settings = {"problem": "regression", "dataset": "abs", "layers": "6,4", "batch_norm": "1,0",
                "l1": "0.001", "n_points": 120}
    with open_session(client, settings) as (ws, sid, ready):
        assert ready["settings"]["features"] == ["x1"] and ready["settings"]["l1"] == 0.001
        assert ready["settings"]["batch_norm"] == [True, False]
        assert len(ready["curve_x"]) == len(ready["snapshot"]["runs"][0]["curve"])
        assert ready["runs"][0]["layer_dims"] == [1, 6, 4, 1]
        assert ready["snapshot"]["runs"][0]["weights"][0]["batch_norm"] is True
        ws.send_json({"type": "change", "settings": {**settings, "l1": "0.01"}})
        changed = receive(ws, "changed")
        assert changed["changes"] == ["λ1 0.001 → 0.01"] and changed["epoch"] == 0
        ws.send_json({"type": "change", "settings": {**settings, "batch_norm": "0,0"}})
        error = receive(ws, "error")
        assert error["field"] == "batch_norm" and "batch norm cannot change without a reset" in (
            error["message"])
        config = client.get(f"/api/sessions/{sid}/config.toml?run=0")
        assert config.status_code == 422  # (a TOML file describes two-class runs)
        ws.send_json({"type": "configure", "settings": {**settings, "features": "x1,x2"}})
        error = receive(ws, "error")
        assert error["field"] == "features" and "x2 use x2, but abs is y against x1" in error[
            "message"]
