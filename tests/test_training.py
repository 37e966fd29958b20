import numpy as np
import pytest

from nnlab import DivergenceError, initialize_parameters, predict, train
from nnlab.datasets import load_flower
from nnlab.optimizers import adam, inverse_time_decay


def _xor_data(seed=0, m=200):
    rng = np.random.RandomState(seed)
    X = rng.randn(2, m)
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    return X, Y


def test_flower_matches_the_course():
    """The course's planar run: 2-4-1 tanh, randn*0.01 from seed 2, α = 1.2 (bit for bit the
    textbook's arithmetic: at α = 1.2 the path is sensitive enough that the whole-epoch kernel's
    rounding moves the cost at iteration 9000 in the fifth digit). The BLAS's summation order
    over the 400 examples moves it too: OpenBLAS's SkylakeX kernels give the course's 0.218550,
    its Haswell kernels (AVX2 machines) 0.218571 and its Sandybridge kernels 0.218556; so the
    cost is compared to the course's to 5e-5, and the count of correct examples exactly."""
    X, Y = load_flower()
    result = train(X, Y, [2, 4, 1], ["tanh", "sigmoid"], init="random", random_state=2,
                   learning_rate=1.2, num_epochs=10000, fast="exact")
    assert round(result.costs[0], 6) == 0.693048
    assert result.costs[9000] == pytest.approx(0.218550, abs=5e-5)
    correct = int((predict(X, result.params, ["tanh", "sigmoid"]) == Y).sum())
    assert correct == 363  # 90.75 % of 400


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "rmsprop", "adam"])
@pytest.mark.parametrize("batch_size", [None, 32])
def test_training_reduces_cost_and_is_deterministic(optimizer, batch_size):
    X, Y = _xor_data()
    kwargs = dict(init="xavier", optimizer=optimizer, num_epochs=60, batch_size=batch_size,
                  learning_rate=0.05 if optimizer in ("gd", "momentum") else 0.01,
                  keep_probs=0.9, lambd=0.1, random_state=4)
    a = train(X, Y, [2, 8, 4, 1], ["tanh", "tanh", "sigmoid"], **kwargs)
    b = train(X, Y, [2, 8, 4, 1], ["tanh", "tanh", "sigmoid"], **kwargs)
    assert a.costs[-1] < a.costs[0]
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)  # bit for bit
    assert a.costs == b.costs
    c = train(X, Y, [2, 8, 4, 1], ["tanh", "tanh", "sigmoid"], **{**kwargs, "random_state": 5})
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_adam_step_count_is_the_number_of_updates():
    X, Y = _xor_data(m=100)
    r = train(X, Y, [2, 3, 1], optimizer=adam(0.01), num_epochs=3, batch_size=30, random_state=0)
    assert r.optimizer_state.t == 3 * 4  # 100 examples in batches of 30: 4 per epoch


def test_float32_in_float32_out():
    X, Y = _xor_data()
    r = train(X.astype(np.float32), Y, [2, 4, 1], optimizer="adam", learning_rate=0.01,
              num_epochs=5, batch_size=50, random_state=0)
    assert {p.dtype for p in r.params.values()} == {np.dtype(np.float32)}


def test_params_given_and_callback_stops():
    X, Y = _xor_data()
    start = initialize_parameters([2, 4, 1], random_state=1)
    seen = []
    r = train(X, Y, params=start, num_epochs=100,
              callback=lambda epoch, params, cost: seen.append(epoch) or epoch == 9)
    assert r.epochs == 10 and seen == list(range(10)) and len(r.costs) == 10
    assert start["W1"] is not r.params["W1"]


def test_decay_schedule_applied_per_epoch():
    X, Y = _xor_data()
    r = train(X, Y, [2, 4, 1], num_epochs=4, learning_rate=0.1,
              decay=inverse_time_decay(0.1, 1.0), random_state=0)
    assert r.learning_rates == pytest.approx([0.1, 0.05, 0.1 / 3, 0.025])


