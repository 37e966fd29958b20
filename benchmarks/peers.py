"""The contestants: one function per library, each a whole training call on the same work.

Every function takes ``(cfg, data, epochs)`` and trains a fresh network of ``cfg.dims`` (hidden
layers ``cfg.hidden``, output ``cfg.output``: sigmoid for one output, softmax otherwise) with Adam
(α = 0.001, β1 = 0.9, β2 = 0.999, ε = 1e-8), no L2 and no dropout, on float32 data, for ``epochs``
passes over the data in batches of ``cfg.batch`` (None: the full batch), shuffling every epoch
when mini-batching and computing the loss of every batch. ``available(name)`` says why a library
cannot run (not installed, not yet in nnlab, ...) or returns None.

The nnlab contestants call only public names that old and new checkouts share (``nnlab.train``
with ``fast=``, ``nnlab.Model``, ``nnlab.Dense``, ``nnlab.MLPClassifier``), so that
``run.py --before`` can time an older checkout with this same file.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

LEARNING_RATE = 1e-3
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8


@dataclass(frozen=True)
class Config:
    name: str
    dims: tuple[int, ...]
    hidden: str
    output: str
    m: int
    batch: int | None
    epochs: int
    quick_epochs: int
    data: str
    description: str

    @property
    def batch_size(self) -> int:
        return self.m if self.batch is None else self.batch

    def flops_per_sample(self) -> int:
        """Useful FLOPs of one training example: the forward products (2 n[l] n[l-1] per layer),
        dW of every layer, dA[l-1] of every layer but the first (dA[0] is not needed)."""
        pairs = [self.dims[i] * self.dims[i + 1] for i in range(len(self.dims) - 1)]
        return 2 * sum(pairs) + 2 * sum(pairs) + 2 * sum(pairs[1:])


CONFIGS = {
    c.name: c
    for c in [
        Config("TINY", (2, 5, 2, 1), "relu", "sigmoid", 300, 64, 200, 5, "moons",
               "2-5-2-1 relu/sigmoid, 300 moons points, batch 64"),
        Config("SMALL", (64, 64, 10), "relu", "softmax", 1797, 32, 20, 2, "digits",
               "64-64-10 relu/softmax, 1797 digits, batch 32"),
        Config("MEDIUM", (784, 256, 128, 10), "relu", "softmax", 30000, 128, 2, 1, "synthetic",
               "784-256-128-10, 30000 samples, batch 128"),
        Config("LARGE", (784, 1024, 1024, 10), "relu", "softmax", 15360, 512, 1, 1, "synthetic",
               "784-1024-1024-10, 15360 samples, batch 512"),
        Config("FULLBATCH", (2, 20, 3, 1), "relu", "sigmoid", 211, None, 1000, 50, "moons",
               "2-20-3-1, 211 points, full batch, 1000 steps"),
    ]
}


@dataclass
class Data:
    X: np.ndarray  # (m, n_x) float32, C-contiguous: examples as rows
    Y: np.ndarray  # (m, n_y) float32: 0/1 for one output, one-hot for several
    y: np.ndarray  # (m,) int64 labels


def make_data(cfg: Config) -> Data:
    """Moons (scikit-learn), the 8x8 digits (shipped with scikit-learn, scaled to [0, 1]), or a
    synthetic 784-feature 10-class set (Gaussian inputs, labels from a random linear teacher)."""
    n_x, n_y = cfg.dims[0], cfg.dims[-1]
    if cfg.data == "moons":
        from sklearn.datasets import make_moons

        X, y = make_moons(cfg.m, noise=0.25, random_state=0)
    elif cfg.data == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((cfg.m, n_x), dtype=np.float32)
        teacher = rng.standard_normal((n_x, n_y), dtype=np.float32)
        y = np.argmax(X @ teacher, axis=1)
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    assert X.shape == (cfg.m, n_x), (X.shape, cfg)
    Y = y[:, None].astype(np.float32) if n_y == 1 else np.eye(n_y, dtype=np.float32)[y]
    return Data(X, Y, y)


def _activations(cfg: Config) -> list[str]:
    return [cfg.hidden] * (len(cfg.dims) - 2) + [cfg.output]


# ---------------------------------------------------------------------------------------------
# nnlab


def nnlab_train(cfg: Config, d: Data, epochs: int, fast: bool | str = True) -> Any:
    import nnlab

    return nnlab.train(d.X.T, d.Y.T, list(cfg.dims), _activations(cfg), init="he",
                       optimizer="adam", learning_rate=LEARNING_RATE, num_epochs=epochs,
                       batch_size=cfg.batch, random_state=0, fast=fast)


def nnlab_textbook(cfg: Config, d: Data, epochs: int) -> Any:
    return nnlab_train(cfg, d, epochs, fast=False)


def nnlab_exact(cfg: Config, d: Data, epochs: int) -> Any:
    """``fast="exact"``: only the steps that give the textbook's bits (flat buffers, and with
    Numba the one-pass updates and relu passes), no whole-epoch kernel."""
    return nnlab_train(cfg, d, epochs, fast="exact")


def nnlab_numpy_only(cfg: Config, d: Data, epochs: int) -> Any:
    """The exact fast path on NumPy alone (``NNLAB_NUMBA=0``: what runs without Numba)."""
    import os

    before = os.environ.get("NNLAB_NUMBA")
    os.environ["NNLAB_NUMBA"] = "0"
    try:
        return nnlab_train(cfg, d, epochs, fast="exact")
    finally:
        if before is None:
            del os.environ["NNLAB_NUMBA"]
        else:
            os.environ["NNLAB_NUMBA"] = before


def nnlab_model(cfg: Config, d: Data, epochs: int) -> Any:
    import nnlab

    layers = [nnlab.Dense(n, cfg.hidden) for n in cfg.dims[1:-1]]
    layers.append(nnlab.Dense(cfg.dims[-1], cfg.output))
    model = nnlab.Model(layers, optimizer="adam", learning_rate=LEARNING_RATE, random_state=0)
    model.fit(d.X, d.Y, epochs=epochs, batch_size=cfg.batch, verbose=0)
    return model


def _textbook_model_fit(run: Callable[[Config, Data, int], Any]):
    """``run`` with every ``nnlab.Model`` on its textbook step, so that the same function times
    an older checkout too (``run.py --before``): ``Model(..., fast=False)`` where ``Model`` has
    that switch (MLPClassifier builds its Model inside, so the switch is set in ``__init__``);
    nnlab 0.2 and older have none, and there ``FastTrainer.for_model`` returns None instead."""

    def textbook(cfg: Config, d: Data, epochs: int) -> Any:
        import inspect

        import nnlab

        cls = nnlab.Model
        if "fast" in inspect.signature(cls).parameters:
            original = cls.__dict__["__init__"]

            def init(self: Any, *args: Any, **kwargs: Any) -> None:
                original(self, *args, **{**kwargs, "fast": False})

            cls.__init__ = init  # type: ignore[method-assign]
            try:
                return run(cfg, d, epochs)
            finally:
                cls.__init__ = original  # type: ignore[method-assign]
        from nnlab.fast import FastTrainer

        original_for_model = FastTrainer.__dict__["for_model"]
        setattr(FastTrainer, "for_model", classmethod(lambda cls, model, dtype: None))  # noqa: B010
        try:
            return run(cfg, d, epochs)
        finally:
            setattr(FastTrainer, "for_model", original_for_model)  # noqa: B010

    return textbook


def _mlp_kwargs(cfg: Config, epochs: int) -> dict:
    return dict(hidden_layer_sizes=cfg.dims[1:-1], activation=cfg.hidden, solver="adam",
                alpha=0.0, batch_size=cfg.batch_size, learning_rate_init=LEARNING_RATE,
                max_iter=epochs, shuffle=True, random_state=0, tol=0.0,
                n_iter_no_change=epochs + 1, early_stopping=False)


def nnlab_mlpclassifier(cfg: Config, d: Data, epochs: int) -> Any:
    import nnlab

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nnlab.MLPClassifier(**_mlp_kwargs(cfg, epochs)).fit(d.X, d.y)


def nnlab_mlpregressor(cfg: Config, d: Data, epochs: int) -> Any:
    """MLPRegressor on the same network with an identity output and squared error, fitting the
    0/1 (or one-hot) targets: the regression way in, the same work per epoch."""
    import nnlab

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Y = d.Y[:, 0] if d.Y.shape[1] == 1 else d.Y
        return nnlab.MLPRegressor(**_mlp_kwargs(cfg, epochs)).fit(d.X, Y)


# ---------------------------------------------------------------------------------------------
# scikit-learn


def sklearn_adam(cfg: Config, d: Data, epochs: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, as intended
        return MLPClassifier(**_mlp_kwargs(cfg, epochs)).fit(d.X, d.y)


# ---------------------------------------------------------------------------------------------
# PyTorch, eager


def torch_eager(cfg: Config, d: Data, epochs: int) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for i in range(len(cfg.dims) - 1):
        layers.append(nn.Linear(cfg.dims[i], cfg.dims[i + 1]))
        if i < len(cfg.dims) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, betas=(BETA1, BETA2), eps=EPS)
    if cfg.dims[-1] == 1:
        loss_fn: nn.Module = nn.BCEWithLogitsLoss()
        X, T = torch.from_numpy(d.X), torch.from_numpy(d.Y)
    else:
        loss_fn = nn.CrossEntropyLoss()
        X, T = torch.from_numpy(d.X), torch.from_numpy(d.y)
    m, b = cfg.m, cfg.batch_size
    gen = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        total = torch.zeros(())
        if b >= m:
            batches = [(X, T)]
        else:
            perm = torch.randperm(m, generator=gen)
            batches = [(X[perm[k : k + b]], T[perm[k : k + b]]) for k in range(0, m, b)]
        for xb, tb in batches:
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), tb)
            loss.backward()
            opt.step()
            total += loss.detach() * xb.shape[0]
        float(total)  # the epoch's loss, as every contestant computes it
    return model


# ---------------------------------------------------------------------------------------------
# JAX: Adam by hand (no optax needed), examples as rows.


def _jax_parts(cfg: Config):
    import jax
    import jax.numpy as jnp

    def init(key):
        params = []
        for i in range(len(cfg.dims) - 1):
            key, sub = jax.random.split(key)
            n_in, n_out = cfg.dims[i], cfg.dims[i + 1]
            W = jax.random.normal(sub, (n_in, n_out), jnp.float32) * jnp.sqrt(2.0 / n_in)
            params.append((W, jnp.zeros(n_out, jnp.float32)))
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return params, (zeros, zeros, jnp.zeros((), jnp.int32))

    def loss_fn(params, xb, yb):
        h = xb
        for W, b in params[:-1]:
            h = jax.nn.relu(h @ W + b)
        W, b = params[-1]
        z = h @ W + b
        if cfg.dims[-1] == 1:  # binary cross-entropy from the logits
            return jnp.mean(jax.nn.softplus(z) - yb * z)
        return -jnp.mean(jnp.sum(yb * jax.nn.log_softmax(z), axis=1))

    def step(carry, batch):
        params, (v, s, t) = carry
        xb, yb = batch
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        t = t + 1
        v = jax.tree_util.tree_map(lambda v, g: BETA1 * v + (1 - BETA1) * g, v, grads)
        s = jax.tree_util.tree_map(lambda s, g: BETA2 * s + (1 - BETA2) * g * g, s, grads)
        c1, c2 = 1 - BETA1**t, 1 - BETA2**t
        params = jax.tree_util.tree_map(
            lambda p, v, s: p - LEARNING_RATE * (v / c1) / (jnp.sqrt(s / c2) + EPS),
            params, v, s)
        return (params, (v, s, t)), loss * xb.shape[0]

    return init, step


@functools.cache
def _jax_epoch(cfg: Config):
    """The jitted epoch, built once per process (the warm-up call compiles it): shuffle, then
    lax.scan over the full batches, then the last (smaller) batch, in one compiled function."""
    import jax
    import jax.numpy as jnp

    init, step = _jax_parts(cfg)
    m, b = cfg.m, cfg.batch_size
    n_full, rest = divmod(m, b)

    @jax.jit
    def epoch(carry, X, Y, key):
        key, sub = jax.random.split(key)
        if b < m:
            perm = jax.random.permutation(sub, m)
            X, Y = X[perm], Y[perm]
        Xf = X[: n_full * b].reshape(n_full, b, X.shape[1])
        Yf = Y[: n_full * b].reshape(n_full, b, Y.shape[1])
        carry, losses = jax.lax.scan(step, carry, (Xf, Yf))
        total = jnp.sum(losses)
        if rest:
            carry, last = step(carry, (X[n_full * b :], Y[n_full * b :]))
            total = total + last
        return carry, key, total

    return init, epoch


def jax_scan_epoch(cfg: Config, d: Data, epochs: int) -> Any:
    """One jitted call per epoch."""
    import jax
    import jax.numpy as jnp

    init, epoch = _jax_epoch(cfg)
    key = jax.random.PRNGKey(0)
    carry = init(key)
    X, Y = jnp.asarray(d.X), jnp.asarray(d.Y)
    for _ in range(epochs):
        carry, key, total = epoch(carry, X, Y, key)
        float(total)
    return carry


@functools.cache
def _jax_epochs(cfg: Config):
    """Every epoch in one jitted call: ``lax.fori_loop`` over the jitted epoch above, the
    number of epochs a traced argument (so the warm-up call compiles it for any count). It
    returns the last epoch's total only: less to hand back than nnlab's per-epoch costs."""
    import jax
    import jax.numpy as jnp

    init, epoch = _jax_epoch(cfg)

    @jax.jit
    def run(carry, X, Y, key, n):
        def body(_, state):
            carry, key, _total = state
            return epoch(carry, X, Y, key)

        return jax.lax.fori_loop(0, n, body, (carry, key, jnp.zeros((), jnp.float32)))

    return init, run


def jax_scan_all(cfg: Config, d: Data, epochs: int) -> Any:
    """One jitted call for all the epochs (the fastest way JAX offers to run them)."""
    import jax
    import jax.numpy as jnp

    init, run = _jax_epochs(cfg)
    carry = init(jax.random.PRNGKey(0))
    X, Y = jnp.asarray(d.X), jnp.asarray(d.Y)
    carry, _, total = run(carry, X, Y, jax.random.PRNGKey(0), epochs)
    float(total)
    return carry


@functools.cache
def _jax_step(cfg: Config):
    import jax

    init, step = _jax_parts(cfg)
    return init, jax.jit(step)


def jax_jit_step(cfg: Config, d: Data, epochs: int) -> Any:
    """A jitted step (built once per process) called from a Python loop over NumPy-shuffled
    batches."""
    import jax

    init, jstep = _jax_step(cfg)
    m, b = cfg.m, cfg.batch_size
    rng = np.random.default_rng(0)
    carry = init(jax.random.PRNGKey(0))
    for _ in range(epochs):
        if b < m:
            perm = rng.permutation(m)
            X, Y = d.X[perm], d.Y[perm]
        else:
            X, Y = d.X, d.Y
        total = 0.0
        for k in range(0, m, b):
            carry, loss = jstep(carry, (X[k : k + b], Y[k : k + b]))
            total = total + loss
        float(total)
    return carry


# ---------------------------------------------------------------------------------------------
# "Careful NumPy": a plain MLP written independently of nnlab, examples as rows, with a flat
# parameter buffer, preallocated work arrays, out= and in-place operations, Adam as whole-buffer
# passes.


class CarefulMLP:
    def __init__(self, dims: tuple[int, ...], rng: np.random.Generator):
        self.dims = dims
        sizes = [(dims[i], dims[i + 1]) for i in range(len(dims) - 1)]
        n = sum(a * b + b for a, b in sizes)
        self.theta = np.zeros(n, np.float32)
        self.grad = np.zeros(n, np.float32)
        self.v, self.s = np.zeros(n, np.float32), np.zeros(n, np.float32)
        self.t1, self.t2 = np.empty(n, np.float32), np.empty(n, np.float32)
        self.W, self.b, self.dW, self.db = [], [], [], []
        o = 0
        for a, b in sizes:
            self.W.append(self.theta[o : o + a * b].reshape(a, b))
            self.dW.append(self.grad[o : o + a * b].reshape(a, b))
            o += a * b
            self.b.append(self.theta[o : o + b])
            self.db.append(self.grad[o : o + b])
            o += b
            self.W[-1][...] = rng.standard_normal((a, b), dtype=np.float32) * np.sqrt(2.0 / a)
        self.step_count = 0
        self.work: dict[int, tuple] = {}

    def _buffers(self, m: int):
        if m not in self.work:
            H = [np.empty((m, n), np.float32) for n in self.dims[1:]]
            dH = [np.empty((m, n), np.float32) for n in self.dims[1:]]
            self.work[m] = (H, dH, np.empty((m, self.dims[-1]), np.float32))
        return self.work[m]

    def step(self, X: np.ndarray, Y: np.ndarray) -> float:
        m, L = X.shape[0], len(self.W)
        H, dH, tmp = self._buffers(m)
        prev = X
        for i in range(L):
            np.matmul(prev, self.W[i], out=H[i])
            H[i] += self.b[i]
            if i < L - 1:
                np.maximum(H[i], 0, out=H[i])
            prev = H[i]
        Z = H[-1]
        if Z.shape[1] == 1:  # sigmoid + binary cross-entropy, from the logits
            np.logaddexp(0, Z, out=tmp)
            loss = float(np.mean(tmp - Y * Z))
            np.negative(Z, out=Z)
            np.exp(Z, out=Z)
            Z += 1
            np.divide(1, Z, out=Z)
        else:  # softmax + categorical cross-entropy
            Z -= Z.max(axis=1, keepdims=True)
            np.exp(Z, out=Z)
            Z /= Z.sum(axis=1, keepdims=True)
            np.maximum(Z, 1e-30, out=tmp)
            np.log(tmp, out=tmp)
            loss = -float(np.sum(tmp * Y)) / m
        dZ = dH[-1]
        np.subtract(Z, Y, out=dZ)
        dZ *= 1.0 / m
        for i in range(L - 1, -1, -1):
            A_prev = X if i == 0 else H[i - 1]
            np.matmul(A_prev.T, dZ, out=self.dW[i])
            np.sum(dZ, axis=0, out=self.db[i])
            if i > 0:
                np.matmul(dZ, self.W[i].T, out=dH[i - 1])
                dH[i - 1] *= H[i - 1] > 0
                dZ = dH[i - 1]
        self._adam()
        return loss

    def _adam(self) -> None:
        self.step_count += 1
        t, g, v, s, t1, t2 = self.step_count, self.grad, self.v, self.s, self.t1, self.t2
        v *= BETA1
        np.multiply(g, 1 - BETA1, out=t1)
        v += t1
        s *= BETA2
        np.multiply(g, g, out=t1)
        t1 *= 1 - BETA2
        s += t1
        np.multiply(s, 1 / (1 - BETA2**t), out=t2)
        np.sqrt(t2, out=t2)
        t2 += EPS
        np.multiply(v, LEARNING_RATE / (1 - BETA1**t), out=t1)
        t1 /= t2
        self.theta -= t1


def careful_numpy(cfg: Config, d: Data, epochs: int) -> Any:
    rng = np.random.default_rng(0)
    net = CarefulMLP(cfg.dims, rng)
    m, b = cfg.m, cfg.batch_size
    Xs, Ys = np.empty_like(d.X), np.empty_like(d.Y)
    for _ in range(epochs):
        if b < m:
            perm = rng.permutation(m)
            np.take(d.X, perm, axis=0, out=Xs, mode="clip")
            np.take(d.Y, perm, axis=0, out=Ys, mode="clip")
        else:
            Xs, Ys = d.X, d.Y
        total = 0.0
        for k in range(0, m, b):
            total += net.step(Xs[k : k + b], Ys[k : k + b]) * min(b, m - k)
    return net


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contestant:
    name: str
    label: str
    run: Callable[[Config, Data, int], Any]
    needs: str  # the module that must import
    kind: str  # "nnlab", "peer", "reference" or "variant"


CONTESTANTS = {
    c.name: c
    for c in [
        Contestant("nnlab", "nnlab.train", nnlab_train, "nnlab.fast", "nnlab"),
        Contestant("nnlab-model", "nnlab Model.fit", nnlab_model, "nnlab", "nnlab"),
        Contestant("nnlab-mlp", "nnlab MLPClassifier", nnlab_mlpclassifier, "nnlab",
                   "nnlab"),
        Contestant("nnlab-mlpreg", "nnlab MLPRegressor", nnlab_mlpregressor, "nnlab", "nnlab"),
        Contestant("jax-scan", "JAX jit epoch (scan)", jax_scan_epoch, "jax", "peer"),
        Contestant("jax-step", "JAX jit step", jax_jit_step, "jax", "peer"),
        Contestant("jax-all", "JAX jit, all epochs in one call", jax_scan_all, "jax", "peer"),
        Contestant("torch", "PyTorch eager", torch_eager, "torch", "peer"),
        Contestant("sklearn", "scikit-learn adam", sklearn_adam, "sklearn.neural_network", "peer"),
        Contestant("numpy", "careful NumPy", careful_numpy, "numpy", "reference"),
        Contestant("nnlab-textbook", "nnlab textbook (fast=False)", nnlab_textbook, "nnlab",
                   "variant"),
        Contestant("nnlab-numpy", "nnlab exact, NumPy only (NNLAB_NUMBA=0)", nnlab_numpy_only,
                   "nnlab", "variant"),
        Contestant("nnlab-exact", "nnlab exact (fast=\"exact\")", nnlab_exact, "nnlab",
                   "variant"),
        Contestant("nnlab-model-textbook", "nnlab Model.fit, textbook step",
                   _textbook_model_fit(nnlab_model), "nnlab", "variant"),
        Contestant("nnlab-mlp-textbook", "nnlab MLPClassifier, textbook step",
                   _textbook_model_fit(nnlab_mlpclassifier), "nnlab", "variant"),
    ]
}


def available(name: str) -> str | None:
    """None if the contestant can run here, else why not."""
    c = CONTESTANTS[name]
    if importlib.util.find_spec(c.needs.split(".")[0]) is None:
        return f"{c.needs} is not installed"
    try:
        module = importlib.import_module(c.needs)
    except Exception as exc:  # a module that is there but does not import (yet)
        return f"{c.needs} does not import: {type(exc).__name__}: {exc}"
    if name.startswith("nnlab-model") and not hasattr(module, "Model"):
        return "nnlab has no Model yet"
    if name.startswith("nnlab-mlp") and not hasattr(module, "MLPClassifier"):
        return "nnlab has no MLPClassifier yet"
    return None
