"""Weight initialization: ``(layer_dims, rng) -> {"W1": ..., "b1": ..., ...}``.

``W[l]`` has shape ``(n[l], n[l-1])`` and ``b[l]`` shape ``(n[l], 1)``. Weights are drawn layer by
layer, W1 first, one ``randn(n[l], n[l-1])`` each; biases are zeros. With ``random_state=3`` the
weights are exactly those the course's code draws after seeding NumPy's global generator with 3
and calling its ``randn`` the same way.

- zeros:  W = 0 (every unit of a layer stays identical: symmetry is never broken)
- random: W = randn · scale (scale 0.01 by default; the course's "large" init uses 10)
- he:     W = randn · sqrt(2 / n[l-1])   (for relu layers)
- xavier: W = randn · sqrt(1 / n[l-1])   (for tanh / sigmoid layers)

>>> p = initialize_parameters([2, 3, 1], init="he", random_state=3)
>>> p["W1"].shape, p["b1"].shape, p["W2"].shape
((3, 2), (3, 1), (1, 3))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._random import RandomLike, Rng, check_random_state, randn

Params = dict[str, np.ndarray]
#: A custom initializer: ``(n_l, n_prev, rng) -> W`` of shape ``(n_l, n_prev)``.
WeightInit = Callable[[int, int, Rng], np.ndarray]


def zeros(n_l: int, n_prev: int, rng: Rng) -> np.ndarray:
    """W = 0 (draws nothing)."""
    return np.zeros((n_l, n_prev))


def random(n_l: int, n_prev: int, rng: Rng, scale: float = 0.01) -> np.ndarray:
    """W = randn(n[l], n[l-1]) · scale."""
    return randn(rng, (n_l, n_prev)) * scale


def he(n_l: int, n_prev: int, rng: Rng) -> np.ndarray:
    """W = randn(n[l], n[l-1]) · sqrt(2 / n[l-1])."""
    return randn(rng, (n_l, n_prev)) * np.sqrt(2.0 / n_prev)


def xavier(n_l: int, n_prev: int, rng: Rng) -> np.ndarray:
    """W = randn(n[l], n[l-1]) · sqrt(1 / n[l-1])."""
    return randn(rng, (n_l, n_prev)) * np.sqrt(1.0 / n_prev)


INITIALIZERS: dict[str, WeightInit] = {
    "zeros": zeros,
    "random": random,
    "he": he,
    "xavier": xavier,
}


def check_layer_dims(layer_dims: Sequence[int]) -> list[int]:
    """Validate ``[n_x, n_1, ..., n_L]``: at least two entries, each a positive int."""
    dims = list(layer_dims)
    if len(dims) < 2:
        raise ValueError(
            f"layer_dims={dims} needs at least two sizes: [n_x, ..., n_y] (input and output)"
        )
    for l, n in enumerate(dims):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(
                f"layer_dims[{l}]={n!r} is not a valid layer size: expected an int >= 1"
            )
    return [int(n) for n in dims]


def initialize_parameters(
    layer_dims: Sequence[int],
    init: str | WeightInit = "he",
    random_state: RandomLike = None,
    dtype: np.dtype | type | None = None,
    scale: float | None = None,
    batch_norm: bool | Sequence[bool] | None = None,
) -> Params:
    """Initialize ``W1, b1, ..., WL, bL`` for the layer sizes ``[n_x, n_1, ..., n_L]``.

    Args:
        layer_dims: sizes of the input and of each layer, e.g. ``[2, 4, 1]``.
        init: "zeros", "random", "he", "xavier", or a callable ``(n_l, n_prev, rng) -> W``.
        random_state: seed, ``RandomState`` or ``Generator`` the weights are drawn from.
        dtype: float dtype of the parameters (float64 by default). The draws are always made in
            float64 and then cast, so float32 weights are the float64 ones rounded.
        scale: the multiplier of "random" (0.01 when not given); not allowed with other inits.
        batch_norm: batch-normalize every hidden layer (True), none (False or None), or one
            flag per hidden layer (the output layer never is). A batch-normalized layer l gets
            ``gamma{l}`` = 1 and ``beta{l}`` = 0 ``(n_l, 1)`` instead of ``b{l}`` (the mean
            subtraction cancels any bias), and its running statistics ``running_mean{l}`` = 0
            and ``running_var{l}`` = 1 (not trained; used at test time). The W draws are the
            same as without batch norm.

    Returns:
        ``{"W1": (n_1, n_x), "b1": (n_1, 1), ..., "WL": (n_L, n_{L-1}), "bL": (n_L, 1)}``.

    >>> p = initialize_parameters([2, 3, 1], random_state=3, batch_norm=True)
    >>> sorted(p), p["gamma1"].ravel().tolist()
    (['W1', 'W2', 'b2', 'beta1', 'gamma1', 'running_mean1', 'running_var1'], [1.0, 1.0, 1.0])
    """
    dims = check_layer_dims(layer_dims)
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype={dtype} is not a float dtype: expected float32 or float64")
    if callable(init):
        weight_init = init
    elif init in INITIALIZERS:
        weight_init = INITIALIZERS[init]
    else:
        raise ValueError(
            f"unknown init {init!r}: expected one of {', '.join(INITIALIZERS)} or a callable"
        )
    if scale is not None:
        if init != "random":
            raise ValueError(f"scale={scale} only applies to init='random', not init={init!r}")
        if not np.isfinite(scale):
            raise ValueError(f"scale={scale} must be a finite number")
        weight_init = _scaled_random(float(scale))
    bn = check_batch_norm_flags(batch_norm, len(dims) - 2)
    rng = check_random_state(random_state)
    params: Params = {}
    for l in range(1, len(dims)):
        W = np.asarray(weight_init(dims[l], dims[l - 1], rng))
        if W.shape != (dims[l], dims[l - 1]):
            raise ValueError(
                f"init returned W{l} of shape {W.shape}, expected {(dims[l], dims[l - 1])}"
            )
        params[f"W{l}"] = W.astype(dtype, copy=False)
        if l < len(dims) - 1 and bn[l - 1]:
            params[f"gamma{l}"] = np.ones((dims[l], 1), dtype=dtype)
            params[f"beta{l}"] = np.zeros((dims[l], 1), dtype=dtype)
            params[f"running_mean{l}"] = np.zeros((dims[l], 1), dtype=dtype)
            params[f"running_var{l}"] = np.ones((dims[l], 1), dtype=dtype)
        else:
            params[f"b{l}"] = np.zeros((dims[l], 1), dtype=dtype)
    return params


def check_batch_norm_flags(batch_norm: bool | Sequence[bool] | None, hidden: int) -> list[bool]:
    """One flag per hidden layer from ``batch_norm``: None or a bool for all of them, or a
    sequence of ``hidden`` bools.

    >>> check_batch_norm_flags(True, 2), check_batch_norm_flags([True, False], 2)
    ([True, True], [True, False])
    """
    if batch_norm is None:
        return [False] * hidden
    if isinstance(batch_norm, bool | np.bool_):
        return [bool(batch_norm)] * hidden
    if isinstance(batch_norm, str) or not isinstance(batch_norm, Sequence | np.ndarray):
        raise ValueError(
            f"batch_norm={batch_norm!r}: expected a bool or one bool per hidden layer"
        )
    flags = list(batch_norm)
    if len(flags) != hidden:
        raise ValueError(
            f"batch_norm has {len(flags)} entries; expected one per hidden layer ({hidden})"
        )
    for f in flags:
        if not isinstance(f, bool | np.bool_):
            raise ValueError(f"batch_norm entry {f!r} is not a bool")
    return [bool(f) for f in flags]


def _scaled_random(scale: float) -> WeightInit:
    def init(n_l: int, n_prev: int, rng: Rng) -> np.ndarray:
        return random(n_l, n_prev, rng, scale=scale)

    return init
