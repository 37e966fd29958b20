"""Course 1, week 2, in the notebook's shape: logistic regression as a one-unit network.

Written for this benchmark (not copied): the parameters are a column ``w`` (n_x, 1) and a
scalar ``b``; ``propagate`` does one forward and backward pass and returns the gradients in a
dict with the cost; ``optimize`` loops over iterations; ``predict`` thresholds example by example
in a Python loop; ``model`` glues them together. float64, nothing preallocated, the cost computed
at every iteration.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    """1 / (1 + e^-z), elementwise."""
    return 1 / (1 + np.exp(-z))


def initialize_with_zeros(dim):
    """w: a (dim, 1) column of zeros; b: the number 0."""
    w = np.zeros((dim, 1))
    b = 0.0
    return w, b


def cross_entropy(A, Y):
    """J = -(1/m) Σ (y log a + (1-y) log(1-a)).

    np.nansum, as the course's regularization notebook sums it: a saturated unit (a rounds to
    exactly 0 or 1) then gives an infinite cost instead of NaN (the raw pixels of k do that).
    """
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A), Y) + np.multiply(np.log(1 - A), 1 - Y)
    return -np.nansum(logprobs) / m


def propagate(w, b, X, Y):
    """Forward (A = σ(wᵀX + b)), the cost, and backward: dw = (1/m) X (A-Y)ᵀ, db = mean(A-Y)."""
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    cost = cross_entropy(A, Y)
    dw = (1 / m) * np.dot(X, (A - Y).T)
    db = (1 / m) * np.sum(A - Y)
    grads = {"dw": dw, "db": db}
    return grads, float(np.squeeze(cost))


def optimize(w, b, X, Y, num_iterations, learning_rate):
    """Full-batch gradient descent; every iteration's cost is kept."""
    costs = []
    grads = {}
    for _ in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        dw = grads["dw"]
        db = grads["db"]
        w = w - learning_rate * dw
        b = b - learning_rate * db
        costs.append(cost)
    params = {"w": w, "b": b}
    return params, grads, costs


def predict(w, b, X):
    """Label 1 where σ(wᵀx + b) > 0.5, decided one example at a time."""
    w = w.reshape(X.shape[0], 1)
    A = sigmoid(np.dot(w.T, X) + b)
    return threshold_one_by_one(A)


def threshold_one_by_one(A):
    """0/1 labels (1, m) from the outputs A (1, m): 1 where a > 0.5, in a Python loop over the
    examples, as the notebooks' predict functions decide them."""
    m = A.shape[1]
    Y_prediction = np.zeros((1, m))
    for i in range(m):
        if A[0, i] > 0.5:
            Y_prediction[0, i] = 1
        else:
            Y_prediction[0, i] = 0
    return Y_prediction


def model(X_train, Y_train, X_test, Y_test, num_iterations, learning_rate):
    """Initialize, optimize, predict on both sets; a dict of everything, as the notebook's."""
    w, b = initialize_with_zeros(X_train.shape[0])
    parameters, _, costs = optimize(w, b, X_train, Y_train, num_iterations, learning_rate)
    w = parameters["w"]
    b = parameters["b"]
    Y_prediction_train = predict(w, b, X_train)
    Y_prediction_test = None if X_test is None else predict(w, b, X_test)
    return {"costs": costs, "Y_prediction_train": Y_prediction_train,
            "Y_prediction_test": Y_prediction_test, "w": w, "b": b,
            "learning_rate": learning_rate, "num_iterations": num_iterations}
