"""The course's data sets.

Loaders return the engine's orientation, ``X`` of shape ``(n_x, m)`` and ``Y`` of shape
``(1, m)`` (float 0/1 labels); with ``as_samples=True`` they return scikit-learn's
``X (n_samples, n_features)`` and integer ``y (n_samples,)``.

- ``load_flower()``: the planar flower, X (2, 400).
- ``load_circles()``: train (2, 300) / test (2, 100), for the initialization experiment.
- ``load_moons()``: X (2, 300), for the optimizer experiment.
- ``load_football(data_dir)``: ``data.mat``, train (2, 211) / test (2, 200).
- ``load_cat(data_dir)``: ``train_catvnoncat.h5`` / ``test_catvnoncat.h5``,
  (12288, 209) / (12288, 50).

The two file-based sets are read from ``data_dir=`` if given, else from ``$NNLAB_DATA`` or the
download cache (``nnlab.datasets.fetch`` documents the search order and downloads the files:
``nnlab datasets fetch``). A missing or malformed file raises ``DataFileError``.

Each name is imported from its submodule on first use, so that a light submodule (the catalog
that ``nnlab datasets`` lists, ``fetch``) loads without NumPy.

>>> from nnlab.datasets import load_moons
>>> load_moons()[0].shape
(2, 300)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: public name -> the submodule that defines it
_LAZY: dict[str, str] = {
    "DATA_ENV": "_files",
    "DataFileError": "_files",
    "data_dir": "_files",
    "find_data_file": "_files",
    "CAT_CLASSES": "cats",
    "load_cat": "cats",
    "load_cat_images": "cats",
    "load_football": "football",
    "load_flower": "planar",
    "TrainTest": "split",
    "as_samples_pair": "split",
    "load_circles": "synthetic",
    "load_moons": "synthetic",
}

if TYPE_CHECKING:  # what type checkers and editors see: the same names, imported eagerly
    from ._files import DATA_ENV, DataFileError, data_dir, find_data_file
    from .cats import CAT_CLASSES, load_cat, load_cat_images
    from .football import load_football
    from .planar import load_flower
    from .split import TrainTest, as_samples_pair
    from .synthetic import load_circles, load_moons


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first use, and keep the value."""
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nnlab.datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "CAT_CLASSES",
    "DATA_ENV",
    "DataFileError",
    "TrainTest",
    "as_samples_pair",
    "data_dir",
    "find_data_file",
    "load_cat",
    "load_cat_images",
    "load_circles",
    "load_flower",
    "load_football",
    "load_moons",
]
