"""The L-layer network: forward over all layers, backward by the error recursion, cost, predict.

``X`` is ``(n_x, m)`` (one column per example), ``Y`` is ``(n_y, m)``, and ``params`` holds
``W1, b1, ..., WL, bL``. ``activations`` names g[1], ..., g[L], one per layer.

>>> import numpy as np
>>> from nnlab import initialize_parameters, model_forward, model_backward
>>> X = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0]])
>>> Y = np.array([[0, 1, 1]])
>>> params = initialize_parameters([2, 3, 1], random_state=0)
>>> AL, caches = model_forward(X, params, ["relu", "sigmoid"])
>>> grads = model_backward(AL, Y, caches)
>>> sorted(grads), grads["dW1"].shape
(['dW1', 'dW2', 'db1', 'db2'], (3, 2))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._random import RandomLike, Rng, check_random_state
from .activations import LEAKY_RELU_SLOPE, get_activation
from .initializers import check_batch_norm_flags
from .layers import (
    LayerCache,
    LinearCache,
    activation_backward,
    batchnorm_backward,
    batchnorm_forward,
    batchnorm_inference,
    dropout_backward,
    dropout_forward,
    dropout_mask,
    linear_activation_forward,
    linear_backward,
)
from .losses import check_l1, default_loss, get_loss, l1_penalty, l2_penalty
from .weights import normalized, weighted_cost

Params = dict[str, np.ndarray]
Grads = dict[str, np.ndarray]


def num_layers(params: Mapping[str, np.ndarray]) -> int:
    """L, the number of layers with parameters (W1 ... WL)."""
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    if L == 0:
        raise ValueError("params holds no W1: expected keys W1, b1, ..., WL, bL")
    return L


def parameter_keys(params: Mapping[str, np.ndarray]) -> list[str]:
    """The trainable parameters' keys, W1, ..., WL, b1, ..., bL, then the γ and β of the
    batch-normalized layers (gamma1, gamma2, ..., beta1, beta2, ...; such a layer has no b): the
    one order in which nnlab flattens the parameters into θ (``gradcheck.params_to_vector``, the
    fast path's flat buffer, the L-BFGS solver's vector): the weights first, so that the L2 term
    touches one slice. The running statistics (``running_keys``) are not trained: not in θ.

    >>> import numpy as np
    >>> parameter_keys({"W1": np.zeros((3, 2)), "b1": np.zeros((3, 1)),
    ...                 "W2": np.zeros((1, 3)), "b2": np.zeros((1, 1))})
    ['W1', 'W2', 'b1', 'b2']
    >>> from nnlab import initialize_parameters
    >>> parameter_keys(initialize_parameters([2, 3, 3, 1], random_state=0, batch_norm=True))
    ['W1', 'W2', 'W3', 'b3', 'gamma1', 'gamma2', 'beta1', 'beta2']
    """
    L = num_layers(params)
    layers = range(1, L + 1)
    bn = batch_norm_layers(params)
    return ([f"W{l}" for l in layers] + [f"b{l}" for l in layers if l not in bn]
            + [f"gamma{l}" for l in bn] + [f"beta{l}" for l in bn])


def batch_norm_layers(params: Mapping[str, np.ndarray]) -> list[int]:
    """The layers l (from 1) that are batch-normalized: those whose ``gamma{l}`` is in params.

    >>> from nnlab import initialize_parameters
    >>> batch_norm_layers(initialize_parameters([2, 3, 3, 1], batch_norm=[False, True]))
    [2]
    """
    return [l for l in range(1, num_layers(params) + 1) if f"gamma{l}" in params]


def running_keys(params: Mapping[str, np.ndarray]) -> list[str]:
    """The running statistics' keys, running_mean{l} and running_var{l} of each batch-normalized
    layer l in turn: kept in params (saved, copied and resumed with them), never trained.

    >>> from nnlab import initialize_parameters
    >>> running_keys(initialize_parameters([2, 3, 1], batch_norm=True))
    ['running_mean1', 'running_var1']
    """
    return [f"running_{s}{l}" for l in batch_norm_layers(params) for s in ("mean", "var")]


def check_batch_norm(batch_norm: bool | Sequence[bool] | None,
                     params: Mapping[str, np.ndarray], L: int) -> list[bool]:
    """One flag per hidden layer (L - 1): None infers them from params (``gamma{l}`` present);
    a bool or a list must agree with the parameters each layer holds (γ, β and the running
    statistics for a batch-normalized layer, b for the others)."""
    present = [f"gamma{l}" in params for l in range(1, L)]
    if f"gamma{L}" in params:
        raise ValueError(f"params hold gamma{L}: the output layer cannot be batch-normalized")
    if batch_norm is None:
        flags = present
    else:
        flags = check_batch_norm_flags(batch_norm, L - 1)
    for l, (want, has) in enumerate(zip(flags, present, strict=True), start=1):
        if want and not has:
            raise ValueError(f"batch_norm asks for layer {l} but params hold no gamma{l}: "
                             "initialize them with initialize_parameters(..., batch_norm=...)")
        if has and not want:
            raise ValueError(f"params hold gamma{l} but batch_norm says layer {l} is not "
                             "batch-normalized")
        if want:
            missing = [k for k in (f"beta{l}", f"running_mean{l}", f"running_var{l}")
                       if k not in params]
            if missing:
                raise ValueError(f"layer {l} is batch-normalized but params hold no {missing[0]}")
    return flags


def _grad_order(key: str) -> tuple[int, int]:
    """Sort key of a gradient's name: its layer, then dW, db, dgamma, dbeta."""
    name = key.rstrip("0123456789")
    return int(key[len(name):]), ("dW", "db", "dgamma", "dbeta").index(name)


