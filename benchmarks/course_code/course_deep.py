"""Course 1, week 4, in the notebooks' shape: the L-layer network, built from small functions.

Written for this benchmark (not copied). Each layer's forward step returns its output and a
cache tuple ``((A_prev, W, b), Z)``; the backward pass starts from the general
dAL = -(y/a - (1-y)/(1-a)), goes through every layer's activation and linear step, and computes
dA_prev for every layer, the first one included (a 12288 × 209 product per iteration on the cat
pictures, which nothing uses). Gradients go into a dict ``dA{l}``, ``dW{l}``, ``db{l}``.
"""

from __future__ import annotations

import numpy as np
from course_logistic import cross_entropy, threshold_one_by_one
from course_planar import initialize_parameters


def sigmoid(Z):
    """A = σ(Z); the cache is Z."""
    A = 1 / (1 + np.exp(-Z))
    return A, Z


def relu(Z):
    """A = max(0, Z); the cache is Z."""
    A = np.maximum(0, Z)
    return A, Z


def relu_backward(dA, cache):
    """dZ = dA where Z > 0, else 0."""
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA, cache):
    """dZ = dA σ(Z) (1 - σ(Z))."""
    Z = cache
    s = 1 / (1 + np.exp(-Z))
    return dA * s * (1 - s)


def initialize_parameters_deep(layer_dims, rng):
    """W[l] ~ randn(n[l], n[l-1]) / sqrt(n[l-1]), b[l] = 0, for l = 1..L."""
    parameters = {}
    L = len(layer_dims)
    for l in range(1, L):
        parameters["W" + str(l)] = rng.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(
            layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def linear_forward(A, W, b):
    """Z = W A + b, and the cache (A, W, b)."""
    Z = np.dot(W, A) + b
    cache = (A, W, b)
    return Z, cache


def linear_activation_forward(A_prev, W, b, activation):
    """A = g(W A_prev + b); the cache is (linear cache, Z)."""
    if activation == "sigmoid":
        Z, linear_cache = linear_forward(A_prev, W, b)
        A, activation_cache = sigmoid(Z)
    else:
        Z, linear_cache = linear_forward(A_prev, W, b)
        A, activation_cache = relu(Z)
    cache = (linear_cache, activation_cache)
    return A, cache


def L_model_forward(X, parameters):
    """relu for layers 1..L-1, sigmoid for layer L; one cache per layer."""
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A_prev = A
        A, cache = linear_activation_forward(A_prev, parameters["W" + str(l)],
                                             parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)],
                                          parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def compute_cost(AL, Y):
    """Cross-entropy, -(1/m) Σ (y log a + (1-y) log(1-a))."""
    return float(cross_entropy(AL, Y))


def linear_backward(dZ, cache):
    """dW = (1/m) dZ A_prevᵀ, db = (1/m) Σ dZ, dA_prev = Wᵀ dZ."""
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    dW = 1.0 / m * np.dot(dZ, A_prev.T)
    db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation):
    """dZ = dA g'(Z), then the linear step."""
    linear_cache, activation_cache = cache
    if activation == "relu":
        dZ = relu_backward(dA, activation_cache)
    else:
        dZ = sigmoid_backward(dA, activation_cache)
    return linear_backward(dZ, linear_cache)


def L_model_backward(AL, Y, caches):
    """From dAL back to dA0: grads dA{l-1}, dW{l}, db{l} for every layer."""
    grads = {}
    L = len(caches)
    Y = Y.reshape(AL.shape)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    current_cache = caches[L - 1]
    dA_prev, dW, db = linear_activation_backward(dAL, current_cache, "sigmoid")
    grads["dA" + str(L - 1)] = dA_prev
    grads["dW" + str(L)] = dW
    grads["db" + str(L)] = db
    for l in reversed(range(L - 1)):
        current_cache = caches[l]
        dA_prev, dW, db = linear_activation_backward(grads["dA" + str(l + 1)], current_cache,
                                                     "relu")
        grads["dA" + str(l)] = dA_prev
        grads["dW" + str(l + 1)] = dW
        grads["db" + str(l + 1)] = db
    return grads


def update_parameters(parameters, grads, learning_rate):
    """W[l] -= α dW[l], b[l] -= α db[l], layer by layer."""
    L = len(parameters) // 2
    for l in range(L):
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads[
            "dW" + str(l + 1)]
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads[
            "db" + str(l + 1)]
    return parameters


def two_layer_model(X, Y, layers_dims, learning_rate, num_iterations, rng):
    """LINEAR -> RELU -> LINEAR -> SIGMOID, written out with the layer functions."""
    grads = {}
    costs = []
    (n_x, n_h, n_y) = layers_dims
    parameters = initialize_parameters(n_x, n_h, n_y, rng)
    for _ in range(num_iterations):
        W1 = parameters["W1"]
        b1 = parameters["b1"]
        W2 = parameters["W2"]
        b2 = parameters["b2"]
        A1, cache1 = linear_activation_forward(X, W1, b1, "relu")
        A2, cache2 = linear_activation_forward(A1, W2, b2, "sigmoid")
        costs.append(compute_cost(A2, Y))
        dA2 = -(np.divide(Y, A2) - np.divide(1 - Y, 1 - A2))
        dA1, dW2, db2 = linear_activation_backward(dA2, cache2, "sigmoid")
        _, dW1, db1 = linear_activation_backward(dA1, cache1, "relu")
        grads["dW1"] = dW1
        grads["db1"] = db1
        grads["dW2"] = dW2
        grads["db2"] = db2
        parameters = update_parameters(parameters, grads, learning_rate)
    return parameters, costs


def L_layer_model(X, Y, layers_dims, learning_rate, num_iterations, rng):
    """[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID."""
    costs = []
    parameters = initialize_parameters_deep(layers_dims, rng)
    for _ in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        costs.append(compute_cost(AL, Y))
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, learning_rate)
    return parameters, costs


def predict(X, parameters):
    """Label 1 where the output is above 0.5, one example at a time."""
    probas, _ = L_model_forward(X, parameters)
    return threshold_one_by_one(probas)
