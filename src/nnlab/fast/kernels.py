"""The exact compiled (Numba) kernels of the fast path; optional: nnlab runs the same without Numba.

Exact: each gives, bit for bit, what the NumPy expressions it replaces give. The kernels whose
results are equal only to rounding (sums reassociated, Adam in another form, whole epochs of
small networks) live apart, in ``rounded_kernels.py``.

The optimizer updates of ``fast.py`` are, in NumPy, about sixteen passes over the flat buffers
(θ, dθ, v, s): each operation reads and writes megabytes on a large network, one thread. Here each
update is one loop that does, per element, exactly the operations of the NumPy version in the same
order and precision (float32 stays float32; no fused multiply-add, no reordering), so the result
is the same bit for bit (tests/fast/test_kernels.py checks it for every optimizer, dtype and L2).
The loop is vectorized by LLVM; on large buffers the two halves run on two threads (the kernels
release the GIL).

Hyperparameters come in one small array ``hp`` of the buffers' dtype, so each scalar is what
NumPy would make of it (a Python float becomes the array's dtype before the operation):

    hp = [1/m, λ, m, α, β1, 1-β1, β2, 1-β2, 1-β1^t, 1-β2^t, ε, λ1]      (unused entries ignored)

``enabled()`` is False when Numba is not installed or ``NNLAB_NUMBA=0`` is set; then ``fast.py``
runs its NumPy code. (``NNLAB_EXACT=1``, see ``fast.py``, keeps the bit-identical kernels, the
updates, and turns off the whole-epoch kernel of small networks, equal to rounding.)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

try:  # pragma: no cover - which branch runs depends on the environment
    import numba
except ImportError:  # pragma: no cover
    numba = None  # type: ignore[assignment]

#: Index of each hyperparameter in ``hp`` (λ1: the L1 strength).
INV_M, LAMBD, M, ALPHA, BETA1, ONE_MINUS_BETA1, BETA2, ONE_MINUS_BETA2, C1, C2, EPS, LAMBD1 = (
    range(12))
HP_SIZE = 12
#: Buffers of at least this many elements are updated by two threads. Inside a training loop
#: OpenBLAS's idle worker spins on the second core between products, so a second update thread
#: only competes with it: measured there, MEDIUM's 235 k parameters train 12 % faster on one
#: thread and LARGE's 1.86 M the same either way (benchmarks/README.md).
PARALLEL_MIN = 1 << 21


def available() -> bool:
    """Whether Numba is installed."""
    return numba is not None


def enabled() -> bool:
    """Whether the fast path uses the compiled kernels: Numba installed and ``NNLAB_NUMBA`` not
    set to ``0``."""
    return numba is not None and os.environ.get("NNLAB_NUMBA", "1") != "0"


def _compiler(**options: Any) -> Callable[[Callable], Callable]:
    """A decorator: compiled on first call (cached on disk), with Numba's numpy error model
    (no exceptions from arithmetic); the plain function without Numba."""

    def decorate(fn: Callable) -> Callable:
        if numba is None:  # pragma: no cover
            return fn
        return numba.njit(cache=True, error_model="numpy", **options)(fn)

    return decorate


#: The exact kernels: IEEE arithmetic as written, the GIL released (two threads share updates).
_kernel = _compiler(nogil=True)
#: The rest of the whole-epoch code, which calls back into NumPy and so holds the GIL.
_kernel_gil = _compiler()


# ---------------------------------------------------------------------------------------------
# The updates, element by element. g = dθ of the batch (sums over the batch): each first makes
# it the gradient, g = g/m (+ (λ W)/m on the weights, l2 = True; + (λ1 sign(W))/m, l1 = True),
# and keeps it in dθ, as the NumPy update does. The scalars are read from hp before the loop (hp
# could alias a buffer as far as LLVM knows, which would make it reload them and give up on
# vectorizing), and the loops run from 0 over whole (sliced) arrays (no negative-index checks):
# LLVM vectorizes them.


@_kernel
def _l1_term(theta, lambd1):
    """λ1 sign(θ) of one element, as NumPy's ``λ1 * np.sign(θ)`` gives it: ±λ1, +0.0 at θ = ±0
    (NumPy's sign of -0.0 is +0.0; Numba's ``np.sign`` would keep -0.0), NaN for NaN."""
    if theta > 0:
        return lambd1
    if theta < 0:
        return -lambd1
    if theta == 0:
        return lambd1 - lambd1
    return theta


@_kernel
def _gradient(g, theta, inv_m, lambd, m, l2, lambd1, l1):
    """g/m (+ (λ θ)/m when ``l2``) (+ (λ1 sign(θ))/m when ``l1``): one element of the batch's
    sum made the gradient."""
    gi = g * inv_m
    if l2:
        gi = gi + (theta * lambd) / m
    if l1:
        gi = gi + _l1_term(theta, lambd1) / m
    return gi


@_kernel
def _gd(theta, g, v, s, hp, l2, l1=False):
    """θ -= α g."""
    inv_m, lambd, m, alpha, lambd1 = hp[0], hp[1], hp[2], hp[3], hp[11]
    for i in range(theta.size):
        gi = _gradient(g[i], theta[i], inv_m, lambd, m, l2, lambd1, l1)
        g[i] = gi
        theta[i] = theta[i] - gi * alpha


@_kernel
def _momentum(theta, g, v, s, hp, l2, l1=False):
    """v = β v + (1-β) g;  θ -= α v   (β in the β1 slots)."""
    inv_m, lambd, m, alpha, b, one_minus_b = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5]
    lambd1 = hp[11]
    for i in range(theta.size):
        gi = _gradient(g[i], theta[i], inv_m, lambd, m, l2, lambd1, l1)
        g[i] = gi
        vi = v[i] * b + gi * one_minus_b
        v[i] = vi
        theta[i] = theta[i] - vi * alpha


@_kernel
def _rmsprop(theta, g, v, s, hp, l2, l1=False):
    """s = β2 s + (1-β2) g²;  θ -= α g / (sqrt(s) + ε)."""
    inv_m, lambd, m, alpha, lambd1 = hp[0], hp[1], hp[2], hp[3], hp[11]
    b2, one_minus_b2, eps = hp[6], hp[7], hp[10]
    for i in range(theta.size):
        gi = _gradient(g[i], theta[i], inv_m, lambd, m, l2, lambd1, l1)
        g[i] = gi
        si = s[i] * b2 + (gi * gi) * one_minus_b2
        s[i] = si
        theta[i] = theta[i] - (gi * alpha) / (np.sqrt(si) + eps)


@_kernel
def _moments(gi, vi, si, b1, one_minus_b1, b2, one_minus_b2):
    """Adam's running averages of one element: β1 v + (1-β1) g and β2 s + (1-β2) g²."""
    return vi * b1 + gi * one_minus_b1, si * b2 + (gi * gi) * one_minus_b2