def update_running_stats(params: Mapping[str, np.ndarray], caches: Sequence[LayerCache],
                         momentum: float = 0.9) -> Params:
    """The running statistics after one training batch, as exponentially weighted averages of
    the batch statistics (μ, σ² in the caches of ``model_forward(..., training=True)``):

        μ_run = β_bn μ_run + (1 - β_bn) μ,   σ²_run = β_bn σ²_run + (1 - β_bn) σ²

    with β_bn = ``momentum`` (0.9 by default) and σ² the biased (1/m) batch variance. Returns a
    new dict (new arrays for the running statistics, the others shared); ``params`` is not
    changed. Layers without batch norm are left alone.

    >>> import numpy as np
    >>> from nnlab import initialize_parameters
    >>> params = initialize_parameters([1, 2, 1], random_state=0, batch_norm=True)
    >>> _, caches = model_forward(np.array([[1.0, 3.0]]), params, ["relu", "sigmoid"])
    >>> new = update_running_stats(params, caches, momentum=0.5)
    >>> bool(np.allclose(new["running_mean1"], 0.5 * caches[0].bn.mu))
    True
    """
    if not 0.0 <= momentum <= 1.0:
        raise ValueError(f"momentum={momentum} is out of range: expected 0 <= momentum <= 1")
    out = dict(params)
    for l, cache in enumerate(caches, start=1):
        bn = cache.bn
        if bn is None or not bn.training:
            continue
        mean, var = f"running_mean{l}", f"running_var{l}"
        out[mean] = momentum * params[mean] + (1 - momentum) * bn.mu
        out[var] = momentum * params[var] + (1 - momentum) * bn.var
    return out


def check_activations(activations: Sequence[str], L: int) -> list[str]:
    """One known activation name per layer."""
    if isinstance(activations, str):
        raise ValueError(
            f"activations={activations!r} must be a list with one name per layer ({L} layers)"
        )
    acts = list(activations)
    if len(acts) != L:
        raise ValueError(f"activations has {len(acts)} entries but the network has {L} layers")
    for a in acts:
        get_activation(a)
    return acts


def check_keep_probs(keep_probs: float | Sequence[float] | None, L: int) -> list[float]:
    """Keep probabilities of the L-1 hidden layers (the output layer never drops units)."""
    if keep_probs is None:
        return [1.0] * (L - 1)
    if isinstance(keep_probs, int | float | np.floating):
        kp = [float(keep_probs)] * (L - 1)
    else:
        kp = [float(k) for k in keep_probs]
        if len(kp) != L - 1:
            raise ValueError(
                f"keep_probs has {len(kp)} entries; expected one per hidden layer ({L - 1})"
            )
    for k in kp:
        if not 0.0 < k <= 1.0:
            raise ValueError(f"keep_prob={k} is out of range: expected 0 < keep_prob <= 1")
    return kp


