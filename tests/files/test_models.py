import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import nnlab
from nnlab import Dense, Model
from nnlab.callbacks import EarlyStopping
from nnlab.files.format import ModelFileError, save_params
from nnlab.files.models import ModelCheckpoint, load_checkpoint, load_model, save_model


def _data(seed=0, m=240):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, 2)
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def _model(**kw):
    return Model([Dense(8, "relu", keep_prob=0.8), Dense(4, "tanh"), Dense(1, "sigmoid")],
                 optimizer=kw.pop("optimizer", "adam"), learning_rate=0.01, random_state=5, **kw)


def test_model_round_trip(tmp_path):
    X, y = _data()
    m = _model(l2=0.3)
    m.fit(X, y, epochs=3, batch_size=32, verbose=0)
    save_model(m, tmp_path / "m.npz", extra={"note": "hi"})
    m2 = nnlab.load(tmp_path / "m.npz")
    assert isinstance(m2, Model) and m2.l2 == 0.3 and m2.extra == {"note": "hi"}
    assert np.array_equal(m2.predict_proba(X), m.predict_proba(X))
    assert m2.history.loss == m.history.loss
    assert [layer.keep_prob for layer in m2.layers] == [0.8, 1.0, 1.0]


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam", "sgd"])
def test_checkpoint_resume_is_exact(tmp_path, optimizer):
    X, y = _data()
    full = _model(optimizer=optimizer)
    full.fit(X, y, epochs=12, batch_size=32, verbose=0)
    part = _model(optimizer=optimizer)
    part.fit(X, y, epochs=5, batch_size=32, verbose=0,
             callbacks=[ModelCheckpoint(tmp_path / "ck.npz", every=2)])
    resumed, info = load_checkpoint(tmp_path / "ck.npz")
    assert info["epoch"] == 5 and len(resumed.history) == 5
    resumed.fit(X, y, epochs=12, batch_size=32, verbose=0, initial_epoch=info["epoch"])
    for k in full.params:
        assert np.array_equal(resumed.params[k], full.params[k]), k


def test_checkpoint_keeps_early_stopping_state(tmp_path):
    X, y = _data()
    es = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    m = _model()
    m.fit(X, y, epochs=4, batch_size=32, validation_split=0.25, verbose=0,
          callbacks=[es, ModelCheckpoint(tmp_path / "ck.npz", others=[es])])
    _, info = load_checkpoint(tmp_path / "ck.npz")
    assert info["early_stopping"]["wait"] == es._plateau.wait
    assert info["early_stopping"]["best"] == pytest.approx(es.best)
    assert set(info["arrays"]) == {f"es.{k}" for k in m.params}


def test_callable_init_cannot_be_saved(tmp_path):
    m = Model([Dense(2, init=lambda n, p, rng: np.ones((n, p))), Dense(1, "sigmoid")],
              input_dim=2)
    with pytest.raises(ValueError, match="only named initializers"):
        save_model(m, tmp_path / "x.npz")


def test_unfitted_model_refused(tmp_path):
    with pytest.raises(ValueError, match="no weights yet"):
        save_model(_model(), tmp_path / "x.npz")


@pytest.mark.parametrize("make, target", [
    (lambda: nnlab.MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=0), "names"),
    (lambda: nnlab.MLPClassifier(hidden_layer_sizes=(6,), max_iter=30, random_state=0),
     "multilabel"),
    (lambda: nnlab.LogisticRegression(), "binary"),
    (lambda: nnlab.MLPRegressor(hidden_layer_sizes=(6,), max_iter=30, random_state=0), "real"),
])
def test_estimators_round_trip(tmp_path, make, target):
    rng = np.random.RandomState(0)
    X = rng.randn(80, 3)
    y = {"names": np.array(["a", "b", "c"])[rng.randint(0, 3, 80)],
         "multilabel": rng.randint(0, 2, (80, 2)),
         "binary": (X[:, 0] > 0).astype(int),
         "real": X @ [1.0, -2.0, 0.5]}[target]
    est = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    nnlab.save(est, tmp_path / "e.npz")
    again = nnlab.load(tmp_path / "e.npz")
    assert type(again) is type(est)
    assert np.array_equal(again.predict(X), est.predict(X))
    assert again.get_params() == est.get_params()
    if hasattr(est, "predict_proba"):
        assert np.array_equal(again.predict_proba(X), est.predict_proba(X))
        assert list(again.classes_) == list(est.classes_)


def test_load_dispatch_and_wrong_kind(tmp_path):
    params = nnlab.initialize_parameters([2, 3, 1], random_state=0)
    save_params(tmp_path / "p.npz", params)
    loaded, _ = nnlab.load(tmp_path / "p.npz")
    assert np.array_equal(loaded["W1"], params["W1"])
    with pytest.raises(ModelFileError, match="expected a model"):
        load_model(tmp_path / "p.npz")


# --- property test: random arrays into the estimators and Model -----------------------------

DOCUMENTED = (ValueError, TypeError)
_shapes = st.tuples(st.integers(0, 6), st.integers(0, 3))


@settings(max_examples=40, deadline=None)
@given(
    X=arrays(dtype=st.sampled_from([np.float64, np.float32]), shape=_shapes,
             elements=st.floats(allow_nan=True, allow_infinity=True, width=32))
    | arrays(dtype=np.int64, shape=_shapes, elements=st.integers(-5, 5))
    | arrays(dtype=np.complex128, shape=_shapes, elements=st.complex_numbers(max_magnitude=5))
    | arrays(dtype="U2", shape=_shapes, elements=st.sampled_from(["1", "x", ""])),
    y=arrays(dtype=np.float64, shape=st.integers(0, 7),
             elements=st.sampled_from([0.0, 1.0, 2.0, 0.5, np.nan, np.inf]))
    | arrays(dtype=np.int64, shape=st.integers(0, 7), elements=st.integers(0, 2))
    | arrays(dtype="U3", shape=st.integers(0, 7), elements=st.sampled_from(["a", "b", "cat"])),
    which=st.sampled_from(["clf", "reg", "logreg", "model"]),
)
def test_random_arrays_only_raise_documented_errors(X, y, which):
    est = {
        "clf": lambda: nnlab.MLPClassifier(hidden_layer_sizes=(3,), max_iter=2),
        "reg": lambda: nnlab.MLPRegressor(hidden_layer_sizes=(3,), max_iter=2),
        "logreg": lambda: nnlab.LogisticRegression(max_iter=2),
        "model": lambda: Model([Dense(2), Dense(1, "sigmoid")], random_state=0),
    }[which]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if which == "model":
                est.fit(X, y, epochs=1, verbose=0)
            else:
                est.fit(X, y)
        except DOCUMENTED:
            return
    # when it fits, what it learned must be finite or reported as divergence
    assert est is not None
