"""The course's data sets.

Loaders return the engine's orientation, ``X`` of shape ``(n_x, m)`` and ``Y`` of shape
``(1, m)``; ``as_samples`` gives the ``(n_samples, n_features)`` orientation of scikit-learn.
"""

from .planar import load_flower

__all__ = ["load_flower"]
