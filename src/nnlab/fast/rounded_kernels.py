"""The compiled (Numba) kernels of the fast path whose results equal the NumPy path's to
rounding, not bit for bit: sums reassociated so that LLVM vectorizes them, Adam's bias
corrections folded into two scalars, and whole epochs of small networks in one call
(``run_batches``). ``FastTrainer`` uses them only with ``fast=True`` (never with
``fast="exact"`` or ``NNLAB_EXACT=1``); tests/fast/test_kernels.py holds each to the textbook within
float tolerance and the whole-epoch gradients to central differences.
"""

from __future__ import annotations

import numpy as np

from .kernels import (  # the hp layout, Numba (or None) and the exact updates
    ALPHA,
    BETA1,
    BETA2,
    C1,
    C2,
    EPS,
    INV_M,
    LAMBD,
    LAMBD1,
    ONE_MINUS_BETA1,
    ONE_MINUS_BETA2,
    M,
    _adam,
    _compiler,
    _gd,
    _gradient,
    _kernel,
    _kernel_gil,
    _moments,
    _momentum,
    _rmsprop,
    mt19937_permutation,
    numba,
)


@_kernel
def adam_rounded(theta, g, v, s, hp, l2, l1=False):
    """Adam with the bias corrections moved into two scalars (one square root and one division
    per element instead of a square root and three divisions; equal to ``_adam`` to rounding):
    α (v/(1-β1^t)) / (sqrt(s/(1-β2^t)) + ε) = a v / (sqrt(s) + e),  a = α sqrt(1-β2^t)/(1-β1^t),
    e = ε sqrt(1-β2^t)  (a and e in the α and ε slots of hp)."""
    inv_m, lambd, m, a, e, lambd1 = hp[0], hp[1], hp[2], hp[3], hp[10], hp[11]
    b1, one_minus_b1, b2, one_minus_b2 = hp[4], hp[5], hp[6], hp[7]
    for i in range(theta.size):
        gi = _gradient(g[i], theta[i], inv_m, lambd, m, l2, lambd1, l1)
        g[i] = gi
        v[i], s[i] = vi, si = _moments(gi, v[i], s[i], b1, one_minus_b1, b2, one_minus_b2)
        theta[i] = theta[i] - (vi * a) / (np.sqrt(si) + e)



@_compiler(nogil=True, fastmath={"reassoc", "nsz"})
def relu_backward_sum(dA, A, db):
    """``relu_backward`` (the same bits) and, in the same pass, db = Σ_j dA[:, j] into db
    ``(n, 1)``: the sum reassociated (equal to ``np.add.reduce`` to rounding)."""
    n, m = dA.shape
    zero = dA.dtype.type(0)
    one = zero + 1
    for i in range(n):
        total = zero
        for j in range(m):
            d = dA[i, j] * (one if A[i, j] > zero else zero)
            dA[i, j] = d
            total += d
        db[i, 0] = total


# ---------------------------------------------------------------------------------------------
# Whole mini-batch loops for small networks. On a small network each NumPy call does little
# work, so a step is ~60 calls' worth of Python overhead; here the gather of each batch, forward,
# cost, backward and update of every batch of an epoch run in one compiled call. The products are
# plain loops (vectorized over the batch), summed in another order than BLAS and, in the sums
# over the batch, with reassociation allowed, so the results equal the NumPy path's to float
# rounding, not bit for bit (``tests/fast/test_kernels.py`` compares them with the textbook path).

#: Activation codes of ``run_batches``.
ACTIVATION_CODES = {"identity": 0, "relu": 1, "sigmoid": 2, "tanh": 3, "leaky_relu": 4,
                    "softmax": 5}
