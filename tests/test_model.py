"""Model: same numbers as the engine's train, layer specs, History, predict / evaluate, summary."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import nnlab
from nnlab import Dense, DivergenceError, Model
from nnlab.callbacks import LearningRateScheduler
from nnlab.model import GlorotUniform, History, make_optimizer
from nnlab.network import compute_cost, model_forward
from nnlab.optimizers import adam, inverse_time_decay


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """One BLAS thread per test process: the suite runs with ``-n 2`` on shared cores, where
    OpenBLAS's threads on these small matrices spin against each other (measured 7x slower)."""
    with threadpool_limits(1):
        yield


def _data(m=240, n_x=5, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    X = rng.randn(m, n_x).astype(dtype)
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    return X, y


CASES = [
    # batch_size, keep_prob, optimizer, λ, dtype
    (None, 1.0, "gd", 0.0, np.float64),
    (64, 1.0, "adam", 0.3, np.float64),
    (64, 0.8, "momentum", 0.3, np.float64),
    (50, 0.7, "rmsprop", 0.0, np.float64),
    (32, 0.9, "adam", 0.1, np.float32),
]


@pytest.mark.parametrize(("batch_size", "keep_prob", "optimizer", "lambd", "dtype"), CASES)
def test_fit_trains_the_same_numbers_as_train(batch_size, keep_prob, optimizer, lambd, dtype,
                                              monkeypatch):
    monkeypatch.setenv("NNLAB_EXACT", "1")  # bit for bit: no whole-epoch kernel
    X, y = _data(dtype=dtype)
    kwargs = dict(init="he", optimizer=optimizer, learning_rate=0.01, num_epochs=15,
                  batch_size=batch_size, lambd=lambd, keep_probs=[keep_prob, keep_prob],
                  random_state=3)
    acts = ["relu", "tanh", "sigmoid"]
    textbook = nnlab.train(X.T, y[None].astype(dtype), [5, 7, 4, 1], acts, fast=False, **kwargs)
    model = Model([Dense(7, "relu", keep_prob=keep_prob), Dense(4, "tanh", keep_prob=keep_prob),
                   Dense(1, "sigmoid")], optimizer=optimizer, learning_rate=0.01, l2=lambd,
                  random_state=3)
    history = model.fit(X, y, epochs=15, batch_size=batch_size, verbose=0)
    # Bit for bit: the same engine calls on the same numbers, drawn in the same order.
    for k in textbook.params:
        assert model.params[k].dtype == dtype
        np.testing.assert_array_equal(model.params[k], textbook.params[k], err_msg=k)
    assert history.loss == textbook.costs
    assert history.learning_rate == textbook.learning_rates
    # And the default path (for this small network, when Numba is installed, whole epochs in
    # one compiled call) agrees within float tolerance, through train and through fit.
    monkeypatch.delenv("NNLAB_EXACT")
    fast = nnlab.train(X.T, y[None].astype(dtype), [5, 7, 4, 1], acts, **kwargs)
    fitted = Model([Dense(7, "relu", keep_prob=keep_prob), Dense(4, "tanh", keep_prob=keep_prob),
                    Dense(1, "sigmoid")], optimizer=optimizer, learning_rate=0.01, l2=lambd,
                   random_state=3)
    fitted_history = fitted.fit(X, y, epochs=15, batch_size=batch_size, verbose=0)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for k in fast.params:
        np.testing.assert_allclose(model.params[k], fast.params[k], rtol=tol, atol=tol)
        np.testing.assert_allclose(fitted.params[k], fast.params[k], rtol=tol, atol=tol)
    np.testing.assert_allclose(fitted_history.loss, textbook.costs, rtol=tol)


def test_learning_rate_scheduler_matches_train_decay(monkeypatch):
    monkeypatch.setenv("NNLAB_EXACT", "1")  # bit for bit: no whole-epoch kernel
    X, y = _data()
    schedule = inverse_time_decay(0.05, 0.5)
    r = nnlab.train(X.T, y[None], [5, 6, 1], ["relu", "sigmoid"], optimizer="gd",
                    learning_rate=0.05, num_epochs=12, batch_size=60, decay=schedule,
                    random_state=1, fast=False)
    model = Model([Dense(6), Dense(1, "sigmoid")], optimizer="gd", learning_rate=0.05,
                  random_state=1)
    h = model.fit(X, y, epochs=12, batch_size=60, verbose=0,
                  callbacks=[LearningRateScheduler(schedule)])
    assert h.learning_rate == r.learning_rates == [schedule(e) for e in range(12)]
    for k in r.params:
        np.testing.assert_array_equal(model.params[k], r.params[k])


def test_two_fits_continue_like_one():
    """Weights, optimizer state and generator carry over from one fit to the next."""
    X, y = _data()
    a = Model([Dense(6), Dense(1, "sigmoid")], random_state=5, learning_rate=0.01)
    a.fit(X, y, epochs=10, batch_size=40, verbose=0)
    b = Model([Dense(6), Dense(1, "sigmoid")], random_state=5, learning_rate=0.01)
    b.fit(X, y, epochs=4, batch_size=40, verbose=0)
    b.fit(X, y, epochs=6, batch_size=40, verbose=0)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])


