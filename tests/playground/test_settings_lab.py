"""The playground's checks of the page's values, its data, and its training (no server)."""

import base64
import json

import numpy as np
import pytest

from nnlab import train
from nnlab.activations import ACTIVATIONS
from nnlab.optimizers import COURSE_OPTIMIZERS, get_optimizer, inverse_time_decay
from nnlab.playground.data import UploadStore, build_data, parse_csv, split
from nnlab.playground.lab import GRID, MAX_HISTORY, UNIT_GRID, Curves, Lab, load_model_bytes
from nnlab.playground.settings import (
    HIDDEN_ACTIVATIONS,
    OPTIMIZER_NAMES,
    PRESETS,
    SHARED,
    Limits,
    Settings,
    SettingsError,
    parse_compare,
    parse_settings,
    shared,
)
from nnlab.runs.config import CONSTRAINTS, Options, TrainConfig

# -- settings -------------------------------------------------------------------------------------


def test_form_strings_and_json_values_parse_to_the_same_settings():
    from_form = parse_settings({
        "dataset": "spiral", "n_points": "200", "noise": "0.1", "test_fraction": "0.25",
        "seed": "9", "features": "x1,x2,sin_x1", "layers": "8, 4", "activations": "relu,tanh",
        "init": "random", "init_scale": "0.5", "l2": "0.01", "keep_prob": "0.9",
        "optimizer": "momentum", "lr": "0.1", "beta": "0.8", "decay": "0.5", "batch_size": "32",
    })
    from_json = parse_settings({
        "dataset": "spiral", "n_points": 200, "noise": 0.1, "test_fraction": 0.25, "seed": 9,
        "features": ["x1", "x2", "sin_x1"], "layers": [8, 4], "activations": ["relu", "tanh"],
        "init": "random", "init_scale": 0.5, "l2": 0.01, "keep_prob": 0.9,
        "optimizer": "momentum", "lr": 0.1, "beta": 0.8, "decay": 0.5, "batch_size": 32,
    })
    assert from_form == from_json
    assert from_form.layers == [8, 4] and from_form.batch_size == 32 and from_form.dropout
    assert parse_settings(from_form.to_dict()) == from_form  # what the page gets back re-parses


def test_defaults_mini_batches_and_no_hidden_layer():
    s = parse_settings({})
    assert s == Settings() and s.batch_size == 32 and s.l2 == 0.01  # issue 20's defaults
    full = parse_settings({"batch_size": "full"})
    assert full.batch_size is None and full.to_dict()["batch_size"] == "full"
    logistic = parse_settings({"layers": "", "activations": ""})
    assert logistic.layers == [] and logistic.activations == [] and not logistic.dropout
    assert parse_settings({"layers": [3, 3, 3], "activations": "relu"}).activations == ["relu"] * 3


@pytest.mark.parametrize(
    "raw, field, message",
    [
        ({"lr": "-1"}, "lr", "learning rate (lr) = -1 is out of range: allowed 0 < lr ≤ 10"),
        ({"lr": "abc"}, "lr", "learning rate (lr) = abc is not a number"),
        ({"lr": ""}, "lr", "learning rate (lr) is empty: a number is needed"),
        ({"lr": "nan"}, "lr", "is not a finite number"),
        ({"lr": True}, "lr", "is not a number"),
        ({"lr": [1]}, "lr", "is not a number"),
        ({"keep_prob": 0}, "keep_prob", "allowed 0.05 ≤ keep_prob ≤ 1"),
        ({"beta": 1}, "beta", "allowed 0 ≤ beta < 1"),
        ({"n_points": "5"}, "n_points", "number of points (n_points) = 5 is out of range"),
        ({"n_points": 5000}, "n_points", "raise the limit with --max-points"),
        ({"n_points": 20.5}, "n_points", "must be a whole number"),
        ({"seed": -1}, "seed", "seed = -1 is out of range"),
        ({"dataset": "iris"}, "dataset", "data set (dataset) = iris is unknown: choose one of"),
        ({"dataset": "csv"}, "upload", "choose a CSV file to upload first"),
        ({"dataset": "csv", "upload": "../etc"}, "upload", "is not valid"),
        ({"layers": "4,0"}, "layers", "hidden layer 2: hidden layers (layers) = 0"),
        ({"layers": "4,99"}, "layers", "raise the limit with --max-units"),
        ({"layers": [4] * 7, "activations": "relu"}, "layers", "7 is too many: allowed at most 6"),
        ({"layers": "4,4", "activations": "relu,tanh,relu"}, "activations", "3 given for 2"),
        ({"activations": "swish,relu"}, "activations", "swish is unknown"),
        ({"features": ""}, "features", "input features (features): none chosen: choose at least"),
        ({"features": "x1,z"}, "features", "input features (features): 'z' is unknown: choose"),
        ({"init": "glorot"}, "init", "glorot is unknown"),
        ({"optimizer": "sgd"}, "optimizer", "sgd is unknown: choose one of gd, momentum"),
        ({"batch_size": "0"}, "batch_size", 'or "full" for the full batch'),
        ({"batch_size": "half"}, "batch_size", "is not a number"),
        ({"learning_rate": 0.1}, "learning_rate", "unknown setting(s) 'learning_rate'"),
    ],
)
def test_bad_values_name_the_field_and_what_is_allowed(raw, field, message):
    with pytest.raises(SettingsError) as info:
        parse_settings(raw)
    assert info.value.field == field
    assert message in str(info.value)


