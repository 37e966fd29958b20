"""The fast path (nnlab.fast) against the textbook path (train(..., fast=False), train_step).

``fast="exact"`` computes the same operations in the same order, so on one machine it agrees bit
for bit; the default ``fast=True`` trains these small networks with whole epochs compiled
(``kernels.run_batches``, when Numba is installed), equal to rounding. The assertions allow float
rounding at a tolerance fitting the dtype.

Every test runs twice, once per backend (the ``backend`` fixture): with Numba, where the updates
and some activation passes are compiled loops, and with ``NNLAB_NUMBA=0``, where the fast path
is NumPy alone (its in-place updates, in cache-sized blocks), as on an install without Numba.
"""

import io
from contextlib import redirect_stdout

import numpy as np
import pytest

import nnlab.fast.path
import nnlab.fast.stepper
from nnlab import DivergenceError, initialize_parameters, train
from nnlab.activations import ACTIVATIONS
from nnlab.engine import fast_train
from nnlab.fast import FastTrainer, explain_path
from nnlab.fast.path import DUAL, fast_optimizer
from nnlab.optimizers import Optimizer, adam, get_optimizer, momentum
from nnlab.training import train_step

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-6)}

#: Every test here runs under both backends of the fast path (the ``backend`` fixture of
#: conftest.py): with Numba's kernels, and on NumPy alone (``NNLAB_NUMBA=0``, as a plain install
#: runs). With Numba the NumPy in-place updates never run, so without the second pass a wrong
#: NumPy update would pass unseen.
pytestmark = pytest.mark.usefixtures("backend")


