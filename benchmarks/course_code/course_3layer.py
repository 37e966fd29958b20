"""Course 2, week 1 and 2 helpers, in the notebooks' shape: the three-layer network written out.

Written for this benchmark (not copied). The initialization, regularization and optimization
notebooks all train LINEAR -> RELU -> LINEAR -> RELU -> LINEAR -> SIGMOID with the layers spelled
out one by one: ``forward_propagation`` returns a3 and one long cache tuple, and the backward pass
reads the arrays back from it (relu' as ``np.int64(A > 0)``, as those notebooks do). One backward
function serves the plain, L2 and dropout variants (the notebooks have three copies that differ
only in those lines; the arithmetic per iteration is the same). Dropout draws its masks from the
``rng`` it is given, and with ``mask_seed`` reseeds it first, as the regularization notebook
reseeds NumPy's generator at the start of every forward pass. ``predict`` thresholds example by
example in a Python loop.
"""

from __future__ import annotations

import numpy as np
from course_deep import update_parameters
from course_logistic import cross_entropy, sigmoid, threshold_one_by_one


def relu(x):
    """max(0, x)."""
    return np.maximum(0, x)


def initialize_parameters(layers_dims, rng, kind):
    """W[l] of (n[l], n[l-1]) drawn layer by layer from ``rng``, b[l] = 0. ``kind``:
    "zeros", "random" (randn * 10), "he" (randn * sqrt(2 / n[l-1])) or "fan_in"
    (randn / sqrt(n[l-1]), the regularization notebook's)."""
    parameters = {}
    L = len(layers_dims)
    for l in range(1, L):
        shape = (layers_dims[l], layers_dims[l - 1])
        if kind == "zeros":
            W = np.zeros(shape)
        elif kind == "random":
            W = rng.randn(shape[0], shape[1]) * 10
        elif kind == "he":
            W = rng.randn(shape[0], shape[1]) * np.sqrt(2.0 / layers_dims[l - 1])
        else:
            W = rng.randn(shape[0], shape[1]) / np.sqrt(layers_dims[l - 1])
        parameters["W" + str(l)] = W
        parameters["b" + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


def forward_propagation(X, parameters, keep_prob=1.0, rng=None, mask_seed=None):
    """The three layers; with keep_prob < 1, inverted dropout after each hidden layer
    (D = rand < keep_prob, A = A * D / keep_prob)."""
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    W3 = parameters["W3"]
    b3 = parameters["b3"]
    D1 = D2 = None
    if keep_prob < 1 and mask_seed is not None:
        rng.seed(mask_seed)
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    if keep_prob < 1:
        D1 = rng.rand(A1.shape[0], A1.shape[1])
        D1 = D1 < keep_prob
        A1 = A1 * D1
        A1 = A1 / keep_prob
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    if keep_prob < 1:
        D2 = rng.rand(A2.shape[0], A2.shape[1])
        D2 = D2 < keep_prob
        A2 = A2 * D2
        A2 = A2 / keep_prob
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)
    cache = (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)
    return A3, cache


def compute_cost(a3, Y):
    """Cross-entropy, -(1/m) Σ (y log a + (1-y) log(1-a)) (NaN terms of 0 · log 0 skipped)."""
    return float(cross_entropy(a3, Y))


def compute_cost_with_regularization(A3, Y, parameters, lambd):
    """The cross-entropy plus (λ/2m) Σ ||W[l]||²."""
    m = Y.shape[1]
    W1 = parameters["W1"]
    W2 = parameters["W2"]
    W3 = parameters["W3"]
    cross_entropy_cost = compute_cost(A3, Y)
    L2_regularization_cost = (lambd / (2 * m)) * (
        np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3)))
    return cross_entropy_cost + L2_regularization_cost


def backward_propagation(X, Y, cache, lambd=0.0, keep_prob=1.0):
    """dZ3 = A3 - Y, then back through both relu layers; (λ/m) W added to each dW with L2,
    the forward pass's masks applied to dA2, dA1 with dropout."""
    m = X.shape[1]
    (_, D1, A1, W1, _, _, D2, A2, W2, _, _, A3, W3, _) = cache
    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    if lambd:
        dW3 = dW3 + (lambd * W3) / m
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    if keep_prob < 1:
        dA2 = dA2 * D2
        dA2 = dA2 / keep_prob
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    if lambd:
        dW2 = dW2 + (lambd * W2) / m
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    if keep_prob < 1:
        dA1 = dA1 * D1
        dA1 = dA1 / keep_prob
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    if lambd:
        dW1 = dW1 + (lambd * W1) / m
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2,
            "db2": db2, "dA1": dA1, "dZ1": dZ1, "dW1": dW1, "db1": db1}


def model(X, Y, layers_dims, init, learning_rate, num_iterations, rng, lambd=0.0,
          keep_prob=1.0, mask_seed=None):
    """Full-batch gradient descent on the three-layer network, the cost every iteration: the
    initialization notebook's model (``init``) and the regularization notebook's (``lambd``,
    ``keep_prob``). Returns (parameters, costs)."""
    costs = []
    parameters = initialize_parameters(layers_dims, rng, init)
    for _ in range(num_iterations):
        a3, cache = forward_propagation(X, parameters, keep_prob, rng, mask_seed)
        if lambd == 0:
            cost = compute_cost(a3, Y)
        else:
            cost = compute_cost_with_regularization(a3, Y, parameters, lambd)
        grads = backward_propagation(X, Y, cache, lambd, keep_prob)
        parameters = update_parameters(parameters, grads, learning_rate)
        costs.append(cost)
    return parameters, costs


def predict(X, y, parameters):
    """0/1 predictions (1, m), decided one example at a time, and the share correct."""
    a3, _ = forward_propagation(X, parameters)
    p = threshold_one_by_one(a3)
    accuracy = np.mean(p[0, :] == y[0, :])
    return p, accuracy