@_kernel
def _adam(theta, g, v, s, hp, l2, l1=False):
    """v = β1 v + (1-β1) g,  s = β2 s + (1-β2) g²;  θ -= α (v/(1-β1^t)) / (sqrt(s/(1-β2^t)) + ε)."""
    inv_m, lambd, m, alpha, lambd1 = hp[0], hp[1], hp[2], hp[3], hp[11]
    b1, one_minus_b1, b2, one_minus_b2 = hp[4], hp[5], hp[6], hp[7]
    c1, c2, eps = hp[8], hp[9], hp[10]
    for i in range(theta.size):
        gi = _gradient(g[i], theta[i], inv_m, lambd, m, l2, lambd1, l1)
        g[i] = gi
        v[i], s[i] = vi, si = _moments(gi, v[i], s[i], b1, one_minus_b1, b2, one_minus_b2)
        theta[i] = theta[i] - ((vi / c1) * alpha) / (np.sqrt(si / c2) + eps)


@_kernel
def bias_relu(Z, b):
    """Z = max(Z + b, 0) in place, Z ``(n, m)``, b ``(n, 1)``: NumPy's ``np.add`` then
    ``np.maximum`` in one pass, the same bits (``maximum`` keeps a NaN, and -0.0 over 0)."""
    n, m = Z.shape
    zero = Z.dtype.type(0)  # (not b[0, 0] * 0: NaN when b[0, 0] is infinite)
    for i in range(n):
        bi = b[i, 0]
        row = Z[i]
        for j in range(m):
            z = row[j] + bi
            row[j] = z if (z >= zero or z != z) else zero


