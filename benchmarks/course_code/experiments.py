"""The experiments a-k of ``nnlab reproduce``, run on the course-style code of this folder.

Each ``run_<letter>(data, quick)`` does the training runs of ``src/nnlab/experiments/<name>.py``
with the same settings (sizes, iterations or epochs, learning rates, initializations and their
seeds, batch sizes, λ, keep_prob, shuffles) and returns, per run (keyed as nnlab keys it), the
numbers that experiment reports: accuracies as "correct/total" counts, final costs, and for g-k
the numbers behind its claims. ``load(letter)`` reads the data with nnlab's own loaders, so both
sides train on the same arrays; ``run.py`` times ``run_<letter>`` only, not the loading. (Two
bookkeeping helpers of nnlab's experiments, ``settled_at_or_below`` and ``roughness``, read the
cost lists the same way on both sides.)

``quick=True`` cuts every run to about 1 % of its iterations (at least 2): a smoke test, whose
numbers are not expected to match nnlab's.
"""

from __future__ import annotations

import warnings

import course_3layer as three
import course_deep as deep
import course_gradcheck as gradcheck
import course_logistic as logistic
import course_optim as optim
import course_planar as planar
import numpy as np

from nnlab.datasets import (
    load_cat,
    load_cat_images,
    load_circles,
    load_flower,
    load_football,
    load_moons,
)
from nnlab.experiments._core import settled_at_or_below
from nnlab.experiments.descent import roughness

#: letter → nnlab's experiment name (for ``--only`` and the tables).
NAMES = {"a": "logistic", "b": "planar", "c": "initialization", "d": "regularization",
         "e": "optimization", "f": "deep", "g": "gradcheck", "h": "descent", "i": "momentum",
         "j": "stopping", "k": "normalization"}