def model_forward(
    X: np.ndarray,
    params: Mapping[str, np.ndarray],
    activations: Sequence[str],
    keep_probs: float | Sequence[float] | None = None,
    rng: RandomLike = None,
    *,
    batch_norm: bool | Sequence[bool] | None = None,
    training: bool = True,
) -> tuple[np.ndarray, list[LayerCache]]:
    """A[0] = X;  for l = 1..L:  Z[l] = W[l] A[l-1] + b[l],  A[l] = g[l](Z[l]).

    With ``keep_probs`` (a float for every hidden layer, or one per hidden layer), inverted dropout
    follows each hidden layer: ``D = rand < keep_prob``, ``A = A * D / keep_prob``, the masks drawn
    from ``rng`` layer by layer and kept in the caches for the backward pass.

    A batch-normalized hidden layer (``batch_norm``: one flag per hidden layer, or a bool for
    all; None: those whose ``gamma{l}`` is in params) computes Z[l] = W[l] A[l-1] (no b[l]),
    Z̃[l] = γ[l] ⊙ Z_norm[l] + β[l] (``layers.batchnorm_forward``) and A[l] = g[l](Z̃[l]).
    ``training=True`` normalizes with the batch's μ and σ² (their values in ``cache.bn``, for
    ``update_running_stats``); ``training=False`` with the running statistics
    (``running_mean{l}``, ``running_var{l}``), as ``predict`` does. Dropout, when on, follows
    A[l] as for any hidden layer.

    Returns ``(AL, caches)``: the output ``(n_L, m)`` and one ``LayerCache`` per layer (its
    ``Z`` is g[l]'s input: Z̃[l] for a batch-normalized layer).
    """
    L = num_layers(params)
    acts = check_activations(activations, L)
    kp = check_keep_probs(keep_probs, L)
    bn = [*check_batch_norm(batch_norm, params, L), False]
    if X.ndim != 2 or X.shape[0] != params["W1"].shape[1]:
        raise ValueError(
            f"X has shape {X.shape}; expected (n_x, m) with n_x = {params['W1'].shape[1]} "
            "(examples are columns)"
        )
    gen: Rng | None = None
    if any(k < 1.0 for k in kp):
        gen = check_random_state(rng)
    A = X
    caches: list[LayerCache] = []
    for l in range(1, L + 1):
        if bn[l - 1]:
            A, cache = _batchnorm_layer_forward(A, params, l, acts[l - 1], training)
        else:
            A, cache = linear_activation_forward(A, params[f"W{l}"], params[f"b{l}"],
                                                 acts[l - 1])
        if l < L and kp[l - 1] < 1.0:
            assert gen is not None
            D = dropout_mask(A.shape, kp[l - 1], gen, A.dtype)
            A = dropout_forward(A, D, kp[l - 1])
            cache = cache._replace(D=D, keep_prob=kp[l - 1])
        caches.append(cache)
    return A, caches


def _batchnorm_layer_forward(A_prev: np.ndarray, params: Mapping[str, np.ndarray], l: int,
                             activation: str, training: bool) -> tuple[np.ndarray, LayerCache]:
    """Z = W A_prev, Z̃ = γ ⊙ Z_norm + β (batch or running statistics), A = g(Z̃)."""
    W = params[f"W{l}"]
    Z = W @ A_prev
    gamma, beta = params[f"gamma{l}"], params[f"beta{l}"]
    if training:
        Z_tilde, bn = batchnorm_forward(Z, gamma, beta)
    else:
        Z_tilde, bn = batchnorm_inference(Z, gamma, beta, params[f"running_mean{l}"],
                                          params[f"running_var{l}"])
    A = get_activation(activation).forward(Z_tilde)
    return A, LayerCache(LinearCache(A_prev, W, None), Z_tilde, activation, bn=bn)


def resolve_loss(output_activation: str, loss: str | None) -> str:
    """The loss to use: the one named, else the natural one for the output activation."""
    name = default_loss(output_activation) if loss is None else loss
    get_loss(name)
    return name