@_kernel
def relu_backward(dA, A):
    """dA = dA * 1[A > 0] in place (``(n, m)``): NumPy's ``np.greater`` into a float mask and
    ``np.multiply`` in one pass, the same bits (dA * 0.0 keeps the sign and a NaN)."""
    n, m = dA.shape
    zero = dA.dtype.type(0)
    one = zero + 1
    for i in range(n):
        row, a = dA[i], A[i]
        for j in range(m):
            row[j] = row[j] * (one if a[j] > zero else zero)


@_kernel
def tanh_backward(dA, A):
    """dA = dA * (1 - A²) in place: NumPy's ``square``, ``subtract`` and ``multiply`` in one
    pass, the same bits (no fused multiply-add: the exact kernels are compiled without it)."""
    n, m = dA.shape
    one = dA.dtype.type(1)
    for i in range(n):
        for j in range(m):
            a = A[i, j]
            dA[i, j] = dA[i, j] * (one - a * a)


@_kernel
def sigmoid_backward(dA, A):
    """dA = (dA * A) * (1 - A) in place: NumPy's three calls in one pass, the same bits."""
    n, m = dA.shape
    one = dA.dtype.type(1)
    for i in range(n):
        for j in range(m):
            a = A[i, j]
            dA[i, j] = (dA[i, j] * a) * (one - a)


@_kernel
def log_floors(AL, tiny, t1, t2):
    """t1 = max(AL, tiny), t2 = max(1 - AL, tiny) (``np.maximum``: a NaN stays NaN): the
    arguments of the cross-entropy's two logs, in one pass."""
    n, m = AL.shape
    one = AL.dtype.type(1)
    for i in range(n):
        for j in range(m):
            a = AL[i, j]
            b = one - a
            t1[i, j] = a if (a >= tiny or a != a) else tiny
            t2[i, j] = b if (b >= tiny or b != b) else tiny


@_kernel
def cross_entropy_terms(Y, t1, t2):
    """t1 = Y log a + (1 - Y) log(1 - a) in place, from t1 = log a and t2 = log(1 - a):
    NumPy's ``multiply``, ``subtract``, ``multiply`` and ``add`` in one pass, the same bits."""
    n, m = Y.shape
    one = t1.dtype.type(1)
    for i in range(n):
        for j in range(m):
            y = Y[i, j]
            t1[i, j] = y * t1[i, j] + (one - y) * t2[i, j]


