"""Serving (issue 17): the lean prediction path gives the textbook forward's very bits, and keeps
scikit-learn's validation (its errors and warnings) for everything but plain float rows.

No timing is asserted: ``benchmarks/serving.py`` prints the numbers.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from threadpoolctl import threadpool_limits

import nnlab
import nnlab.estimators as estimators_module
from nnlab import Dense, LogisticRegression, MLPClassifier, MLPRegressor, Model
from nnlab.initializers import initialize_parameters
from nnlab.network import model_forward, predict_forward

SERVING = Path(__file__).resolve().parents[1] / "benchmarks" / "serving.py"
DTYPES = (np.float64, np.float32)

NETS = [
    ([2, 64, 32, 1], ["relu", "relu", "sigmoid"]),
    ([20, 16, 8, 5], ["tanh", "leaky_relu", "softmax"]),
    ([6, 7, 3], ["sigmoid", "identity"]),
    ([4, 1], ["sigmoid"]),
    ([5, 9, 9, 2], ["identity", "relu", "tanh"]),
]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _params(dims, dtype, seed=0):
    """Large weights and nonzero biases, so that sigmoid saturates and relu cuts."""
    rng = np.random.RandomState(seed)
    params = initialize_parameters(dims, random_state=seed)
    return {k: (3 * v if k[0] == "W" else rng.randn(*v.shape)).astype(dtype)
            for k, v in params.items()}


def _same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dims, acts", NETS)
@pytest.mark.parametrize("m", [1, 2, 7, 300])
def test_predict_forward_gives_model_forwards_bits(dims, acts, dtype, m):
    params = _params(dims, dtype)
    X = np.random.RandomState(m).randn(m, dims[0]).astype(dtype) * 4
    X[0, 0] = -0.0
    expected, _ = model_forward(X.T, params, acts)
    got = predict_forward(X.T, params, acts)
    assert got.dtype == dtype
    assert _same_bits(np.ascontiguousarray(got), np.ascontiguousarray(expected))


def test_predict_forward_extremes_match_without_warnings():
    # sigmoid's exp(-Z) overflows to inf (σ = 0, silently); softmax of huge logits; NaN in
    params = {"W1": np.array([[1000.0], [-1000.0], [1.0]]), "b1": np.zeros((3, 1)),
              "W2": np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), "b2": np.zeros((2, 1))}
    X = np.array([[-1.0, 1.0, 0.0, np.nan, np.inf]])
    for acts in (["sigmoid", "softmax"], ["identity", "softmax"], ["identity", "sigmoid"]):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                expected, _ = model_forward(X, params, acts)
            except RuntimeWarning:  # the textbook warns here: then so may the lean path
                warnings.simplefilter("ignore")
                expected, _ = model_forward(X, params, acts)
            got = predict_forward(X, params, acts)
        np.testing.assert_array_equal(got, expected)
        assert _same_bits(got, expected)


def test_predict_forward_refuses_what_model_forward_refuses():
    params = _params([3, 4, 2], np.float64)
    with pytest.raises(ValueError, match="activations has 1 entries but the network has 2"):
        predict_forward(np.zeros((3, 2)), params, ["relu"])
    with pytest.raises(ValueError, match="one name per layer"):
        predict_forward(np.zeros((3, 2)), params, "relu")
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        predict_forward(np.zeros((3, 2)), params, ["nope", "sigmoid"])
    with pytest.raises(ValueError, match=r"X has shape \(2, 3\); expected \(n_x, m\)"):
        predict_forward(np.zeros((2, 3)), params, ["relu", "sigmoid"])


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _textbook(est, X):
    """A[L]^T by the course's model_forward on the estimator's own weights."""
    params = est.model_.params
    AL, _ = model_forward(X.astype(params["W1"].dtype).T, params, est.model_.activations)
    return AL.T


def _classification_data(kind, dtype, m=120, n_x=6):
    rng = np.random.RandomState(0)
    X = rng.randn(m, n_x).astype(dtype)
    if kind == "binary":
        y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    elif kind == "multiclass":
        y = np.array([3, 7, 11])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    else:  # multilabel
        y = (X[:, :3] > 0).astype(int)
    return X, y


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("cls", [MLPClassifier, LogisticRegression])
def test_classifier_predictions_are_the_textbooks(cls, kind, dtype):
    X, y = _classification_data(kind, dtype)
    kw = {"hidden_layer_sizes": (9, 4), "max_iter": 30} if cls is MLPClassifier else {}
    est = _fit(cls(random_state=0, **kw), X, y)
    X_new = np.random.RandomState(5).randn(57, X.shape[1]).astype(dtype) * 3
    out = _textbook(est, X_new)
    proba = est.predict_proba(X_new)
    assert proba.dtype == dtype
    if kind == "binary":
        expected = np.hstack([1 - out, out])
    else:
        expected = out
    assert _same_bits(np.ascontiguousarray(proba), np.ascontiguousarray(expected))
    # the labels: scikit-learn's LabelBinarizer on the textbook output
    lb = est._label_binarizer
    labels = lb.inverse_transform(out.ravel() if out.shape[1] == 1 else out)
    pred = est.predict(X_new)
    assert pred.dtype == labels.dtype and np.array_equal(pred, labels)
    assert est.score(X_new, labels) == 1.0
    for x in X_new[:3]:  # one row at a time: the same as the textbook on that row
        one = est.predict_proba(x[None, :])
        assert np.array_equal(one[:, -out.shape[1]:], _textbook(est, x[None, :]))
    if cls is LogisticRegression:
        Z = est.decision_function(X_new)
        W, b = est.model_.params["W1"], est.model_.params["b1"]
        expected_Z = (W @ X_new.astype(W.dtype).T + b).T
        expected_Z = expected_Z.ravel() if expected_Z.shape[1] == 1 else expected_Z
        assert _same_bits(np.ascontiguousarray(Z), np.ascontiguousarray(expected_Z))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_targets", [1, 3])
def test_regressor_predictions_are_the_textbooks(n_targets, dtype):
    rng = np.random.RandomState(1)
    X = rng.randn(80, 5).astype(dtype)
    y = X @ rng.randn(5, n_targets)
    est = _fit(MLPRegressor((8,), activation="tanh", max_iter=20, random_state=0), X,
               y.ravel() if n_targets == 1 else y)
    X_new = rng.randn(33, 5).astype(dtype)
    out = _textbook(est, X_new)
    expected = out.ravel() if n_targets == 1 else out
    got = est.predict(X_new)
    assert got.dtype == dtype
    assert _same_bits(np.ascontiguousarray(got), np.ascontiguousarray(expected))


def test_float32_rows_for_a_float64_network_are_converted_as_before():
    X, y = _classification_data("multiclass", np.float64)
    est = _fit(MLPClassifier((5,), max_iter=10, random_state=0), X, y)
    X32 = X.astype(np.float32)
    proba = est.predict_proba(X32)
    assert proba.dtype == np.float64
    assert np.array_equal(proba, _textbook(est, X32.astype(np.float64)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_model_predictions_are_the_textbooks(dtype):
    rng = np.random.RandomState(2)
    X = rng.randn(50, 4).astype(dtype)
    model = Model([Dense(6, "tanh"), Dense(3, "softmax")], input_dim=4, random_state=0)
    model.params = {k: v.astype(dtype) for k, v in model.params.items()}
    AL, _ = model_forward(X.T, model.params, model.activations)
    assert _same_bits(np.ascontiguousarray(model.predict_proba(X)), np.ascontiguousarray(AL.T))
    assert np.array_equal(model.predict(X), np.argmax(AL, axis=0))
    Y = np.eye(3)[rng.randint(0, 3, 50)]
    logs = model.evaluate(X, Y)
    assert logs["loss"] == float(nnlab.compute_cost(AL, Y.T.astype(dtype),
                                                    output_activation="softmax"))


def test_model_forward_in_chunks_fills_every_row(monkeypatch):
    import nnlab.model as model_module

    model = Model([Dense(5, "relu"), Dense(2, "sigmoid")], input_dim=3, random_state=0)
    X = np.random.RandomState(3).randn(101, 3)
    whole = model.forward(X)
    monkeypatch.setattr(model_module, "PREDICT_BYTES", 3 * (3 + 5 + 2) * 8 * 16)  # 16 rows
    assert len(model._row_chunks(X)) == 7
    chunked = model.forward(X)
    assert chunked.shape == whole.shape and chunked.flags.c_contiguous
    for i in range(0, 101, 16):  # each chunk as model_forward computes it on those rows
        AL, _ = model_forward(X[i:i + 16].T, model.params, model.activations)
        assert np.array_equal(chunked[i:i + 16], AL.T)
    np.testing.assert_allclose(chunked, whole, rtol=1e-14)


# ------------------------------------------------------------------ scikit-learn's validation
@pytest.fixture(scope="module")
def fitted():
    X, y = _classification_data("binary", np.float64)
    return _fit(MLPClassifier((5,), max_iter=10, random_state=0), X, y), X


def test_plain_float_rows_skip_scikit_learns_generic_validation(fitted, monkeypatch):
    est, X = fitted
    expected = est.predict_proba(X)

    def refuse(*args, **kwargs):
        raise AssertionError("validate_data was called for plain float rows")

    monkeypatch.setattr(estimators_module, "_validate_data", refuse)
    monkeypatch.setattr(estimators_module, "check_is_fitted", refuse)
    assert np.array_equal(est.predict_proba(X), expected)
    est.predict(X[:1])
    est.predict_proba(np.asfortranarray(X.astype(np.float32)))


def test_everything_else_goes_through_scikit_learns_validation(fitted, monkeypatch):
    est, X = fitted
    calls = []
    real = estimators_module._validate_data

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(estimators_module, "_validate_data", spy)
    est.predict(X.tolist())  # a list
    est.predict(X.astype(int))  # integers
    with pytest.raises(ValueError, match="NaN"):
        est.predict(np.where(np.eye(len(X), X.shape[1]) == 1, np.nan, X))
    with pytest.raises(ValueError, match=r"infinity|too large"):
        est.predict_proba(np.full((2, X.shape[1]), np.inf))
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])
    with pytest.raises(ValueError, match="Expected 2D array"):
        est.predict(X[0])
    with pytest.raises(ValueError, match="minimum of 1 is required"):
        est.predict(X[:0])
    assert len(calls) == 7


def test_assume_finite_lets_nan_through_as_scikit_learn_does(fitted):
    est, X = fitted
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with sklearn.config_context(assume_finite=True):
        proba = est.predict_proba(Xn)
    assert np.isnan(proba[0]).all() and np.isfinite(proba[1:]).all()


def test_not_fitted_sparse_and_feature_names_keep_their_errors(fitted):
    est, X = fitted
    with pytest.raises(NotFittedError):
        MLPClassifier().predict_proba(X)
    with pytest.raises(NotFittedError):
        LogisticRegression().decision_function(X)
    scipy_sparse = pytest.importorskip("scipy.sparse")  # sparse X takes scikit-learn's path
    np.testing.assert_allclose(est.predict_proba(scipy_sparse.csr_matrix(X)),
                               est.predict_proba(X), rtol=1e-12)
    pd = pytest.importorskip("pandas")
    cols = [f"f{i}" for i in range(X.shape[1])]
    named = _fit(MLPClassifier((5,), max_iter=10, random_state=0),
                 pd.DataFrame(X, columns=cols), est.predict(X))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        named.predict(X)
    with pytest.raises(ValueError, match="feature names"):
        named.predict(pd.DataFrame(X, columns=cols[::-1]))


def test_new_weights_are_used_at_once(fitted):
    est, X = fitted
    est = _fit(MLPClassifier((5,), max_iter=10, random_state=0), X, est.predict(X))
    before = est.predict_proba(X)
    est.coefs_ = [2 * c for c in est.coefs_]
    after = est.predict_proba(X)
    assert not np.array_equal(before, after)
    assert np.array_equal(after[:, 1:], _textbook(est, X))


# ------------------------------------------------------------------------------ benchmark
def test_serving_benchmark_prints_its_table():
    proc = subprocess.run(
        [sys.executable, str(SERVING), "--quick", "--threads", "1", "--configs",
         "moons MLPClassifier,LogisticRegression"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("| config | call | rows | nnlab | scikit-learn |")
    assert any(ln.startswith("| moons MLPClassifier | predict_proba | 1 row (µs) |")
               for ln in lines)
    assert any(ln.startswith("| LogisticRegression | predict_proba | 1k rows (rows/s) |")
               for ln in lines)
    assert "max |Δ|" in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--configs", "nope"], "unknown config 'nope'"),
    (["--compare", "/nonexistent-nnlab-src"], "no nnlab package there"),
])
def test_serving_benchmark_mistakes_are_one_line_and_exit_2(args, message):
    proc = subprocess.run([sys.executable, str(SERVING), *args], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