def test_layer_by_layer_init_draws_what_initialize_parameters_draws():
    model = Model([Dense(4, init="xavier"), Dense(3, init="xavier"), Dense(1, "sigmoid",
                   init="xavier")], random_state=7, input_dim=5)
    expected = nnlab.initialize_parameters([5, 4, 3, 1], "xavier", random_state=7)
    for k in expected:
        np.testing.assert_array_equal(model.params[k], expected[k])


def test_per_layer_init_and_glorot_uniform():
    model = Model([Dense(50, "relu", init="glorot_uniform"), Dense(3, "softmax", init="zeros")],
                  random_state=0, input_dim=30)
    r = np.sqrt(6.0 / (30 + 50))
    W1, b1 = model.params["W1"], model.params["b1"]
    assert W1.shape == (50, 30) and W1.flags.c_contiguous
    assert np.abs(W1).max() <= r and np.abs(W1).max() > 0.9 * r
    assert np.any(b1 != 0) and np.abs(b1).max() <= r  # scikit-learn draws the biases too
    assert not np.any(model.params["W2"]) and not np.any(model.params["b2"])
    # sigmoid layers use scikit-learn's factor 2
    sig = Model([Dense(10, "sigmoid", init="glorot_uniform")], random_state=0, input_dim=10)
    assert np.abs(sig.params["W1"]).max() <= np.sqrt(2.0 / 20)
    assert GlorotUniform(2.0) == GlorotUniform(2.0) != GlorotUniform(6.0)


def test_custom_layer_init_callable():
    def ones(n_l, n_prev, rng):
        return np.ones((n_l, n_prev)), np.full(n_l, 0.5)

    model = Model([Dense(2, init=ones), Dense(1, "identity")], input_dim=3, random_state=0)
    assert model.params["W1"].tolist() == [[1.0] * 3] * 2
    assert model.params["b1"].tolist() == [[0.5], [0.5]]
    with pytest.raises(ValueError, match="init returned W"):
        Model([Dense(2, init=lambda n, p, rng: np.ones((p, n + 1)))], input_dim=3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(units=0), "units=0"),
        (dict(units=2.5), "units=2.5"),
        (dict(units=3, activation="swish"), "unknown activation"),
        (dict(units=3, init="orthogonal"), "unknown init"),
        (dict(units=3, keep_prob=0.0), "keep_prob=0.0"),
        (dict(units=3, init="he", init_scale=2.0), "init_scale only applies"),
    ],
)
def test_dense_rejects_bad_specs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Dense(**kwargs)