#: Loss codes (each with its canonical link: dZ[L] = A[L] - Y).
LOSS_CODES = {"binary_crossentropy": 0, "categorical_crossentropy": 1, "mean_squared_error": 2}
#: Optimizer codes.
OPTIMIZER_CODES = {"gd": 0, "momentum": 1, "rmsprop": 2, "adam": 3}
#: Accuracy codes: none, thresholded sigmoid (mean over outputs), argmax.
NO_ACCURACY, THRESHOLD_ACCURACY, ARGMAX_ACCURACY = 0, 1, 2
#: ``net_hp`` entries of ``run_batches`` (the buffers' dtype): λ, the optimizer's ε, then the
#: constants 0, 1/2, 1, the leaky-relu slope and the log floor (the smallest normal number),
#: then λ1 (the L1 strength).
NET_LAMBD, NET_EPS, NET_ZERO, NET_HALF, NET_ONE, NET_SLOPE, NET_TINY, NET_L1 = range(8)
NET_HP_SIZE = 8
_NET_FASTMATH = {"reassoc", "contract", "nsz"}
#: tanh and sigmoid of at least this many elements go back to NumPy (``_numpy_activate``).
NUMPY_MIN = 512
#: Products of at least this many multiply-adds (n[l] n[l-1] m_b) go to BLAS (``np.dot``, through
#: SciPy's BLAS), smaller ones are loops.
DOT_MIN = 1 << 14


#: Compiled with reassociation allowed (so that LLVM vectorizes sums). Numba compiles the
#: functions such a kernel calls with its flags, and reuses that code for direct calls: so these
#: kernels call no exact kernel, and ``run_batches``, which calls the exact updates, is compiled
#: without them.
_net_kernel = _compiler(fastmath=_NET_FASTMATH)


@_net_kernel
def _activate(Z, code, hp):
    """A = g(Z) in place over Z ``(n, mb)``; softmax per column."""
    n, mb = Z.shape
    zero, one, slope = hp[NET_ZERO], hp[NET_ONE], hp[NET_SLOPE]
    if (code == 2 or code == 3) and n * mb >= NUMPY_MIN:
        _numpy_activate(Z, code)
    elif code == 1:
        for i in range(n):
            for j in range(mb):
                Z[i, j] = max(Z[i, j], zero)
    elif code == 2:
        for i in range(n):
            for j in range(mb):
                Z[i, j] = one / (one + np.exp(-Z[i, j]))
    elif code == 3:
        for i in range(n):
            for j in range(mb):
                Z[i, j] = np.tanh(Z[i, j])
    elif code == 4:
        for i in range(n):
            for j in range(mb):
                z = Z[i, j]
                Z[i, j] = z if z > zero else z * slope
    elif code == 5:
        for j in range(mb):
            top = Z[0, j]
            for i in range(1, n):
                top = max(top, Z[i, j])
            total = zero
            for i in range(n):
                e = np.exp(Z[i, j] - top)
                Z[i, j] = e
                total += e
            for i in range(n):
                Z[i, j] = Z[i, j] / total


@_kernel_gil
def _numpy_activate(Z, code):
    """tanh / sigmoid by NumPy's vectorized ufuncs (called back from compiled code: on a few
    hundred elements and more, faster than the compiled code's scalar calls into libm)."""
    with numba.objmode():
        if code == 3:
            np.tanh(Z, out=Z)
        else:
            np.negative(Z, out=Z)
            np.exp(Z, out=Z)
            np.add(Z, 1, out=Z)
            np.divide(1, Z, out=Z)


@_net_kernel
def _derivative(dA, A, code, hp):
    """dZ = dA * g'(Z) in place over dA, g'(Z) read from A = g(Z) (hidden layers: no softmax).
    One loop per activation, so that LLVM vectorizes each."""
    n, mb = dA.shape
    zero, one, slope = hp[NET_ZERO], hp[NET_ONE], hp[NET_SLOPE]
    if code == 1:
        for i in range(n):
            for j in range(mb):
                dA[i, j] = dA[i, j] if A[i, j] > zero else zero
    elif code == 2:
        for i in range(n):
            for j in range(mb):
                a = A[i, j]
                dA[i, j] = dA[i, j] * a * (one - a)
    elif code == 3:
        for i in range(n):
            for j in range(mb):
                a = A[i, j]
                dA[i, j] = dA[i, j] * (one - a * a)
    elif code == 4:
        for i in range(n):
            for j in range(mb):
                dA[i, j] = dA[i, j] if A[i, j] > zero else dA[i, j] * slope