def iterations(n, quick):
    """n, or about 1 % of it (at least 2) for a quick run."""
    return max(2, n // 100) if quick else n


def accuracy(predictions, Y):
    """"correct/total" for 0/1 predictions (1, m) against the labels Y (1, m)."""
    return f"{int(np.sum(predictions == Y))}/{Y.shape[1]}"


def load(letter, data_dir=None):
    """The data of experiment ``letter``, read by nnlab's loaders."""
    if letter in "af":
        return load_cat(data_dir)
    if letter == "b":
        return load_flower()
    if letter == "c":
        return load_circles()
    if letter in "dj":
        return load_football(data_dir)
    if letter in "ehi":
        return load_moons()
    if letter == "k":
        return load_cat_images(data_dir)
    return None


# --- a. logistic regression on the cat pictures ------------------------------------------------

A_SETTINGS = {"alpha=0.005": (0.005, 2000), "alpha=0.01": (0.01, 1500),
              "alpha=0.001": (0.001, 1500), "alpha=0.0001": (0.0001, 1500)}


def run_a(data, quick):
    out = {}
    for key, (alpha, n) in A_SETTINGS.items():
        d = logistic.model(data.X_train, data.Y_train, data.X_test, data.Y_test,
                           iterations(n, quick), alpha)
        out[key] = {"train": accuracy(d["Y_prediction_train"], data.Y_train),
                    "test": accuracy(d["Y_prediction_test"], data.Y_test),
                    "final cost": d["costs"][-1],
                    "setting": {"learning_rate": alpha, "iterations": iterations(n, quick)}}
    return out


# --- b. the planar flower ---------------------------------------------------------------------

B_NETWORKS = [("n_h=4, 10000 iterations", 4, 10000)] + [
    (f"n_h={n}", n, 5000) for n in (1, 2, 3, 4, 5, 20, 50)]


def run_b(data, quick):
    from sklearn.linear_model import LogisticRegressionCV

    X, Y = data
    clf = LogisticRegressionCV()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        clf.fit(X.T, Y.ravel())
    out = {"baseline": {"train": accuracy(clf.predict(X.T).reshape(1, -1), Y)}}
    for key, n_h, n in B_NETWORKS:
        parameters, costs = planar.nn_model(X, Y, n_h, iterations(n, quick), 1.2,
                                            np.random.RandomState(2))
        out[key] = {"train": accuracy(planar.predict(parameters, X), Y),
                    "final cost": costs[-1],
                    "setting": {"learning_rate": 1.2, "iterations": iterations(n, quick),
                                "random_state": 2, "layer_dims": [2, n_h, 1]}}
    return out


# --- c. initialization, d. regularization: the three-layer network, full batch ---------------

def _three_layer_runs(data, quick, layers_dims, n, runs):
    """``runs``: key → (init, random_state, learning_rate, model options, setting)."""
    out = {}
    for key, (init, seed, alpha, options, setting) in runs.items():
        parameters, costs = three.model(data.X_train, data.Y_train, layers_dims, init, alpha,
                                        iterations(n, quick), np.random.RandomState(seed),
                                        **options)
        p_train, _ = three.predict(data.X_train, data.Y_train, parameters)
        p_test, _ = three.predict(data.X_test, data.Y_test, parameters)
        out[key] = {"train": accuracy(p_train, data.Y_train),
                    "test": accuracy(p_test, data.Y_test),
                    "final cost": costs[-1],
                    "setting": {"layer_dims": layers_dims, "random_state": seed,
                                "learning_rate": alpha, "iterations": iterations(n, quick),
                                **setting}}
    return out


def run_c(data, quick):
    return _three_layer_runs(data, quick, [2, 10, 5, 1], 15000, {
        "zeros": ("zeros", 3, 0.01, {}, {}),
        "large": ("random", 3, 0.01, {}, {}),
        "he": ("he", 3, 0.01, {}, {}),
    })


def run_d(data, quick):
    return _three_layer_runs(data, quick, [2, 20, 3, 1], 30000, {
        "none": ("fan_in", 3, 0.3, {}, {}),
        "l2": ("fan_in", 3, 0.3, {"lambd": 0.7}, {"lambd": 0.7}),
        "dropout-course": ("fan_in", 3, 0.3, {"keep_prob": 0.86, "mask_seed": 1},
                           {"keep_prob": 0.86}),
        "dropout-fresh": ("fan_in", 3, 0.3, {"keep_prob": 0.86}, {"keep_prob": 0.86}),
    })


# --- e. optimizers on the moons ---------------------------------------------------------------

def run_e(data, quick):
    X, Y = data
    out = {}
    for key in ("gd", "momentum", "adam"):
        parameters, costs = optim.model(X, Y, [2, 5, 2, 1], key, 0.0007,
                                        iterations(10000, quick), np.random.RandomState(3),
                                        mini_batch_size=64)
        p, _ = three.predict(X, Y, parameters)
        out[key] = {"train": accuracy(p, Y), "final cost": costs[-1],
                    "setting": {"learning_rate": 0.0007, "epochs": iterations(10000, quick),
                                "batch_size": 64, "random_state": 3}}
    return out


# --- f. deep networks on the cat pictures -----------------------------------------------------

def run_f(data, quick):
    out = {}
    n = iterations(2500, quick)
    n_x = data.X_train.shape[0]
    for key, dims in (("4-layer", [n_x, 20, 7, 5, 1]), ("2-layer", [n_x, 7, 1])):
        if key == "2-layer":
            parameters, costs = deep.two_layer_model(data.X_train, data.Y_train, tuple(dims),
                                                     0.0075, n, np.random.RandomState(1))
        else:
            parameters, costs = deep.L_layer_model(data.X_train, data.Y_train, dims, 0.0075, n,
                                                   np.random.RandomState(1))
        out[key] = {"train": accuracy(deep.predict(data.X_train, parameters), data.Y_train),
                    "test": accuracy(deep.predict(data.X_test, parameters), data.Y_test),
                    "final cost": costs[-1],
                    "setting": {"layer_dims": dims, "learning_rate": 0.0075, "iterations": n,
                                "random_state": 1}}
    return out


# --- g. gradient checking ---------------------------------------------------------------------

def _over(per_parameter, threshold=2e-7):
    return sorted(k for k, d in per_parameter.items() if d > threshold)


def run_g(data, quick):
    rng = np.random.RandomState(1)
    X = rng.randn(4, 3)
    Y = np.array([[1.0, 1.0, 0.0]])
    parameters = {}
    for l, (n, n_prev) in enumerate([(5, 4), (3, 5), (1, 3)], start=1):
        parameters["W" + str(l)] = rng.randn(n, n_prev)
        parameters["b" + str(l)] = rng.randn(n, 1)
    buggy = gradcheck.check(parameters, X, Y, 1e-7, planted_bugs=True)
    right = gradcheck.check(parameters, X, Y, 1e-7)
    buggy_fine = gradcheck.check(parameters, X, Y, 1e-5, planted_bugs=True)
    right_fine = gradcheck.check(parameters, X, Y, 1e-5)
    sweep = {10.0**-k: gradcheck.check(parameters, X, Y, 10.0**-k) for k in range(2, 11)}
    logits = gradcheck.check(parameters, X, Y, 1e-7,
                             cost_function=gradcheck.forward_cost_from_logits)
    return {"checks": {
        "1-D difference": gradcheck.gradient_check_1d(2.0, 4.0),
        "planted bugs: difference": buggy["difference"],
        "correct backprop: difference": right["difference"],
        "correct backprop: arrays over 2e-7 (ε 1e-7)": _over(right["per_parameter"]),
        "planted bugs: arrays over 2e-7 (ε 1e-5)": _over(buggy_fine["per_parameter"]),
        "correct backprop: arrays over 2e-7 (ε 1e-5)": _over(right_fine["per_parameter"]),
        "ε with the smallest error": min(sweep, key=lambda e: sweep[e]["max_abs_error"]),
        "J from logits: largest error (ε 1e-7)": logits["max_abs_error"],
    }}


# --- h. batch / mini-batch / stochastic descent, i. momentum's path ---------------------------

def full_cost(X, Y, parameters):
    """J on the whole set."""
    a3, _ = three.forward_propagation(X, parameters)
    return three.compute_cost(a3, Y)


def descend(X, Y, learning_rate, batch_size, epochs, optimizer="gd", beta=0.9,
            cost_after_every_update=False):
    """2-5-2-1 with He weights from RandomState(3); the shuffle of epoch e seeded with 11 + e
    (no shuffle for the full batch); the batch's cost before every update, J on the whole set
    before training and after every epoch (and after every update when asked)."""
    rng = np.random.RandomState(3)
    parameters = three.initialize_parameters([2, 5, 2, 1], rng, "he")
    v = optim.initialize_velocity(parameters) if optimizer == "momentum" else None
    iteration_costs, update_costs = [], []
    epoch_costs = [full_cost(X, Y, parameters)]
    seed = 10
    for _ in range(epochs):
        seed = seed + 1
        if batch_size is None:
            minibatches = [(X, Y)]
        else:
            minibatches = optim.random_mini_batches(X, Y, batch_size, rng, seed)
        for minibatch_X, minibatch_Y in minibatches:
            a3, caches = three.forward_propagation(minibatch_X, parameters)
            iteration_costs.append(three.compute_cost(a3, minibatch_Y))
            grads = three.backward_propagation(minibatch_X, minibatch_Y, caches)
            if optimizer == "momentum":
                parameters, v = optim.update_parameters_with_momentum(parameters, grads, v, beta,
                                                                      learning_rate)
            else:
                parameters = optim.update_parameters_with_gd(parameters, grads, learning_rate)
            if cost_after_every_update:
                update_costs.append(full_cost(X, Y, parameters))
        epoch_costs.append(full_cost(X, Y, parameters))
    return iteration_costs, epoch_costs, update_costs


def run_h(data, quick):
    X, Y = data
    epochs = iterations(30, quick)
    out = {}
    for key, batch_size in (("batch", None), ("minibatch", 64), ("stochastic", 1)):
        iteration_costs, epoch_costs, _ = descend(X, Y, 0.1, batch_size, epochs)
        out[key] = {"updates per epoch": len(iteration_costs) // epochs,
                    "final cost": epoch_costs[-1],
                    "epochs to J ≤ 0.68": settled_at_or_below(epoch_costs, 0.68),
                    "epochs to J ≤ 0.6": settled_at_or_below(epoch_costs, 0.6),
                    "roughness": roughness(iteration_costs),
                    "setting": {"learning_rate": 0.1, "epochs": epochs,
                                "batch_size": batch_size or X.shape[1]}}
    return out


def run_i(data, quick):
    X, Y = data
    epochs = iterations(200, quick)
    out = {}
    for key in ("gd", "momentum"):
        batch, _, path = descend(X, Y, 0.3, 64, epochs, optimizer=key,
                                 cost_after_every_update=True)
        out[key] = {"variance of J, last 250": float(np.var(path[-250:])),
                    "variance of the batch's J, last 250": float(np.var(batch[-250:])),
                    "final cost": path[-1],
                    "setting": {"learning_rate": 0.3, "epochs": epochs, "batch_size": 64}}
    return out


# --- j. per-example backprop with validation-based stopping -----------------------------------

def run_j(data, quick):
    X, Y = data.X_train, data.Y_train
    m = X.shape[1]
    max_epochs = iterations(200, quick)
    patience, learning_rate = 5, 0.03
    parameters = three.initialize_parameters([2, 20, 3, 1], np.random.RandomState(3), "fan_in")
    shuffles = np.random.RandomState(1)

    history = {"train": [], "validation": []}

    def record(parameters):
        """J and the share misclassified on both sets; returns the validation set's."""
        for name, Xs, Ys in (("train", X, Y), ("validation", data.X_test, data.Y_test)):
            a3, _ = three.forward_propagation(Xs, parameters)
            p, _ = three.predict(Xs, Ys, parameters)
            history[name].append((three.compute_cost(a3, Ys), float(np.mean(p != Ys))))
        return history["validation"][-1]

    best_cost, best_error = record(parameters)
    best_epoch, best_parameters = 0, dict(parameters)
    epoch = 0
    while epoch < max_epochs:
        epoch += 1
        for i in shuffles.permutation(m):
            x, y = X[:, i:i + 1], Y[:, i:i + 1]
            a3, cache = three.forward_propagation(x, parameters)
            three.compute_cost(a3, y)
            grads = three.backward_propagation(x, y, cache)
            parameters = three.update_parameters(parameters, grads, learning_rate)
        cost, error = record(parameters)
        if cost < best_cost:
            best_cost, best_error, best_epoch = cost, error, epoch
            best_parameters = dict(parameters)
        elif epoch - best_epoch >= patience:
            break
    p_train, _ = three.predict(X, Y, best_parameters)
    p_val, _ = three.predict(data.X_test, data.Y_test, best_parameters)
    return {"sgd": {"train": accuracy(p_train, Y), "validation": accuracy(p_val, data.Y_test),
                    "best epoch": best_epoch, "stopped epoch": epoch,
                    "best validation cost": best_cost, "best validation error": best_error,
                    "setting": {"learning_rate": learning_rate, "patience": patience,
                                "max_epochs": max_epochs, "batch_size": 1}}}


# --- k. normalizing inputs --------------------------------------------------------------------

def standardize(X):
    """(X - μ) / σ per feature (row); a constant feature is only centred."""
    mu = X.mean(axis=1, keepdims=True)
    sigma = X.std(axis=1, keepdims=True)
    return (X - mu) / np.where(sigma > 0, sigma, 1.0)


def run_k(data, quick):
    train_x, train_y = data[0], data[1]
    n = iterations(200, quick)
    out = {}
    for alpha in (0.001, 0.005, 0.01):
        for kind in ("raw", "scaled", "standardized"):
            X = train_x.reshape(train_x.shape[0], -1).T.astype(np.float64)
            Y = train_y.reshape(1, -1).astype(np.float64)
            if kind == "scaled":
                X = X / 255.0
            elif kind == "standardized":
                X = standardize(X)
            costs = logistic.model(X, Y, None, None, n, alpha)["costs"]
            out[f"{kind}:alpha={alpha:g}"] = {
                "iterations to J ≤ 0.5": settled_at_or_below(costs, 0.5),
                "diverged": bool(max(costs) > 10.0 * costs[0]),
                "largest J": max(costs),
                "final cost": costs[-1],
                "setting": {"learning_rate": alpha, "iterations": n}}
    return out


RUNS = {"a": run_a, "b": run_b, "c": run_c, "d": run_d, "e": run_e, "f": run_f, "g": run_g,
        "h": run_h, "i": run_i, "j": run_j, "k": run_k}