def model_backward(
    AL: np.ndarray,
    Y: np.ndarray,
    caches: Sequence[LayerCache],
    lambd: float = 0.0,
    loss: str | None = None,
    fused: bool = True,
    *,
    l1: float = 0.0,
    sample_weight: np.ndarray | None = None,
) -> Grads:
    """The error recursion, from the output back to layer 1.

    Output: with the loss's canonical link (sigmoid + binary cross-entropy, softmax + categorical
    cross-entropy, identity + squared error) and ``fused=True``, ``dZ[L] = A[L] - Y``; otherwise the
    general path ``dA[L] = ∂L/∂A[L]`` then ``dZ[L] = dA[L] * g[L]'(Z[L])``. The two agree.

    Then for l = L..1:  ``dW[l] = (1/m) dZ[l] A[l-1]^T + (λ/m) W[l]`` (+ ``(λ1/m) sign(W[l])``
    with ``l1``, 0 where W[l] = 0),  ``db[l] = (1/m) Σ dZ[l]``,
    ``dA[l-1] = W[l]^T dZ[l]`` (masked by D[l-1] / keep_prob under dropout), and
    ``dZ[l-1] = dA[l-1] * g[l-1]'(Z[l-1])``. dA[0] is not computed.

    A batch-normalized layer's dZ̃[l] = dA[l] * g[l]'(Z̃[l]) goes back through
    ``layers.batchnorm_backward`` first: ``dgamma[l] = (1/m) Σ_i dZ̃[l] ⊙ Z_norm[l]``,
    ``dbeta[l] = (1/m) Σ_i dZ̃[l]`` (the 1/m of db, as dZ carries the course's factor m), and
    dZ[l] through the batch statistics; it has no db[l]. L2 (and L1) apply to W only, never
    to γ or β.

    With ``sample_weight`` ``(m,)`` (``nnlab.weights``), dZ[L]'s columns are scaled by the
    normalized weights w̃ = (m/s) w and λ (λ1) by m/s, s = Σ_i w_i: the gradient of the
    weighted cost ``compute_cost(..., sample_weight=w)``.

    Returns ``{"dW1": ..., "db1": ..., ..., "dWL": ..., "dbL": ...}``, each shaped like
    its parameter, layer by layer (dW, db, dgamma, dbeta).
    """
    L = len(caches)
    if AL.shape != Y.shape:
        raise ValueError(f"AL has shape {AL.shape} but Y has shape {Y.shape}; they must match")
    out = caches[-1]
    loss_name = resolve_loss(out.activation, loss)
    spec = get_loss(loss_name)
    if fused and spec.link == out.activation:
        dZ = AL - Y
    else:
        dZ = activation_backward(spec.gradient(AL, Y), out)
    if sample_weight is not None:
        w_tilde, scale = normalized(sample_weight, Y.shape[1])
        dZ = dZ * w_tilde
        lambd, l1 = lambd * scale, l1 * scale
    grads: Grads = {}
    for l in range(L, 0, -1):
        cache = caches[l - 1]
        if cache.bn is not None:  # dZ is dZ̃[l]: back through γ, β and the batch statistics
            m = dZ.shape[1]
            dZ, dgamma, dbeta = batchnorm_backward(dZ, cache.bn)
            grads[f"dgamma{l}"], grads[f"dbeta{l}"] = 1.0 / m * dgamma, 1.0 / m * dbeta
        dA_prev, grads[f"dW{l}"], db = linear_backward(
            dZ, cache.linear, lambd, need_dA_prev=l > 1, l1=l1
        )
        if cache.bn is None:
            grads[f"db{l}"] = db
        if l > 1:
            assert dA_prev is not None
            prev = caches[l - 2]
            if prev.D is not None:
                dA_prev = dropout_backward(dA_prev, prev.D, prev.keep_prob)
            dZ = activation_backward(dA_prev, prev)
    return dict(sorted(grads.items(), key=lambda kv: _grad_order(kv[0])))