@_net_kernel
def _batch_cost(AL, Y, loss, hp):
    """Σ over the batch of the loss (not yet divided by m): cross-entropy with log floored."""
    n, mb = AL.shape
    one, tiny = hp[NET_ONE], hp[NET_TINY]
    total = 0.0
    for i in range(n):
        for j in range(mb):
            a, y = AL[i, j], Y[i, j]
            if loss == 0:  # (floored: both logs finite, so a 0 / 1 label needs one of them)
                if y == one:
                    total -= np.log(max(a, tiny))
                elif y == one - one:
                    total -= np.log(max(one - a, tiny))
                else:
                    total -= y * np.log(max(a, tiny)) + (one - y) * np.log(max(one - a, tiny))
            elif loss == 1:
                total -= y * np.log(max(a, tiny))
            else:
                total += 0.5 * (a - y) * (a - y)
    return total


@_net_kernel
def _batch_correct(AL, Y, accuracy, hp):
    """Σ over the batch's examples of their accuracy (see ``Model._accuracy_sum``)."""
    n, mb = AL.shape
    half = hp[NET_HALF]
    correct = 0.0
    if accuracy == 1 and n == 1:  # one output: whole hits, counted as an integer (same sum)
        count = 0
        for j in range(mb):
            count += (AL[0, j] > half) == (Y[0, j] > half)
        return float(count)
    for j in range(mb):
        if accuracy == 1:
            hits = 0
            for i in range(n):
                hits += (AL[i, j] > half) == (Y[i, j] > half)
            correct += hits / n
        elif accuracy == 2:  # argmax of each column, the first of equal maxima (the best so
            best_a, best_y = 0, 0  # far kept in a register, not read again from the array)
            top_a, top_y = AL[0, j], Y[0, j]
            for i in range(1, n):
                if AL[i, j] > top_a:
                    best_a, top_a = i, AL[i, j]
                if Y[i, j] > top_y:
                    best_y, top_y = i, Y[i, j]
            correct += best_a == best_y
    return correct


@_net_kernel
def _small_product(W, transposed, bias, B, out):
    """out = W B + bias, or W^T B + bias with ``transposed`` (bias ``(n,)``):
    each output row in one pass over the batch for the first four terms of its sum, then one
    pass per four more. Plain 2-D indexing, no row views (on rows of a few hundred elements,
    a view's reference counting costs as much as the arithmetic)."""
    n, mb = out.shape
    p = B.shape[0]
    last = p - 1
    for i in range(n):
        bi = bias[i]
        if transposed:
            w0, w1, w2, w3 = W[0, i], W[min(1, last), i], W[min(2, last), i], W[min(3, last), i]
        else:
            w0, w1, w2, w3 = W[i, 0], W[i, min(1, last)], W[i, min(2, last)], W[i, min(3, last)]
        if p >= 4:
            for j in range(mb):
                out[i, j] = bi + w0 * B[0, j] + w1 * B[1, j] + w2 * B[2, j] + w3 * B[3, j]
        elif p == 3:
            for j in range(mb):
                out[i, j] = bi + w0 * B[0, j] + w1 * B[1, j] + w2 * B[2, j]
        elif p == 2:
            for j in range(mb):
                out[i, j] = bi + w0 * B[0, j] + w1 * B[1, j]
        else:
            for j in range(mb):
                out[i, j] = bi + w0 * B[0, j]
        k = 4
        while k + 4 <= p:
            if transposed:
                w0, w1, w2, w3 = W[k, i], W[k + 1, i], W[k + 2, i], W[k + 3, i]
            else:
                w0, w1, w2, w3 = W[i, k], W[i, k + 1], W[i, k + 2], W[i, k + 3]
            for j in range(mb):
                out[i, j] += (w0 * B[k, j] + w1 * B[k + 1, j] + w2 * B[k + 2, j]
                              + w3 * B[k + 3, j])
            k += 4
        while k < p:
            w0 = W[k, i] if transposed else W[i, k]
            for j in range(mb):
                out[i, j] += w0 * B[k, j]
            k += 1