def test_model_rejects_bad_setups():
    with pytest.raises(ValueError, match="at least one layer"):
        Model([])
    with pytest.raises(ValueError, match="output layer cannot use dropout"):
        Model([Dense(3), Dense(1, "sigmoid", keep_prob=0.5)])
    with pytest.raises(ValueError, match="unknown optimizer"):
        Model([Dense(1, "sigmoid")], optimizer="lion")
    with pytest.raises(ValueError, match="l2="):
        Model([Dense(1, "sigmoid")], l2=-1.0)
    model = Model([Dense(3), Dense(1, "sigmoid")], random_state=0)
    X, y = _data(m=20)
    with pytest.raises(ValueError, match="one row per example"):
        model.fit(X[:, 0], y, verbose=0)
    with pytest.raises(ValueError, match="NaN or infinity"):
        model.fit(np.where(X > 1, np.nan, X), y, verbose=0)
    with pytest.raises(ValueError, match="y has 19 rows but X has 20"):
        model.fit(X, y[:-1], verbose=0)
    model.fit(X, y, verbose=0)
    with pytest.raises(ValueError, match="X has 4 features, but the model was built for 5"):
        model.predict(X[:, :4])
    with pytest.raises(ValueError, match="validation_data or validation_split, not both"):
        model.fit(X, y, validation_split=0.2, validation_data=(X, y), verbose=0)


def test_history_records_loss_accuracy_validation_and_learning_rate():
    X, y = _data(m=300)
    model = Model([Dense(8, "relu"), Dense(2, "softmax")], learning_rate=0.01, random_state=0)
    h = model.fit(X, y, epochs=7, batch_size=64, validation_split=0.2, verbose=0)
    assert isinstance(h, History) and h is model.history and len(h) == 7
    assert h.epoch == list(range(7))
    assert sorted(h.history) == sorted(History.KEYS)
    assert h["loss"] == h.loss and all(0 <= a <= 1 for a in h.accuracy + h.val_accuracy)
    assert h.learning_rate == [0.01] * 7
    # validation_split holds out the last rows, evaluated without dropout after the epoch
    X_val, y_val = X[-60:], y[-60:]
    assert model.evaluate(X_val, y_val)["loss"] == pytest.approx(h.val_loss[-1], rel=1e-12)
    assert model.evaluate(X_val, y_val)["accuracy"] == h.val_accuracy[-1]
    # regression records no accuracy
    reg = Model([Dense(4), Dense(1, "identity")], random_state=0)
    hr = reg.fit(X, X[:, 0], epochs=2, verbose=0, validation_data=(X[:10], X[:10, 0]))
    assert sorted(hr.history) == ["learning_rate", "loss", "val_loss"]


def test_epoch_accuracy_is_the_running_accuracy_of_the_batches():
    X, y = _data(m=100)
    model = Model([Dense(1, "sigmoid")], optimizer="gd", learning_rate=1e-12, random_state=0)
    h = model.fit(X, y, epochs=1, verbose=0)  # one full batch: accuracy of the starting weights
    start = Model([Dense(1, "sigmoid")], optimizer="gd", random_state=0, input_dim=5)
    assert h.accuracy[0] == np.mean(start.predict(X) == y)


def test_predict_shapes_and_evaluate():
    X, y = _data(m=50)
    sig = Model([Dense(3), Dense(1, "sigmoid")], random_state=0)
    sig.fit(X, y, epochs=2, verbose=0)
    assert sig.predict(X).shape == (50,) and set(np.unique(sig.predict(X))) <= {0, 1}
    assert sig.predict_proba(X).shape == (50, 1)
    soft = Model([Dense(3), Dense(4, "softmax")], random_state=0)
    soft.fit(X, np.arange(50) % 4, epochs=2, verbose=0)
    assert soft.predict(X).shape == (50,) and soft.predict(X).max() <= 3
    np.testing.assert_allclose(soft.predict_proba(X).sum(axis=1), 1.0)
    multi = Model([Dense(3), Dense(2, "sigmoid")], random_state=0)
    multi.fit(X, np.c_[y, 1 - y], epochs=2, verbose=0)
    assert multi.predict(X).shape == (50, 2)
    reg = Model([Dense(3), Dense(2, "identity")], random_state=0, l2=0.5)
    reg.fit(X, X[:, :2], epochs=2, verbose=0)
    np.testing.assert_array_equal(reg.predict(X), reg.predict_proba(X))
    # evaluate's loss is the engine's data loss (no L2 term) on the columns
    AL, _ = model_forward(X.T, reg.params, reg.activations)
    expected = compute_cost(AL, X[:, :2].T, loss="mean_squared_error")
    assert reg.evaluate(X, X[:, :2]) == {"loss": pytest.approx(float(expected), rel=1e-12)}
    with pytest.raises(ValueError, match=r"integer class labels 0\.\.3"):
        soft.fit(X, np.arange(50) % 5, verbose=0)