def test_limits_change_what_is_allowed():
    limits = Limits(max_layers=8, max_units=64, max_points=5000)
    s = parse_settings({"layers": [64] * 8, "activations": "relu", "n_points": 5000}, limits)
    assert s.layers == [64] * 8
    with pytest.raises(ValueError, match="max_units=0 must be a whole number >= 1"):
        Limits(max_units=0)


def test_compare_presets_and_custom_variants():
    for name, preset in PRESETS.items():
        base = parse_settings(preset["base"])
        variants = parse_compare(preset["variants"], base)
        assert 2 <= len(variants) <= 4, name
        for v in variants:  # the data and the seed are shared
            assert (v.settings.dataset, v.settings.seed) == (base.dataset, base.seed)
    base = parse_settings({"lr": "0.05"})
    a, b = parse_compare([{"init": "zeros"}, {"label": "fast", "lr": "0.5"}], base)
    assert (a.label, a.settings.init, a.settings.lr) == ("A", "zeros", 0.05)
    assert (b.label, b.settings.lr) == ("fast", 0.5)
    assert parse_compare(None, base) == [] and parse_compare([], base) == []


@pytest.mark.parametrize(
    "raw, message",
    [
        ([{"init": "he"}], "1 settings given; a comparison runs 2 to 4"),
        ([{}] * 5, "5 settings given"),
        ("zeros", "compare must be a list"),
        ([{"seed": 2}, {}], "compare A: seed cannot change between compared runs"),
        ([{}, {"lr": -3}], "compare B: learning rate (lr) = -3 is out of range"),
        ([{}, 7], "compare B: must be an object"),
        ([{"label": ""}, {}], "label must be a text of 1 to 40 characters"),
    ],
)
def test_bad_comparisons(raw, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_compare(raw, Settings())


def test_the_page_narrows_train_configs_constraints_and_never_widens_them():
    limits = Limits(max_units=10**6, max_points=10**7)  # a server that allows more than a run
    for key, config_key in SHARED.items():
        page, run = shared(key), CONSTRAINTS[config_key]
        run = getattr(run, "each", run)
        if isinstance(run, Options):
            assert set(page.choices) <= set(run.choices), key
            continue
        assert run.low <= page.low and page.high <= run.high, key
        assert page.contains(page.low) or run.low_open, key
    # every page at its largest values is a valid run
    top = {k: shared(k).high for k in ("noise", "test_fraction", "init_scale", "l2", "lr",
                                       "beta", "beta1", "beta2", "epsilon", "decay")}
    top = {k: v if shared(k).contains(v) else v * (1 - 1e-9) for k, v in top.items()}
    assert parse_settings({**top, "init": "random"}).to_train_config(epochs=3).lr == 10.0
    # the server's limits cannot take a setting past what a run allows
    with pytest.raises(SettingsError, match="allowed 10 ≤ n_points ≤ 1000000"):
        parse_settings({"n_points": 10**7}, limits)
    with pytest.raises(SettingsError, match="allowed 1 ≤ layers ≤ 100000"):
        parse_settings({"layers": [10**6], "activations": "relu"}, limits)
    assert OPTIMIZER_NAMES == list(COURSE_OPTIMIZERS)
    assert HIDDEN_ACTIVATIONS == [a for a in ACTIVATIONS if a not in ("softmax", "exp")]


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_settings_give_the_optimizers_hyperparameters_and_the_decay(optimizer):
    s = parse_settings({"optimizer": optimizer, "lr": 0.02, "beta": 0.8, "beta1": 0.7,
                        "beta2": 0.95, "epsilon": 1e-6, "decay": 0.5})
    before = {  # the table the lab kept before the registry
        "gd": {"learning_rate": 0.02},
        "momentum": {"learning_rate": 0.02, "beta": 0.8},
        "rmsprop": {"learning_rate": 0.02, "beta2": 0.95, "epsilon": 1e-6},
        "adam": {"learning_rate": 0.02, "beta1": 0.7, "beta2": 0.95, "epsilon": 1e-6},
    }[optimizer]
    assert s.optimizer_hyperparams() == before
    assert [s.schedule()(e) for e in range(6)] == [inverse_time_decay(0.02, 0.5)(e)
                                                   for e in range(6)]
    assert parse_settings({"decay": 0}).schedule() is None


# -- data -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ["moons", "circles", "flower", "xor", "blobs", "spiral"])
def test_every_generated_set_is_split_and_reproducible(dataset):
    s = parse_settings({"dataset": dataset, "n_points": 120, "test_fraction": 0.25, "seed": 4})
    a, b = build_data(s), build_data(s)
    assert a.X_train.shape[0] == 2 and a.X_test.shape[0] == 2
    assert a.X_train.shape[1] + a.X_test.shape[1] == 120
    assert a.X_test.shape[1] == 30
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.Y_test, b.Y_test)
    assert set(np.unique(np.hstack([a.Y_train, a.Y_test]))) == {0.0, 1.0}
    x1min, x1max, x2min, x2max = a.box
    assert x1max - x1min == pytest.approx(x2max - x2min)  # a square view
    assert np.all(a.X_train[0] > x1min) and np.all(a.X_train[1] < x2max)
    other = build_data(s.__class__(**{**s.__dict__, "seed": 5}))
    assert not np.array_equal(a.X_train, other.X_train)


