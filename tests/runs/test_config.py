import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlab.optimizers import COURSE_OPTIMIZERS, inverse_time_decay, scheduled_inverse_time_decay
from nnlab.runs.config import (
    CONSTRAINTS,
    OPTIONAL,
    ConfigError,
    Interval,
    Options,
    TrainConfig,
    check,
    check_nesting,
    nesting_depth,
)


def test_defaults_valid_and_toml_round_trip(tmp_path):
    cfg = TrainConfig(dataset="circles", layers=[10, 5], activation=["relu", "tanh"],
                      keep_prob=[0.8, 1.0], batch_size=None, init="random", init_scale=10.0)
    path = tmp_path / "run.toml"
    path.write_text(cfg.to_toml())
    back = TrainConfig.from_file(path)
    assert back == cfg
    assert back.batch_size is None and back.keep_probs() == [0.8, 1.0]
    assert back.hidden_activations() == ["relu", "tanh"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"lr": 0}, r"lr=0 is out of range: expected 0 < lr"),
        ({"lr": -1.0}, "lr=-1.0 is out of range"),
        ({"l2": -0.5}, "l2=-0.5 is out of range"),
        ({"keep_prob": 1.5}, "keep_prob=1.5 is out of range"),
        ({"keep_prob": 0.0}, "keep_prob=0.0 is out of range"),
        ({"layers": [20, 0]}, r"layers\[1\]=0 is out of range"),
        ({"layers": "20,3"}, "must be a list"),
        ({"activation": "swish"}, "activation='swish' is unknown: choose one of"),
        ({"optimizer": "sgd2"}, "optimizer='sgd2' is unknown"),
        ({"init": "glorot"}, "init='glorot' is unknown"),
        ({"epochs": 2.5}, "epochs=2.5 must be a whole number"),
        ({"batch_size": 0}, "batch_size=0 is out of range"),
        ({"early_stopping": 5}, "needs a validation set"),
        ({"activation": ["relu"], "layers": [3, 3]}, "1 names for 2 hidden layers"),
        ({"beta": 1.0}, "beta=1.0 is out of range"),
        ({"init_scale": 3.0}, "only applies to init='random'"),
        ({"seed": -1}, "seed=-1 is out of range"),
        ({"lr": float("nan")}, "lr=nan is out of range"),
    ],
)
def test_bad_values_name_the_key_value_and_range(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)


def test_unknown_key_and_bad_toml():
    with pytest.raises(ConfigError, match=r"unknown setting.*learning_rate; known: dataset"):
        TrainConfig.from_toml('learning_rate = 0.1\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        TrainConfig.from_toml("lr = = 2")
    with pytest.raises(ConfigError, match="no such config file"):
        TrainConfig.from_file("/nonexistent/run.toml")


def test_optimizer_hyperparams():
    cfg = TrainConfig(optimizer="momentum", lr=0.1, beta=0.8)
    assert cfg.optimizer_hyperparams() == {"learning_rate": 0.1, "beta": 0.8}


def test_features_are_checked_and_round_trip():
    cfg = TrainConfig(dataset="circles", features=["x1_sq", "x2_sq", "x1_x2"])
    back = TrainConfig.from_toml(cfg.to_toml())
    assert back == cfg and back.features == ["x1_sq", "x2_sq", "x1_x2"]
    assert "features" not in TrainConfig().to_dict()  # None: the data's own columns
    with pytest.raises(ConfigError, match=r"features: 'x3' is unknown: choose from x1, x2"):
        TrainConfig(features=["x1", "x3"])
    with pytest.raises(ConfigError, match="features is empty"):
        TrainConfig(features=[])
    with pytest.raises(ConfigError, match="x1 is given more than once"):
        TrainConfig(features=["x1", "x2", "x1"])


def test_target_only_with_a_csv_file():
    for name in ("moons", "data.npz"):
        with pytest.raises(ConfigError, match=r"is not a \.csv file"):
            TrainConfig(dataset=name, target="y")
    assert TrainConfig(dataset="data.csv", target="y").target == "y"


@pytest.mark.parametrize("text", [
    "layers = " + "[" * 5000 + "]" * 5000,
    "a = " + "{b = " * 3000 + "1" + "}" * 3000,
    "x = [" * 2000,  # not even closed
])
def test_deep_nesting_is_a_config_error_not_a_recursion_error(text):
    with pytest.raises(ConfigError, match="levels deep"):
        TrainConfig.from_toml(text, where="deep.toml")


def test_nesting_scan_skips_strings_and_comments():
    assert nesting_depth('a = "[[[[[[" # {{{{{\nb = [[1], \'[[[\', """[[[\n[[["""]') == 2
    assert nesting_depth('{"a": [1, {"b": "]]]]"}]}') == 3
    check_nesting("dataset = 'moons'\nlayers = [20, 3]")


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.integers() | st.text(alphabet="[]{}\"'#\\ab", max_size=6),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                    max_leaves=30))
def test_nesting_depth_of_json_is_exact(value):
    def depth(v):
        if isinstance(v, list):
            return 1 + max((depth(x) for x in v), default=0)
        if isinstance(v, dict):
            return 1 + max((depth(x) for x in v.values()), default=0)
        return 0

    assert nesting_depth(json.dumps(value)) == depth(value)


