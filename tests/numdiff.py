"""An independent central-difference gradient, used to check every backward pass in the tests.

It shares no code with ``nnlab.gradcheck``: it perturbs one entry of one array at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    """∂f/∂x by the five-point central difference, perturbing ``x`` in place (restored):

        (-f(x + 2h) + 8 f(x + h) - 8 f(x - h) + f(x - 2h)) / 12h,

    whose truncation error is O(h⁴), so with h = 1e-4 both it and the rounding error stay far
    below the 1e-7 relative tolerance of the tests.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        values = []
        for step in (2 * eps, eps, -eps, -2 * eps):
            x[i] = old + step
            values.append(f())
        x[i] = old
        f2, f1, fm1, fm2 = values
        grad[i] = (-f2 + 8 * f1 - 8 * fm1 + fm2) / (12 * eps)
    return grad


def rel_diff(a: np.ndarray, b: np.ndarray, atol: float = 1e-11) -> float:
    """||a - b|| / (||a|| + ||b||); 0 when ||a - b|| < atol.

    The absolute floor covers gradients that are exactly zero (a softmax's shift invariance, a
    dead relu): there the finite difference is pure rounding noise (~1e-13) and the ratio would
    be 1 whatever backprop computed.
    """
    if np.linalg.norm(a - b) < atol:
        return 0.0
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / den) if den > 0 else 0.0
