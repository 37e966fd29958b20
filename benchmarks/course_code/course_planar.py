"""Course 1, week 3, in the notebook's shape: one hidden tanh layer on the planar flower.

Written for this benchmark (not copied): a parameters dict W1, b1, W2, b2; ``forward_propagation``
returns A2 and a cache dict; ``compute_cost``, ``backward_propagation`` (the two layers written
out), ``update_parameters``; ``nn_model`` loops over iterations and computes the cost every time.
"""

from __future__ import annotations

import numpy as np
from course_logistic import cross_entropy, sigmoid


def layer_sizes(X, Y, n_h):
    """(n_x, n_h, n_y)."""
    return X.shape[0], n_h, Y.shape[0]


def initialize_parameters(n_x, n_h, n_y, rng):
    """W1, W2 ~ randn * 0.01 (W1 drawn first), biases zero."""
    W1 = rng.randn(n_h, n_x) * 0.01
    b1 = np.zeros((n_h, 1))
    W2 = rng.randn(n_y, n_h) * 0.01
    b2 = np.zeros((n_y, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def forward_propagation(X, parameters):
    """Z1 = W1 X + b1, A1 = tanh(Z1), Z2 = W2 A1 + b2, A2 = σ(Z2)."""
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
    return A2, cache


def compute_cost(A2, Y):
    """Cross-entropy, -(1/m) Σ (y log a + (1-y) log(1-a))."""
    return float(cross_entropy(A2, Y))


def backward_propagation(parameters, cache, X, Y):
    """dZ2 = A2 - Y, then the tanh layer: dZ1 = W2ᵀ dZ2 * (1 - A1²)."""
    m = X.shape[1]
    W2 = parameters["W2"]
    A1 = cache["A1"]
    A2 = cache["A2"]
    dZ2 = A2 - Y
    dW2 = (1 / m) * np.dot(dZ2, A1.T)
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.multiply(np.dot(W2.T, dZ2), 1 - np.power(A1, 2))
    dW1 = (1 / m) * np.dot(dZ1, X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters, grads, learning_rate):
    """θ = θ - α dθ for each of the four arrays."""
    W1 = parameters["W1"] - learning_rate * grads["dW1"]
    b1 = parameters["b1"] - learning_rate * grads["db1"]
    W2 = parameters["W2"] - learning_rate * grads["dW2"]
    b2 = parameters["b2"] - learning_rate * grads["db2"]
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def nn_model(X, Y, n_h, num_iterations, learning_rate, rng):
    """Train 2 → n_h tanh → 1 sigmoid by full-batch gradient descent; returns (params, costs)."""
    n_x, n_h, n_y = layer_sizes(X, Y, n_h)
    parameters = initialize_parameters(n_x, n_h, n_y, rng)
    costs = []
    for _ in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        costs.append(compute_cost(A2, Y))
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads, learning_rate)
    return parameters, costs


def predict(parameters, X):
    """1 where A2 > 0.5."""
    A2, _ = forward_propagation(X, parameters)
    return A2 > 0.5