def test_summary_lists_shapes_and_parameter_counts():
    model = Model([Dense(20, "relu", init="he", keep_prob=0.86), Dense(3, "relu"),
                   Dense(1, "sigmoid")], loss="binary_crossentropy", optimizer=adam(0.001),
                  l2=0.7, random_state=3)
    assert "n_x" in model.summary() and "not built" in model.summary()
    model.build(2)
    text = model.summary()
    for piece in ("(20, 2)", "(20, 1)", "(20, m)", "(3, 20)", "(1, 3)", "0.86", "he", "sigmoid",
                  "binary_crossentropy", "adam", "λ = 0.7"):
        assert piece in text, piece
    assert model.count_params() == 20 * 3 + 3 * 21 + 1 * 4 == 127
    assert "total params: 127" in text


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_raises_with_the_last_finite_weights():
    X, y = _data(m=64)
    model = Model([Dense(16, "relu"), Dense(1, "identity")], optimizer="gd",
                  learning_rate=10.0, random_state=0)
    with pytest.raises(DivergenceError) as info:
        model.fit(X * 100, y, epochs=50, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in model.params.values())
    assert model.params is info.value.params


def test_float32_stays_float32():
    X, y = _data(dtype=np.float32)
    model = Model([Dense(4), Dense(1, "sigmoid")], random_state=0)
    h = model.fit(X, y, epochs=3, batch_size=32, verbose=0)
    assert all(v.dtype == np.float32 for v in model.params.values())
    assert model.predict_proba(X).dtype == np.float32
    assert all(isinstance(v, float) for v in h.loss)


def test_pickle_round_trip_and_custom_optimizer_refused():
    X, y = _data(m=40)
    model = Model([Dense(3), Dense(1, "sigmoid", init="glorot_uniform")], optimizer="sgd",
                  random_state=0)
    model.fit(X, y, epochs=2, batch_size=10, verbose=0)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    assert again.optimizer.hyperparams == model.optimizer.hyperparams
    # the rebuilt optimizer continues exactly where the original would
    model.fit(X, y, epochs=2, batch_size=10, verbose=0)
    again.fit(X, y, epochs=2, batch_size=10, verbose=0)
    for k in model.params:
        np.testing.assert_array_equal(again.params[k], model.params[k])
    custom = make_optimizer("adam")._replace(name="mine")
    odd = Model([Dense(1, "sigmoid")], optimizer=custom, input_dim=2)
    with pytest.raises(TypeError, match="cannot pickle"):
        pickle.dumps(odd)


