"""scikit-learn estimators over ``Model``: MLPClassifier, MLPRegressor, LogisticRegression.

Same parameter names, meanings and defaults as scikit-learn's ``MLPClassifier`` / ``MLPRegressor``
(and ``LogisticRegression``'s ``C``, ``tol``, ``max_iter``, ``solver="lbfgs"``) where the concept
matches, so that changing the import is enough to switch; plus what scikit-learn's lack: ``init``,
dropout (``keep_prob``), an activation per hidden layer, the solvers "gd", "momentum" and
"rmsprop", learning-rate decay, callbacks and a validation set passed to ``fit``.

How scikit-learn's settings map onto the engine (checked against scikit-learn's source, and by
``tests/test_estimators.py`` against scikit-learn's own numbers):

- Cost. scikit-learn minimizes, per mini-batch of m examples,
  ``loss(y, a) + (alpha / 2m) Σ_l ||W[l]||²`` with gradient ``(A[l-1]^T δ + alpha W) / m`` — the
  engine's ``J + (λ/2m) Σ ||W[l]||²`` with ``λ = alpha`` exactly. The data losses are the same:
  binary cross-entropy summed over the outputs (binary and multilabel, sigmoid outputs),
  categorical cross-entropy (multiclass, softmax), and ``(1/2m) Σ ||a - y||²`` (regression).
  For multi-output regression scikit-learn's reported ``loss_`` divides that by the number of
  outputs while following the gradient of the undivided sum; here ``loss_curve_`` reports the
  function whose gradient is followed (identical for one output).
- ``solver="sgd"``: scikit-learn's momentum (``v = μ v - α g``, ``θ += v``, Nesterov optional) is
  ``nnlab.optimizers.sgd``; ``"adam"`` is the engine's Adam, which puts ε inside the bias
  correction (``α v̂ / (sqrt(ŝ) + ε)``; scikit-learn's differs by a factor sqrt(1-β2^t) on ε).
  ``"momentum"`` is the course's average (``v = β v + (1-β) g`` with β = ``momentum``),
  ``"rmsprop"`` uses β = ``beta_2`` and ``epsilon``, ``"gd"`` is plain gradient descent.
  ``"lbfgs"`` minimizes the full-batch cost with SciPy's L-BFGS-B, as scikit-learn does.
- ``learning_rate``: "constant", "invscaling" (α = α0 / (t+1)^power_t, t the samples seen, set at
  the end of each epoch) and "adaptive" (α /= 5 when the stopping rule triggers, until α < 1e-6)
  as in scikit-learn — they apply to every solver except "adam" (scikit-learn ignores them for
  Adam); plus "inverse_time", the course's α = α0 / (1 + decay_rate · floor(epoch /
  decay_interval)), or any callable ``epoch -> α``; these two apply to every solver.
- Stopping: as scikit-learn, an epoch counts as "no improvement" when the training loss is not
  below the best loss minus ``tol`` (or, with ``early_stopping``, the validation score — accuracy
  or R² — is not above the best plus ``tol``); training stops when that has happened more than
  ``n_iter_no_change`` epochs in a row; with ``early_stopping`` the weights of the best
  validation score are restored at the end.
- ``init="glorot_uniform"`` (the default) is scikit-learn's initialization, drawn in scikit-learn's
  order; with the same integer ``random_state`` the initial weights are scikit-learn's.
- Randomness: each ``fit`` / ``partial_fit`` makes its generator from ``random_state`` (never
  NumPy's global one) and draws the initialization, the early-stopping split, the shuffles and
  the dropout masks from it, in that order.

>>> from sklearn.datasets import load_iris
>>> from nnlab import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(hidden_layer_sizes=(10,), learning_rate_init=0.01, max_iter=300,
...                     random_state=0).fit(X, y)
>>> clf.score(X, y) > 0.9, clf.coefs_[0].shape, clf.predict_proba(X[:2]).shape
(True, (4, 10), (2, 3))
"""

from __future__ import annotations

import functools
import html
import math
import numbers
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import scipy.optimize
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._random import Rng, check_random_state
from .activations import HIDDEN_ACTIVATIONS
from .callbacks import Callback, LearningRateScheduler
from .gradcheck import grads_to_vector, params_to_vector, vector_to_params
from .initializers import INITIALIZERS
from .losses import check_poisson_targets
from .model import Dense, GlorotUniform, History, Model
from .network import compute_cost, model_backward, model_forward, predict_forward
from .optimizers import OPTIMIZERS, constant, get_optimizer, optimizer_hyperparams, schedule_from
from .runs.config import CONSTRAINTS, Interval
from .training import ANY_EPOCHS, DivergenceError
from .weights import check_sample_weight, class_weights

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def _validate_data(estimator: Any, X: Any = "no_validation", y: Any = "no_validation",
                       **kwargs: Any) -> Any:
        return estimator._validate_data(X, y, **kwargs)