def compute_cost(
    AL: np.ndarray,
    Y: np.ndarray,
    params: Mapping[str, np.ndarray] | None = None,
    lambd: float = 0.0,
    loss: str | None = None,
    *,
    output_activation: str | None = None,
    l1: float = 0.0,
    sample_weight: np.ndarray | None = None,
) -> np.floating:
    """J = loss(AL, Y) + (λ/2m) Σ_l ||W[l]||²_F (+ (λ1/m) Σ_l ||W[l]||₁ with ``l1``).

    The loss is chosen as ``model_backward`` chooses it: the one named by ``loss``, else the
    natural loss of ``output_activation`` (sigmoid → binary cross-entropy, softmax →
    categorical cross-entropy, identity → squared error). With neither, a single-row AL in
    [0, 1] (a sigmoid output, the course's ``compute_cost(AL, Y)``) gets binary cross-entropy,
    -(1/m) Σ (y log a + (1-y) log(1-a)), finite even for outputs of exactly 0 or 1; any other
    AL is refused rather than given a loss it may not have been made for. The L2 (L1) term
    needs ``params`` when ``lambd > 0`` (``l1 > 0``). Returns a NumPy scalar of AL's dtype.
    The penalties are on the weights W[l] only: biases, batch norm's γ and β and its running
    statistics are not penalized.

    With ``sample_weight`` ``(m,)``: J = (1/s) Σ_i w_i L(i) + (λ/2s) Σ_l ||W[l]||²_F, s = Σ_i w_i
    (``nnlab.weights``), so integer weights cost what repeated examples cost.

    >>> import numpy as np
    >>> AL = np.array([[0.7, 0.2], [0.3, 0.8]]); Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(float(compute_cost(AL, Y, output_activation="softmax")), 6)
    0.289909
    """
    if AL.shape != Y.shape:
        raise ValueError(f"AL has shape {AL.shape} but Y has shape {Y.shape}; they must match")
    if lambd < 0:
        raise ValueError(f"lambd={lambd} is negative: expected lambd >= 0")
    if loss is None and output_activation is not None:
        loss = resolve_loss(output_activation, None)
    if loss is None:
        if AL.shape[0] != 1 or not (np.all(AL >= 0) and np.all(AL <= 1)):
            raise ValueError(
                f"compute_cost cannot tell the loss of an output of shape {AL.shape}: pass "
                "output_activation (e.g. 'softmax') or loss (e.g. 'categorical_crossentropy')"
            )
        loss = "binary_crossentropy"
    m: float = Y.shape[1]
    cost: Any
    if sample_weight is None:
        cost = get_loss(loss).cost(AL, Y)
    else:
        cost, m = weighted_cost(get_loss(loss), AL, Y, sample_weight)
    if lambd:
        if params is None:
            raise ValueError("compute_cost with lambd > 0 needs params for the L2 term")
        cost = cost + l2_penalty(params, lambd, m)
    if l1:
        if params is None:
            raise ValueError("compute_cost with l1 > 0 needs params for the L1 term")
        cost = cost + l1_penalty(params, check_l1(l1), m)
    dtype = AL.dtype if np.issubdtype(AL.dtype, np.floating) else np.dtype(np.float64)
    return dtype.type(cost)


def example_accuracies(AL: np.ndarray, Y: np.ndarray, output_activation: str
                       ) -> np.ndarray | None:
    """Each example's accuracy ``(m,)``: for softmax, whether its column's argmax matches Y's;
    for sigmoid, the share of its outputs on the right side of 0.5 (one output: 0 or 1). None
    for other outputs (no accuracy)."""
    if output_activation == "softmax":
        return np.argmax(AL, axis=0) == np.argmax(Y, axis=0)
    if output_activation == "sigmoid":
        return np.mean((AL > 0.5) == (Y > 0.5), axis=0)
    return None


def batch_accuracy_sum(AL: np.ndarray, Y: np.ndarray, output_activation: str) -> float:
    """The batch's count of correctly classified examples, Σ ``example_accuracies``; NaN for
    outputs that have no accuracy."""
    correct = example_accuracies(AL, Y, output_activation)
    return math.nan if correct is None else float(np.sum(correct))


def predict_from_output(AL: np.ndarray, output_activation: str) -> np.ndarray:
    """Labels from the network's output: ``AL > 0.5`` for sigmoid (per output, so multilabel
    works), the argmax row for softmax as a ``(1, m)`` array, and AL itself otherwise."""
    if output_activation == "sigmoid":
        return (AL > 0.5).astype(np.int64)
    if output_activation == "softmax":
        return np.argmax(AL, axis=0).reshape(1, -1)
    return AL


