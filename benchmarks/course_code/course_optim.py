"""Course 2, week 2, in the notebook's shape: mini-batches, momentum and Adam.

Written for this benchmark (not copied). ``random_mini_batches`` reseeds the generator with the
epoch's seed (as the notebook reseeds NumPy's), turns the permutation into a Python list and
slices the shuffled copy into batches; the update rules loop over the layers and touch each W, b
(and v, s) as separate arrays; ``model`` is the notebook's epoch loop over the three-layer network
of ``course_3layer``, the cost of every mini-batch computed.
"""

from __future__ import annotations

import math

import numpy as np
from course_3layer import backward_propagation, compute_cost, forward_propagation
from course_3layer import initialize_parameters as initialize_3layer
from course_deep import update_parameters as update_parameters_with_gd


def random_mini_batches(X, Y, mini_batch_size, rng, seed=None):
    """Shuffle the columns of (X, Y) with ``rng`` (reseeded with ``seed`` first unless None),
    then cut them into batches of ``mini_batch_size``, the last one holding the remainder."""
    if seed is not None:
        rng.seed(seed)
    m = X.shape[1]
    mini_batches = []
    permutation = list(rng.permutation(m))
    shuffled_X = X[:, permutation]
    shuffled_Y = Y[:, permutation].reshape((1, m))
    num_complete_minibatches = math.floor(m / mini_batch_size)
    for k in range(num_complete_minibatches):
        mini_batch_X = shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size]
        mini_batch_Y = shuffled_Y[:, k * mini_batch_size:(k + 1) * mini_batch_size]
        mini_batches.append((mini_batch_X, mini_batch_Y))
    if m % mini_batch_size != 0:
        mini_batch_X = shuffled_X[:, num_complete_minibatches * mini_batch_size:]
        mini_batch_Y = shuffled_Y[:, num_complete_minibatches * mini_batch_size:]
        mini_batches.append((mini_batch_X, mini_batch_Y))
    return mini_batches


def initialize_velocity(parameters):
    """v["dW{l}"], v["db{l}"]: zeros shaped like the parameters."""
    L = len(parameters) // 2
    v = {}
    for l in range(L):
        v["dW" + str(l + 1)] = np.zeros(parameters["W" + str(l + 1)].shape)
        v["db" + str(l + 1)] = np.zeros(parameters["b" + str(l + 1)].shape)
    return v


def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
    """v = β v + (1-β) dθ, θ -= α v."""
    L = len(parameters) // 2
    for l in range(L):
        for p in ("W", "b"):
            key = p + str(l + 1)
            v["d" + key] = beta * v["d" + key] + (1 - beta) * grads["d" + key]
            parameters[key] = parameters[key] - learning_rate * v["d" + key]
    return parameters, v


def initialize_adam(parameters):
    """v and s: zeros shaped like the parameters."""
    L = len(parameters) // 2
    v = {}
    s = {}
    for l in range(L):
        for p in ("W", "b"):
            v["d" + p + str(l + 1)] = np.zeros(parameters[p + str(l + 1)].shape)
            s["d" + p + str(l + 1)] = np.zeros(parameters[p + str(l + 1)].shape)
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate, beta1, beta2,
                                epsilon):
    """v = β1 v + (1-β1) g, v̂ = v / (1-β1^t), s = β2 s + (1-β2) g², ŝ = s / (1-β2^t),
    θ -= α v̂ / (sqrt(ŝ) + ε). (β^t as Python's power: NumPy's np.power(β, t) differs from it
    in the last bit for some t, and the comparison with nnlab is bit for bit.)"""
    L = len(parameters) // 2
    v_corrected = {}
    s_corrected = {}
    for l in range(L):
        for p in ("W", "b"):
            key = "d" + p + str(l + 1)
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            v_corrected[key] = v[key] / (1 - beta1**t)
            s[key] = beta2 * s[key] + (1 - beta2) * np.power(grads[key], 2)
            s_corrected[key] = s[key] / (1 - beta2**t)
            parameters[p + str(l + 1)] = parameters[p + str(l + 1)] - learning_rate * \
                v_corrected[key] / (np.sqrt(s_corrected[key]) + epsilon)
    return parameters, v, s


def model(X, Y, layers_dims, optimizer, learning_rate, num_epochs, rng, mini_batch_size=64,
          beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """He weights from ``rng``, then ``num_epochs`` epochs; the shuffle of epoch e is seeded
    with 11 + e (the notebook starts at seed 10 and adds one before every epoch). Returns
    (parameters, the mean cost of every epoch)."""
    costs = []
    t = 0
    seed = 10
    m = X.shape[1]
    parameters = initialize_3layer(layers_dims, rng, "he")
    v = s = None
    if optimizer == "momentum":
        v = initialize_velocity(parameters)
    elif optimizer == "adam":
        v, s = initialize_adam(parameters)
    for _ in range(num_epochs):
        seed = seed + 1
        minibatches = random_mini_batches(X, Y, mini_batch_size, rng, seed)
        cost_total = 0
        for minibatch in minibatches:
            (minibatch_X, minibatch_Y) = minibatch
            a3, caches = forward_propagation(minibatch_X, parameters)
            cost_total += compute_cost(a3, minibatch_Y) * minibatch_X.shape[1]
            grads = backward_propagation(minibatch_X, minibatch_Y, caches)
            if optimizer == "gd":
                parameters = update_parameters_with_gd(parameters, grads, learning_rate)
            elif optimizer == "momentum":
                parameters, v = update_parameters_with_momentum(parameters, grads, v, beta,
                                                                learning_rate)
            else:
                t = t + 1
                parameters, v, s = update_parameters_with_adam(
                    parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon)
        costs.append(cost_total / m)
    return parameters, costs