def test_football_comes_from_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("NNLAB_DATA", str(tmp_path))
    with pytest.raises(SettingsError, match=r"football: data\.mat not found") as info:
        build_data(parse_settings({"dataset": "football"}))
    assert info.value.field == "dataset"


def test_split_keeps_at_least_two_training_points():
    X, Y = np.arange(20.0).reshape(2, 10), np.zeros((1, 10))
    X_train, _, X_test, _ = split(X, Y, 0.9, seed=0)
    assert X_train.shape[1] == 2 and X_test.shape[1] == 8
    assert sorted(np.hstack([X_train, X_test])[0].tolist()) == list(range(10))


def test_csv_numbers_words_header_comments():
    up = parse_csv("# made by hand\nx1,x2,y\n0,0,0\n1,1,1\n2,0,1\n\n0,2,0\n", "mine.csv")
    assert up.X.shape == (2, 4) and up.Y.tolist() == [[0, 1, 1, 0]]
    assert up.columns == ("x1", "x2", "y") and up.classes == ("0", "1")
    assert up.summary()["n_points"] == 4 and len(up.id) == 16
    numeric = parse_csv("1,1,10\n2,2,-3\n3,3,10\n4,4,-3\n")  # -3 < 10: -3 is class 0
    assert numeric.Y.tolist() == [[1, 0, 1, 0]] and numeric.columns is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "holds no rows"),
        ("a,b\n1,2\n", "the header has 2 columns; expected 3"),
        ("1,2,0\n3,4,1\n", "2 data rows; at least 4"),
        ("1,2,0\n3,4,1\n5,6\n7,8,1\n", "line 3: 2 columns; expected 3"),
        ("1,2,0\n3,x,1\n5,6,0\n7,8,1\n", "line 2: 'x' is not a number"),
        ("1,2,0\n3,inf,1\n5,6,0\n7,8,1\n", "line 2: 'inf' is not a finite number"),
        ("".join(f"{i},{i},{i}\n" for i in range(6)),
         "6 distinct values (0, 1, 2, 3, 4, ...); expected 2 to 5 classes"),
        ("1,2,a\n3,4,a\n5,6,a\n7,8,a\n", "1 distinct values"),
        ("1,2,1\n3,4,1.0\n5,6,0\n7,8,1\n", "the same numbers written differently"),
        ("1,2,1\n3,4,\n5,6,0\n7,8,1\n", "line 2: the label is empty"),
    ],
)
def test_bad_csv_files_name_the_line(text, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_csv(text, "bad.csv")


def test_csv_limits_and_the_store():
    limits = Limits(max_points=5, max_upload_bytes=60, max_uploads=2)
    rows = "".join(f"{i},{i},{i % 2}\n" for i in range(6))
    with pytest.raises(SettingsError, match="6 data rows; at most 5 are allowed"):
        parse_csv(rows, limits=limits)
    with pytest.raises(SettingsError, match="larger than 60 bytes"):
        parse_csv(rows * 3, limits=limits)
    store = UploadStore(max_uploads=2)
    ups = [parse_csv(f"0,0,0\n1,1,1\n2,2,0\n{k},3,1\n") for k in ("3", "4", "5")]
    for up in ups[:2]:
        store.add(up)
    store.get(ups[0].id)  # now the most recent
    store.add(ups[2])  # forgets ups[1], the least recently used
    assert len(store) == 2 and store.get(ups[0].id) is ups[0]
    with pytest.raises(SettingsError, match="is not on this server"):
        store.get(ups[1].id)
    s = parse_settings({"dataset": "csv", "upload": ups[0].id, "test_fraction": 0.25})
    data = build_data(s, store)
    assert data.X_train.shape == (2, 3) and data.X_test.shape == (2, 1) and data.target is None


# -- training -------------------------------------------------------------------------------------


def test_a_run_is_nnlab_train_with_the_same_seed():
    s = parse_settings({
        "dataset": "moons", "features": "x1,x2,x1_x2", "layers": "5,3",
        "activations": "relu,tanh", "init": "he", "optimizer": "adam", "lr": 0.02,
        "batch_size": 32, "keep_prob": 0.8, "l2": 0.05, "decay": 0.1, "seed": 11,
    })
    lab = Lab(s)
    lab.step(4)
    lab.advance(0.0)  # at least one more epoch, whatever the clock says
    run = lab.runs[0]
    epochs = run.epoch
    assert epochs >= 5
    reference = train(
        run.X_train, run.Y_train, run.layer_dims, run.activations, init="he",
        optimizer=get_optimizer("adam", learning_rate=0.02), num_epochs=epochs, batch_size=32,
        keep_probs=0.8, lambd=0.05, decay=inverse_time_decay(0.02, 0.1), random_state=11,
        fast="exact",  # bit for bit: the lab steps the textbook way
    )
    for k, v in reference.params.items():
        assert np.array_equal(v, run.params[k]), k
    # and the same settings again give the same run
    again = Lab(s)
    again.step(epochs)
    assert all(np.array_equal(again.runs[0].params[k], v) for k, v in run.params.items())
    assert again.runs[0].history.rows == run.history.rows


def test_training_lowers_the_loss_and_snapshots_are_json():
    lab = Lab(parse_settings({"dataset": "xor", "features": "x1,x2,x1_x2", "layers": "4",
                              "lr": 0.05}))
    first = lab.ready()
    assert first["snapshot"]["runs"][0]["reset"] and len(first["data"]["train"]) == 210
    assert set(first["feature_grids"]) == {"x1", "x2", "x1_x2"}
    snap = lab.step(150)
    json.dumps(snap, allow_nan=False)
    r = snap["runs"][0]
    assert r["epoch"] == 150 and not r["reset"] and r["rows"][-1][0] == 150
    assert r["metrics"]["test_loss"] < 0.6 * first["snapshot"]["runs"][0]["metrics"]["test_loss"]
    assert r["metrics"]["test_accuracy"] > 0.75
    assert len(base64.b64decode(r["boundary"])) == GRID * GRID
    units = r["units"]
    assert [len(layer) for layer in units] == [4]
    assert len(base64.b64decode(units[0][0]["data"])) == UNIT_GRID * UNIT_GRID
    assert [np.array(w["W"]).shape for w in r["weights"]] == [(4, 3), (1, 4)]
    assert [row[0] for row in lab.step(1)["runs"][0]["rows"]] == [151]  # only the new rows


def test_history_keeps_its_shape_in_bounded_memory():
    h = Curves()
    for epoch in range(5000):
        if h.wants(epoch):
            h.add([epoch, 0.0, 0.0, 1.0, 1.0])
    assert len(h.rows) <= MAX_HISTORY and h.stride == 8 and h.version == 3
    epochs = [row[0] for row in h.rows]
    assert epochs[0] == 0 and all(e % h.stride == 0 for e in epochs)
    assert epochs[-1] >= 5000 - h.stride


def test_a_diverging_run_stops_with_a_message_and_keeps_finite_weights():
    s = parse_settings({"dataset": "blobs", "n_points": 10, "optimizer": "gd", "lr": 10,
                        "l2": 10, "layers": "3", "activations": "relu"})
    lab = Lab(s)
    events = []
    for _ in range(2000):
        snap = lab.step(1)
        events += snap["events"]
        if not lab.active:
            break
    assert not lab.active and len(events) == 1
    assert events[0]["kind"] == "diverged"
    assert "training diverged at epoch" in events[0]["message"]
    assert "try a smaller learning rate than 10" in events[0]["message"]
    json.dumps(lab.snapshot(), allow_nan=False)  # no NaN reaches the page
    assert lab.snapshot()["events"] == []  # reported once
    run = lab.runs[0]
    assert all(np.all(np.isfinite(v)) for v in run.params.values())
    epoch = run.epoch
    lab.step(3)
    assert run.epoch == epoch  # a diverged run trains no more


def test_the_update_limit_pauses_a_run():
    lab = Lab(parse_settings({"batch_size": 50}), limits=Limits(max_steps=20))
    snap = lab.advance(10.0)  # returns when every run has stopped, long before 10 s
    assert not lab.active and snap["events"][0]["kind"] == "stopped"
    assert "paused after 20 updates" in snap["events"][0]["message"]
    assert "--max-steps" in snap["events"][0]["message"]


def test_compared_runs_share_data_and_advance_together():
    base = parse_settings(PRESETS["init"]["base"])
    lab = Lab(base, parse_compare(PRESETS["init"]["variants"], base))
    snap = lab.step(30)
    assert [r["label"] for r in snap["runs"]] == ["zeros", "large random (×10)", "He"]
    assert {r["epoch"] for r in snap["runs"]} == {30}
    assert all("units" not in r for r in snap["runs"])
    zeros, large, he = lab.runs
    assert np.array_equal(zeros.X_train, he.X_train)
    # the course's lesson: zeros never break the symmetry, large weights start with a huge loss
    assert np.allclose(zeros.params["W1"], zeros.params["W1"][0])
    assert large.history.rows[0][1] > 5 * he.history.rows[0][1]


def test_gradient_check_and_its_refusal_under_dropout():
    lab = Lab(parse_settings({"dataset": "circles", "layers": "3", "activations": "tanh",
                              "l2": 0.1}))
    lab.step(5)
    result = lab.gradient_check()
    assert result["passed"] and result["difference"] < 1e-7 and result["failing"] == []
    assert set(result["per_parameter"]) == {"W1", "b1", "W2", "b2"}
    assert result["parameters"] == 3 * 2 + 3 + 3 + 1 and result["examples"] == 64
    dropout = Lab(parse_settings({"keep_prob": 0.7}))
    with pytest.raises(ValueError, match="gradient checking is refused with dropout on"):
        dropout.gradient_check()


def test_exports_are_a_train_config_and_a_model_file():
    s = parse_settings({"dataset": "spiral", "features": "x1,x2,sin_x1", "layers": "6,6",
                        "activations": "relu,tanh", "batch_size": 16, "keep_prob": 0.9})
    lab = Lab(s)
    lab.step(3)
    cfg = TrainConfig.from_toml(lab.train_config().to_toml())
    assert cfg.dataset == "spiral" and cfg.layers == [6, 6] and cfg.activation == ["relu", "tanh"]
    assert cfg.features == ["x1", "x2", "sin_x1"] and cfg.epochs == 3 and cfg.batch_size == 16
    assert cfg.val_split == s.test_fraction and cfg.seed == s.seed and cfg.output == "sigmoid"
    assert cfg.n_samples == 300 and cfg.noise == s.noise and cfg.keep_prob == 0.9
    params, config = load_model_bytes(lab.model_file())
    run = lab.runs[0]
    assert all(np.array_equal(params[k], v) for k, v in run.params.items())
    assert config["activations"] == ["relu", "tanh", "sigmoid"]
    assert config["layer_dims"] == [3, 6, 6, 1] and config["features"] == ["x1", "x2", "sin_x1"]
    assert TrainConfig.from_dict(config["train_config"]) == cfg


# -- changes without reset, one mini-batch at a time (issue 20) ----------------------------------


def test_a_learning_rate_change_keeps_the_run_and_scales_the_next_update():
    """Mid-run, α 0.01 → 0.1 on gradient descent: the epoch count and the weights are kept, and
    the next update is the engine's own step (``train_step``) with the new α: ten times the one the
    old α would have made from the same weights."""
    from nnlab.training import train_step

    raw = {"dataset": "moons", "n_points": 120, "layers": [4], "optimizer": "gd", "lr": 0.01,
           "batch_size": "full", "l2": 0}
    lab = Lab(parse_settings(raw))
    lab.step(7)
    run = lab.runs[0]
    params, opt_state = run.loop.stepper.state()
    assert lab.change(parse_settings({**raw, "lr": 0.1})) == ["α 0.01 → 0.1"]
    assert run.epoch == 7 and run.steps == 7
    assert all(np.array_equal(run.params[k], params[k]) for k in params)  # the weights kept
    snap = lab.step(1)
    assert run.epoch == 8 and snap["runs"][0]["marks"] == [
        {"epoch": 7, "step": 7, "label": "α 0.01 → 0.1"}]
    gd = get_optimizer("gd", learning_rate=0.01)
    engine, _, _ = train_step(params, gd, opt_state, run.X_train, run.Y_train, run.activations,
                              learning_rate=0.1)
    old, _, _ = train_step(params, gd, opt_state, run.X_train, run.Y_train, run.activations)
    for k in params:
        np.testing.assert_array_equal(run.params[k], engine[k])
        np.testing.assert_allclose(run.params[k] - params[k], 10 * (old[k] - params[k]),
                                   rtol=1e-9, atol=1e-15)


def test_live_changes_of_the_learning_settings_and_a_refused_one():
    raw = {"dataset": "xor", "n_points": 80, "layers": [3], "optimizer": "adam", "lr": 0.01,
           "batch_size": "full", "l2": 0}
    lab = Lab(parse_settings(raw))
    lab.step(4)
    changed = {**raw, "l2": 0.1, "keep_prob": 0.8, "batch_size": 16, "beta1": 0.8, "decay": 1.0}
    [label] = lab.change(parse_settings(changed))
    assert label == "decay 0 → 1, λ 0 → 0.1, keep_prob 1 → 0.8, β1 0.9 → 0.8, batch full → 16"
    run = lab.runs[0]
    assert (run.epoch, run.steps, run.batches) == (4, 4, 4)  # 56 training points in 16s
    lab.step(2)
    assert (run.epoch, run.steps) == (6, 12)
    assert run.lr == pytest.approx(0.01 / (1 + 1.0 * 5))  # the decay from the epoch reached
    assert lab.ready()["dropout"] and run.keep_probs == [0.8]
    assert lab.change(parse_settings(changed)) == []  # nothing changed: nothing marked
    with pytest.raises(SettingsError, match="hidden layers cannot change without a reset") as e:
        lab.change(parse_settings({**changed, "layers": [5]}))
    assert e.value.field == "layers"
    compared = Lab(parse_settings(raw), parse_compare(
        [{"optimizer": "gd"}, {"optimizer": "adam"}], parse_settings(raw)))
    with pytest.raises(SettingsError, match="while comparing"):
        compared.change(parse_settings({**raw, "lr": 0.1}))


@pytest.mark.parametrize("extra", [{}, {"keep_prob": 0.8}, {"optimizer": "momentum"}])
def test_an_epoch_made_a_mini_batch_at_a_time_is_the_epoch_of_the_loop(extra):
    raw = {"dataset": "moons", "n_points": 150, "batch_size": 32, **extra}
    by_batch, by_epoch = Lab(parse_settings(raw)), Lab(parse_settings(raw))
    by_batch.step(2)
    by_epoch.step(2)
    run = by_batch.runs[0]
    assert run.batches == 4  # 105 training points
    reports = [by_batch.step_once("batch")["step"] for _ in range(run.batches + 1)]
    assert [r["steps_after"] - r["steps_before"] for r in reports] == [1] * 5
    assert [(r["epoch_before"], r["epoch_after"]) for r in reports] == [
        (2, 2), (2, 2), (2, 2), (2, 3), (3, 3)]
    assert [r["batch"] for r in reports] == [0, 1, 2, 3, 0]
    assert all(r["unit"] == "batch" and r["loss_before"] != r["loss_after"] for r in reports)
    by_epoch.step(1)
    by_epoch.step_once("batch")
    by_batch.step(3)  # the rest of epoch 3, then two whole epochs
    by_epoch.step(3)
    for k, w in by_epoch.runs[0].params.items():
        np.testing.assert_array_equal(run.params[k], w)
    assert run.epoch == by_epoch.runs[0].epoch == 6


def test_a_step_with_the_full_batch_is_one_epoch_and_says_its_cost():
    lab = Lab(parse_settings({"dataset": "xor", "n_points": 60, "layers": [3],
                              "batch_size": "full"}))
    report = lab.step_once("batch")["step"]
    assert report["unit"] == "epoch" and report["batches"] == 1
    assert (report["epoch_before"], report["epoch_after"]) == (0, 1)
    assert report["loss_before"] == lab.runs[0].history.rows[0][1]
    assert report["loss_after"] == lab.runs[0].history.rows[1][1]
    with pytest.raises(SettingsError, match="step unit"):
        lab.step_once("week")


# -- problem types: K classes and regression (issue 20) --------------------------------------------


@pytest.mark.parametrize("raw, output, classes", [
    ({"dataset": "blobs", "classes": 3}, "softmax", 3),
    ({"dataset": "spiral", "classes": 5, "layers": [8, 8]}, "softmax", 5),
    ({"problem": "regression", "dataset": "plane"}, "identity", 1),
    ({"problem": "regression", "dataset": "gaussian", "layers": [8, 8]}, "identity", 1),
])
def test_k_classes_and_regression_train_and_their_test_loss_falls(raw, output, classes):
    lab = Lab(parse_settings({**raw, "n_points": 200}))
    run = lab.runs[0]
    assert run.activations[-1] == output and run.layer_dims[-1] == classes
    start = run.metrics()
    snap = lab.step(200)["runs"][0]
    assert snap["metrics"]["test_loss"] < 0.7 * start["test_loss"], (start, snap["metrics"])
    if output == "softmax":  # one-hot columns; the picture holds every class
        assert run.Y_train.shape[0] == classes and np.all(run.Y_train.sum(axis=0) == 1)
        shown = set(base64.b64decode(snap["classes"]))
        assert shown == set(range(classes))
        assert snap["metrics"]["test_accuracy"] > 1.5 / classes
    else:
        assert snap["metrics"]["test_accuracy"] is None and "classes" not in snap
        values = np.frombuffer(base64.b64decode(snap["boundary"]), np.uint8)
        assert len(set(values.tolist())) > 50  # a continuous scale, not two colours
    assert lab.gradient_check()["passed"]


@pytest.mark.parametrize("raw, field, message", [
    ({"problem": "regression"}, "dataset", "data set moons is for classification"),
    ({"dataset": "plane"}, "dataset", "data set plane is for regression"),
    ({"dataset": "moons", "classes": 3}, "classes", "moons has two classes"),
    ({"dataset": "blobs", "classes": 6}, "classes", "classification has 2 to 5 classes"),
    ({"problem": "ranking"}, "problem", "choose one of classification, regression"),
])
def test_problem_type_mistakes_name_the_field(raw, field, message):
    with pytest.raises(SettingsError, match=message) as error:
        parse_settings(raw)
    assert error.value.field == field


def test_a_csv_with_three_labels_trains_three_classes():
    rng = np.random.RandomState(3)
    rows = ["x,y,fruit"] + [f"{x:.3f},{y:.3f},{name}" for name, cx in
                            (("apple", -2), ("kiwi", 0), ("pear", 2))
                            for x, y in zip(cx + 0.4 * rng.randn(40), rng.randn(40), strict=True)]
    upload = parse_csv("\n".join(rows), "fruit.csv")
    assert upload.classes == ("apple", "kiwi", "pear") and sorted(set(upload.Y[0])) == [0, 1, 2]
    store = UploadStore(4)
    store.add(upload)
    raw = {"dataset": "csv", "upload": upload.id, "classes": 3}
    lab = Lab(parse_settings(raw), uploads=store)
    start = lab.runs[0].metrics()["test_loss"]
    snap = lab.step(150)["runs"][0]
    assert lab.runs[0].output == "softmax" and snap["metrics"]["test_loss"] < 0.5 * start
    with pytest.raises(SettingsError, match=r"fruit\.csv has 3 classes \(apple, kiwi, pear\)"):
        Lab(parse_settings({**raw, "classes": 2}), uploads=store)


# -- issue 20, part 2: 1-D regression, L1, batch norm, editing a weight --------------------------


@pytest.mark.parametrize("dataset", ["sine", "step", "abs", "cubic"])
def test_one_d_sets_are_y_against_x1_and_their_curve_is_the_prediction(dataset):
    from nnlab.network import model_forward
    from nnlab.playground.data import CURVE_FUNCTIONS

    raw = {"problem": "regression", "dataset": dataset, "n_points": 200, "layers": [8, 8],
           "noise": 0.0}
    s = parse_settings(raw)
    assert s.features == ["x1"]  # the default x1, x2 lose x2: there is no x2
    data = build_data(s)
    assert np.all(data.X_train[1] == 0) and np.all(data.X_test[1] == 0)
    np.testing.assert_allclose(data.Y_train[0], CURVE_FUNCTIONS[dataset](data.X_train[0]))
    x_lo, _, y_lo, y_hi = data.box  # the view: x1 across, y up
    assert x_lo < data.X_train[0].min() and y_lo < data.Y_train.min() < data.Y_train.max() < y_hi
    lab = Lab(s)
    ready = lab.ready()
    run = lab.runs[0]
    assert len(ready["curve_x"]) == len(ready["snapshot"]["runs"][0]["curve"]) == 160
    start = run.metrics()["test_loss"]
    snap = lab.step(300)
    assert run.metrics()["test_loss"] < 0.5 * start
    # the curve is the network's prediction at those x1 (to the 5 digits sent)
    np.testing.assert_allclose(ready["curve_x"], run.curve_x, rtol=1e-4)
    AL, _ = model_forward(run.curve_x[None, :], run.params, run.activations)
    np.testing.assert_allclose(snap["runs"][0]["curve"], AL[0], rtol=1e-4, atol=1e-5)
    json.dumps(snap, allow_nan=False)
    # 2-D sets have no curve
    assert "curve" not in Lab(parse_settings({"dataset": "xor", "n_points": 40})).snapshot()[
        "runs"][0]


def test_one_d_sets_take_features_of_x1_only():
    s = parse_settings({"problem": "regression", "dataset": "cubic",
                        "features": ["x1", "x1_sq", "sin_x1"]})
    assert s.features == ["x1", "x1_sq", "sin_x1"]
    with pytest.raises(SettingsError, match="x2, x1_x2 use x2, but sine is y against x1 alone: "
                                            "choose among x1, x1_sq, sin_x1") as error:
        parse_settings({"problem": "regression", "dataset": "sine",
                        "features": ["x1", "x2", "x1_x2"]})
    assert error.value.field == "features"
    with pytest.raises(SettingsError, match="data set sine is for regression"):
        parse_settings({"dataset": "sine"})


def test_l1_changes_without_reset_and_the_next_update_is_the_engines():
    """λ1 0 → 0.5 mid-run on gradient descent: the weights and epoch kept, and the next update
    is ``train_step`` with ``l1=0.5`` from the same weights; it differs from the step without L1
    by α (λ1/m) sign(W) exactly where W is not 0."""
    from nnlab.training import train_step

    raw = {"dataset": "moons", "n_points": 120, "layers": [4], "optimizer": "gd", "lr": 0.1,
           "batch_size": "full", "l2": 0}
    lab = Lab(parse_settings(raw))
    lab.step(5)
    run = lab.runs[0]
    params, opt_state = run.loop.stepper.state()
    assert lab.change(parse_settings({**raw, "l1": 0.5})) == ["λ1 0 → 0.5"]
    assert run.epoch == 5 and all(np.array_equal(run.params[k], params[k]) for k in params)
    lab.step(1)
    gd = get_optimizer("gd", learning_rate=0.1)
    engine, _, _ = train_step(params, gd, opt_state, run.X_train, run.Y_train, run.activations,
                              l1=0.5)
    plain, _, _ = train_step(params, gd, opt_state, run.X_train, run.Y_train, run.activations)
    m = run.X_train.shape[1]
    for k in params:
        np.testing.assert_array_equal(run.params[k], engine[k])
        shrink = 0.1 * 0.5 / m * np.sign(params[k]) if k.startswith("W") else 0.0
        np.testing.assert_allclose(run.params[k], plain[k] - shrink, rtol=1e-12, atol=1e-15)
    assert lab.gradient_check()["passed"]  # backprop's L1 gradient against J with the L1 term
    with pytest.raises(SettingsError, match=r"L1 λ1 \(l1\) = -1 is out of range"):
        parse_settings({"l1": -1})


def test_batch_norm_layers_train_and_draw_with_the_running_statistics():
    from nnlab.network import model_forward

    raw = {"dataset": "moons", "n_points": 150, "layers": [6, 4], "batch_norm": [True, False]}
    lab = Lab(parse_settings(raw))
    run = lab.runs[0]
    assert {"gamma1", "beta1", "running_mean1", "running_var1", "b2"} <= set(run.params)
    assert "b1" not in run.params and "gamma2" not in run.params
    start = run.metrics()["test_loss"]
    snap = lab.step(60)["runs"][0]
    assert run.metrics()["test_loss"] < 0.7 * start
    assert not np.all(run.params["running_mean1"] == 0)  # the statistics moved
    # the heatmaps: predict-time (running statistics), not the grid's own batch statistics
    AL, _ = model_forward(run.grid, run.params, run.activations, training=False)
    boundary = np.frombuffer(base64.b64decode(snap["boundary"]), dtype=np.uint8)
    np.testing.assert_array_equal(boundary, np.round(np.clip(AL[0], 0, 1) * 255))
    assert len(snap["units"]) == 2 and len(snap["units"][0]) == 6
    layer1 = snap["weights"][0]
    assert layer1["batch_norm"] and len(layer1["gamma"]) == 6 and len(layer1["b"]) == 6
    assert lab.gradient_check()["verdict"] in ("passed", "inconclusive")
    # batch norm is part of the network: it needs a new run
    with pytest.raises(SettingsError, match="batch norm cannot change without a reset"):
        lab.change(parse_settings({**raw, "batch_norm": [False, False]}))
    assert parse_settings({"layers": [3, 3, 3], "batch_norm": "true"}).batch_norm == [True] * 3
    with pytest.raises(SettingsError, match="batch norm \\(batch_norm\\) = maybe must be true"):
        parse_settings({"batch_norm": "maybe"})
    with pytest.raises(SettingsError, match="3 given for 2 hidden layers"):
        parse_settings({"batch_norm": [True, False, True]})


def test_an_edited_weight_is_in_the_engines_params_from_the_next_update():
    from nnlab.training import train_step

    raw = {"dataset": "xor", "n_points": 60, "layers": [3], "optimizer": "adam",
           "batch_size": "full"}
    lab = Lab(parse_settings(raw))
    lab.step(4)
    run = lab.runs[0]
    before, opt_state = run.loop.stepper.state()
    label = lab.set_weight(2, 0, 1, 1.5)
    assert label.startswith("W2[0,1] ") and label.endswith(" → 1.5")
    params, state = run.loop.stepper.state()
    assert params["W2"][0, 1] == 1.5 and before["W2"][0, 1] != 1.5  # the engine's own params
    assert state.t == opt_state.t == 4 and run.epoch == 4  # Adam's state and the epoch kept
    for k in before:
        np.testing.assert_array_equal(state.v[k], opt_state.v[k])
        np.testing.assert_array_equal(state.s[k], opt_state.s[k])
    assert all(np.array_equal(params[k], before[k]) for k in before if k != "W2")
    snap = lab.snapshot()["runs"][0]
    assert snap["weights"][1]["W"][0][1] == 1.5 and snap["marks"][-1]["label"] == label
    lab.step(1)  # the next update starts from the edited weight
    engine, _, _ = train_step(params, run.optimizer, opt_state, run.X_train, run.Y_train,
                              run.activations, lambd=run.settings.l2)
    for k in params:
        np.testing.assert_array_equal(run.params[k], engine[k])
    for args, message in [((3, 0, 0, 1.0), "layer = 3 is not a layer"),
                          ((1, 3, 0, 1.0), r"W1\[3, 0\] is not a weight: W1 is 3 × 2"),
                          ((1, 0, 0, float("nan")), "weight = nan is not a number"),
                          ((1, 0, 0, "1"), "weight = '1' is not a number"),
                          ((True, 0, 0, 1.0), "layer = True is not a layer")]:
        with pytest.raises(SettingsError, match=message):
            lab.set_weight(*args)