def _sigmoid_in_place(Z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # as ``activations.sigmoid``: exp(-Z) = inf gives σ = 0
        np.negative(Z, out=Z)
        np.exp(Z, out=Z)
        np.add(Z, 1.0, out=Z)
        return np.divide(1.0, Z, out=Z)


def _softmax_in_place(Z: np.ndarray) -> np.ndarray:
    np.subtract(Z, Z.max(axis=0, keepdims=True), out=Z)
    np.exp(Z, out=Z)
    return np.divide(Z, Z.sum(axis=0, keepdims=True), out=Z)


def _leaky_relu_in_place(Z: np.ndarray) -> np.ndarray:
    return np.multiply(Z, LEAKY_RELU_SLOPE, out=Z, where=~(Z > 0))


#: g(Z) written into Z: the same NumPy operations, in the same order, as the functions of
#: ``activations`` (so the same bits), without a new array per step.
_IN_PLACE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda Z: np.maximum(Z, 0, out=Z),
    "tanh": lambda Z: np.tanh(Z, out=Z),
    "sigmoid": _sigmoid_in_place,
    "softmax": _softmax_in_place,
    "leaky_relu": _leaky_relu_in_place,
    "identity": lambda Z: Z,
}


def predict_forward(
    X: np.ndarray, params: Mapping[str, np.ndarray], activations: Sequence[str]
) -> np.ndarray:
    """A[L] of ``model_forward(X, params, activations)``, for prediction: the same
    ``Z[l] = W[l] A[l-1] + b[l]``, ``A[l] = g[l](Z[l])`` with the same products, so the same
    bits, but without dropout, caches or per-call checks of the activations, and with the bias
    and g[l] applied in place in Z[l] (one new array per layer instead of three).

    X is ``(n_x, m)`` (a transposed ``(m, n_x)`` array is fine: BLAS reads it as it is); the
    result is ``(n_L, m)``. Batch-normalized layers use their running statistics: the result is
    that of ``model_forward(..., training=False)``, each column computed from its own example.

    >>> import numpy as np
    >>> from nnlab import initialize_parameters
    >>> params = initialize_parameters([3, 4, 2], random_state=0)
    >>> X = np.random.RandomState(1).randn(3, 5)
    >>> AL, _ = model_forward(X, params, ["tanh", "softmax"])
    >>> np.array_equal(predict_forward(X, params, ["tanh", "softmax"]), AL)
    True
    """
    if X.ndim != 2 or X.shape[0] != params["W1"].shape[1]:
        raise ValueError(
            f"X has shape {X.shape}; expected (n_x, m) with n_x = {params['W1'].shape[1]} "
            "(examples are columns)"
        )
    L = len(activations)
    if isinstance(activations, str) or f"W{L}" not in params or f"W{L + 1}" in params:
        check_activations(activations, num_layers(params))  # raises the clear error
    A = X
    for l, name in enumerate(activations, start=1):
        Z = params[f"W{l}"] @ A
        if f"gamma{l}" in params:  # batch norm with the running statistics
            Z, _ = batchnorm_inference(Z, params[f"gamma{l}"], params[f"beta{l}"],
                                       params[f"running_mean{l}"], params[f"running_var{l}"])
        elif (b := params[f"b{l}"]).dtype == Z.dtype:
            Z += b
        else:  # mixed dtypes: let NumPy promote, as W A + b does
            Z = Z + b
        g = _IN_PLACE.get(name)
        A = g(Z) if g is not None else get_activation(name).forward(Z)
    return A


def predict(
    X: np.ndarray, params: Mapping[str, np.ndarray], activations: Sequence[str]
) -> np.ndarray:
    """Forward without dropout (batch norm with the running statistics), then labels: see
    ``predict_from_output``.

    >>> import numpy as np
    >>> params = {"W1": np.array([[1.0]]), "b1": np.array([[0.0]])}
    >>> predict(np.array([[-2.0, 3.0]]), params, ["sigmoid"]).tolist()
    [[0, 1]]
    """
    AL, _ = model_forward(X, params, activations, training=False)
    return predict_from_output(AL, activations[-1])
