"""The course's cat / non-cat pictures: 64 × 64 RGB images, label 1 = cat.

Read with h5py from ``train_catvnoncat.h5`` (209 images) and ``test_catvnoncat.h5`` (50 images),
found in ``data_dir`` if given, else in ``$NNLAB_DATA`` or the cache (the search order of
``nnlab.datasets.fetch``; ``nnlab datasets fetch`` downloads them).
"""

from __future__ import annotations

import os

import numpy as np

from .._extras import require
from ._files import find_data_file, malformed
from .split import TrainTest

CAT_FILES = {"train": "train_catvnoncat.h5", "test": "test_catvnoncat.h5"}
#: The class names, by label.
CAT_CLASSES = ("non-cat", "cat")
IMAGE_SHAPE = (64, 64, 3)


def _expected(split: str) -> str:
    m = 209 if split == "train" else 50
    return (
        f"the course's cat / non-cat {split} set: an HDF5 file with {split}_set_x uint8 "
        f"(m, 64, 64, 3), {split}_set_y (m,) of 0/1 labels and list_classes; "
        f"the course's has m = {m}"
    )


def load_cat_images(
    data_dir: str | os.PathLike[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The raw pictures: ``train_x (209, 64, 64, 3) uint8``, ``train_y (209,)``,
    ``test_x (50, 64, 64, 3) uint8``, ``test_y (50,)``, as stored in the files."""
    h5py = require("h5py", "course", "reading the cat pictures")
    out: list[np.ndarray] = []
    for split, name in CAT_FILES.items():
        expected = _expected(split)
        file = find_data_file(name, expected, data_dir)
        try:
            h5 = h5py.File(file, "r")
        except OSError as exc:
            raise malformed(file, f"h5py could not open it ({exc})", expected) from None
        with h5:
            for key in (f"{split}_set_x", f"{split}_set_y"):
                if key not in h5:
                    raise malformed(file, f"it has no dataset {key!r}", expected)
            x = np.asarray(h5[f"{split}_set_x"][:])
            y = np.asarray(h5[f"{split}_set_y"][:])
        if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE or x.dtype != np.uint8:
            raise malformed(file, f"{split}_set_x is {x.dtype} {x.shape}", expected)
        if y.shape != (x.shape[0],):
            raise malformed(file, f"{split}_set_y has shape {y.shape}, {split}_set_x {x.shape}",
                            expected)
        if not np.all(np.isin(y, (0, 1))):
            raise malformed(file, f"{split}_set_y holds labels other than 0 and 1", expected)
        out += [x, y]
    return out[0], out[1], out[2], out[3]


def load_cat(
    data_dir: str | os.PathLike[str] | None = None, as_samples: bool = False
) -> TrainTest:
    """The pictures flattened for a network: each image becomes one column of 64·64·3 = 12288
    values (C order: row, column, channel), divided by 255.

    Returns ``TrainTest(X_train (12288, 209), Y_train (1, 209), X_test (12288, 50),
    Y_test (1, 50))``, or with ``as_samples=True`` X ``(m, 12288)`` and integer labels ``(m,)``.
    Raises ``DataFileError`` if a file is missing or malformed.
    """
    train_x, train_y, test_x, test_y = load_cat_images(data_dir)
    data = TrainTest(
        train_x.reshape(train_x.shape[0], -1).T / 255.0,
        train_y.reshape(1, -1).astype(np.float64),
        test_x.reshape(test_x.shape[0], -1).T / 255.0,
        test_y.reshape(1, -1).astype(np.float64),
    )
    return data.as_samples() if as_samples else data