def test_no_global_random_state_is_touched():
    X, y = _data(m=60)
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    Model([Dense(4, keep_prob=0.5), Dense(1, "sigmoid")], random_state=None).fit(
        X, y, epochs=2, batch_size=16, verbose=0)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_prediction_in_row_chunks_equals_one_pass(monkeypatch):
    """Long inputs to wide networks go through in row chunks: the same outputs, labels and
    (to rounding) the same mean loss and accuracy as one pass."""
    import nnlab.model as model_module

    rng = np.random.RandomState(0)
    X = rng.randn(103, 5)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = Model([Dense(7, "relu"), Dense(1, "sigmoid")], random_state=1).build(5)
    whole_out, whole_labels, whole_eval = model.forward(X), model.predict(X), model.evaluate(X, y)
    monkeypatch.setattr(model_module, "PREDICT_BYTES", 3 * 13 * 8 * 10)  # 10 rows a chunk
    assert len(model._row_chunks(X)) == 11
    np.testing.assert_allclose(model.forward(X), whole_out, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(model.predict(X), whole_labels)
    chunked = model.evaluate(X, y)
    assert chunked.keys() == whole_eval.keys()
    for key in whole_eval:
        assert chunked[key] == pytest.approx(whole_eval[key], rel=1e-12)


def test_the_fast_switch_of_a_model_and_the_path_it_explains():
    X, y = _data()
    textbook = Model([Dense(6), Dense(1, "sigmoid")], random_state=0, fast=False)
    exact = Model([Dense(6), Dense(1, "sigmoid")], random_state=0, fast="exact")
    textbook.fit(X, y, epochs=3, batch_size=32, verbose=0)
    exact.fit(X, y, epochs=3, batch_size=32, verbose=0)
    assert textbook.explain_path().name == "textbook"
    assert exact.explain_path().name == "numpy in place"
    for k in textbook.params:  # the two steppers: the same bits
        np.testing.assert_array_equal(textbook.params[k], exact.params[k])
    sgd = Model([Dense(6), Dense(1, "sigmoid")], optimizer="sgd", input_dim=5)
    assert "'sgd' has no update on the fast path" in sgd.explain_path().reason
    with pytest.raises(ValueError, match="fast must be True, False or 'exact'"):
        Model([Dense(1, "sigmoid")], fast="always")


@pytest.mark.parametrize("fast", [True, "exact", False])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_divergence_leaves_weights_and_optimizer_state_of_the_last_finite_epoch(fast, batch_size):
    """Every stepper goes back to the state before the diverging epoch: the weights that
    training to the epoch before gives, and momentum's step count and velocity with them."""
    X, y = _data(m=64)

    def model():
        return Model([Dense(16, "relu"), Dense(1, "identity")], optimizer="momentum",
                     learning_rate=10.0, random_state=0, fast=fast)

    diverging = model()
    with pytest.raises(DivergenceError) as info:
        diverging.fit(X * 100, y, epochs=200, batch_size=batch_size, verbose=0)
    epoch = info.value.epoch
    assert epoch >= 1
    reference = model()
    reference.fit(X * 100, y, epochs=epoch, batch_size=batch_size, verbose=0)
    for k in reference.params:
        np.testing.assert_array_equal(diverging.params[k], reference.params[k])
    assert diverging.opt_state.t == reference.opt_state.t
    for k in reference.opt_state.v:
        np.testing.assert_array_equal(diverging.opt_state.v[k], reference.opt_state.v[k])


@pytest.mark.parametrize("fast", [True, "exact"])
def test_no_reference_cycle_keeps_a_stepper_and_its_data_alive(fast):
    """A stepper holds copies of the data (shuffled rows, work arrays): once ``train`` or
    ``fit`` returns, it must go at once, not at the next garbage collection (a cycle would keep
    ~100 MB alive through the next run and slow its first epoch)."""
    import gc
    import weakref

    import nnlab.engine
    import nnlab.model

    made = []

    def spy(make):
        def wrapped(*args, **kwargs):
            stepper = make(*args, **kwargs)
            made.append(weakref.ref(stepper))
            return stepper
        return wrapped

    X, y = _data()
    gc.disable()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(nnlab.engine, "make_stepper", spy(nnlab.engine.make_stepper))
            mp.setattr(nnlab.model, "make_stepper", spy(nnlab.model.make_stepper))
            for batch_size in (None, 32):
                nnlab.train(X.T, y[None], [5, 6, 1], optimizer="adam", num_epochs=2,
                            batch_size=batch_size, fast=fast)
                Model([Dense(6), Dense(1, "sigmoid")], fast=fast).fit(
                    X, y, epochs=2, batch_size=batch_size, verbose=0)
        assert len(made) == 4 and all(ref() is None for ref in made)
    finally:
        gc.enable()


class _Watcher(nnlab.callbacks.Callback):
    """Reads the weights after every epoch (so ``fit`` makes one stepper call per epoch)."""

    def __init__(self):
        super().__init__()
        self.first_weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.first_weights.append(self.model.params["W1"][0, 0])


@pytest.mark.parametrize("fast", [True, "exact", False])
@pytest.mark.parametrize("batch_size", [None, 32])
def test_many_epochs_per_call_give_the_bits_of_one_call_per_epoch(fast, batch_size):
    """With only callbacks that read their logs, ``fit`` runs many epochs per stepper call and
    books them at once; a callback that reads the weights every epoch forces a call per epoch.
    Both give the same history, weights and optimizer state, bit for bit, and the watcher saw
    each epoch's own weights (the weights a fit of that many epochs ends with)."""
    X, y = _data(m=96)

    def model():
        return Model([Dense(8, "relu"), Dense(1, "sigmoid")], optimizer="adam",
                     learning_rate=0.01, random_state=0, fast=fast)

    calls = {"chunked": 0, "watched": 0}
    chunked, watched, watcher = model(), model(), _Watcher()
    for name, m, callbacks in (("chunked", chunked, []), ("watched", watched, [watcher])):
        stepper_of = m._stepper

        def counting(dtype, name=name, stepper_of=stepper_of):
            stepper = stepper_of(dtype)
            run = stepper.run

            def counted(plan):
                calls[name] += 1
                return run(plan)

            stepper.run = counted
            return stepper

        m._stepper = counting
        m.fit(X, y, epochs=12, batch_size=batch_size, verbose=0, callbacks=callbacks)
    assert calls["watched"] == 12
    if fast is True or (batch_size is None and fast == "exact"):
        assert calls["chunked"] < 12  # many epochs per call
    assert chunked.history.history == watched.history.history
    for k in chunked.params:
        np.testing.assert_array_equal(chunked.params[k], watched.params[k])
    assert chunked.opt_state.t == watched.opt_state.t
    for k in chunked.opt_state.v:
        np.testing.assert_array_equal(chunked.opt_state.v[k], watched.opt_state.v[k])
    for epochs in (1, 5, 12):
        short = model()
        short.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0)
        assert watcher.first_weights[epochs - 1] == short.params["W1"][0, 0]