@_net_kernel
def _weight_gradients(dZ, A_prev, dW, db, with_dW):
    """db = Σ_j dZ[:, j] and, if ``with_dW``, dW = dZ A_prev^T (sums over the batch; the 1/m
    comes in the update): four entries of a row of dW per pass over the batch."""
    n, mb = dZ.shape
    p = A_prev.shape[0] if with_dW else 0
    zero = dZ.dtype.type(0)
    for i in range(n):
        total = zero
        for j in range(mb):
            total += dZ[i, j]
        db[i] = total
        k = 0
        while k + 4 <= p:
            t0 = t1 = t2 = t3 = zero
            for j in range(mb):
                d = dZ[i, j]
                t0 += d * A_prev[k, j]
                t1 += d * A_prev[k + 1, j]
                t2 += d * A_prev[k + 2, j]
                t3 += d * A_prev[k + 3, j]
            dW[i, k], dW[i, k + 1], dW[i, k + 2], dW[i, k + 3] = t0, t1, t2, t3
            k += 4
        while k < p:
            total = zero
            for j in range(mb):
                total += dZ[i, j] * A_prev[k, j]
            dW[i, k] = total
            k += 1


@_kernel_gil
def run_batches(X, Y, rows, batch_size, passes, dims, acts, keep, masks, loss, accuracy,
                optimizer, theta, grad, v, s, prev, net_hp, upd_hp, beta1, beta2, t, lr, work,
                costs, corrects, shuffle_key, shuffle_pos):
    """Train on the batches ``rows[p, k : k + batch_size]`` of X ``(m, n_x)`` / Y ``(m, n_y)``
    (examples as rows; ``rows`` ``(1, m_b)`` or ``(passes, m_b)``: one order of the examples
    for every pass, or one for each), one update each: the forward pass, the batch's cost
    (into ``costs``, with the L2 and L1 terms) and accuracy sum (into ``corrects``),
    dZ[L] = A[L] - Y, the backward pass
    and the optimizer's update of θ, v, s (``upd_hp`` is its scratch ``hp``; ``beta1``,
    ``beta2`` its β's as Python floats for the bias corrections, ``t`` the update count before
    the first batch). Returns the number of batches done: it stops after a batch
    whose cost is not finite. ``passes``: go over the examples that many times (several epochs
    in one call). ``prev`` (θ's size, or empty): θ is copied there before every batch, so
    that after a stop it holds the last finite weights.

    Inverted dropout on the hidden layers l with ``keep[l] < 1``: ``masks`` holds their 0 / 1
    masks D[l] ``(n_l, mb)``, batch after batch, layer after layer (drawn by the caller in the
    textbook's order); A[l] = A[l] * D[l] / keep[l], dA[l] = dA[l] * D[l] / keep[l].

    ``work`` holds, for the largest batch, X_b ``(n_x, mb)``, Y_b ``(n_y, mb)``, then A[l],
    dA[l] and the output after dropout ``(n_l, mb)`` for every layer.

    ``shuffle_key`` (the 624 words of a ``RandomState``, or empty) and ``shuffle_pos`` (its
    position, ``(1,)``): instead of ``rows``, every pass draws its own order of the m =
    ``rows.shape[1]`` examples at its start, the generator's next ``permutation(m)``
    (``kernels.mt19937_permutation``); both are left at the generator's new state.
    """
    L = dims.size - 1
    m_all = rows.shape[1]
    n_orders = rows.shape[0]
    zero = net_hp[NET_ZERO]
    lambd = net_hp[NET_LAMBD]
    lambd1 = net_hp[NET_L1]
    n_weights = 0
    for l in range(L):
        n_weights += dims[l + 1] * dims[l]
    upd_hp[ALPHA] = lr
    upd_hp[LAMBD] = lambd
    upd_hp[LAMBD1] = lambd1
    upd_hp[BETA1] = beta1
    upd_hp[ONE_MINUS_BETA1] = 1.0 - beta1
    upd_hp[BETA2] = beta2
    upd_hp[ONE_MINUS_BETA2] = 1.0 - beta2
    upd_hp[EPS] = net_hp[NET_EPS]
    per_pass = (m_all + batch_size - 1) // batch_size
    n_batches = per_pass * passes
    mask_at = np.zeros(L, np.int64)  # where D[l] starts in a batch's masks, in units of mb
    units = 0
    for l in range(L):
        mask_at[l] = units
        if keep[l] < 1.0:
            units += dims[l + 1]
    mask_offset = 0
    zeros = np.zeros(dims.max(), theta.dtype)  # the bias of dA[l-1] = W[l]^T dZ[l]
    drawn = np.empty(m_all if shuffle_key.size else 0, np.int64)  # a pass's drawn order
    for batch in range(n_batches):
        start = (batch % per_pass) * batch_size
        if shuffle_key.size:
            if start == 0:
                shuffle_pos[0] = mt19937_permutation(shuffle_key, shuffle_pos[0], drawn)
            order = drawn
        else:
            order = rows[(batch // per_pass) % n_orders]
        mb = min(batch_size, m_all - start)
        if prev.size:
            prev[:] = theta
        # -- work arrays for this batch size
        offset = 0
        Xb = work[offset : offset + dims[0] * mb].reshape((dims[0], mb))
        offset += dims[0] * batch_size
        Yb = work[offset : offset + dims[L] * mb].reshape((dims[L], mb))
        offset += dims[L] * batch_size
        for j in range(mb):
            r = order[start + j]
            for k in range(dims[0]):
                Xb[k, j] = X[r, k]
            for k in range(dims[L]):
                Yb[k, j] = Y[r, k]
        A_offsets = np.empty(L, np.int64)
        for l in range(L):
            A_offsets[l] = offset
            offset += 3 * dims[l + 1] * batch_size
        # -- forward: Z[l] = W[l] A[l-1] + b[l], A[l] = g[l](Z[l])
        w_off, b_off = 0, n_weights
        A_prev = Xb
        for l in range(L):
            n, p = dims[l + 1], dims[l]
            W = theta[w_off : w_off + n * p].reshape((n, p))
            b = theta[b_off : b_off + n]
            A = work[A_offsets[l] : A_offsets[l] + n * mb].reshape((n, mb))
            if n * p * mb >= DOT_MIN:
                np.dot(W, A_prev, A)
                for i in range(n):
                    for j in range(mb):
                        A[i, j] += b[i]
            else:
                _small_product(W, False, b, A_prev, A)
            _activate(A, acts[l], net_hp)
            A_prev = A
            if keep[l] < 1.0:  # A[l] * D[l] / keep_prob, into the layer's output slot
                kp = keep[l]
                start_out = A_offsets[l] + 2 * n * batch_size
                out = work[start_out : start_out + n * mb].reshape((n, mb))
                first = mask_offset + mask_at[l] * mb
                D = masks[first : first + n * mb].reshape((n, mb))
                for i in range(n):
                    for j in range(mb):
                        out[i, j] = (A[i, j] * D[i, j]) / kp
                A_prev = out
            w_off += n * p
            b_off += n
        AL = A_prev
        cost = _batch_cost(AL, Yb, loss, net_hp) / mb
        if lambd != zero:
            squares = 0.0
            for i in range(n_weights):
                squares += theta[i] * theta[i]
            cost += lambd / (2.0 * mb) * squares
        if lambd1 != zero:
            absolute = 0.0
            for i in range(n_weights):
                absolute += abs(theta[i])
            cost += lambd1 / mb * absolute
        costs[batch] = cost
        corrects[batch] = _batch_correct(AL, Yb, accuracy, net_hp)
        if not np.isfinite(cost):
            return batch + 1
        # -- backward: dZ[L] = A[L] - Y; dW[l] = dZ[l] A[l-1]^T, db[l] = Σ dZ[l],
        #    dA[l-1] = W[l]^T dZ[l], dZ[l-1] = dA[l-1] * g'(Z[l-1])  (sums: 1/m in the update)
        n = dims[L]
        dZ = work[A_offsets[L - 1] + n * batch_size : A_offsets[L - 1] + n * batch_size + n * mb]
        dZ = dZ.reshape((n, mb))
        for i in range(n):
            for j in range(mb):
                dZ[i, j] = AL[i, j] - Yb[i, j]
        for l in range(L - 1, -1, -1):
            n, p = dims[l + 1], dims[l]
            w_off -= n * p
            b_off -= n
            A_before = Xb  # the layer's input before dropout (A[l-1]) ...
            if l > 0:
                A_before = work[A_offsets[l - 1] : A_offsets[l - 1] + p * mb].reshape((p, mb))
            A_prev = A_before  # ... and after it
            if l > 0 and keep[l - 1] < 1.0:
                start_out = A_offsets[l - 1] + 2 * p * batch_size
                A_prev = work[start_out : start_out + p * mb].reshape((p, mb))
            dW = grad[w_off : w_off + n * p].reshape((n, p))
            big = n * p * mb >= DOT_MIN
            if big:
                np.dot(dZ, A_prev.T, dW)
            _weight_gradients(dZ, A_prev, dW, grad[b_off : b_off + n], not big)
            if l == 0:
                break
            W = theta[w_off : w_off + n * p].reshape((n, p))
            start_dA = A_offsets[l - 1] + p * batch_size
            dA = work[start_dA : start_dA + p * mb].reshape((p, mb))
            if big:
                np.dot(W.T, dZ, dA)
            else:
                _small_product(W, True, zeros[:p], dZ, dA)
            if keep[l - 1] < 1.0:
                kp = keep[l - 1]
                first = mask_offset + mask_at[l - 1] * mb
                D = masks[first : first + p * mb].reshape((p, mb))
                for k in range(p):
                    for j in range(mb):
                        dA[k, j] = (dA[k, j] * D[k, j]) / kp
            _derivative(dA, A_before, acts[l - 1], net_hp)
            dZ = dA
        mask_offset += units * mb
        # -- the optimizer's update, by the same element loops as the NumPy-path kernels
        t += 1
        upd_hp[INV_M] = 1.0 / mb
        upd_hp[M] = mb
        upd_hp[C1] = 1.0 - beta1**t
        upd_hp[C2] = 1.0 - beta2**t
        l2 = lambd != zero
        l1 = lambd1 != zero
        tw, gw, vw, sw = theta[:n_weights], grad[:n_weights], v[:n_weights], s[:n_weights]
        tb, gb, vb, sb = theta[n_weights:], grad[n_weights:], v[n_weights:], s[n_weights:]
        if optimizer == 0:
            _gd(tw, gw, vw, sw, upd_hp, l2, l1)
            _gd(tb, gb, vb, sb, upd_hp, False, False)
        elif optimizer == 1:
            _momentum(tw, gw, vw, sw, upd_hp, l2, l1)
            _momentum(tb, gb, vb, sb, upd_hp, False, False)
        elif optimizer == 2:
            _rmsprop(tw, gw, vw, sw, upd_hp, l2, l1)
            _rmsprop(tb, gb, vb, sb, upd_hp, False, False)
        else:
            _adam(tw, gw, vw, sw, upd_hp, l2, l1)
            _adam(tb, gb, vb, sb, upd_hp, False, False)
    return n_batches


def work_size(dims: np.ndarray, batch_size: int) -> int:
    """Elements of ``run_batches``'s work array for batches of up to ``batch_size``."""
    return int(batch_size * (dims[0] + dims[-1] + 3 * int(np.sum(dims[1:]))))


__all__ = ["ACTIVATION_CODES", "LOSS_CODES", "OPTIMIZER_CODES", "adam_rounded",
           "relu_backward_sum", "run_batches", "work_size"]
