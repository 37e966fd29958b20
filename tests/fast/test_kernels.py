"""The compiled kernels (nnlab._kernels, Numba) against NumPy and against finite differences.

- the optimizer updates: bit for bit the NumPy update of ``fast.py`` (every optimizer, dtype, L2,
  and the two-thread split of large buffers);
- ``run_batches`` (whole epochs of small networks): the textbook ``train`` to float tolerance for
  every activation, output / loss, optimizer, L2, dropout and dtype, through the loop products and
  through BLAS; its gradients against central differences of the textbook cost;
- without Numba (``NNLAB_NUMBA=0``, or numba not importable) everything runs on NumPy.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nnlab import Dense, DivergenceError, Model, initialize_parameters, train
from nnlab.callbacks import Callback
from nnlab.fast import FastTrainer
from nnlab.fast import kernels as _kernels
from nnlab.fast import rounded_kernels as _rounded
from nnlab.network import compute_cost, model_forward

#: The compiled kernels' own tests: under the Numba backend only (the ``backend`` fixture of
#: conftest.py skips them, saying why, without Numba, and undoes an ``NNLAB_NUMBA=0`` of the
#: caller). Each compares the kernels with NumPy or the textbook inside the test; the fast path's
#: tests under both backends, the NumPy one included, are in test_fast.py (among them the exact
#: path's bit-for-bit test that was here).
pytestmark = [pytest.mark.usefixtures("backend"),
              pytest.mark.parametrize("backend", ["numba"], indirect=True)]

OPTIMIZERS = ["gd", "momentum", "rmsprop", "adam"]
HIDDEN = ["relu", "sigmoid", "tanh", "leaky_relu", "identity"]
#: output activation -> (number of outputs, loss)
OUTPUTS = {"sigmoid": 1, "softmax": 3, "identity": 2}


def _data(n_x=3, n_y=1, m=150, seed=0, kind="sigmoid"):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_x, m)
    if kind == "sigmoid":
        Y = (X[0:1] * X[1:2] > 0).astype(float)
    elif kind == "softmax":
        Y = np.eye(n_y)[rng.randint(0, n_y, m)].T
    else:
        Y = np.vstack([X[0:1] * X[1:2], np.sin(X[2:3])])[:n_y]
    return X, Y


# ------------------------------------------------------------------------------ the updates
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("lambd", [0.0, 0.7])
@pytest.mark.parametrize("dims", [[3, 5, 4, 1], [300, 500, 3]], ids=["small", "two-threads"])
def test_the_compiled_update_is_the_numpy_update_bit_for_bit(dtype, optimizer, lambd, dims,
                                                            monkeypatch):
    monkeypatch.setattr(_kernels, "PARALLEL_MIN", 1 << 17)  # 152 k elements: two threads
    params = initialize_parameters(dims, random_state=0, dtype=dtype)
    size = sum(dims[l] * dims[l + 1] + dims[l + 1] for l in range(len(dims) - 1))
    assert (size >= _kernels.PARALLEL_MIN) == (dims[0] == 300)
    a, b = (FastTrainer(params, ["tanh"] * (len(dims) - 2) + ["sigmoid"], optimizer=optimizer,
                        learning_rate=0.01, lambd=lambd, compiled=False) for _ in range(2))
    rng = np.random.RandomState(1)
    for step in range(3):
        grad = rng.randn(a.size).astype(dtype) * 10.0 ** rng.randint(-6, 1, a.size)
        a.grad[...] = grad
        b.grad[...] = grad
        w = a._work_for(37)
        a.t += 1
        b.t += 1
        getattr(a, f"_update_{optimizer}")(0.01 / (step + 1), w)
        b._update_compiled(0.01 / (step + 1), w)
        for name in ("theta", "grad", "v", "s"):
            if getattr(a, name) is not None:
                np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
    assert a.theta.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lambd", [0.0, 0.7])
@pytest.mark.parametrize("dims", [[3, 5, 4, 1], [300, 500, 3]], ids=["small", "two-threads"])
def test_adams_rounded_update_is_the_numpy_update_to_rounding(dtype, lambd, dims, monkeypatch):
    """fast=True: Adam's bias corrections folded into α and ε (one square root, one division
    per element): the textbook update's numbers to a few units in the last place."""
    monkeypatch.setattr(_kernels, "PARALLEL_MIN", 1 << 17)  # 152 k elements: two threads
    params = initialize_parameters(dims, random_state=0, dtype=dtype)
    a, b = (FastTrainer(params, ["tanh"] * (len(dims) - 2) + ["sigmoid"], optimizer="adam",
                        learning_rate=0.01, lambd=lambd, compiled=compiled)
            for compiled in (False, True))
    assert b._rounded_adam and not a._rounded_adam
    rng = np.random.RandomState(1)
    eps = np.finfo(dtype).eps
    for step in range(5):
        grad = rng.randn(a.size).astype(dtype) * 10.0 ** rng.randint(-6, 1, a.size)
        a.grad[...] = grad
        b.grad[...] = grad
        before = b.theta.astype(np.float64)
        w = a._work_for(37)
        a.t += 1
        b.t += 1
        lr = 0.01 / (step + 1)
        a._update_adam(lr, w)
        b._update_compiled(lr, w)
        for name in ("grad", "v", "s"):
            np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
        # the step in float64 from the same v and s: both updates within a few roundings of it
        c1, c2 = 1 - 0.9 ** b.t, 1 - 0.999 ** b.t
        v, s = b.v.astype(np.float64), b.s.astype(np.float64)
        exact = before - lr * (v / c1) / (np.sqrt(s / c2) + 1e-8)
        for trainer in (a, b):
            err = np.abs(trainer.theta - exact)
            assert np.all(err <= 4 * eps * (np.abs(exact) + np.abs(exact - before))), trainer
        a.theta[...] = b.theta
    assert b.theta.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fused_relu_passes_are_numpys_two_operations_bit_for_bit(dtype):
    rng = np.random.RandomState(0)
    Z = rng.randn(7, 33).astype(dtype)
    Z[0, :4] = [np.nan, -0.0, 0.0, np.inf]
    b = rng.randn(7, 1).astype(dtype)
    b[0, 0] = 0.0
    expected = np.maximum(np.add(Z, b), 0)
    _kernels.bias_relu(Z, b)
    np.testing.assert_array_equal(Z, expected)
    assert np.signbit(Z[0, 1]) == np.signbit(expected[0, 1])  # relu(-0.0) is -0.0 in NumPy
    dA = rng.randn(7, 33).astype(dtype)
    dA[1, :3] = [np.nan, -2.0, 3.0]
    A = np.abs(rng.randn(7, 33)).astype(dtype) * (rng.rand(7, 33) > 0.5)
    expected = dA * np.greater(A, 0).astype(dtype)
    _kernels.relu_backward(dA, A)
    np.testing.assert_array_equal(dA, expected)
    assert np.array_equal(np.signbit(dA), np.signbit(expected))
    # an infinite first element (the kernels' constants do not come from the data)
    Z = rng.randn(3, 5).astype(dtype)
    b = np.array([[np.inf], [1.0], [-1.0]], dtype)
    expected = np.maximum(np.add(Z, b), 0)
    _kernels.bias_relu(Z, b)
    np.testing.assert_array_equal(Z, expected)
    dA, A = rng.randn(3, 5).astype(dtype), rng.randn(3, 5).astype(dtype)
    dA[0, 0], A[0, 0] = np.inf, 1.0
    expected = dA * np.greater(A, 0).astype(dtype)
    db = np.empty((3, 1), dtype)
    summed = dA.copy()
    _kernels.relu_backward(dA, A)
    np.testing.assert_array_equal(dA, expected)
    _rounded.relu_backward_sum(summed, A, db)
    np.testing.assert_array_equal(summed, expected)
    assert db[0, 0] == np.inf and np.all(np.isfinite(db[1:]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_exact_tanh_sigmoid_and_cross_entropy_passes_are_numpys_calls_bit_for_bit(dtype):
    from nnlab.fast.stepper import _BACKWARD, _binary_crossentropy, _Work

    rng = np.random.RandomState(2)
    edge = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, np.finfo(dtype).tiny, 1 - 1e-7]
    for name, kernel in (("tanh", _kernels.tanh_backward),
                         ("sigmoid", _kernels.sigmoid_backward)):
        dA = rng.randn(4, 50).astype(dtype)
        A = rng.rand(4, 50).astype(dtype)
        A[0, : len(edge)] = edge
        dA[1, : len(edge)] = edge
        expected = dA.copy()
        _BACKWARD[name](expected, A, np.empty_like(A), None)  # NumPy's calls
        kernel(dA, A)
        np.testing.assert_array_equal(dA, expected, err_msg=name)
    AL = rng.rand(1, 60).astype(dtype)
    AL[0, : len(edge)] = edge
    Y = (rng.rand(1, 60) > 0.5).astype(dtype)
    Y[0, -3:] = [0.25, 1.0, 0.0]
    costs, terms = [], []
    for kernels in (False, True):
        w = _Work([3, 1], 60, np.dtype(dtype), [], kernels)
        costs.append(_binary_crossentropy(AL, Y, w))
        terms.append(w.cost1.copy())  # y log a + (1-y) log(1-a), element by element
    np.testing.assert_array_equal(terms[1], terms[0])
    assert np.array_equal(costs[0], costs[1], equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_compiled_batch_accuracy_counts_what_numpy_counts(dtype):
    """The whole-epoch kernel's count of a batch's correct examples: for softmax, the columns
    whose first maximum sits where Y's does (np.argmax, ties included); for sigmoid, each
    example's share of outputs on Y's side of 0.5."""
    from nnlab.network import batch_accuracy_sum

    rng = np.random.RandomState(0)
    hp = np.zeros(_rounded.NET_HP_SIZE, dtype)
    hp[_rounded.NET_HALF] = 0.5
    for n, mb in [(2, 1), (3, 7), (10, 32), (10, 64)]:
        AL = rng.rand(n, mb).astype(dtype)
        Y = np.eye(n, dtype=dtype)[rng.randint(n, size=mb)].T.copy()
        assert _rounded._batch_correct(AL, Y, 2, hp) == batch_accuracy_sum(AL, Y, "softmax")
        if n > 1:  # two equal maxima in every column, Y's class at the first or the second
            first, second = np.sort(np.array([rng.choice(n, 2, replace=False)
                                              for _ in range(mb)]), axis=1).T
            AL[first, np.arange(mb)] = AL[second, np.arange(mb)] = 2.0
            labels = np.where(rng.rand(mb) < 0.5, first, second)
            Y = np.eye(n, dtype=dtype)[labels].T.copy()
            counted = _rounded._batch_correct(AL, Y, 2, hp)
            assert counted == batch_accuracy_sum(AL, Y, "softmax") == np.sum(labels == first)
        Y = (rng.rand(n, mb) > 0.5).astype(dtype)
        assert _rounded._batch_correct(AL, Y, 1, hp) == pytest.approx(
            batch_accuracy_sum(AL, Y, "sigmoid"), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_sum_is_relu_backward_and_the_row_sums(dtype):
    rng = np.random.RandomState(1)
    dA = rng.randn(9, 301).astype(dtype)
    A = np.abs(rng.randn(9, 301)).astype(dtype) * (rng.rand(9, 301) > 0.5)
    expected = dA.copy()
    _kernels.relu_backward(expected, A)
    db = np.full((9, 1), np.nan, dtype)
    _rounded.relu_backward_sum(dA, A, db)
    np.testing.assert_array_equal(dA, expected)
    exact = expected.astype(np.float64).sum(axis=1, keepdims=True)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(db, exact, rtol=tol, atol=tol * np.abs(expected).sum() / 9)
    assert db.dtype == np.dtype(dtype)


# --------------------------------------------------------------------- whole epochs compiled
def _compare(X, Y, dims, acts, dtype, optimizer, lambd, batch_size, epochs=4, **kw):
    X, Y = X.astype(dtype), Y.astype(dtype)
    kw = dict(optimizer=optimizer, learning_rate=0.01, num_epochs=epochs, batch_size=batch_size,
              lambd=lambd, random_state=3, **kw)
    textbook = train(X, Y, dims, acts, fast=False, **kw)
    compiled = train(X, Y, dims, acts, fast=True, **kw)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-3, atol=2e-5)
    for k in textbook.params:
        assert compiled.params[k].dtype == np.dtype(dtype)
        np.testing.assert_allclose(compiled.params[k], textbook.params[k], **tol, err_msg=k)
    np.testing.assert_allclose(compiled.costs, textbook.costs, **tol)
    for name in ("v", "s"):
        for k, value in getattr(textbook.optimizer_state, name, {}).items():
            np.testing.assert_allclose(getattr(compiled.optimizer_state, name)[k], value, **tol)
    assert compiled.optimizer_state.t == textbook.optimizer_state.t


def _uses_compiled(dims, acts, dtype=np.float64, **kw):
    params = initialize_parameters(dims, random_state=0, dtype=dtype)
    return FastTrainer(params, acts, **kw).compiled


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", sorted(OUTPUTS))
def test_whole_epochs_compiled_train_what_the_textbook_trains(dtype, optimizer, hidden, output):
    n_y = OUTPUTS[output]
    X, Y = _data(n_y=n_y, kind=output)
    dims, acts = [3, 5, 4, n_y], [hidden, hidden, output]
    assert _uses_compiled(dims, acts)
    _compare(X, Y, dims, acts, dtype, optimizer, lambd=0.7 if optimizer == "adam" else 0.0,
             batch_size=32)  # 150 = 4 x 32 + a last batch of 22


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_whole_epochs_with_blas_products_and_l2(dtype, optimizer):
    X, Y = _data(n_x=40, n_y=3, m=200, kind="softmax")
    dims, acts = [40, 64, 3], ["relu", "softmax"]
    assert 64 * 40 * 32 >= _rounded.DOT_MIN and _uses_compiled(dims, acts)
    _compare(X, Y, dims, acts, dtype, optimizer, lambd=0.3, batch_size=32, epochs=3)


@pytest.mark.parametrize("batch_size", [None, 1])
def test_whole_epochs_full_batch_and_stochastic(batch_size):
    X, Y = _data(m=60)
    _compare(X, Y, [3, 4, 1], ["tanh", "sigmoid"], np.float64, "momentum", 0.1, batch_size,
             epochs=5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("batch_size", [32, None])
def test_whole_epochs_with_dropout_draw_the_textbooks_masks(dtype, batch_size):
    X, Y = _data()
    dims, acts = [3, 6, 5, 1], ["relu", "tanh", "sigmoid"]
    assert _uses_compiled(dims, acts, keep_probs=[0.7, 0.9])
    _compare(X, Y, dims, acts, dtype, "adam", 0.0, batch_size, keep_probs=[0.7, 0.9])
    # the course's way: a fresh generator for every update's masks
    _compare(X, Y, dims, acts, dtype, "gd", 0.2, batch_size, keep_probs=[0.8, 1.0],
             dropout_rng=lambda step: np.random.RandomState(step % 3))


class _SameStateEveryCall:
    """``step -> rng`` that reseeds one generator with the same seed at every call, and says so
    (``constant``), as ``nnlab.experiments``' ``Reseeded(1, constant=True)``."""

    constant = True

    def __init__(self, seed):
        self.seed, self.calls, self._rng = seed, 0, np.random.RandomState()

    def __call__(self, step):
        self.calls += 1
        self._rng.seed(self.seed)
        return self._rng


@pytest.mark.parametrize("batch_size", [None, 32])  # 150 examples: 4 batches of 32, one of 22
def test_a_constant_mask_generator_is_drawn_once_per_batch_size(batch_size):
    X, Y = _data()
    dims, acts = [3, 6, 5, 1], ["relu", "tanh", "sigmoid"]
    kw = dict(optimizer="gd", learning_rate=0.2, num_epochs=6, batch_size=batch_size,
              keep_probs=[0.7, 0.9], random_state=3)
    constant = _SameStateEveryCall(1)
    fast = train(X, Y, dims, acts, dropout_rng=constant, **kw)
    # the same generator without the promise: drawn at every update, the same masks
    plain = train(X, Y, dims, acts, dropout_rng=lambda t: np.random.RandomState(1), **kw)
    for k in fast.params:
        np.testing.assert_array_equal(fast.params[k], plain.params[k])
    assert fast.costs == plain.costs
    # drawn once per compiled call and batch size: all epochs in one call with the full
    # batch; a call per epoch, with two batch sizes, for batches of 32
    assert constant.calls == (1 if batch_size is None else 2 * 6)
    # and the textbook, reseeding at every forward pass
    _compare(X, Y, dims, acts, np.float64, "gd", 0.2, batch_size, epochs=6,
             keep_probs=[0.7, 0.9], dropout_rng=_SameStateEveryCall(1))


def test_what_the_whole_epoch_kernel_does_not_do_goes_the_numpy_way():
    assert not _uses_compiled([3, 5, 1], ["relu", "sigmoid"], fused=False)  # general dA[L]
    assert not _uses_compiled([3, 5, 3], ["softmax", "softmax"])  # hidden softmax
    assert not _uses_compiled([784, 256, 10], ["relu", "softmax"])  # large: BLAS's work
    assert not _uses_compiled([3, 5, 1], ["relu", "sigmoid"], compiled=False)


@pytest.mark.parametrize("output", sorted(OUTPUTS))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_the_kernels_gradient_is_the_costs_derivative(hidden, output):
    """With gd and α = 0, run_batches leaves θ alone and dθ holds the batch's gradient (with
    the L2 term): compared with central differences of the textbook cost (float64)."""
    n_y = OUTPUTS[output]
    X, Y = _data(n_y=n_y, m=20, kind=output)
    dims, acts, lambd = [3, 4, 3, n_y], [hidden, hidden, output], 0.4
    params = initialize_parameters(dims, random_state=2)
    trainer = FastTrainer(params, acts, optimizer="gd", lambd=lambd)
    assert trainer.compiled
    X_rows, Y_rows = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)
    costs, _ = trainer.run_batches(X_rows, Y_rows, np.arange(20), 20, 0.0)
    theta = trainer.theta.copy()

    def cost(vector):
        p = trainer._views(vector)
        AL, _ = model_forward(X, p, acts)
        return float(compute_cost(AL, Y, p, lambd, loss=trainer.loss))

    np.testing.assert_allclose(costs[0], cost(theta), rtol=1e-12)
    eps, numeric = 1e-6, np.empty_like(theta)
    for i in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[i] += eps
        minus[i] -= eps
        numeric[i] = (cost(plus) - cost(minus)) / (2 * eps)
    diff = np.linalg.norm(trainer.grad - numeric) / (
        np.linalg.norm(trainer.grad) + np.linalg.norm(numeric))
    assert diff < 1e-7, diff


def test_a_diverging_compiled_run_raises_with_the_last_finite_weights():
    X, Y = _data()
    kw = dict(optimizer="gd", learning_rate=50.0, num_epochs=200, batch_size=16, random_state=0)
    acts = ["relu", "identity"]
    Y = Y * 1e3
    assert _uses_compiled([3, 8, 1], acts)
    with pytest.raises(DivergenceError) as err:
        train(X, Y, [3, 8, 1], acts, **kw)
    assert all(np.all(np.isfinite(v)) for v in err.value.params.values())


class _BatchCounter(Callback):
    def __init__(self):
        super().__init__()
        self.losses = []

    def on_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


def test_fit_with_a_batch_callback_runs_the_kernel_batch_by_batch_to_the_same_numbers():
    rng = np.random.RandomState(0)
    X = rng.randn(130, 4)
    y = rng.randint(0, 3, 130)

    def fit(callbacks):
        model = Model([Dense(6, "tanh"), Dense(3, "softmax")], optimizer="adam",
                      learning_rate=0.01, random_state=1)
        history = model.fit(X, y, epochs=3, batch_size=32, verbose=0, callbacks=callbacks)
        return model, history

    counter = _BatchCounter()
    (a, ha), (b, hb) = fit([]), fit([counter])
    assert len(counter.losses) == 3 * 5
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert ha.loss == hb.loss and ha.history["accuracy"] == hb.history["accuracy"]
    assert 0.0 <= ha.history["accuracy"][-1] <= 1.0


# ------------------------------------------------------------------------------- fallbacks
_SCRIPT = """
import sys
{block}
import numpy as np
from nnlab import train
from nnlab.fast import kernels as _kernels
rng = np.random.RandomState(0)
X = rng.randn(3, 90); Y = (X[:1] * X[1:2] > 0).astype(float)
kw = dict(optimizer="adam", learning_rate=0.01, num_epochs=5, batch_size=16, random_state=0)
a = train(X, Y, [3, 5, 1], ["relu", "sigmoid"], fast=False, **kw)
b = train(X, Y, [3, 5, 1], ["relu", "sigmoid"], **kw)
same = all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
print(_kernels.enabled(), same)
"""


@pytest.mark.parametrize(
    ("env", "block", "expected"),
    [
        ({"NNLAB_NUMBA": "0"}, "", "False True"),
        ({}, "sys.modules['numba'] = None  # import numba fails", "False True"),
        ({"NNLAB_EXACT": "1"}, "", "True True"),
    ],
    ids=["NNLAB_NUMBA=0", "no-numba", "NNLAB_EXACT=1"],
)
def test_without_numba_or_exact_the_fast_path_is_the_textbook_bit_for_bit(env, block, expected):
    import os

    full_env = {k: v for k, v in os.environ.items() if k not in ("NNLAB_NUMBA", "NNLAB_EXACT")}
    full_env |= env
    out = subprocess.run([sys.executable, "-c", _SCRIPT.format(block=block)], env=full_env,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    assert out.strip() == expected


def _chunked_and_per_epoch(X, Y, dims, acts, kw):
    """``train`` with many epochs per compiled call, and with a callback (one call per epoch):
    the same parameters, costs and learning rates bit for bit. Returns both results."""
    chunked = train(X, Y, dims, acts, **kw)
    per_epoch = train(X, Y, dims, acts, callback=lambda e, p, c: False, **kw)  # one call each
    for k in chunked.params:
        np.testing.assert_array_equal(chunked.params[k], per_epoch.params[k])
    assert chunked.costs == per_epoch.costs and chunked.learning_rates == per_epoch.learning_rates
    return chunked, per_epoch


@pytest.mark.parametrize("dropout", ["none", "one-generator", "per-step"])
def test_full_batch_epochs_many_per_call_are_the_one_per_call_epochs(dropout, monkeypatch):
    import nnlab.fast

    monkeypatch.setattr(nnlab.fast.stepper, "EPOCHS_PER_CALL", 7)  # 30 epochs: 5 calls
    X, Y = _data(m=40)
    kw = dict(optimizer="momentum", learning_rate=0.05, num_epochs=30, random_state=4)
    if dropout != "none":
        kw["keep_probs"] = [0.8, 0.9]
    if dropout == "per-step":  # one shared generator, reseeded at every call (the course's way)
        shared = np.random.RandomState()
        kw["dropout_rng"] = lambda step: shared.seed(step % 5) or shared
    dims, acts = [3, 5, 4, 1], ["tanh", "relu", "sigmoid"]
    _chunked_and_per_epoch(X, Y, dims, acts, kw)
    _compare(X, Y, dims, acts, np.float64, "momentum", 0.0, None, epochs=30,
             **{k: v for k, v in kw.items() if k in ("keep_probs", "dropout_rng")})


def test_a_diverging_many_epochs_call_reports_the_epoch_and_weights_before_it(monkeypatch):
    import nnlab.fast

    monkeypatch.setattr(nnlab.fast.stepper, "EPOCHS_PER_CALL", 7)
    X, Y = _data(m=40)
    kw = dict(optimizer="gd", learning_rate=0.6, num_epochs=200, random_state=0)
    acts = ["relu", "identity"]
    with pytest.raises(DivergenceError) as plain:  # at epoch 9: in the second call of 7
        train(X, Y, [3, 8, 1], acts, fast=False, **kw)
    with pytest.raises(DivergenceError) as chunked:
        train(X, Y, [3, 8, 1], acts, **kw)
    assert chunked.value.epoch == plain.value.epoch > 7
    for k, v in plain.value.params.items():
        np.testing.assert_allclose(chunked.value.params[k], v, rtol=1e-6)


@pytest.mark.parametrize("shuffle", ["one-generator", "per-epoch"])
@pytest.mark.parametrize("optimizer", ["adam", "momentum"])
def test_minibatch_epochs_many_per_call_are_the_one_per_call_epochs(shuffle, optimizer,
                                                                    monkeypatch):
    import nnlab.fast

    monkeypatch.setattr(nnlab.fast.stepper, "EPOCHS_PER_CALL", 4)  # 11 epochs: 3 calls
    X, Y = _data(m=70)
    kw = dict(optimizer=optimizer, learning_rate=0.02, num_epochs=11, batch_size=16,
              random_state=5)  # 70 examples: 4 batches of 16 and one of 6
    if shuffle == "per-epoch":  # the course's optimizer notebook reseeds every epoch
        kw["shuffle_rng"] = lambda epoch: np.random.RandomState(11 + epoch)
    dims, acts = [3, 5, 4, 1], ["tanh", "relu", "sigmoid"]
    chunked, per_epoch = _chunked_and_per_epoch(X, Y, dims, acts, kw)
    assert chunked.optimizer_state.t == per_epoch.optimizer_state.t == 11 * 5
    _compare(X, Y, dims, acts, np.float64, optimizer, 0.0, 16, epochs=11,
             **{k: v for k, v in kw.items() if k == "shuffle_rng"})


def test_a_diverging_minibatch_call_reports_the_epoch_and_weights_before_it(monkeypatch, capsys):
    import nnlab.fast

    monkeypatch.setattr(nnlab.fast.stepper, "EPOCHS_PER_CALL", 2)
    X, Y = _data(m=40)
    kw = dict(optimizer="gd", learning_rate=0.7, num_epochs=200, batch_size=8, random_state=1,
              print_every=1)
    acts = ["relu", "identity"]
    with pytest.raises(DivergenceError) as plain:
        train(X, Y, [3, 8, 1], acts, callback=lambda e, p, c: False, **kw)  # one call each
    printed = capsys.readouterr().out
    with pytest.raises(DivergenceError) as chunked:
        train(X, Y, [3, 8, 1], acts, **kw)
    assert capsys.readouterr().out == printed
    assert chunked.value.epoch == plain.value.epoch > 2  # not in the first call
    assert chunked.value.epoch % 2  # nor at a call's first epoch: the replay runs
    assert str(chunked.value) == str(plain.value)
    for k, v in plain.value.params.items():
        np.testing.assert_array_equal(chunked.value.params[k], v)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_child_updates_large_buffers_on_its_own_worker_thread():
    """The two-thread update keeps a worker thread; a child forked after the parent used it
    must start its own (else it would wait forever on a thread that fork did not copy)."""
    script = """
import os, sys
import numpy as np
from nnlab.fast import kernels as _kernels
_kernels.PARALLEL_MIN = 1 << 17
n = 2 * _kernels.PARALLEL_MIN
theta, g, v, s = (np.ones(n) for _ in range(4))
hp = np.zeros(_kernels.HP_SIZE); hp[0] = 1.0; hp[3] = 0.5
_kernels.update("gd", theta, g, v, s, hp, n, False)  # the parent starts its worker
pid = os.fork()
if pid == 0:
    _kernels.update("gd", theta, g, v, s, hp, n, False)
    os._exit(0 if np.all(theta == 0.0) else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status), theta[0])
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.split() == ["0", "0.5"]


def _kernel_permutations(rng, m, n):
    """n orders from ``kernels.mt19937_permutation`` on the words of ``rng``'s state (its
    state then set to where they leave it)."""
    state = rng.get_state(legacy=False)
    key = np.array(state["state"]["key"], np.uint32)
    pos = int(state["state"]["pos"])
    rows = np.empty((n, m), np.int64)
    for row in rows:
        pos = _kernels.mt19937_permutation(key, pos, row)
    rng.set_state(dict(state, state={"key": key, "pos": pos}))
    return rows


@pytest.mark.parametrize("m, n", [(300, 20), (17, 100), (5000, 2), (1, 50), (2, 700), (700, 3)])
@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1])
def test_the_compiled_permutation_is_randomstates_draws_bit_for_bit(m, n, seed):
    """The kernel's shuffle: the same rows as rng.permutation(m), and the generator left in the
    same state (words, position, cached Gaussian), from a fresh generator and from one
    mid-stream; (2, 700) crosses many regenerations of the 624 words."""
    for skip in (0, 7):  # 7 normals: a cached Gaussian and a position inside the 624 words
        fast, plain = np.random.RandomState(seed), np.random.RandomState(seed)
        fast.randn(skip)
        plain.randn(skip)
        rows = _kernel_permutations(fast, m, n)
        want = np.stack([plain.permutation(m) for _ in range(n)])
        assert want.dtype == rows.dtype and np.array_equal(rows, want)
        a, b = fast.get_state(), plain.get_state()
        assert np.array_equal(a[1], b[1]) and a[2:] == b[2:]
        assert np.array_equal(fast.randn(3), plain.randn(3))


def _loop(X, Y, lr, epochs, drawn_inside, monkeypatch, acts=("relu", "sigmoid"),
          optimizer="adam"):
    """An EpochLoop on the compiled stepper, 300 examples in batches of 64: its shuffles drawn
    inside the kernel (``Shuffles``) or, with FastTrainer.permutations off, by the loop."""
    import nnlab.fast.stepper
    from nnlab.training import EpochLoop

    made = []
    original = nnlab.fast.stepper.FastTrainer.permutations

    def permutations(self, rng, m, n):
        out = original(self, rng, m, n) if drawn_inside else None
        made.append(out is not None)
        return out

    monkeypatch.setattr(nnlab.fast.stepper.FastTrainer, "permutations", permutations)
    params = initialize_parameters([3, 5, 1], "he", random_state=1)
    stepper = FastTrainer(params, list(acts), optimizer=optimizer, learning_rate=lr)
    assert stepper.compiled
    loop = EpochLoop(stepper, X, Y, batch_size=64, rng=np.random.RandomState(3),
                     learning_rate=lr)
    error = None
    try:
        loop.run(epochs)
    except DivergenceError as err:
        error = err
    return loop, error, made


def test_the_compiled_epochs_draw_the_loops_shuffles_to_the_same_bits(monkeypatch):
    """60 epochs in one compiled call: the orders drawn inside the kernel train to the bits of
    the orders the loop draws with NumPy, and leave the loop's generator in the same state."""
    X, Y = _data(m=300)
    inside, _, made = _loop(X, Y, 0.02, 60, True, monkeypatch)
    assert made and all(made)  # the kernel drew them
    outside, _, made = _loop(X, Y, 0.02, 60, False, monkeypatch)
    assert made and not any(made)
    assert inside.costs == outside.costs and inside.accuracies == outside.accuracies
    for k, v in outside.stepper.params.items():
        assert np.array_equal(inside.stepper.params[k], v)
    a, b = inside.rng.get_state(), outside.rng.get_state()
    assert np.array_equal(a[1], b[1]) and a[2:] == b[2:]


def test_a_diverging_call_with_shuffles_drawn_inside_is_the_numpy_orders_one(monkeypatch):
    """A learning rate that diverges: the same epoch, cost, weights before it and generator
    state (as if all of the call's orders were drawn) either way."""
    X, Y = _data(m=300)
    kw = dict(acts=("relu", "identity"), optimizer="gd")  # squared error: it blows up
    inside, err_in, _ = _loop(X, Y, 1.5, 60, True, monkeypatch, **kw)
    outside, err_out, _ = _loop(X, Y, 1.5, 60, False, monkeypatch, **kw)
    assert err_in is not None and err_out is not None
    assert err_in.epoch == err_out.epoch > 1  # inside the call: the replay runs
    assert inside.costs == outside.costs
    for k, v in err_out.params.items():
        assert np.array_equal(err_in.params[k], v)
    a, b = inside.rng.get_state(), outside.rng.get_state()
    assert np.array_equal(a[1], b[1]) and a[2:] == b[2:]


def test_shuffles_of_other_generators_are_drawn_by_numpy(monkeypatch):
    """A Generator, or a RandomState on another bit generator: the loop's or NumPy's draws."""
    stepper = FastTrainer(initialize_parameters([3, 5, 1], "he", random_state=1),
                          ["relu", "sigmoid"])
    assert stepper.permutations(np.random.default_rng(0), 300, 5) is None
    assert stepper.permutations(np.random.RandomState(0), 300, 1) is None
    other = np.random.RandomState(np.random.PCG64(0))
    shuffles = stepper.permutations(other, 300, 5)
    assert shuffles is not None and shuffles.words() is None  # -> drawn() by NumPy
    twin = np.random.RandomState(np.random.PCG64(0))
    assert np.array_equal(shuffles.drawn(), np.stack([twin.permutation(300) for _ in range(5)]))