#: The exact updates by optimizer name (``rounded_kernels.adam_rounded`` is Adam's other form).
UPDATES: dict[str, Callable] = {"gd": _gd, "momentum": _momentum, "rmsprop": _rmsprop,
                                "adam": _adam}
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    """In a forked child: the parent's worker thread was not copied, so start a new one."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _worker() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(1, thread_name_prefix="nnlab-update")
        return _pool


Parts = tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...] | None, tuple[np.ndarray, ...]]


def update_parts(theta: np.ndarray, g: np.ndarray, v: np.ndarray | None, s: np.ndarray | None,
                 n_weights: int) -> Parts:
    """θ, dθ, v, s sliced as ``apply_update`` updates them: (the weights this thread updates,
    those the worker thread updates or None, the rest: the biases). ``θ[:n_weights]`` are the
    weights; buffers of ``PARALLEL_MIN`` elements or more split them in two halves. A v or s
    the optimizer has not is dθ (the kernel leaves it alone). Slice once, update many times."""
    v = g if v is None else v
    s = g if s is None else s

    def part(i: int, j: int) -> tuple[np.ndarray, ...]:
        return theta[i:j], g[i:j], v[i:j], s[i:j]

    n = theta.size
    if n < PARALLEL_MIN:
        return part(0, n_weights), None, part(n_weights, n)
    half = n_weights // 2
    return part(0, half), part(half, n_weights), part(n_weights, n)


def apply_update(kernel: str | Callable, parts: Parts, hp: np.ndarray, l2: bool,
                 l1: bool = False) -> None:
    """One optimizer update in place of the buffers ``update_parts`` sliced, by ``kernel`` (an
    optimizer's name in ``UPDATES``, or ``rounded_kernels.adam_rounded``): the weights get the
    L2 term when ``l2``, the L1 term when ``l1``; the biases neither."""
    if isinstance(kernel, str):
        kernel = UPDATES[kernel]
    here, elsewhere, biases = parts
    other = None if elsewhere is None else _worker().submit(kernel, *elsewhere, hp, l2, l1)
    kernel(*here, hp, l2, l1)
    kernel(*biases, hp, False, False)
    if other is not None:
        other.result()


def update(kernel: str | Callable, theta: np.ndarray, g: np.ndarray, v: np.ndarray | None,
           s: np.ndarray | None, hp: np.ndarray, n_weights: int, l2: bool,
           l1: bool = False) -> None:
    """One optimizer update of the flat buffers in place: θ, dθ (made the gradient), v, s, by
    ``kernel`` (an optimizer's name in ``UPDATES``, or ``rounded_kernels.adam_rounded``).

    ``θ[:n_weights]`` are the weights (they get the L2 term when ``l2``, the L1 term when
    ``l1``), the rest the biases. (``apply_update`` on ``update_parts``: a caller that updates
    the same buffers again and again slices them once.)
    """
    apply_update(kernel, update_parts(theta, g, v, s, n_weights), hp, l2, l1)


# ---------------------------------------------------------------------------------------------
# The epochs' shuffles, drawn inside the compiled epochs (``rounded_kernels.run_batches``): the
# draws of ``RandomState.permutation(m)``. NumPy's legacy permutation is ``arange(m)`` shuffled
# by Fisher-Yates from the last element down, swapping element i with j = ``random_interval(i)``:
# 32-bit MT19937 outputs masked to the smallest all-ones mask ≥ i, redrawn while above i. In
# NumPy each permutation is ~6 µs for 300 examples, most of it call overhead: more than a small
# network's epoch. The words are held in int64 and masked to 32 bits, so the arithmetic is
# MT19937's on uint32; tests/fast/test_kernels.py checks the draws against NumPy's bit for bit.

_MT_N, _MT_M = 624, 397
_MT_MATRIX_A, _MT_UPPER, _MT_LOWER, _MT_WORD = 0x9908B0DF, 0x80000000, 0x7FFFFFFF, 0xFFFFFFFF


@_kernel
def _mt19937_twist(key, i, j, k):
    """key[i] = key[k] ^ twist(upper bit of key[i], lower bits of key[j])."""
    y = (np.int64(key[i]) & _MT_UPPER) | (np.int64(key[j]) & _MT_LOWER)
    word = np.int64(key[k]) ^ (y >> 1)
    if y & 1:
        word ^= _MT_MATRIX_A
    key[i] = np.uint32(word & _MT_WORD)


@_kernel
def _mt19937_regenerate(key):
    """MT19937's next 624 words in place (NumPy's ``mt19937_gen``): key[i] from key[i+1] and
    key[i+397] modulo 624, the words before i already new."""
    for i in range(_MT_N - _MT_M):
        _mt19937_twist(key, i, i + 1, i + _MT_M)
    for i in range(_MT_N - _MT_M, _MT_N - 1):
        _mt19937_twist(key, i, i + 1, i + _MT_M - _MT_N)
    _mt19937_twist(key, _MT_N - 1, 0, _MT_M - 1)


@_kernel
def mt19937_permutation(key, pos, out):
    """Fill ``out`` ``(m,)`` with the next ``RandomState.permutation(m)`` of the generator whose
    state is ``key`` (its 624 uint32 words, updated in place) at position ``pos``; returns the
    new position (the state is then ``key``, that position, as ``RandomState.get_state``
    gives them)."""
    m = out.shape[0]
    for i in range(m):
        out[i] = i
    for i in range(m - 1, 0, -1):
        mask = np.int64(i)
        mask |= mask >> 1
        mask |= mask >> 2
        mask |= mask >> 4
        mask |= mask >> 8
        mask |= mask >> 16
        while True:
            if pos == _MT_N:
                _mt19937_regenerate(key)
                pos = 0
            y = np.int64(key[pos])
            pos += 1
            y ^= y >> 11
            y ^= (y << 7) & 0x9D2C5680
            y ^= (y << 15) & 0xEFC60000
            y ^= y >> 18
            j = y & mask
            if j <= i:
                break
        tmp = out[i]
        out[i] = out[j]
        out[j] = tmp
    return pos


__all__ = ["HP_SIZE", "PARALLEL_MIN", "UPDATES", "apply_update", "available", "bias_relu",
           "cross_entropy_terms", "enabled", "log_floors", "mt19937_permutation", "relu_backward",
           "sigmoid_backward", "tanh_backward", "update", "update_parts"]
