"""The "football" data of the course's regularization notebook: where the French goalkeeper
should kick the ball, so that a French player (label 1, blue) heads it. Read from ``data.mat``.
"""

from __future__ import annotations

import os

import numpy as np

from ._files import find_data_file, malformed
from .split import TrainTest

FOOTBALL_FILE = "data.mat"
FOOTBALL_EXPECTED = (
    "the course's football data (a MATLAB file read by scipy.io.loadmat) with X float (m, 2), "
    "y (m, 1) of 0/1 labels, Xval (k, 2) and yval (k, 1); the course's has m = 211, k = 200"
)


def load_football(
    data_dir: str | os.PathLike[str] | None = None, as_samples: bool = False
) -> TrainTest:
    """Read ``data.mat``: from ``data_dir`` if given, else from ``$NNLAB_DATA`` or the cache
    (the search order of ``nnlab.datasets.fetch``; ``nnlab datasets fetch`` downloads it).

    Returns ``TrainTest(X_train (2, 211), Y_train (1, 211), X_test (2, 200), Y_test (1, 200))``
    (the course calls the test set the validation set: ``Xval``, ``yval``), or with
    ``as_samples=True`` X ``(m, 2)`` and integer labels ``(m,)``.

    Raises ``DataFileError`` if the file is missing or does not hold those arrays.
    """
    from scipy.io import loadmat

    file = find_data_file(FOOTBALL_FILE, FOOTBALL_EXPECTED, data_dir)
    try:
        mat = loadmat(file)
    except Exception as exc:  # scipy raises several types for a file that is not a .mat
        raise malformed(
            file, f"scipy.io.loadmat could not read it ({exc})", FOOTBALL_EXPECTED
        ) from None
    arrays = []
    for x_key, y_key in (("X", "y"), ("Xval", "yval")):
        for key in (x_key, y_key):
            if key not in mat:
                raise malformed(file, f"it has no array {key!r}", FOOTBALL_EXPECTED)
        X, y = np.asarray(mat[x_key]), np.asarray(mat[y_key])
        if X.ndim != 2 or X.shape[1] != 2 or X.shape[0] == 0:
            raise malformed(file, f"{x_key} has shape {X.shape}", FOOTBALL_EXPECTED)
        if y.shape != (X.shape[0], 1):
            raise malformed(file, f"{y_key} has shape {y.shape}, {x_key} {X.shape}",
                            FOOTBALL_EXPECTED)
        if not np.all(np.isin(y, (0, 1))):
            raise malformed(file, f"{y_key} holds labels other than 0 and 1", FOOTBALL_EXPECTED)
        arrays += [X.T.astype(np.float64), y.T.astype(np.float64)]
    data = TrainTest(*arrays)
    return data.as_samples() if as_samples else data