def _data(n_y=1, m=150, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(3, m)
    if n_y == 1:
        Y = (X[0:1] * X[1:2] > 0).astype(float)
    else:
        Y = np.eye(n_y)[rng.randint(0, n_y, m)].T
    return X, Y


def _assert_same(a, b, dtype):
    assert list(a.params) == list(b.params)
    for k in a.params:
        assert a.params[k].dtype == b.params[k].dtype == np.dtype(dtype)
        np.testing.assert_allclose(b.params[k], a.params[k], **TOL[dtype], err_msg=k)
    np.testing.assert_allclose(b.costs, a.costs, **TOL[dtype])
    assert a.epochs == b.epochs and a.learning_rates == b.learning_rates
    assert type(a.optimizer_state) is type(b.optimizer_state)
    assert a.optimizer_state.t == b.optimizer_state.t
    for name in ("v", "s"):
        if hasattr(a.optimizer_state, name):
            sa, sb = getattr(a.optimizer_state, name), getattr(b.optimizer_state, name)
            assert list(sa) == list(sb)
            for k in sa:
                np.testing.assert_allclose(sb[k], sa[k], **TOL[dtype], err_msg=f"{name}[{k}]")


def _both(*args, **kwargs):
    """The textbook run and the default fast run (whole epochs compiled on these small
    networks when Numba is installed); on the way, checks that ``fast="exact"`` (the NumPy
    fast path, compiled updates only) gives the textbook's result too."""
    textbook = train(*args, fast=False, **kwargs)
    _assert_same(textbook, train(*args, fast="exact", **kwargs), kwargs.get("dtype", None)
                 or _dtype_of(args[0]))
    return textbook, train(*args, fast=True, **kwargs)


def _dtype_of(X):
    dtype = np.asarray(X).dtype
    return np.float32 if dtype == np.float32 else np.float64


# exp is an output activation (the Poisson loss's link, on the textbook path): a hidden exp
# compounds exponentials
HIDDEN = sorted(a for a in ACTIVATIONS if a != "exp")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize(
    "regularization",
    [{}, {"lambd": 0.3}, {"keep_probs": [0.8, 0.6]}, {"lambd": 0.1, "keep_probs": 0.7}],
    ids=["none", "l2", "dropout", "l2+dropout"],
)
@pytest.mark.parametrize("batch_size", [None, 32], ids=["full", "mini"])
def test_same_parameters_every_optimizer_regularization_dtype(
    dtype, optimizer, regularization, batch_size
):
    X, Y = _data()
    a, b = _both(
        X.astype(dtype), Y, [3, 6, 4, 1], ["relu", "tanh", "sigmoid"], optimizer=optimizer,
        learning_rate=0.01, num_epochs=15, batch_size=batch_size, random_state=3,
        **regularization,
    )
    _assert_same(a, b, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(
    "output, n_y, loss",
    [
        ("sigmoid", 1, None),
        ("softmax", 3, None),
        ("identity", 1, None),
        ("tanh", 1, None),
        ("relu", 1, None),
        ("leaky_relu", 2, None),
        ("sigmoid", 2, "mean_squared_error"),
        ("softmax", 3, "mean_squared_error"),
    ],
)
def test_same_parameters_every_activation_and_loss(dtype, hidden, output, n_y, loss):
    X, Y = _data(n_y)
    a, b = _both(
        X.astype(dtype), Y, [3, 5, 4, n_y], [hidden, hidden, output], loss=loss,
        optimizer="adam", learning_rate=0.01, num_epochs=6, batch_size=50, keep_probs=0.8,
        lambd=0.05, random_state=1,
    )
    _assert_same(a, b, dtype)


@pytest.mark.parametrize("output, n_y", [("sigmoid", 1), ("softmax", 3), ("identity", 1)])
def test_general_output_gradient_path(output, n_y):
    """fused=False: dA[L] from the loss, then dZ[L] = dA[L] * g'(Z[L]), on both paths."""
    X, Y = _data(n_y)
    a, b = _both(X, Y, [3, 4, n_y], ["tanh", output], fused=False, optimizer="rmsprop",
                 learning_rate=0.01, num_epochs=10, batch_size=40, random_state=0)
    _assert_same(a, b, np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_cache_blocks_give_the_same_update(monkeypatch, dtype, optimizer):
    """Blocks smaller than a layer (and straddling the weights / biases boundary, where the
    L2 term stops) change nothing."""
    monkeypatch.setattr(nnlab.fast.stepper, "CHUNK_BYTES", 56)  # 7 float64, 14 float32
    X, Y = _data()
    a, b = _both(X.astype(dtype), Y, [3, 6, 4, 1], optimizer=optimizer, learning_rate=0.01,
                 num_epochs=8, batch_size=32, lambd=0.2, random_state=2)
    _assert_same(a, b, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
def test_the_exact_fast_path_is_the_textbook_bit_for_bit(dtype, optimizer):
    """fast="exact": with Numba its compiled updates and relu passes, without it NumPy's
    in-place updates; either way nothing rounding-level: the textbook's bits."""
    X, Y = _data()
    X, Y = X.astype(dtype), Y.astype(dtype)
    kw = dict(optimizer=optimizer, learning_rate=0.01, num_epochs=4, lambd=0.3,
              keep_probs=[0.9, 1.0], random_state=3)  # full batch: the same memory layouts
    a = train(X, Y, [3, 6, 4, 1], ["relu", "tanh", "sigmoid"], fast=False, **kw)
    b = train(X, Y, [3, 6, 4, 1], ["relu", "tanh", "sigmoid"], fast="exact", **kw)
    for k in a.params:
        np.testing.assert_array_equal(b.params[k], a.params[k], err_msg=k)
    assert a.costs == b.costs


def test_the_backend_is_the_one_the_fixture_chose(backend, monkeypatch):
    """Under "numba" the trainer's updates are the compiled loops and a small network trains
    whole epochs compiled; under "numpy" neither: the NumPy in-place steps run."""
    monkeypatch.delenv("NNLAB_EXACT", raising=False)
    params = initialize_parameters([3, 5, 1], random_state=0)
    trainer = FastTrainer(params, ["relu", "sigmoid"], optimizer="momentum")
    assert trainer.kernels == trainer.compiled == (backend == "numba")
    assert (trainer._update is FastTrainer._update_momentum) == (backend == "numpy")
    path = explain_path(optimizer="momentum", dtype=np.float64, activations=["relu", "sigmoid"],
                        dims=[3, 5, 1], m=150, batch_size=32)
    assert path.name == (nnlab.fast.path.COMPILED if backend == "numba"
                         else nnlab.fast.path.IN_PLACE), path


def test_float32_is_kept_everywhere():
    X, Y = _data()
    r = train(X.astype(np.float32), Y, [3, 4, 1], optimizer="adam", learning_rate=0.01,
              num_epochs=3, batch_size=32, keep_probs=0.9, lambd=0.1, random_state=0)
    assert {p.dtype for p in r.params.values()} == {np.dtype(np.float32)}
    assert {a.dtype for d in (r.optimizer_state.v, r.optimizer_state.s) for a in d.values()} == {
        np.dtype(np.float32)
    }
    trainer = FastTrainer(r.params, ["relu", "sigmoid"], optimizer="adam", keep_probs=0.9)
    trainer.step(X.astype(np.float32), Y.astype(np.float32), rng=0)
    buffers = [trainer.theta, trainer.grad, trainer.v, trainer.s]
    assert {a.dtype for a in buffers} == {np.dtype(np.float32)}
    for w in trainer._work.values():
        assert {a.dtype for a in w.A + w.dA + w.tmp + w.D + w.out} == {np.dtype(np.float32)}


@pytest.mark.parametrize(
    "rng_kind", [np.random.RandomState, np.random.default_rng], ids=["RandomState", "Generator"]
)
def test_same_random_draws_in_the_same_order(rng_kind):
    """init, then each epoch's permutation, then each step's dropout masks, from one generator:
    after training both generators are in the same state."""
    X, Y = _data()
    rng_a, rng_b = rng_kind(7), rng_kind(7)
    kw = dict(optimizer="adam", learning_rate=0.01, num_epochs=5, batch_size=40,
              keep_probs=[0.7, 0.9])
    a = train(X, Y, [3, 5, 4, 1], random_state=rng_a, fast=False, **kw)
    b = train(X, Y, [3, 5, 4, 1], random_state=rng_b, fast=True, **kw)
    _assert_same(a, b, np.float64)
    assert rng_a.random_sample() == rng_b.random_sample() if rng_kind is np.random.RandomState \
        else rng_a.random() == rng_b.random()
    again = train(X, Y, [3, 5, 4, 1], random_state=rng_kind(7), fast=True, **kw)
    assert all(np.array_equal(again.params[k], b.params[k]) for k in b.params)


def test_reseeding_protocols_decay_and_given_params():
    X, Y = _data()
    start = initialize_parameters([3, 5, 1], random_state=4)
    a, b = _both(
        X, Y, params=start, activations=["relu", "sigmoid"], optimizer="momentum",
        learning_rate=0.05, num_epochs=4, batch_size=64, keep_probs=0.8,
        decay=lambda epoch: 0.05 / (1 + epoch), random_state=3,
        shuffle_rng=lambda e: np.random.RandomState(11 + e),
        dropout_rng=lambda t: np.random.RandomState(1),
    )
    _assert_same(a, b, np.float64)
    assert a.learning_rates == [0.05, 0.025, 0.05 / 3, 0.0125]
    assert b.params["W1"] is not start["W1"] and not np.shares_memory(b.params["W1"], start["W1"])


def test_callback_gets_a_snapshot_and_can_stop():
    X, Y = _data()
    seen = {}

    def callback(epoch, params, cost):
        seen[epoch] = params
        return epoch == 3

    r = train(X, Y, [3, 4, 1], optimizer="adam", learning_rate=0.01, num_epochs=50,
              batch_size=32, random_state=0, callback=callback)
    assert r.epochs == 4 and sorted(seen) == [0, 1, 2, 3]
    assert not np.array_equal(seen[0]["W1"], seen[3]["W1"])  # not views of the live buffer
    assert all(np.array_equal(seen[3][k], r.params[k]) for k in r.params)


def test_print_every_and_divergence_match():
    X, Y = _data()
    outs = []
    for fast in (False, True):
        buf = io.StringIO()
        with redirect_stdout(buf):
            train(X, Y, [3, 4, 1], num_epochs=5, print_every=2, random_state=0, fast=fast)
        outs.append(buf.getvalue())
    assert outs[0] == outs[1] and outs[0].count("Cost after iteration") == 3

    errors = []
    for fast in (False, True):
        with pytest.raises(DivergenceError) as info:
            train(X * 1e3, Y * 1e3, [3, 8, 1], ["relu", "identity"], learning_rate=10.0,
                  num_epochs=200, random_state=0, fast=fast)
        errors.append(info.value)
    assert errors[0].epoch == errors[1].epoch
    for k in errors[0].params:
        np.testing.assert_allclose(errors[1].params[k], errors[0].params[k], rtol=1e-10)


def test_trainer_step_is_train_step():
    X, Y = _data(3)
    params = initialize_parameters([3, 5, 3], random_state=0)
    opt = adam(0.01, beta1=0.8)
    state = opt.init(params)
    trainer = FastTrainer(params, ["tanh", "softmax"], optimizer=opt, lambd=0.1, keep_probs=0.8)
    rng_a, rng_b = np.random.RandomState(5), np.random.RandomState(5)
    for lr in (0.01, 0.005, 0.02):
        params, state, cost = train_step(params, opt, state, X, Y, ["tanh", "softmax"],
                                         lambd=0.1, keep_probs=[0.8], rng=rng_a, learning_rate=lr)
        fast_cost = trainer.step(X, Y, learning_rate=lr, rng=rng_b)
        assert fast_cost == pytest.approx(cost, rel=1e-12)
    for k in params:
        np.testing.assert_allclose(trainer.params[k], params[k], rtol=1e-10)
    exported = trainer.optimizer_state()
    assert exported.t == state.t == 3
    for k in params:
        np.testing.assert_allclose(exported.v[k], state.v[k], rtol=1e-10)
        np.testing.assert_allclose(exported.s[k], state.s[k], rtol=1e-10)


def test_optimizer_state_round_trip_continues_training():
    X, Y = _data()
    kw = dict(optimizer="adam", learning_rate=0.01, batch_size=None, random_state=0)
    whole = train(X, Y, [3, 4, 1], num_epochs=6, **kw)
    first = train(X, Y, [3, 4, 1], num_epochs=3, **kw)
    trainer = FastTrainer(first.params, ["relu", "sigmoid"], optimizer="adam",
                          learning_rate=0.01)
    trainer.set_optimizer_state(first.optimizer_state)
    for _ in range(3):
        trainer.step(X, Y)
    for k in whole.params:
        np.testing.assert_allclose(trainer.params[k], whole.params[k], rtol=1e-12)


def test_int_data_float64_and_layouts():
    X, Y = _data()
    Xi = np.round(X * 3).astype(np.int64)
    a, b = _both(Xi, Y, [3, 4, 1], optimizer="gd", num_epochs=5, random_state=0)
    _assert_same(a, b, np.float64)
    a, b = _both(np.asfortranarray(X), Y, [3, 4, 1], num_epochs=5, random_state=0)
    _assert_same(a, b, np.float64)
    a, b = _both(X[:, ::2], Y[:, ::2], [3, 4, 1], num_epochs=5, random_state=0)
    _assert_same(a, b, np.float64)


def fast_path_applies(X, *, optimizer="gd", params=None, activations=None, loss=None):
    """Whether ``train`` would run a fast stepper for these arguments (``explain_path``)."""
    acts = activations or ["relu", "sigmoid"]
    dims = [X.shape[0], 2, 1] if params is None else [params["W1"].shape[1], 2, 1]
    return explain_path(optimizer=optimizer, dtype=X.dtype, activations=acts, dims=dims,
                        loss=loss, params=params).fast


def test_when_the_fast_path_applies():
    X, _ = _data()
    assert fast_path_applies(X, optimizer="adam")
    assert fast_path_applies(X.astype(np.float32), optimizer=momentum(0.1))
    assert fast_path_applies(X.astype(int), optimizer="gd")
    assert not fast_path_applies(X.astype(np.float16), optimizer="adam")
    assert not fast_path_applies(X, optimizer="nadam")
    custom = Optimizer(adam().init, lambda g, s, learning_rate=None: ({}, s), "adam", {})
    assert not fast_optimizer(custom)
    assert fast_optimizer(get_optimizer("rmsprop"))
    params = initialize_parameters([3, 2, 1], random_state=0)
    assert fast_path_applies(X, params=params)
    assert not fast_path_applies(X, params={**params, "extra": np.zeros(1)})
    assert not fast_path_applies(X, activations=["relu", "swish"])
    assert not fast_path_applies(X, loss="hinge")


def test_errors_are_the_textbook_errors():
    X, Y = _data()
    for kwargs in [dict(layer_dims=[3, 4, 2]), dict(layer_dims=[3, 4, 1], lambd=-1.0),
                   dict(layer_dims=[3, 4, 1], batch_size=0), dict(layer_dims=None)]:
        messages = []
        for fast in (False, True):
            with pytest.raises(ValueError) as info:
                train(X, Y, num_epochs=1, fast=fast, **kwargs)
            messages.append(str(info.value))
        assert messages[0] == messages[1]


def test_fast_train_is_what_train_dispatches_to():
    X, Y = _data()
    kw = dict(optimizer="adam", learning_rate=0.01, num_epochs=4, batch_size=32, random_state=0)
    a, b = train(X, Y, [3, 4, 1], **kw), fast_train(X, Y, [3, 4, 1], **kw)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert a.costs == b.costs


def _fit_both(monkeypatch, make_model, fit_kwargs, X, y):
    fast_model = make_model()
    fast_model.fit(X, y, **fit_kwargs)
    slow_model = make_model()
    slow_model.fast = False  # the textbook stepper
    slow_model.fit(X, y, **fit_kwargs)
    return fast_model, slow_model


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam", "sgd"])
def test_model_fit_fast_and_textbook_agree(monkeypatch, dtype, optimizer):
    """Model.fit steps through FastTrainer (sgd, which it has no update for, stays textbook);
    a callback that swaps the weights and the learning rate mid-training is honoured."""
    from nnlab.callbacks import Callback
    from nnlab.model import Dense, Model

    class Rewind(Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.saved = {k: v.copy() for k, v in self.model.params.items()}
            if epoch == 2:
                self.model.params = self.saved
                self.model.learning_rate = 0.005

    X, Y = _data(3)
    rows, y = X.T.astype(dtype), np.argmax(Y, axis=0)

    def make():
        return Model([Dense(6, "tanh", keep_prob=0.8), Dense(3, "softmax")], l2=0.1,
                     optimizer=optimizer, learning_rate=0.01, random_state=0)

    fast, slow = _fit_both(monkeypatch, make, dict(epochs=5, batch_size=32, verbose=0,
                                                   callbacks=[Rewind()]), rows, y)
    for k in slow.params:
        assert fast.params[k].dtype == np.dtype(dtype)
        np.testing.assert_allclose(fast.params[k], slow.params[k], **TOL[dtype], err_msg=k)
    np.testing.assert_allclose(fast.history.history["loss"], slow.history.history["loss"],
                               **TOL[dtype])
    np.testing.assert_allclose(fast.history.history["accuracy"],
                               slow.history.history["accuracy"], **TOL[dtype])
    assert fast.opt_state.t == slow.opt_state.t
    assert not any(np.shares_memory(a, b) for a in fast.params.values()
                   for b in fast.params.values() if a is not b)  # copies, not buffer views


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_uses_the_fast_path(monkeypatch):
    from nnlab.estimators import MLPClassifier

    X, Y = _data()
    import nnlab.model

    calls = []
    original = nnlab.model.make_stepper

    def spy(*args, **kwargs):
        trainer = original(*args, **kwargs)
        calls.append(trainer)
        return trainer

    monkeypatch.setattr(nnlab.model, "make_stepper", spy)
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, batch_size=32, random_state=0,
                        tol=0.0, n_iter_no_change=10).fit(X.T, Y[0])
    assert calls and all(isinstance(t, FastTrainer) for t in calls)
    assert clf.predict(X.T).shape == (X.shape[1],)


# ------------------------------------------------- the first layer in the span of the data
N_WIDE = nnlab.fast.path.COMPILED_MAX_UNITS + 100  # wide enough for no whole-epoch kernel


def _dual_applies(X, dims, acts, optimizer="gd", lambd=0.0, watched=False):
    """Whether full-batch training on X carries W[1] in the span of the data (explain_path)."""
    return explain_path(optimizer=optimizer, dtype=X.dtype, activations=acts, dims=dims,
                        lambd=lambd, m=X.shape[1], watched=watched).name == DUAL


def _wide(m=20, n_x=N_WIDE, seed=4):
    rng = np.random.RandomState(seed)
    X = rng.randn(n_x, m) / np.sqrt(n_x / 50)
    return X, (X[:1] + X[1:2] > 0).astype(float)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("dims", "acts", "extra"),
    [
        ([N_WIDE, 1], ["sigmoid"], {"init": "zeros"}),
        ([N_WIDE, 6, 4, 1], ["relu", "tanh", "sigmoid"], {"fused": False}),
        ([N_WIDE, 6, 3], ["leaky_relu", "softmax"], {}),
        ([N_WIDE, 5, 1], ["tanh", "sigmoid"],
         {"keep_probs": 0.8, "decay": lambda e: 0.05 / (1 + e)}),
    ],
    ids=["logistic", "deep-general-dA", "softmax", "dropout-decay"],
)
def test_full_batch_descent_on_wide_inputs_carries_W1_in_the_span_of_the_data(
        dims, acts, extra, dtype, monkeypatch):
    monkeypatch.delenv("NNLAB_EXACT", raising=False)  # the span form is not exact
    X, Y = _wide()
    if acts[-1] == "softmax":
        Y = np.vstack([Y, 1 - Y, np.zeros_like(Y)])
    X, Y = X.astype(dtype), Y.astype(dtype)
    kw = dict(learning_rate=0.05, num_epochs=60, random_state=2, **extra)
    assert _dual_applies(X, dims, acts)
    textbook, dual = train(X, Y, dims, acts, fast=False, **kw), train(X, Y, dims, acts, **kw)
    _assert_same(textbook, dual, dtype)
    assert dual.params["W1"].shape == (dims[1], N_WIDE)


def test_the_span_form_is_off_where_it_would_not_hold_or_not_pay(monkeypatch):
    monkeypatch.delenv("NNLAB_EXACT", raising=False)
    X, Y = _wide()
    dims, acts = [N_WIDE, 4, 1], ["relu", "sigmoid"]
    assert not _dual_applies(X, dims, acts, optimizer="adam")
    assert not _dual_applies(X, dims, acts, lambd=0.1)
    assert not _dual_applies(X[:30], [30, 4, 1], acts)  # n_x < 2 m
    assert not _dual_applies(X, dims, acts, watched=True)
    # a callback sees W1 after every epoch: the plain steps (the textbook's, to rounding)
    seen = []
    kw = dict(learning_rate=0.05, num_epochs=5, random_state=2)
    a = train(X, Y, [N_WIDE, 4, 1], fast=False, **kw)
    with monkeypatch.context() as patch:
        patch.setattr(FastTrainer, "start_dual", lambda *args: pytest.fail("span form used"))
        b = train(X, Y, [N_WIDE, 4, 1], callback=lambda e, p, c: seen.append(p["W1"].copy()),
                  **kw)
    for k in a.params:
        np.testing.assert_allclose(b.params[k], a.params[k], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(seen[-1], b.params["W1"])
    # fast="exact": the plain steps too
    c = train(X, Y, [N_WIDE, 4, 1], fast="exact", **kw)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], c.params[k])


def test_a_diverging_span_form_run_reports_the_last_finite_weights():
    X, Y = _wide()
    kw = dict(learning_rate=1e3, num_epochs=50, random_state=2, init="random", init_scale=3.0)
    acts = ["relu", "identity"]
    with pytest.raises(DivergenceError) as plain:
        train(X * 1e3, Y * 1e3, [N_WIDE, 8, 1], acts, fast=False, **kw)
    with pytest.raises(DivergenceError) as dual:
        train(X * 1e3, Y * 1e3, [N_WIDE, 8, 1], acts, **kw)
    assert dual.value.epoch == plain.value.epoch
    for k, v in plain.value.params.items():
        np.testing.assert_allclose(dual.value.params[k], v, rtol=1e-9)


def test_a_loss_the_fast_path_lacks_is_a_clear_error():
    """``explain_path`` sends such a loss to the textbook stepper; built directly, the fast
    stepper says what is missing instead of a bare KeyError."""
    import pytest

    from nnlab import initialize_parameters
    from nnlab.fast import FastTrainer

    params = initialize_parameters([2, 3, 1], random_state=0)
    with pytest.raises(ValueError, match="the fast path has no loss 'huber'"):
        FastTrainer(params, ["relu", "identity"], optimizer="adam", loss="huber")
