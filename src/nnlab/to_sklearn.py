"""scikit-learn's own MLP from an nnlab network: ``Model.to_sklearn`` (whose rules are
``nnlab.model.sklearn_mlp``'s) and the estimators' ``to_sklearn`` (``estimator_to_sklearn``,
which adds what an estimator knows: its label binarizer, feature names, fitted attributes and
the settings scikit-learn shares).

>>> import numpy as np
>>> from nnlab import MLPRegressor
>>> X = np.random.RandomState(0).randn(40, 2); y = X[:, 0] - 2 * X[:, 1]
>>> nn = MLPRegressor((3,), activation="tanh", solver="lbfgs", random_state=0).fit(X, y)
>>> sk = to_sklearn(nn)
>>> type(sk).__name__, sk.activation, float(abs(sk.predict(X) - nn.predict(X)).max()) < 1e-12
('MLPRegressor', 'tanh', True)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from .model import Model, sklearn_mlp

#: scikit-learn's parameters whose nnlab values it accepts only among these.
_SKLEARN_ONLY = {"solver": ("lbfgs", "sgd", "adam"),
                 "learning_rate": ("constant", "invscaling", "adaptive")}
#: scikit-learn's fitted attributes an nnlab estimator shares.
_FITTED = ("loss_", "best_loss_", "loss_curve_", "validation_scores_", "best_validation_score_",
           "n_iter_", "t_", "feature_names_in_")


def to_sklearn(obj: Any) -> Any:
    """scikit-learn's own fitted MLP for a ``Model`` (``Model.to_sklearn``) or a fitted nnlab
    ``MLPClassifier`` / ``MLPRegressor`` (``estimator_to_sklearn``)."""
    return obj.to_sklearn() if isinstance(obj, Model) else estimator_to_sklearn(obj)


def estimator_to_sklearn(est: Any) -> Any:
    """A fitted ``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor`` equal to the nnlab
    estimator ``est`` at prediction: its network (``Model.to_sklearn``: one hidden activation,
    no batch norm), its label binarizer and ``classes_``, ``feature_names_in_``, the fitted
    attributes scikit-learn has (``loss_curve_``, ``n_iter_``, ...) and the parameters whose
    values scikit-learn accepts (nnlab's own, such as ``keep_prob`` or ``solver="rmsprop"``,
    are left at scikit-learn's defaults).

    >>> import numpy as np
    >>> from nnlab import MLPClassifier
    >>> X = np.random.RandomState(0).randn(60, 2); y = np.where(X[:, 0] > 0, "pos", "neg")
    >>> nn = MLPClassifier((5,), solver="lbfgs", random_state=0).fit(X, y)
    >>> sk = nn.to_sklearn()
    >>> type(sk).__module__, sk.classes_.tolist(), float(abs(sk.predict_proba(X)
    ...                                                     - nn.predict_proba(X)).max()) < 1e-12
    ('sklearn.neural_network._multilayer_perceptron', ['neg', 'pos'], True)
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    model = est.model_
    binarizer = getattr(est, "_label_binarizer", None)
    sk = sklearn_mlp(model, None if binarizer is None else est.classes_)
    if binarizer is not None:
        sk._label_binarizer = copy.deepcopy(binarizer)
        sk.classes_ = sk._label_binarizer.classes_
    ours = est.get_params(deep=False)
    shared = {}
    for name in sk.get_params(deep=False):
        if name == "hidden_layer_sizes" or name not in ours:
            continue  # (the network's, set by sklearn_mlp)
        value = ours[name]
        if name == "activation" and (sk.hidden_layer_sizes or value not in (
                "relu", "tanh", "logistic", "identity")):
            continue  # (the hidden layers', set by sklearn_mlp; without any, the parameter)
        if name in _SKLEARN_ONLY and value not in _SKLEARN_ONLY[name]:
            continue
        if name == "batch_size" and value is None:  # nnlab's full batch: none in scikit-learn
            continue
        if name == "random_state" and not (value is None or isinstance(
                value, int | np.random.RandomState)):
            continue
        shared[name] = value
    sk.set_params(**shared)
    for name in _FITTED:
        if name in vars(est):
            setattr(sk, name, copy.deepcopy(vars(est)[name]))
    return sk