def test_course_reseeding_protocols():
    """shuffle_rng / dropout_rng reproduce reseed-every-epoch and reseed-every-pass protocols."""
    X, Y = _xor_data()
    kw = dict(num_epochs=3, batch_size=64, random_state=3, keep_probs=0.8,
              shuffle_rng=lambda e: np.random.RandomState(11 + e),
              dropout_rng=lambda t: np.random.RandomState(1))
    a = train(X, Y, [2, 5, 1], **kw)
    b = train(X, Y, [2, 5, 1], **kw)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_divergence_stops_with_last_finite_weights():
    X, Y = _xor_data()
    X = X * 1e3
    with pytest.raises(DivergenceError, match=r"diverged at epoch \d+.*smaller learning rate") as e:
        train(X, Y, [2, 4, 1], ["identity", "identity"], loss="mean_squared_error",
              learning_rate=10.0, num_epochs=1000, random_state=0)
    assert all(np.all(np.isfinite(v)) for v in e.value.params.values())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layer_dims": None}, "needs layer_dims"),
        ({"layer_dims": [3, 1]}, r"X has shape \(2, 200\)"),
        ({"lambd": -0.1}, "lambd=-0.1 is negative"),
        ({"learning_rate": 0.0}, "learning_rate=0.0"),
        ({"num_epochs": -1}, "num_epochs=-1"),
        ({"optimizer": "lbfgs"}, "unknown optimizer"),
        ({"keep_probs": 0.0}, "keep_prob=0.0"),
        ({"init": "orthogonal"}, "unknown init"),
    ],
)
def test_bad_arguments(kwargs, message):
    X, Y = _xor_data()
    args = {"layer_dims": [2, 3, 1], "num_epochs": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        train(X, Y, **args)


def test_non_finite_data_refused():
    X, Y = _xor_data()
    X[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        train(X, Y, [2, 3, 1], num_epochs=1)


# ------------------------------------------------------------------ the one loop, on its own


class CountingStepper:
    """A stepper that only counts: every batch's cost is its epoch's number (or NaN from epoch
    ``diverge_at``), so the loop's bookkeeping can be checked without any network."""

    path = "counting"
    draws_masks = False

    def __init__(self, per_call=1, diverge_at=None):
        self.per_call, self.diverge_at = per_call, diverge_at
        self.calls, self.orders, self.weights = [], [], 0.0
        self.restored = 0

    @property
    def params(self):
        return {"W1": np.array([[self.weights]])}

    def bind(self, X, Y):
        self.m = X.shape[1]

    def max_epochs_per_call(self, m, batch_size):
        return self.per_call

    def state(self):
        return self.params, None

    def load_state(self, params, opt_state):
        self.weights = float(params["W1"][0, 0])

    def run(self, plan):
        from nnlab.training import batch_sizes, steps_from

        self.calls.append(len(plan.orders))
        sizes = batch_sizes(self.m, min(plan.batch_size, self.m))
        costs = []
        for order in plan.orders:
            self.orders.append(order)
            epoch = len(self.orders) - 1
            cost = np.nan if self.diverge_at is not None and epoch >= self.diverge_at else epoch
            costs.extend([float(cost)] * sizes.size)
            if np.isnan(cost):
                self.restored += 1  # the stepper goes back to the weights before the epoch
                break
            self.weights += 1.0
        return steps_from(np.array(costs), sizes)


def test_the_loop_shuffles_partitions_and_records():
    from nnlab.training import EpochLoop

    X, Y = np.zeros((2, 10)), np.zeros((1, 10))
    stepper = CountingStepper()
    loop = EpochLoop(stepper, X, Y, batch_size=4, rng=np.random.RandomState(0),
                     learning_rate=lambda e: 1.0 / (1 + e), record_batches=True)
    assert loop.run(3) == 3
    assert loop.costs == [0.0, 1.0, 2.0] and loop.learning_rates == [1.0, 0.5, 1 / 3]
    assert loop.step == 9 and loop.batch_costs == [0.0] * 3 + [1.0] * 3 + [2.0] * 3
    rng = np.random.RandomState(0)  # the course's shuffle: one permutation per epoch
    for order in stepper.orders:
        np.testing.assert_array_equal(order, rng.permutation(10))
    assert loop.run(2) == 2 and loop.epoch == 5  # the loop goes on where it stopped


def test_several_epochs_per_call_only_when_nothing_looks_in_between():
    from nnlab.training import EpochLoop, LoopCallback, PrintCost

    X, Y = np.zeros((2, 10)), np.zeros((1, 10))
    quiet = CountingStepper(per_call=4)
    EpochLoop(quiet, X, Y, learning_rate=0.1, callbacks=[PrintCost(0)]).run(10)
    assert quiet.calls == [4, 4, 2]  # logs-only callbacks: chunks of the stepper's size

    class Watcher(LoopCallback):
        def on_epoch_end(self, epoch, logs, loop):
            self.seen = loop.stepper.params["W1"][0, 0]

    watched = CountingStepper(per_call=4)
    EpochLoop(watched, X, Y, learning_rate=0.1, callbacks=[Watcher()]).run(10)
    assert watched.calls == [1] * 10  # a callback that reads the weights: one epoch a call
    scheduled = CountingStepper(per_call=4)
    EpochLoop(scheduled, X, Y, learning_rate=lambda e: 0.1).run(3)
    assert scheduled.calls == [1] * 3  # a schedule: every epoch its own α


def test_callbacks_say_how_many_epochs_a_call_may_run_and_get_them_at_once():
    """``free_epochs`` bounds each stepper call; ``on_epochs_end`` gets the call's logs as
    lists (the default hands them to ``on_epoch_end`` one by one); epochs before a divergence
    inside a call are booked and handed over, then the loop raises."""
    from nnlab.training import EpochLoop, LoopCallback

    X, Y = np.zeros((2, 10)), np.zeros((1, 10))

    class Every(LoopCallback):
        def __init__(self, free):
            self.free, self.blocks, self.ends = free, [], []

        def free_epochs(self, loop):
            return self.free

        def on_epochs_end(self, first, logs, loop):
            self.blocks.append((first, dict(logs)))
            super().on_epochs_end(first, logs, loop)

        def on_epoch_end(self, epoch, logs, loop):
            self.ends.append((epoch, logs["loss"], epoch == loop.last_in_call))

    three, five = Every(3), Every(5)
    stepper = CountingStepper(per_call=4)
    EpochLoop(stepper, X, Y, learning_rate=0.1, callbacks=[three, five]).run(7)
    assert stepper.calls == [3, 3, 1]  # the smallest free_epochs, the stepper's 4, the rest
    assert three.blocks == five.blocks == [
        (0, {"loss": [0.0, 1.0, 2.0], "learning_rate": [0.1] * 3}),
        (3, {"loss": [3.0, 4.0, 5.0], "learning_rate": [0.1] * 3}),
        (6, {"loss": [6.0], "learning_rate": [0.1]})]
    assert [e for e, _, last in three.ends if last] == [2, 5, 6]
    diverging = Every(4)
    loop = EpochLoop(CountingStepper(per_call=4, diverge_at=5), X, Y, learning_rate=0.1,
                     callbacks=[diverging])
    with pytest.raises(DivergenceError, match="epoch 5"):
        loop.run(8)
    assert loop.costs == [0.0, 1.0, 2.0, 3.0, 4.0] and loop.epoch == 5
    assert [first for first, _ in diverging.blocks] == [0, 4]  # epoch 4, then the raise

    class Liar(Every):
        def on_epoch_end(self, epoch, logs, loop):
            loop.stop_training = epoch == 1

    with pytest.raises(RuntimeError, match="free_epochs"):
        EpochLoop(CountingStepper(per_call=4), X, Y, callbacks=[Liar(3)]).run(6)


def test_a_callback_stops_the_loop_and_divergence_raises_after_the_restore():
    from nnlab.training import EpochLoop, LoopCallback

    X, Y = np.zeros((2, 10)), np.zeros((1, 10))

    class StopAtTwo(LoopCallback):
        def on_epoch_end(self, epoch, logs, loop):
            loop.stop_training = epoch == 2

    loop = EpochLoop(CountingStepper(), X, Y, learning_rate=0.1, callbacks=[StopAtTwo()])
    assert loop.run(100) == 3
    stepper = CountingStepper(per_call=5, diverge_at=3)
    loop = EpochLoop(stepper, X, Y, learning_rate=0.5)
    with pytest.raises(DivergenceError, match=r"diverged at epoch 3.*than 0\.5") as info:
        loop.run(10)
    assert stepper.restored == 1 and loop.costs == [0.0, 1.0, 2.0]
    assert info.value.params["W1"][0, 0] == 3.0  # the weights after the last finite epoch


def test_train_names_the_stepper_that_ran():
    from nnlab.engine import explain_path

    X, Y = _xor_data()
    for fast in (True, "exact", False):
        r = train(X, Y, [2, 5, 1], optimizer="adam", num_epochs=3, random_state=0, fast=fast)
        expected = explain_path(optimizer="adam", dtype=X.dtype, dims=[2, 5, 1],
                                activations=["relu", "sigmoid"], m=200, fast=fast)
        assert r.path == expected.name
    assert train(X, Y, [2, 5, 1], optimizer="sgd", num_epochs=2).path == "textbook"
    with pytest.raises(ValueError, match="fast must be True, False or 'exact'"):
        train(X, Y, [2, 5, 1], num_epochs=1, fast="yes")


def test_no_other_module_keeps_an_epoch_loop():
    """The machinery of an epoch — a shuffle, the textbook step, an optimizer update — is called
    only by the loop (training.py), its steppers (training.py, fast/) and the modules that
    define it; every way in goes through ``EpochLoop``."""
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "nnlab"
    allowed = {"training.py", "data.py", "_random.py", "optimizers.py"}
    machinery = re.compile(r"\b(train_step|random_mini_batches|permutation|apply_updates)\(|"
                           r"\.update\(grads")
    found = []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        if rel in allowed or rel.startswith("fast/"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if machinery.search(code) and not code.lstrip().startswith(('"""', "``")):
                found.append(f"{rel}:{n}: {line.strip()}")
    # train/test splits (the playground's points, datasets/split.py's scikit-learn-equal
    # train_test_split) are not an epoch's shuffle
    found = [re.sub(r":\d+:", ":", f) for f in found if not f.startswith("datasets/split.py:")]
    assert found == [
        "playground/data.py: return np.random.RandomState(seed).permutation(m), n_test"]


def test_the_epoch_cost_is_the_course_loops_sum_bit_for_bit():
    """``epoch_cost`` (Python floats) and ``epoch_costs`` (NumPy, many epochs at once) both give
    the course loop's ``total += cost * m_b`` then ``total / m``, to the last bit."""
    from nnlab.training import batch_sizes, epoch_cost, epoch_costs

    rng = np.random.RandomState(0)
    for _ in range(300):
        m = int(rng.randint(1, 400))
        sizes = batch_sizes(m, int(rng.randint(1, m + 1)))
        costs = rng.rand(3, sizes.size) * rng.choice([1e-3, 1.0, 1e3])
        for row, vectorized in zip(costs, epoch_costs(costs, sizes, m), strict=True):
            total = 0.0
            for cost, size in zip(row.tolist(), sizes.tolist(), strict=True):
                total += cost * int(size)
            assert epoch_cost(row, sizes) == float(vectorized) == total / m
    sizes = batch_sizes(10, 4)
    assert epoch_cost(np.array([1.0, 2.0]), sizes) == (4 + 8) / 8  # a stopped epoch: its part
    assert np.isnan(epoch_cost(np.array([]), sizes))


@pytest.mark.parametrize("epochs", [1, 8, 9, 40])
def test_steps_from_sums_costs_and_accuracies_in_order_bit_for_bit(epochs):
    """``steps_from`` books a call's epochs: each epoch's cost ``Σ_b cost_b m_b / m`` and
    accuracy ``Σ_b correct_b / m``, summed batch by batch in Python floats as the course's loop
    does; many epochs take one NumPy pass for both, to the same bits. The counts of a multilabel
    sigmoid output are fractions, whose sums depend on the order."""
    from nnlab.training import batch_sizes, steps_from

    rng = np.random.RandomState(1)
    for _ in range(60):
        m = int(rng.randint(1, 300))
        sizes = batch_sizes(m, int(rng.randint(1, m + 1)))
        B = sizes.size
        extra = int(rng.randint(0, B))  # a cut epoch after the whole ones
        costs = rng.rand(epochs * B + extra) * rng.choice([1e-3, 1.0, 1e3])
        corrects = rng.randint(0, 64, epochs * B + extra) / 3.0  # (multilabel: thirds)
        steps = steps_from(costs, sizes, corrects)
        want_costs, want_acc = [], []
        for e in range(epochs):
            cost = acc = 0.0
            for b in range(B):
                cost += float(costs[e * B + b]) * int(sizes[b])
                acc += float(corrects[e * B + b])
            want_costs.append(cost / m)
            want_acc.append(acc / m)
        assert steps.totals == want_costs
        assert steps.accuracies == want_acc
        np.testing.assert_array_equal(steps.corrects, corrects[: epochs * B].reshape(epochs, B))
        assert (steps.cut is None) == (extra == 0)
        if extra:
            np.testing.assert_array_equal(steps.cut.corrects, corrects[epochs * B:])
    assert steps_from(costs, sizes).accuracies is None


@pytest.mark.parametrize("fast", [False, "exact", True])
@pytest.mark.parametrize(("batch_size", "keep_prob"), [(48, 1.0), (48, 0.8), (None, 1.0)])
def test_an_epoch_made_a_batch_at_a_time_is_the_epoch_run_makes(fast, batch_size, keep_prob):
    """``run_batch`` (the playground's Step) makes the epoch's batches one call each; the epochs
    it completes are booked as ``run`` books them: the same costs, accuracies, weights and
    optimizer state, bit for bit, for every stepper; ``run`` finishes an epoch left under way."""
    from nnlab import initialize_parameters, optimizers
    from nnlab.engine import explain_path, make_stepper
    from nnlab.training import EpochLoop

    rng = np.random.RandomState(0)
    X = rng.randn(2, 200).astype(np.float32)
    Y = (X[0:1] * X[1:2] > 0).astype(np.float32)
    acts = ["relu", "sigmoid"]

    def loop():
        params = initialize_parameters([2, 8, 1], "he", random_state=1, dtype=np.float32)
        path = explain_path(optimizer="adam", dtype=X.dtype, activations=acts, dims=[2, 8, 1],
                            m=200, batch_size=batch_size, fast=fast)
        stepper = make_stepper(path, params, acts, optimizers.adam(0.01), dtype=X.dtype,
                               fast=fast, keep_probs=[keep_prob])
        return EpochLoop(stepper, X, Y, batch_size=batch_size, rng=np.random.RandomState(3),
                         accuracy=True, learning_rate=0.01)

    whole, stepped = loop(), loop()
    whole.run(3)
    batches = stepped.sizes.size
    costs = [stepped.run_batch() for _ in range(2 * batches + 1)]  # 2 epochs and a batch
    if batches > 1:
        assert stepped.epoch == 2 and stepped.batch_in_epoch == 1
    else:  # a batch is the epoch
        assert stepped.epoch == 3 and stepped.batch_in_epoch == 0
    assert np.isfinite(costs).all()
    if batches > 1:
        assert stepped.run(1) == 1  # finishes the third epoch
    assert stepped.costs == whole.costs and stepped.accuracies == whole.accuracies
    assert stepped.step == whole.step and stepped.epoch == whole.epoch == 3
    for k, v in whole.stepper.params.items():
        np.testing.assert_array_equal(stepped.stepper.params[k], v)


def test_a_diverging_batch_goes_back_to_the_weights_before_its_epoch():
    from nnlab import initialize_parameters, optimizers
    from nnlab.training import EpochLoop, TextbookStepper

    X = np.random.RandomState(0).randn(2, 40) * 1e3
    Y = (X[0:1] > 0).astype(float)
    params = initialize_parameters([2, 6, 1], "he", random_state=0)
    stepper = TextbookStepper(params, ["relu", "identity"], optimizers.gd(10.0))
    loop = EpochLoop(stepper, X, Y, batch_size=10, rng=np.random.RandomState(0))
    before: dict = {}
    with pytest.raises(DivergenceError) as info:
        for _ in range(200):
            if loop.batch_in_epoch == 0:
                before = {k: v.copy() for k, v in loop.stepper.params.items()}
            loop.run_batch()
    assert loop.batch_in_epoch == 0 and info.value.epoch == loop.epoch
    for k, v in before.items():
        np.testing.assert_array_equal(loop.stepper.params[k], v)
        np.testing.assert_array_equal(info.value.params[k], v)