# -- the constraint table -------------------------------------------------------------------------


def test_every_setting_has_one_constraint():
    assert list(CONSTRAINTS) == TrainConfig.keys()
    assert OPTIONAL == {"target", "n_samples", "noise", "output", "init_scale", "decay_interval",
                        "batch_size", "features"}
    assert CONSTRAINTS["optimizer"].choices == COURSE_OPTIMIZERS


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("lr", 0, "lr=0 is out of range: expected 0 < lr <= 1000"),
        ("lr", float("inf"), "lr=inf is out of range: expected 0 < lr <= 1000"),
        ("beta", 1.0, "beta=1.0 is out of range: expected 0 <= beta < 1"),
        ("noise", "a", "noise='a' must be a number"),
        ("l2", True, "l2=True must be a number"),
        ("epochs", 2.5, "epochs=2.5 must be a whole number"),
        ("seed", 2**32, "seed=4294967296 is out of range: expected 0 <= seed <= 4294967295"),
        ("optimizer", "sgd",
         "optimizer='sgd' is unknown: choose one of gd, momentum, rmsprop, adam"),
        ("layers", [3, 0], "layers[1]=0 is out of range: expected 1 <= layers[1] <= 100000"),
        ("layers", "3", "layers='3' must be a list of sizes, e.g. [20, 3]"),
        ("keep_prob", [0.0], "keep_prob=0.0 is out of range: expected 0 < keep_prob <= 1"),
        ("dataset", "", "dataset is empty: give a data set's name or a file's path"),
        ("target", 3, "target=3 must be a str"),
        ("features", ["x1", "zz"], "'zz' is unknown"),
    ],
)
def test_check_names_the_setting_the_value_and_what_is_allowed(name, value, message):
    with pytest.raises(ConfigError) as info:
        check(name, value)
    assert message in str(info.value)
    with pytest.raises(ConfigError) as again:  # the same message from the record
        TrainConfig(**{name: value})
    assert str(again.value) == str(info.value)


def test_check_passes_good_values_and_none_where_optional():
    assert check("lr", 1000) == 1000 and check("batch_size", None) is None
    assert check("activation", ["relu", "tanh"]) == ["relu", "tanh"]
    with pytest.raises(ConfigError, match="epochs=None must be a whole number"):
        check("epochs", None)


def test_intervals_describe_narrow_and_contain():
    val_split = CONSTRAINTS["val_split"]
    assert val_split.describe("v") == "0 <= v < 1" and val_split.brackets() == "[0.0, 1.0)"
    page = val_split.narrow(0.05, 0.9)
    assert page.describe("v", le="≤") == "0.05 ≤ v ≤ 0.9"
    assert not page.contains(0.04) and page.contains(0.9)
    # narrowing never widens: a looser end keeps the shared one (and whether it is open)
    assert CONSTRAINTS["lr"].narrow(high=5e3) == CONSTRAINTS["lr"]
    assert not Interval(float, 0.0, math.inf).contains(math.inf)
    unbounded = Interval(float, 0.0, math.inf, finite=False)
    assert unbounded.contains(math.inf) and not unbounded.contains(math.nan)
    assert Options(["a", "b", "c"]).narrow(["c", "a", "z"]).choices == ("a", "c")
    with pytest.raises(ValueError, match="closed"):
        Interval(float, 0, 1, closed="open")


def test_the_learning_rate_schedule_of_a_config():
    assert TrainConfig(lr=0.1).schedule() is None
    schedule = TrainConfig(lr=0.1, decay=0.5).schedule()
    assert [schedule(e) for e in range(5)] == [inverse_time_decay(0.1, 0.5)(e) for e in range(5)]
    stepped = TrainConfig(lr=0.1, decay=0.5, decay_interval=3).schedule()
    old = scheduled_inverse_time_decay(0.1, 0.5, 3)
    assert [stepped(e) for e in range(10)] == [old(e) for e in range(10)]