def _validate_fit_data(estimator: Any, X: Any, y: Any, reset: bool, y_kinds: str,
                       **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``validate_data(estimator, X, y, multi_output=True, dtype=(float64,
    float32), reset=reset, **kwargs)``; for plain arrays it would return unchanged (X a 2-D
    float32/float64 ndarray of finite values, y a 1-D ndarray of a kind in ``y_kinds``, finite,
    as many rows) it only records ``n_features_in_``: its checks of every other kind of input
    cost more than the training of a small network."""
    if (reset and type(X) is np.ndarray and type(y) is np.ndarray and X.ndim == 2
            and X.dtype in (np.float64, np.float32) and y.ndim == 1 and y.dtype.kind in y_kinds
            and X.shape[0] == y.shape[0] >= 1 and X.shape[1] >= 1 and np.isfinite(X).all()
            and (y.dtype.kind != "f" or np.isfinite(y).all())):
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
        estimator.n_features_in_ = X.shape[1]
        return X, y
    return _validate_data(estimator, X, y, multi_output=True, dtype=(np.float64, np.float32),
                          reset=reset, accept_sparse=SPARSE_FORMATS, **kwargs)


#: scikit-learn's activation names → the engine's: "logistic" is sigmoid, and every hidden
#: activation of the engine is accepted under its own name.
ACTIVATION_NAMES = {"logistic": "sigmoid", **{a: a for a in HIDDEN_ACTIVATIONS}}
#: The solvers that step through the engine's optimizers: every entry of ``OPTIMIZERS``.
STOCHASTIC_SOLVERS = ("adam", "sgd", *(n for n in OPTIMIZERS if n not in ("adam", "sgd")))
SOLVERS = ("adam", "sgd", "lbfgs", *STOCHASTIC_SOLVERS[2:])
LEARNING_RATES = ("constant", "invscaling", "adaptive", "inverse_time")
INITS = ("glorot_uniform", *INITIALIZERS)
#: The engine's output activation → scikit-learn's ``out_activation_`` name.
_SKLEARN_OUT = {"sigmoid": "logistic", "softmax": "softmax", "identity": "identity",
               "exp": "exp"}


_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))
#: The sparse formats X may come in (others are converted to CSR): the first layer's products
#: ``W[1] X^T`` and ``dZ[1] X`` take them as they are; everything after is dense.
SPARSE_FORMATS = ["csr", "csc"]


def _predict_rows(est: Any, X: Any) -> np.ndarray:
    """X as ``check_is_fitted`` then ``validate_data(reset=False)`` return it (or raise).

    Those two cost ~100 µs a call whatever X is, the most of a one-row prediction. The common
    case they pass through unchanged, a plain finite 2-D float64 / float32 ``ndarray`` of
    ``n_features_in_`` columns given to an estimator fitted without feature names, is checked
    here in a few µs; everything else (other types and dtypes, NaN or infinity, a wrong width,
    feature names, not fitted) takes scikit-learn's path, with its errors and warnings."""
    state = est.__dict__
    if (type(X) is np.ndarray and X.ndim == 2 and X.dtype in _FLOATS and X.shape[0] > 0
            and X.shape[1] == state.get("n_features_in_") and "feature_names_in_" not in state
            and np.isfinite(X.sum())):  # a sum over NaN or ±inf is not finite
        return X  # (``n_features_in_`` is set: ``check_is_fitted`` passes)
    check_is_fitted(est)
    return cast(np.ndarray, _validate_data(est, X, reset=False, dtype=(np.float64, np.float32),
                                           accept_sparse=SPARSE_FORMATS))


@dataclass
class _Settings:
    """The checked, effective training settings of one fit (built from the estimator's params)."""

    hidden: list[int]
    activations: list[str]
    init: str
    keep_probs: list[float]
    batch_norms: list[bool]
    solver: str
    alpha: float
    batch_size: str | int | None
    learning_rate: str | Callable[[int], float]
    learning_rate_init: float
    power_t: float
    max_iter: int
    shuffle: bool
    tol: float
    verbose: bool
    momentum: float
    nesterovs_momentum: bool
    early_stopping: bool
    validation_fraction: float
    beta_1: float
    beta_2: float
    epsilon: float
    n_iter_no_change: float
    max_fun: int
    decay_rate: float
    decay_interval: int
    callbacks: list[Callback]


#: An interval, the kind of its numbers (int or float), and the bounds that plain numbers are
#: compared with: a plain int or float x lies in it when ``above < x < below``.
_Rule = tuple[Interval, type, float, float]


def _rule(interval: Interval) -> _Rule:
    """The ``_Rule`` of an interval: a closed end is moved one float outwards, so that ``<``
    takes in the end itself."""
    above = interval.low if interval.low_open else math.nextafter(interval.low, -math.inf)
    below = interval.high if interval.high_open else math.nextafter(interval.high, math.inf)
    return interval, interval.kind, above, below


@functools.cache
def _bounds(low: float, high: float = math.inf, *, integer: bool = False,
            low_open: bool = False, high_open: bool = False) -> _Rule:
    """The rule of the numbers in [low, high] (or with open ends; infinite ends included),
    made once per kind of bounds."""
    closed = {(False, False): "both", (False, True): "left", (True, False): "right",
              (True, True): "neither"}[(low_open, high_open)]
    return _rule(Interval(int if integer else float, low, high, closed, finite=False))


@functools.cache
def _shared(key: str) -> _Rule:
    """The rule of ``TrainConfig``'s setting ``key`` (per hidden layer: of one entry), for a
    meaning the engine's settings share (``nnlab.runs.config.CONSTRAINTS``)."""
    constraint: Any = CONSTRAINTS[key]
    return _rule(cast(Interval, getattr(constraint, "each", constraint)))


def _check_number(name: str, value: Any, rule: _Rule) -> Any:
    """``value`` if it is a number the rule allows (``_bounds``, ``_shared``), else a
    ``ValueError`` with scikit-learn-like messages."""
    interval, kind, above, below = rule
    given = type(value)
    if (given is int or (given is float and kind is float)) and above < value < below:
        return value  # (a plain number inside: what nearly every call checks)
    integer = kind is int
    plain = given is int or (given is float and not integer)  # (bool is not int)
    abc: Any = numbers.Integral if integer else numbers.Real  # numbers.Real declares no "<"
    if not plain and (isinstance(value, bool) or not isinstance(value, abc)):
        raise ValueError(
            f"The '{name}' parameter must be {'an int' if integer else 'a float'}; got {value!r}"
        )
    if not interval.contains(value):
        raise ValueError(
            f"The '{name}' parameter must be in the range {interval.brackets()}; got {value!r}"
        )
    return value


@functools.cache
def _number_rules(momentum_solver: bool) -> tuple[tuple[str, _Rule], ...]:
    """The MLPs' numeric parameters in the order they are checked, with their rules.
    ``momentum`` is the momentum optimizer's β with that solver, scikit-learn's μ in [0, 1]
    otherwise."""
    return (
        ("alpha", _bounds(0.0)),
        ("learning_rate_init", _bounds(0.0, low_open=True)),
        ("power_t", _bounds(0.0)),
        ("max_iter", _bounds(1, integer=True)),
        ("tol", _bounds(0.0)),
        ("momentum", _shared("beta") if momentum_solver else _bounds(0.0, 1.0)),
        ("validation_fraction", _shared("val_split")),
        ("beta_1", _shared("beta1")),
        ("beta_2", _shared("beta2")),
        ("epsilon", _bounds(0.0, low_open=True)),
        ("max_fun", _bounds(1, integer=True)),
        ("decay_rate", _bounds(0.0)),
        ("decay_interval", _bounds(1, integer=True)),
    )


def _check_numbers(p: Mapping[str, Any], rules: Sequence[tuple[str, _Rule]]) -> dict[str, Any]:
    """Each rule's parameter of ``p`` checked as ``_check_number`` does and cast to the rule's
    kind (float or int); a plain number within the bounds is checked inline, without a call."""
    out = {}
    for name, rule in rules:
        value = p[name]
        given, kind = type(value), rule[1]
        if not ((given is int or (given is float and kind is float))
                and rule[2] < value < rule[3]):
            _check_number(name, value, rule)
        out[name] = kind(value)
    return out


def _keep_probs(value: Any, n_hidden: int) -> list[float]:
    """``keep_prob``: one probability in (0, 1] for every hidden layer, or one per layer."""
    rule = _shared("keep_prob")
    return [float(_check_number("keep_prob", k, rule))
            for k in _per_hidden_layer("keep_prob", value, n_hidden)]


def _check_choice(name: str, value: Any, choices: Collection[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"The '{name}' parameter must be one of {', '.join(map(repr, choices))}; "
            f"got {value!r}"
        )
    return value


def _per_hidden_layer(name: str, value: Any, n_hidden: int) -> list[Any]:
    """A scalar for every hidden layer, or a sequence with one entry per hidden layer."""
    if type(value) in (str, float, int) or isinstance(value, str | numbers.Number):
        return [value] * n_hidden
    values = list(value)
    if len(values) != n_hidden:
        raise ValueError(
            f"{name} has {len(values)} entries but there are {n_hidden} hidden layers: give one "
            "value, or one per hidden layer"
        )
    return values


_BOOLS = (bool, np.bool_)


def _batch_norms(value: Any, n_hidden: int) -> list[bool]:
    """``batch_norm``: True / False for every hidden layer, or one per hidden layer."""
    values = ([value] * n_hidden if isinstance(value, _BOOLS)
              else _per_hidden_layer("batch_norm", value, n_hidden))
    for v in values:
        if not isinstance(v, _BOOLS):
            raise ValueError(f"The 'batch_norm' parameter must be True or False, or one per "
                             f"hidden layer; got {value!r}")
    return [bool(v) for v in values]


def _unique_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(y, return_inverse=True)`` of 1-D integer or boolean labels: the sorted
    classes (y's dtype) and each label's index among them. Labels in a range of at most a few
    times their number are counted instead of sorted (``bincount``; 4x quicker on 300 labels,
    the same arrays), and one or two classes are found by comparing with the extremes (2.5x
    quicker again); others go to ``np.unique``."""
    if y.size and (y.dtype.kind == "b" or (y.dtype.kind in "iu" and y.dtype.itemsize < 8)
                   or y.dtype == np.int64):
        low, high = y.min(), y.max()
        top = y == high
        n_top = np.count_nonzero(top)
        if n_top == y.size:  # one class
            return np.array([low], y.dtype), np.zeros(y.size, np.intp)
        if n_top + np.count_nonzero(y == low) == y.size:  # two classes
            return np.array([low, high], y.dtype), top.astype(np.intp)
        low, high = int(low), int(high)
        if high - low <= 4 * y.size + 1024:
            offsets = y.astype(np.intp) - low
            present = np.bincount(offsets, minlength=high - low + 1) > 0
            classes = (np.flatnonzero(present) + low).astype(y.dtype)
            return classes, (np.cumsum(present) - 1)[offsets]
    classes, codes = np.unique(y, return_inverse=True)
    return classes, codes.reshape(-1)


def _count_no_improvement(losses: Sequence[float], best: float, count: int, tol: float
                          ) -> tuple[float, int]:
    """scikit-learn's ``_update_no_improvement_count`` over epoch losses, in order: per loss,
    ``count = count + 1 if loss > best - tol else 0`` then ``best = min(best, loss)``; returns
    the final (best, count). A plain loop: right after a compiled call of a few hundred epochs
    it is 5x quicker than the same with NumPy arrays (whose first calls then cost ~10 µs each,
    measured in benchmarks/run.py's timed call)."""
    for loss in losses:
        count = count + 1 if loss > best - tol else 0
        if loss < best:
            best = loss
    return best, count


class _SklearnRule(Callback):
    """scikit-learn's end-of-epoch bookkeeping, stopping rule and learning-rate updates."""

    def __init__(self, est: _NetworkEstimator, s: _Settings, n_samples: int,
                 X_val: np.ndarray | None, y_val: Any, early_stopping: bool):
        super().__init__()
        self.est, self.s, self.n_samples = est, s, n_samples
        self.X_val, self.y_val, self.early_stopping = X_val, y_val, early_stopping
        self.w_val: np.ndarray | None = None  # the validation examples' weights
        self.stopped = False

    def free_epochs(self) -> int:
        """Without validation scores and with a learning rate that changes only when the rule
        fires, it needs only the epoch losses until then: the count of epochs without
        improvement grows by at most one per epoch, and the rule fires when it passes
        ``n_iter_no_change``; so the compiled stepper may run that many epochs in one call."""
        s = self.s
        if self.X_val is not None or (s.solver != "adam" and s.learning_rate == "invscaling"):
            return 1
        if s.n_iter_no_change == np.inf:
            return ANY_EPOCHS
        return max(1, int(s.n_iter_no_change) + 1 - self.est._no_improvement_count)

    def on_epochs_end(self, first: int, logs: Mapping[str, list[float]]) -> None:
        """Several epochs at once: all but the last only count (``free_epochs``: the rule
        cannot fire before the last), in a tight loop; the last as ``on_epoch_end``."""
        losses = logs["loss"]
        if self.X_val is not None or self.s.verbose or len(losses) == 1:
            super().on_epochs_end(first, logs)
            return
        est, tol = self.est, self.s.tol
        best, count = est.best_loss_, est._no_improvement_count
        assert best is not None  # a float without early stopping
        best, count = _count_no_improvement(losses[:-1], best, count, tol)
        est.best_loss_, est._no_improvement_count = best, count
        est.n_iter_ += len(losses) - 1
        est.t_ += (len(losses) - 1) * self.n_samples
        est.loss_curve_.extend(losses[:-1])
        self.on_epoch_end(first + len(losses) - 1, {"loss": losses[-1]})

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        est, s, model = self.est, self.s, self.model
        assert model is not None and logs is not None  # set by Model.fit
        est.n_iter_ += 1
        est.loss_ = float(logs["loss"])
        est.t_ += self.n_samples
        est.loss_curve_.append(est.loss_)
        if s.verbose:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}")
        score = None
        if self.X_val is not None:
            score = (est._score_arrays(self.X_val, self.y_val) if self.w_val is None
                     else est.score(self.X_val, self.y_val, sample_weight=self.w_val))
            assert est.validation_scores_ is not None  # a list whenever there is X_val
            est.validation_scores_.append(score)
            if s.verbose:
                print(f"Validation score: {score:f}")
        if self.early_stopping:
            assert score is not None and est.best_validation_score_ is not None
            if score < est.best_validation_score_ + s.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                assert model.params is not None
                est._best_params = {k: v.copy() for k, v in model.params.items()}
        else:
            assert est.best_loss_ is not None  # a float without early stopping
            if est.loss_curve_[-1] > est.best_loss_ - s.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if est.loss_curve_[-1] < est.best_loss_:
                est.best_loss_ = est.loss_curve_[-1]
        scheduled = s.solver != "adam"
        if scheduled and s.learning_rate == "invscaling":
            model.learning_rate = s.learning_rate_init / (est.t_ + 1) ** s.power_t
        if est._no_improvement_count > s.n_iter_no_change:
            what = "Validation score" if self.early_stopping else "Training loss"
            msg = (f"{what} did not improve more than tol={s.tol:f} for "
                   f"{s.n_iter_no_change} consecutive epochs.")
            if (scheduled and s.learning_rate == "adaptive"
                    and cast(float, model.learning_rate) > 1e-6):
                assert model.learning_rate is not None
                model.learning_rate /= 5.0
                est._no_improvement_count = 0
                if s.verbose:
                    print(f"{msg} Setting learning rate to {model.learning_rate:f}")
            else:
                if s.verbose:
                    print(msg + (" Learning rate too small." if s.learning_rate == "adaptive"
                                 and scheduled else "") + " Stopping.")
                self.stopped = True
                model.stop_training = True


_PARAM_NAMES: dict[type, tuple[list[str], frozenset[str]]] = {}


def _param_names(cls: type) -> list[str]:
    """scikit-learn's ``_get_param_names`` of a class (it reads ``__init__``'s signature),
    read once per class."""
    return _param_lists(cls)[0]


def _param_set(cls: type) -> frozenset[str]:
    """``_param_names`` as a set."""
    return _param_lists(cls)[1]


def _param_lists(cls: type) -> tuple[list[str], frozenset[str]]:
    names = _PARAM_NAMES.get(cls)
    if names is None:
        found = BaseEstimator._get_param_names.__func__(cls)  # type: ignore[attr-defined]
        names = _PARAM_NAMES[cls] = (found, frozenset(found))
    return names


class _NetworkEstimator(BaseEstimator):
    """What the three estimators share: validation, the network, the fitting loops."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The ``__init__`` parameters, read once per class (``get_params`` and ``clone`` ask
        on every call, and reading a signature costs more than a small network's epoch)."""
        return list(_param_names(cls))  # (a copy: the caller may change it)

    # ------------------------------------------------------------------------------ display
    def _architecture_html(self) -> str:
        """Once fitted, the network's layers (``Model._repr_html_``: the summary table) under
        a ``<details>`` heading that reads ``n_x → n_1 → ... → n_L``; before, nothing."""
        model = getattr(self, "model_", None)
        if not isinstance(model, Model) or not model.built:
            return ""
        dims = " → ".join(str(n) for n in model.layer_dims)
        return (f'<details class="nnlab-architecture" open><summary>fitted network: '
                f"{html.escape(dims)}</summary>{model._repr_html_()}</details>")

    def _repr_html_inner(self) -> str:
        """scikit-learn's HTML (its diagram), then the fitted network's layers."""
        return str(super()._repr_html_inner()) + self._architecture_html()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        """scikit-learn's bundle, its ``text/html`` followed by the fitted network's layers."""
        bundle = dict(super()._repr_mimebundle_(**kwargs))
        if "text/html" in bundle:
            bundle["text/html"] += self._architecture_html()
        return bundle

    #: L-BFGS-B's relative function tolerance: SciPy's default for the MLPs (as scikit-learn's
    #: MLPs), 64 ε for LogisticRegression (as scikit-learn's).
    _lbfgs_ftol: float | None = None

    # The fitted state (set by fit / partial_fit).
    model_: Model
    n_iter_: int
    loss_curve_: list[float]
    validation_scores_: list[float] | None
    best_loss_: float | None
    best_validation_score_: float | None
    _best_params: dict[str, np.ndarray]

    # ----------------------------------------------------------------------------- settings
    def _settings(self) -> _Settings:  # pragma: no cover - overridden
        raise NotImplementedError

    def _mlp_settings(self, **overrides: Any) -> _Settings:
        """Check the MLP parameters (scikit-learn's constraints) and build the settings."""
        # get_params(deep=False), read directly: every parameter is an attribute of its name
        # (the instance's, unless a subclass made one a property)
        p: Mapping[str, Any] = self.__dict__
        if overrides or not p.keys() >= _param_set(type(self)):
            p = {**{k: getattr(self, k) for k in _param_names(type(self))}, **overrides}
        hls = p["hidden_layer_sizes"]
        if type(hls) is int or (isinstance(hls, numbers.Integral) and not isinstance(hls, bool)):
            hidden = [int(hls)]
        else:
            try:
                hidden = list(hls)
            except TypeError:
                raise ValueError(
                    f"hidden_layer_sizes must be an int or a sequence of ints; got {hls!r}"
                ) from None
        for h in hidden:
            integral = type(h) is int or (isinstance(h, numbers.Integral)
                                          and not isinstance(h, bool))
            if not integral or h <= 0:
                raise ValueError(f"hidden_layer_sizes must be > 0, got {hidden}.")
        hidden = [int(h) for h in hidden]
        acts = _per_hidden_layer("activation", p["activation"], len(hidden))
        for a in acts:
            _check_choice("activation", a, ACTIVATION_NAMES)
        acts = [ACTIVATION_NAMES[a] for a in acts]
        init = _check_choice("init", p["init"], INITS)
        keep = _keep_probs(p["keep_prob"], len(hidden))
        solver = _check_choice("solver", p["solver"], SOLVERS)
        if solver == "lbfgs" and any(k < 1 for k in keep):
            raise ValueError("dropout (keep_prob < 1) needs a stochastic solver, not 'lbfgs'")
        norms = _batch_norms(p.get("batch_norm", False), len(hidden))
        if solver == "lbfgs" and any(norms):
            raise ValueError("batch_norm needs a stochastic solver, not 'lbfgs' (its running "
                             "statistics are averaged over the training mini-batches)")
        bs = p["batch_size"]
        if bs is not None and bs != "auto":
            _check_number("batch_size", bs, _bounds(1, integer=True))
        lr = p["learning_rate"]
        if not callable(lr):
            _check_choice("learning_rate", lr, LEARNING_RATES)
        n_iter_no_change = p["n_iter_no_change"]
        if n_iter_no_change != np.inf:
            _check_number("n_iter_no_change", n_iter_no_change, _bounds(1, integer=True))
        callbacks = p["callbacks"]
        callbacks = [] if callbacks is None else list(callbacks)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise ValueError(f"callbacks must be nnlab Callback objects; got {cb!r}")
        return _Settings(
            hidden=hidden,
            activations=acts,
            init=init,
            keep_probs=keep,
            batch_norms=norms,
            solver=solver,
            batch_size=bs,
            learning_rate=lr,
            shuffle=bool(p["shuffle"]),
            verbose=bool(p["verbose"]),
            nesterovs_momentum=bool(p["nesterovs_momentum"]),
            early_stopping=bool(p["early_stopping"]),
            n_iter_no_change=n_iter_no_change,
            callbacks=callbacks,
            **_check_numbers(p, _number_rules(solver == "momentum")),
        )

    # ---------------------------------------------------------------------------- the network
    def _output_activation(self, Y: np.ndarray) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _build_model(self, s: _Settings, n_features: int, n_outputs: int, out: str,
                     dtype: np.dtype, rng: Rng) -> Model:
        """The network, initialized from ``rng`` (its first draws), with the solver's
        optimizer (plain descent for "lbfgs", which steps outside it)."""
        layers = []
        for units, act, kp, bn in zip(s.hidden, s.activations, s.keep_probs, s.batch_norms,
                                      strict=True):
            layers.append(Dense(units, act, init=self._layer_init(s, act), keep_prob=kp,
                                batch_norm=bn))
        # scikit-learn's Glorot factor for the output layer follows the hidden activation.
        factor_act = s.activations[-1] if s.activations else self._default_factor_activation()
        layers.append(Dense(n_outputs, out, init=self._layer_init(s, factor_act)))
        optimizer = self._make_optimizer(s) if s.solver in STOCHASTIC_SOLVERS else "gd"
        model = Model(layers, l2=s.alpha, random_state=rng, optimizer=optimizer)
        return model.build(n_features, dtype)

    def _default_factor_activation(self) -> str:
        act = getattr(self, "activation", "relu")
        return ACTIVATION_NAMES.get(act, "relu") if isinstance(act, str) else "relu"

    @staticmethod
    def _layer_init(s: _Settings, activation: str) -> Any:
        if s.init == "glorot_uniform":
            return GlorotUniform(2.0 if activation == "sigmoid" else 6.0)
        return s.init

    def _make_optimizer(self, s: _Settings) -> Any:
        # scikit-learn's parameters under the settings names the optimizers' registry reads
        # (momentum is sgd's μ and the momentum optimizer's β)
        settings = {"lr": s.learning_rate_init, "momentum": s.momentum, "beta": s.momentum,
                    "nesterov": s.nesterovs_momentum, "beta1": s.beta_1, "beta2": s.beta_2,
                    "epsilon": s.epsilon}
        return get_optimizer(s.solver, **optimizer_hyperparams(s.solver, settings))

    # ------------------------------------------------------------------------------ fitting
    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool
                        ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _initialize(self, s: _Settings, X: np.ndarray, Y: np.ndarray,
                    rng: Rng) -> None:
        out = self._output_activation(Y)
        self.model_ = self._build_model(s, X.shape[1], Y.shape[1], out, X.dtype, rng)
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(s.hidden) + 2
        self.out_activation_ = _SKLEARN_OUT[out]
        self.n_iter_ = 0
        self.t_ = 0
        self.history_ = History()
        self._optimizer_ready = s.solver in STOCHASTIC_SOLVERS  # (a fresh one: the model's)
        if s.solver in STOCHASTIC_SOLVERS:
            self._init_stochastic_state(s)

    def _init_stochastic_state(self, s: _Settings) -> None:
        """scikit-learn's bookkeeping for the stochastic solvers (on the first fit)."""
        assert self.model_.params is not None  # built
        if s.early_stopping:  # (the weights of the best validation score: only it reads them)
            self._best_params = {k: v.copy() for k, v in self.model_.params.items()}
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if s.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _fit(self, X: Any, y: Any, incremental: bool = False, X_val: Any = None,
             y_val: Any = None, sample_weight: Any = None) -> _NetworkEstimator:
        s = self._settings()
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0], X.dtype)
        if (X_val is None) != (y_val is None):
            raise ValueError("pass both X_val and y_val, or neither")
        if X_val is not None:
            X_val, y_val = self._validate_validation(X_val, y_val, X.dtype)
        rng = check_random_state(self.random_state)
        if first_pass:
            self._initialize(s, X, Y, rng)
        else:
            self._check_architecture(s, X, Y)
            self.model_.rng = rng
        try:
            if s.solver == "lbfgs":
                self._fit_lbfgs(s, X, Y, sample_weight)
            else:
                self._fit_stochastic(s, X, Y, incremental, rng, X_val, y_val, sample_weight,
                                     fresh=first_pass)
        except DivergenceError as err:
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain large "
                f"values and need to be preprocessed. ({err})"
            ) from err
        return self

    def _check_architecture(self, s: _Settings, X: np.ndarray, Y: np.ndarray) -> None:
        dims = self.model_.layer_dims
        want = [X.shape[1], *s.hidden, Y.shape[1]]
        if dims != want:
            raise ValueError(
                f"warm_start / partial_fit continue the network of layer sizes {dims}, but the "
                f"parameters and data now ask for {want}"
            )
        if self.model_.batch_norm != s.batch_norms:
            raise ValueError(
                f"warm_start / partial_fit continue a network with batch_norm="
                f"{self.model_.batch_norm}, but the parameters now ask for {s.batch_norms}"
            )

    def _validate_validation(self, X_val: Any, y_val: Any, dtype: np.dtype
                             ) -> tuple[np.ndarray, Any]:
        X_val = _validate_data(self, X_val, reset=False, dtype=(np.float64, np.float32),
                               accept_sparse=SPARSE_FORMATS)
        X_val = X_val.astype(dtype, copy=False)
        y_val = np.asarray(y_val)
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        if y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} samples but y_val has {y_val.shape[0]}"
            )
        return X_val, y_val

    def _encode_validation(self, y_val: Any, dtype: np.dtype) -> np.ndarray:  # overridden
        Y = np.asarray(y_val, dtype=dtype)
        return Y.reshape(-1, 1) if Y.ndim == 1 else Y

    def _batch_size(self, s: _Settings, n_samples: int) -> int:
        if s.batch_size is None:
            return n_samples
        if s.batch_size == "auto":
            return min(200, n_samples)
        if cast(int, s.batch_size) > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                "clipped",
                stacklevel=4,
            )
        return min(max(int(s.batch_size), 1), n_samples)  # (np.clip's bounds)

    def _fit_stochastic(self, s: _Settings, X: np.ndarray, Y: np.ndarray, incremental: bool,
                        rng: Rng, X_val: Any, y_val: Any,
                        sample_weight: np.ndarray | None = None, fresh: bool = False) -> None:
        """Epochs of the solver's optimizer (``fresh``: on the model ``_initialize`` just
        built with it; else a new optimizer each ``fit``, and one kept over ``partial_fit``s)."""
        model = self.model_
        if not hasattr(self, "_no_improvement_count"):  # a warm start after "lbfgs"
            self._init_stochastic_state(s)
        if not fresh and (not incremental or not self._optimizer_ready):
            model.set_optimizer(self._make_optimizer(s))  # (its state made when first read)
            self._optimizer_ready = True
        if s.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = s.early_stopping
        Y_val = w_val = None
        if early_stopping and X_val is None:
            # binary labels only (as scikit-learn): the user's labels, for messages that name them
            stratify = (self._decode(Y) if is_classifier(self) and self.n_outputs_ == 1
                        else None)
            if sample_weight is None:
                X, X_val, Y, Y_val = train_test_split(
                    X, Y, random_state=rng, test_size=s.validation_fraction, stratify=stratify
                )
            else:  # the weights split with their rows; the validation score uses them
                X, X_val, Y, Y_val, sample_weight, w_val = train_test_split(
                    X, Y, sample_weight, random_state=rng, test_size=s.validation_fraction,
                    stratify=stratify,
                )
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' or the "
                    "size of your dataset."
                )
            y_val = self._decode(Y_val)
        elif X_val is not None:
            Y_val = model._targets(self._encode_validation(y_val, X.dtype), X_val.shape[0],
                                   X.dtype, "y_val")
            if self.validation_scores_ is None:
                self.validation_scores_ = []
        n_samples = X.shape[0]
        batch_size = self._batch_size(s, n_samples)
        rule = _SklearnRule(self, s, n_samples, X_val, y_val, early_stopping)
        rule.w_val = w_val
        callbacks: list[Callback] = [rule]
        if callable(s.learning_rate):
            callbacks.append(LearningRateScheduler(s.learning_rate))
        elif s.learning_rate == "inverse_time":
            lr0 = s.learning_rate_init
            callbacks.append(LearningRateScheduler(
                schedule_from(lr0, s.decay_rate, s.decay_interval) or constant(lr0)))
        callbacks.extend(s.callbacks)
        self.n_iter_ = 0
        first_epoch = len(self.loss_curve_)
        epochs = 1 if incremental else s.max_iter
        try:
            # (X, Y, the weights and the validation set are checked already: Model.fit's own
            # checks of them would only repeat _validate_input's)
            history = model._fit_checked(
                X, Y, first_epoch + epochs, batch_size, s.shuffle, callbacks, 0, first_epoch,
                sample_weight, None if X_val is None else (X_val, Y_val, w_val),
            )
        except DivergenceError as error:
            if not early_stopping:
                raise
            # As scikit-learn: the weights of the best validation score are kept, training stops.
            assert model.history is not None  # the epochs before the divergence
            history = model.history
            rule.stopped = True
            warnings.warn(
                f"Training diverged at epoch {error.epoch} (the cost became {error.cost}) and "
                "stopped there; early_stopping keeps the weights of the best validation score "
                f"({self.best_validation_score_:g}). Try a smaller learning_rate_init.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if len(self.history_):
            self.history_.extend(history)
        else:  # the first epochs: the fit's own record
            self.history_ = history
        if early_stopping and hasattr(self, "_best_params"):
            model.params = {k: v.copy() for k, v in self._best_params.items()}
        if not incremental and not rule.stopped and self.n_iter_ == s.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({s.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _lbfgs_objective(self, X: np.ndarray, Y: np.ndarray, alpha: float,
                         sample_weight: np.ndarray | None = None
                         ) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        """θ ↦ (J(θ), ∂J/∂θ) on the full batch, θ the flattened W1, b1, ..., WL, bL (float64):
        ``J = loss + (alpha/2m) Σ ||W[l]||²`` (weighted: ``nnlab.weights``), the gradient by
        the engine's backprop."""
        model = self.model_
        like = model.params
        assert like is not None  # built
        XT, YT = X.T, Y.T
        acts, loss = model.activations, model.loss

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            params = {k: v.astype(X.dtype, copy=False)
                      for k, v in vector_to_params(theta, like).items()}
            AL, caches = model_forward(XT, params, acts)
            cost = float(compute_cost(AL, YT, params, alpha, loss=loss,
                                      sample_weight=sample_weight))
            grads = model_backward(AL, YT, caches, lambd=alpha, loss=loss, fused=model.fused,
                                   sample_weight=sample_weight)
            return cost, grads_to_vector(grads).astype(np.float64)

        return objective

    def _fit_lbfgs(self, s: _Settings, X: np.ndarray, Y: np.ndarray,
                   sample_weight: np.ndarray | None = None) -> None:
        model = self.model_
        objective = self._lbfgs_objective(X, Y, s.alpha, sample_weight)
        history = History()
        losses: list[float] = []

        def record(intermediate_result: scipy.optimize.OptimizeResult) -> None:
            losses.append(float(intermediate_result.fun))
            history.append(len(self.history_) + len(losses) - 1, {"loss": losses[-1]})
            if s.verbose:
                print(f"Iteration {len(losses)}, loss = {losses[-1]:.8f}")

        assert model.params is not None  # built
        theta0 = params_to_vector(model.params).astype(np.float64)
        options = {"maxfun": s.max_fun, "maxiter": s.max_iter, "gtol": s.tol}
        if self._lbfgs_ftol is not None:
            options["ftol"] = self._lbfgs_ftol
        result = scipy.optimize.minimize(
            objective, theta0, method="L-BFGS-B", jac=True, callback=record, options=options
        )
        if result.status != 0:
            warnings.warn(
                f"lbfgs failed to converge after {result.nit} iteration(s) (status="
                f"{result.status}): {result.message}\nIncrease the number of iterations "
                "(max_iter) or scale the data.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if not np.all(np.isfinite(result.x)):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain large "
                "values and need to be preprocessed."
            )
        model.params = {k: v.astype(X.dtype) for k, v in
                        vector_to_params(result.x, model.params).items()}
        self.n_iter_ = min(int(result.nit), s.max_iter)
        self.loss_ = float(result.fun)
        self.loss_curve_ = losses
        self.history_.extend(history)

    # ---------------------------------------------------------------------------- inference
    def _forward(self, X: Any) -> np.ndarray:
        """A[L]^T, ``(n_samples, n_outputs)``, for validated X."""
        return self._forward_arrays(_predict_rows(self, X))

    def _forward_arrays(self, X: np.ndarray) -> np.ndarray:
        model = self.model_
        params = model.params
        assert params is not None  # fitted
        X = X.astype(params["W1"].dtype, copy=False)
        return predict_forward(X.T, params, model.activations).T

    def _decode(self, Y: np.ndarray) -> Any:  # overridden by the classifiers
        return Y

    def _score_arrays(self, X: np.ndarray, y: Any) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    # --------------------------------------------------------------------------- attributes
    @property
    def coefs_(self) -> list[np.ndarray]:
        """The weight matrices in scikit-learn's orientation: ``coefs_[i] = W[i+1]^T``,
        shape ``(n[i], n[i+1])`` (views: writing into them changes the network)."""
        p = self.model_.params
        assert p is not None  # fitted
        return [p[f"W{l}"].T for l in range(1, len(self.model_.layers) + 1)]

    @coefs_.setter
    def coefs_(self, coefs: Sequence[np.ndarray]) -> None:
        assert self.model_.params is not None  # fitted
        p = dict(self.model_.params)
        for l, c in enumerate(coefs, start=1):
            p[f"W{l}"] = np.ascontiguousarray(np.asarray(c, dtype=p[f"W{l}"].dtype).T)
        self.model_.params = p

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """The bias vectors: ``intercepts_[i] = b[i+1]``, shape ``(n[i+1],)`` (views).

        A batch-normalized layer has no b (its β, in ``model_.params["beta1"]``, ..., takes the
        place): then there are no ``intercepts_`` (an ``AttributeError`` says so)."""
        p = self.model_.params
        assert p is not None  # fitted
        if any(self.model_.batch_norm):
            raise AttributeError(
                "intercepts_: the batch-normalized layers have no b (the mean subtraction "
                "cancels it); their β and γ are model_.params['beta1'], ['gamma1'], ...")
        return [p[f"b{l}"].reshape(-1) for l in range(1, len(self.model_.layers) + 1)]

    @intercepts_.setter
    def intercepts_(self, intercepts: Sequence[np.ndarray]) -> None:
        assert self.model_.params is not None  # fitted
        p = dict(self.model_.params)
        for l, b in enumerate(intercepts, start=1):
            p[f"b{l}"] = np.asarray(b, dtype=p[f"b{l}"].dtype).reshape(-1, 1).copy()
        self.model_.params = p

    def summary(self) -> str:
        """The fitted network's layer table (see ``Model.summary``)."""
        check_is_fitted(self)
        return self.model_.summary()

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR / CSC: the first layer multiplies them as they are
        return tags


# ------------------------------------------------------------------------------- classifiers
class _ClassifierMixin(ClassifierMixin):
    """Labels ↔ network outputs through a ``LabelBinarizer``, as scikit-learn's MLPClassifier."""

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
        X, y = _validate_fit_data(self, X, y, reset, "biu")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        fresh = not hasattr(self, "classes_") or (not self.warm_start and not incremental)
        if fresh and y.ndim == 1 and y.dtype.kind in "biu":
            return X, self._binarize_numbers(y, X.dtype)
        check_classification_targets(y)
        if fresh:
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {classes}."
                )
        if self._label_binarizer.y_type_ != "multilabel-indicator":
            self._check_classes(self.classes_)
        Y = self._label_binarizer.transform(y)
        if hasattr(Y, "toarray"):
            Y = Y.toarray()
        return X, np.asarray(Y).astype(X.dtype)

    #: Whether ``fit`` accepts a ``y`` of one class (scikit-learn's MLPClassifier does: it
    #: learns to predict that class; its LogisticRegression does not).
    _fits_one_class = True

    def _check_classes(self, classes: np.ndarray) -> None:
        if len(classes) < 2 and not self._fits_one_class:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, but the "
                f"data contains only one class: {classes[0]!r}"
            )

    def _binarize_numbers(self, y: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """``LabelBinarizer().fit_transform(y)`` for labels that are numbers (a 1-D integer or
        boolean array: always "binary" or "multiclass"), without its checks of y's type, which
        cost more than the training of a small network: the same ``classes_``, ``y_type_`` and
        output (one column ``y == classes_[1]`` for two classes, one-hot columns for more)."""
        classes, codes = _unique_labels(y)  # (two classes: codes is y == classes[1])
        binarizer = LabelBinarizer()
        binarizer.classes_ = classes
        binarizer.y_type_ = "binary" if classes.size <= 2 else "multiclass"
        binarizer.sparse_input_ = False
        self._label_binarizer, self.classes_ = binarizer, classes
        self._check_classes(classes)
        if classes.size <= 2:  # (one class: a column of zeros, as LabelBinarizer gives)
            return codes.astype(dtype).reshape(-1, 1)
        Y = np.zeros((y.size, classes.size), dtype)
        Y[np.arange(y.size), codes] = 1
        return Y

    def _output_activation(self, Y: np.ndarray) -> str:
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "sigmoid"

    def _encode_validation(self, y_val: Any, dtype: np.dtype) -> np.ndarray:
        Y = self._label_binarizer.transform(y_val)
        if hasattr(Y, "toarray"):
            Y = Y.toarray()
        return np.asarray(Y).astype(dtype)

    def _decode(self, Y: np.ndarray) -> Any:
        return self._label_binarizer.inverse_transform(Y)

    def _predict_from_output(self, out: np.ndarray) -> np.ndarray:
        """``LabelBinarizer.inverse_transform`` of the output: for the binary and multiclass
        cases its own rule written out (``classes_[σ > 0.5]``, ``classes_[argmax]``), which
        skips its validation of the output the network has just made."""
        lb = self._label_binarizer
        classes = lb.classes_
        if not lb.sparse_input_ and lb.neg_label == 0 and lb.pos_label == 1:
            if lb.y_type_ == "binary" and out.shape[1] == 1 and len(classes) == 2:
                return cast(np.ndarray, classes[(out[:, 0] > 0.5).astype(np.intp)])
            if lb.y_type_ == "multiclass" and out.shape[1] == len(classes):
                return cast(np.ndarray, classes[np.argmax(out, axis=1)])
        if self.n_outputs_ == 1:
            out = out.ravel()
        return lb.inverse_transform(out)

    def _score_arrays(self, X: np.ndarray, y: Any) -> float:
        out = self._forward_arrays(X)
        if not np.all(np.isfinite(out)):
            return np.nan
        predicted = self._predict_from_output(out)
        if (isinstance(y, np.ndarray) and y.ndim == 1 and predicted.ndim == 1
                and y.dtype == predicted.dtype):  # what accuracy_score computes, unchecked
            return float(np.average(y == predicted))
        return float(accuracy_score(y, predicted))

    def predict(self, X: Any) -> np.ndarray:
        """The predicted classes, ``(n_samples,)`` (or ``(n_samples, n_labels)`` multilabel)."""
        return self._predict_from_output(self._forward(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)`` in the order of ``classes_``: the
        softmax output (multiclass), ``[1 - σ, σ]`` (binary) or the sigmoids (multilabel)."""
        out = self._forward(X)
        if self.n_outputs_ == 1:
            proba = np.empty((out.shape[0], 2), dtype=out.dtype)
            np.subtract(1, out[:, 0], out=proba[:, 0])
            proba[:, 1] = out[:, 0]
            return proba
        return out

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``."""
        proba = self.predict_proba(X)
        return np.log(proba, out=proba)

    def _partial_fit_classes(self, y: Any, classes: Any) -> None:
        """scikit-learn's rule: ``classes`` is required on the first call, and must not change."""
        if classes is None and not hasattr(self, "classes_"):
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is None:
            return
        if hasattr(self, "classes_"):
            if not np.array_equal(self.classes_, unique_labels(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                    f"was: {self.classes_!r}"
                )
            return
        self._label_binarizer = LabelBinarizer()
        if type_of_target(y).startswith("multilabel"):
            self._label_binarizer.fit(y)
        else:
            self._label_binarizer.fit(classes)
        self.classes_ = self._label_binarizer.classes_

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _stochastic(est: Any) -> bool:
    return est.solver in STOCHASTIC_SOLVERS


_MLP_DOC_PARAMS = """
    Parameters (scikit-learn's, same meanings and defaults):
        hidden_layer_sizes: units of each hidden layer, default (100,); () for no hidden layer.
        activation: "relu" (default), "tanh", "logistic" (= "sigmoid"), "identity", or
            "leaky_relu"; or one name per hidden layer.
        solver: "adam" (default), "sgd", "lbfgs"; also "gd", "momentum", "rmsprop".
        alpha: the L2 strength; the engine's λ (cost + (alpha/2m) Σ ||W||², m the batch size).
        batch_size: "auto" = min(200, n_samples), an int, or None for the full batch.
        learning_rate: "constant", "invscaling", "adaptive" (not for "adam", as in
            scikit-learn), "inverse_time" (the course's decay, with ``decay_rate`` and
            ``decay_interval``), or a callable ``epoch -> α``.
        learning_rate_init (0.001), power_t (0.5), max_iter (200), shuffle (True),
        random_state (None), tol (1e-4), verbose (False), warm_start (False),
        momentum (0.9; β of "momentum" too), nesterovs_momentum (True), early_stopping (False),
        validation_fraction (0.1), beta_1 (0.9), beta_2 (0.999; β of "rmsprop" too),
        epsilon (1e-8), n_iter_no_change (10), max_fun (15000, "lbfgs" only).

    Parameters nnlab adds:
        init: "glorot_uniform" (default: scikit-learn's), "he", "xavier", "random", "zeros".
        keep_prob: inverted-dropout keep probability of the hidden layers (1: none), one value
            or one per hidden layer.
        batch_norm: batch-normalize the hidden layers (False: none), one value or one per
            hidden layer: such a layer has γ, β and no b (so no ``intercepts_``), and predicts
            with the running μ, σ² of its training mini-batches (stochastic solvers only).
        decay_rate, decay_interval: the "inverse_time" schedule's parameters (1.0, 1 epoch).
        callbacks: ``nnlab.callbacks`` objects called during training (their ``model`` is the
            estimator's ``model_``).

    Attributes (scikit-learn's): classes_, loss_, best_loss_, loss_curve_, validation_scores_,
    best_validation_score_, t_, coefs_, intercepts_, n_features_in_, feature_names_in_,
    n_iter_, n_layers_, n_outputs_, out_activation_. And nnlab's: model_ (the ``Model``),
    history_ (its ``History``, per epoch loss / accuracy / val_loss / val_accuracy /
    learning_rate).
"""


class _BaseMLP(_NetworkEstimator):
    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str | None = "auto",
        learning_rate: str | Callable[[int], float] = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        init: str = "glorot_uniform",
        keep_prob: float | Sequence[float] = 1.0,
        decay_rate: float = 1.0,
        decay_interval: int = 1,
        callbacks: Sequence[Callback] | None = None,
        batch_norm: bool | Sequence[bool] = False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.init = init
        self.keep_prob = keep_prob
        self.decay_rate = decay_rate
        self.decay_interval = decay_interval
        self.callbacks = callbacks
        self.batch_norm = batch_norm

    def _settings(self) -> _Settings:
        return self._mlp_settings()

    def fit(self, X: Any, y: Any, sample_weight: Any = None, *, X_val: Any = None,
            y_val: Any = None) -> _BaseMLP:
        """Train on X ``(n_samples, n_features)`` and y (from scratch unless ``warm_start``).

        ``sample_weight`` ``(n_samples,)``: a weight ≥ 0 per example, as scikit-learn's (1.7+):
        the cost is ``Σ_i w_i L_i / Σ_i w_i + (alpha/2 Σ_i w_i) Σ ||W||²`` (``nnlab.weights``),
        the early-stopping split keeps each row's weight and its validation score uses them.
        ``X_val, y_val``: a validation set scored after every epoch (``validation_scores_``,
        ``history_.val_loss``); with ``early_stopping=True`` it replaces the split of
        ``validation_fraction`` of X. Returns self.
        """
        return self._fit(X, y, incremental=False, X_val=X_val, y_val=y_val,
                         sample_weight=sample_weight)

    def to_sklearn(self) -> Any:
        """scikit-learn's own fitted MLP with this estimator's network, classes, feature names
        and the settings scikit-learn shares (``nnlab.to_sklearn.estimator_to_sklearn``);
        a ``ValueError`` says why when scikit-learn's MLP cannot hold the network."""
        from .to_sklearn import estimator_to_sklearn

        return estimator_to_sklearn(self)


class MLPClassifier(_ClassifierMixin, _BaseMLP):
    __doc__ = (
        """A multi-layer perceptron classifier: nnlab's engine behind scikit-learn's interface.

    Binary targets train one sigmoid output (binary cross-entropy), multiclass targets a softmax
    layer (categorical cross-entropy), multilabel indicator targets one sigmoid per label.
    """
        + _MLP_DOC_PARAMS
    )

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, classes: Any = None,
                    sample_weight: Any = None) -> MLPClassifier:
        """One epoch over (X, y), continuing the weights and the optimizer's state.

        ``classes`` (every class of the whole data set) is required on the first call;
        ``sample_weight`` as in ``fit``.
        """
        self._partial_fit_classes(y, classes)
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)


class MLPRegressor(RegressorMixin, _BaseMLP):
    __doc__ = (
        """A multi-layer perceptron regressor: identity output, squared error
    ``(1/2m) Σ ||a - y||²``; one output per target column.

    ``loss``: "squared_error", or "poisson" (as scikit-learn's since 1.7): an ``exp`` output
    (the log link, so predictions are positive) and half the Poisson deviance
    ``(1/m) Σ (a - y + y log(y/a))``, for counts or rates y >= 0 (a negative y is refused).
    """
        + _MLP_DOC_PARAMS
    )

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str | Sequence[str] = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str | None = "auto",
        learning_rate: str | Callable[[int], float] = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        loss: str = "squared_error",
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        init: str = "glorot_uniform",
        keep_prob: float | Sequence[float] = 1.0,
        decay_rate: float = 1.0,
        decay_interval: int = 1,
        callbacks: Sequence[Callback] | None = None,
        batch_norm: bool | Sequence[bool] = False,
    ):
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init, power_t=power_t,
            max_iter=max_iter, shuffle=shuffle, random_state=random_state, tol=tol,
            verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun, init=init,
            keep_prob=keep_prob, decay_rate=decay_rate, decay_interval=decay_interval,
            callbacks=callbacks, batch_norm=batch_norm,
        )
        self.loss = loss

    def _settings(self) -> _Settings:
        _check_choice("loss", self.loss, ("squared_error", "poisson"))
        return self._mlp_settings()

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
        X, y = _validate_fit_data(self, X, y, reset, "fiu", y_numeric=True)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if self.loss == "poisson":
            check_poisson_targets(Y)
        with np.errstate(over="ignore"):  # (refused below, with a clearer message)
            Y = np.asarray(Y, dtype=X.dtype)
        if Y.dtype != y.dtype and not np.isfinite(Y).all():  # (beyond float32's range)
            raise ValueError(f"y contains values too large for X's dtype {X.dtype}: NaN or "
                             "infinity after the conversion")
        return X, Y

    def _output_activation(self, Y: np.ndarray) -> str:
        return "exp" if self.loss == "poisson" else "identity"

    def _score_arrays(self, X: np.ndarray, y: Any) -> float:
        out = self._forward_arrays(X)
        if not np.all(np.isfinite(out)):
            return np.nan
        return float(r2_score(y, out.ravel() if out.shape[1] == 1 else out))

    def predict(self, X: Any) -> np.ndarray:
        """The network's output: ``(n_samples,)`` for one target, else
        ``(n_samples, n_outputs)``."""
        out = self._forward(X)
        return out.ravel() if out.shape[1] == 1 else out

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over (X, y), continuing the weights and the optimizer's state
        (``sample_weight`` as in ``fit``)."""
        return self._fit(X, y, incremental=True, sample_weight=sample_weight)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


# ------------------------------------------------------------------------ LogisticRegression
class LogisticRegression(_ClassifierMixin, _NetworkEstimator):
    """Logistic regression: a network with no hidden layer — one sigmoid unit (binary), a softmax
    layer (multinomial, for more than two classes) or a sigmoid per label (multilabel).

    It minimizes scikit-learn's ``LogisticRegression`` objective, ``(1/m) Σ loss +
    (1/(2 C m)) ||W||²`` (the intercept unpenalized; ``C=np.inf`` for none) — the engine's cost with
    ``λ = 1/C`` — so with the default ``solver="lbfgs"`` it reaches scikit-learn's coefficients.
    The other solvers are the course's way: e.g. ``solver="gd", learning_rate_init=0.005,
    max_iter=2000, C=np.inf`` is the course's gradient-descent logistic regression (weights from
    zeros, the full batch per step).

    Parameters:
        C (1.0), tol (1e-4), max_iter (100), random_state, verbose, warm_start: scikit-learn's.
        class_weight: None, ``{class: weight}`` or ``"balanced"`` (``n / (K · count(class))``),
            as scikit-learn's: each example's ``sample_weight`` is multiplied by its class's.
        solver: "lbfgs" (default), or "gd", "sgd", "momentum", "rmsprop", "adam".
        learning_rate_init (0.01), batch_size (None: the full batch), init ("zeros"), shuffle,
        momentum, beta_1, beta_2, epsilon, n_iter_no_change, learning_rate, decay_rate,
        decay_interval, callbacks: as for ``MLPClassifier`` (used by the iterative solvers).

    Attributes: classes_, coef_ ``(1, n_features)`` binary or ``(n_classes, n_features)``,
    intercept_, n_iter_ (an array of one count, as scikit-learn's), model_, history_, and the
    ``MLPClassifier`` attributes.
    """

    def __init__(
        self,
        C: float = 1.0,
        *,
        tol: float = 1e-4,
        solver: str = "lbfgs",
        max_iter: int = 100,
        random_state: Any = None,
        verbose: int = 0,
        warm_start: bool = False,
        learning_rate_init: float = 0.01,
        batch_size: int | str | None = None,
        init: str = "zeros",
        shuffle: bool = True,
        learning_rate: str | Callable[[int], float] = "constant",
        momentum: float = 0.9,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        decay_rate: float = 1.0,
        decay_interval: int = 1,
        callbacks: Sequence[Callback] | None = None,
        class_weight: dict[Any, float] | str | None = None,
    ):
        self.C = C
        self.class_weight = class_weight
        self.tol = tol
        self.solver = solver
        self.max_iter = max_iter
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.init = init
        self.shuffle = shuffle
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.decay_rate = decay_rate
        self.decay_interval = decay_interval
        self.callbacks = callbacks

    _lbfgs_ftol = 64 * float(np.finfo(np.float64).eps)
    _fits_one_class = False  # as scikit-learn's LogisticRegression

    def _class_weighted(self, y: Any, sample_weight: Any, classes: Any = None) -> np.ndarray:
        """``sample_weight`` (ones when None) times each example's class weight."""
        labels = np.asarray(y)
        if labels.ndim == 2 and labels.shape[1] > 1:
            raise ValueError("class_weight needs one label per example; for multilabel y, "
                             "pass sample_weight instead")
        labels = column_or_1d(labels)
        if classes is None:
            classes = np.unique(labels)
        w = (None if sample_weight is None
             else check_sample_weight(sample_weight, labels.shape[0]))
        weights = class_weights(self.class_weight, labels, np.asarray(classes), w)
        return weights if w is None else weights * w
    #: an int while fitting, then scikit-learn's array of one count
    n_iter_: Any

    def _settings(self) -> _Settings:
        C = _check_number("C", self.C, _bounds(0.0, low_open=True))
        return self._mlp_settings(
            hidden_layer_sizes=(), activation="identity", alpha=0.0 if C == np.inf else 1.0 / C,
            power_t=0.5, nesterovs_momentum=True, early_stopping=False,
            validation_fraction=0.1, max_fun=15000, keep_prob=1.0,
        )

    def _default_factor_activation(self) -> str:
        return "sigmoid"

    def fit(self, X: Any, y: Any, sample_weight: Any = None, *, X_val: Any = None,
            y_val: Any = None) -> LogisticRegression:
        """Fit on X ``(n_samples, n_features)`` and y; ``sample_weight``, ``X_val, y_val`` as
        ``MLPClassifier``'s (scored each epoch by the iterative solvers). Returns self."""
        if self.class_weight is not None:
            sample_weight = self._class_weighted(y, sample_weight)
        self._fit(X, y, incremental=False, X_val=X_val, y_val=y_val,
                  sample_weight=sample_weight)
        self.n_iter_ = np.array([self.n_iter_])
        return self

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, classes: Any = None,
                    sample_weight: Any = None) -> LogisticRegression:
        """One epoch of an iterative solver over (X, y); ``classes`` on the first call."""
        self._partial_fit_classes(y, classes)
        if hasattr(self, "n_iter_"):
            self.n_iter_ = int(np.ravel(self.n_iter_)[0])
        if self.class_weight is not None:
            if isinstance(self.class_weight, str):
                raise ValueError("class_weight='balanced' needs the whole y: it is not "
                                 "available in partial_fit; pass a dict")
            sample_weight = self._class_weighted(y, sample_weight, self.classes_)
        self._fit(X, y, incremental=True, sample_weight=sample_weight)
        self.n_iter_ = np.array([self.n_iter_])
        return self

    @property
    def coef_(self) -> np.ndarray:
        """W, ``(n_outputs, n_features)``: one row for binary, one per class or label."""
        assert self.model_.params is not None  # fitted
        return self.model_.params["W1"]

    @property
    def intercept_(self) -> np.ndarray:
        """b, ``(n_outputs,)``."""
        assert self.model_.params is not None  # fitted
        return self.model_.params["b1"].reshape(-1)

    def decision_function(self, X: Any) -> np.ndarray:
        """The logits Z = W x + b: ``(n_samples,)`` for binary (positive ⇒ ``classes_[1]``),
        else ``(n_samples, n_outputs)``."""
        X = _predict_rows(self, X)
        params = self.model_.params
        assert params is not None  # fitted
        X = X.astype(params["W1"].dtype, copy=False)
        Z = predict_forward(X.T, params, ["identity"]).T  # W x + b: the same bits, in place
        return Z.ravel() if Z.shape[1] == 1 else Z