@pytest.mark.parametrize("fast", [True, False])
def test_early_stopping_on_the_training_loss_stops_where_it_would_epoch_by_epoch(fast):
    """``EarlyStopping(monitor="loss")`` lets ``fit`` run ``patience - wait`` epochs per call:
    it stops at the same epoch, with the same weights, as when a watcher forces one call per
    epoch."""
    from nnlab.callbacks import EarlyStopping

    X, y = _data(m=64)
    results = []
    for extra in ([], [_Watcher()]):
        m = Model([Dense(8, "relu"), Dense(1, "sigmoid")], optimizer="gd", learning_rate=0.05,
                  random_state=0, fast=fast)
        stop = EarlyStopping(monitor="loss", min_delta=0.002, patience=4)
        m.fit(X, y, epochs=400, verbose=0, callbacks=[stop, *extra])
        results.append((stop.stopped_epoch, len(m.history.epoch), m.params["W1"].copy()))
    assert results[0][0] is not None and results[0][0] < 399
    assert results[0][:2] == results[1][:2]
    np.testing.assert_array_equal(results[0][2], results[1][2])


def test_a_callback_that_stops_inside_its_free_epochs_is_refused():
    """``free_epochs`` is a promise: stopping before the last epoch it allowed would leave the
    model trained further than the epoch that stopped it, so ``fit`` raises."""

    class Liar(nnlab.callbacks.Callback):
        def free_epochs(self):
            return 5

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    X, y = _data(m=64)
    m = Model([Dense(4), Dense(1, "sigmoid")], random_state=0)
    with pytest.raises(RuntimeError, match="free_epochs"):
        m.fit(X, y, epochs=10, verbose=0, callbacks=[Liar()])


def test_weights_read_or_replaced_by_a_callback_during_fit():
    """During ``fit`` the weights live in the stepper: ``model.params`` read from a callback is
    that epoch's copy, and weights a callback sets are the ones training goes on from."""
    X, y = _data(m=64)
    start = Model([Dense(4), Dense(1, "sigmoid")], optimizer="gd", random_state=1).build(5)
    replacement = {k: v.copy() for k, v in start.params.items()}

    class Replace(nnlab.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.model.params = {k: v.copy() for k, v in replacement.items()}

    replaced = Model([Dense(4), Dense(1, "sigmoid")], optimizer="gd", random_state=0)
    replaced.fit(X, y, epochs=2, verbose=0, callbacks=[Replace()])
    start.fit(X, y, epochs=1, verbose=0)  # gd: one more epoch from the replacement
    for k in start.params:
        np.testing.assert_array_equal(replaced.params[k], start.params[k])
