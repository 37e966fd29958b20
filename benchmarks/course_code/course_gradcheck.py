"""Course 2, week 1, in the notebook's shape: gradient checking, 1-D and N-D.

Written for this benchmark (not copied). θ is every parameter reshaped into one (N, 1) column
(W1, b1, W2, b2, W3, b3); for each component, J(θ ± ε e_i) is a fresh forward pass through a
parameters dict rebuilt from the perturbed column; backprop's gradients come from the
three-layer network of ``course_3layer`` (with ``planted_bugs`` the notebook's two mistakes:
dW2 doubled, db1 times four). The cost J is the cross-entropy of the output (``forward_cost``) or,
for the diagnosis, of the logits.
"""

from __future__ import annotations

import numpy as np
from course_3layer import backward_propagation, forward_propagation
from course_logistic import cross_entropy

KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")


def gradient_check_1d(x, theta, epsilon=1e-7):
    """J(θ) = θx: the two-sided estimate of dJ/dθ against the exact x."""
    J_plus = (theta + epsilon) * x
    J_minus = (theta - epsilon) * x
    gradapprox = (J_plus - J_minus) / (2 * epsilon)
    grad = x
    return relative_difference(np.array([grad]), np.array([gradapprox]))


def relative_difference(grad, gradapprox):
    """||g - g̃|| / (||g|| + ||g̃||) (0 when both vanish)."""
    numerator = np.linalg.norm(grad - gradapprox)
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    return float(numerator / denominator) if denominator > 0 else 0.0


def forward_cost(X, Y, parameters):
    """J from the network's output a3."""
    a3, cache = forward_propagation(X, parameters)
    return float(cross_entropy(a3, Y)), cache


def forward_cost_from_logits(X, Y, parameters):
    """J from the logits z3: max(z, 0) - z y + log(1 + e^-|z|), never forming 1 - a."""
    _, cache = forward_propagation(X, parameters)
    Z3 = cache[10]
    m = Y.shape[1]
    cost = np.sum(np.maximum(Z3, 0) - Z3 * Y + np.log1p(np.exp(-np.abs(Z3)))) / m
    return float(cost), cache


def backward_propagation_n(X, Y, cache, planted_bugs=False):
    """Backprop of the three-layer network; with ``planted_bugs`` the notebook's two mistakes."""
    gradients = backward_propagation(X, Y, cache)
    if planted_bugs:
        gradients["dW2"] = gradients["dW2"] * 2
        gradients["db1"] = gradients["db1"] * 4
    return gradients


def dictionary_to_vector(parameters, prefix=""):
    """W1, b1, ... (or dW1, db1, ... with prefix "d") stacked into one (N, 1) column."""
    theta = None
    for key in KEYS:
        new_vector = np.reshape(parameters[prefix + key], (-1, 1))
        theta = new_vector if theta is None else np.concatenate((theta, new_vector), axis=0)
    return theta


def vector_to_dictionary(theta, shapes):
    """The (N, 1) column cut back into W1, b1, ... of ``shapes``."""
    parameters = {}
    start = 0
    for key in KEYS:
        size = shapes[key][0] * shapes[key][1]
        parameters[key] = theta[start:start + size].reshape(shapes[key])
        start += size
    return parameters


def gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, cost_function=forward_cost):
    """Two-sided differences for every component of θ against backprop's ``gradients``.
    Returns (difference, grad, gradapprox), the last two as (N, 1) columns."""
    shapes = {key: parameters[key].shape for key in KEYS}
    parameters_values = dictionary_to_vector(parameters)
    grad = dictionary_to_vector(gradients, "d")
    num_parameters = parameters_values.shape[0]
    J_plus = np.zeros((num_parameters, 1))
    J_minus = np.zeros((num_parameters, 1))
    gradapprox = np.zeros((num_parameters, 1))
    for i in range(num_parameters):
        thetaplus = np.copy(parameters_values)
        thetaplus[i][0] = thetaplus[i][0] + epsilon
        J_plus[i], _ = cost_function(X, Y, vector_to_dictionary(thetaplus, shapes))
        thetaminus = np.copy(parameters_values)
        thetaminus[i][0] = thetaminus[i][0] - epsilon
        J_minus[i], _ = cost_function(X, Y, vector_to_dictionary(thetaminus, shapes))
        gradapprox[i] = (J_plus[i] - J_minus[i]) / (2 * epsilon)
    return relative_difference(grad, gradapprox), grad, gradapprox


def per_array(parameters, grad, gradapprox):
    """The relative difference of each of W1, b1, ... (slices of the two columns)."""
    out = {}
    start = 0
    for key in KEYS:
        size = parameters[key].size
        out[key] = relative_difference(grad[start:start + size], gradapprox[start:start + size])
        start += size
    return out


def check(parameters, X, Y, epsilon, planted_bugs=False, cost_function=forward_cost):
    """Backprop (with or without the bugs), then gradient_check_n: the overall difference,
    each array's, and the largest error of one estimated partial derivative."""
    _, cache = forward_cost(X, Y, parameters)
    gradients = backward_propagation_n(X, Y, cache, planted_bugs)
    difference, grad, gradapprox = gradient_check_n(parameters, gradients, X, Y, epsilon,
                                                    cost_function)
    return {"difference": difference, "per_parameter": per_array(parameters, grad, gradapprox),
            "max_abs_error": float(np.max(np.abs(grad - gradapprox)))}
