"""What ``nnlab datasets`` lists about each named data set, known without building it or
importing NumPy, so that ``nnlab datasets`` answers at once (``nnlab.datasets.registry`` builds
them, and names these too).

>>> CATALOG["moons"].samples, CATALOG["moons"].task
(300, 'binary')
>>> FILE_DATASETS
('football', 'cat')
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetInfo:
    """What ``nnlab datasets`` lists about a named data set, known without building it.

    ``test_samples`` is the size of its separate test set (0: none); ``files`` are the course
    files it is read from (see ``nnlab.datasets.fetch``).
    """

    samples: int
    features: int
    task: str
    description: str
    test_samples: int = 0
    files: tuple[str, ...] = ()


#: Every named data set, described (at its default size) without loading it.
CATALOG: dict[str, DatasetInfo] = {
    "flower": DatasetInfo(400, 2, "binary",
                          "the course's planar flower: 2 interleaved classes, 2 features"),
    "circles": DatasetInfo(300, 2, "binary",
                           "two concentric circles (make_circles), with a 100-point test set",
                           test_samples=100),
    "moons": DatasetInfo(300, 2, "binary", "two half moons (make_moons, noise 0.2)"),
    "football": DatasetInfo(211, 2, "binary", "the course's football field positions "
                            "(data.mat), with its test set", test_samples=200,
                            files=("data.mat",)),
    "cat": DatasetInfo(209, 12288, "binary",
                       "the course's cat / non-cat 64x64 pictures, 12288 features",
                       test_samples=50, files=("train_catvnoncat.h5", "test_catvnoncat.h5")),
    "xor": DatasetInfo(300, 2, "binary", "exclusive or: points in four quadrants"),
    "blobs": DatasetInfo(300, 2, "binary", "two gaussian blobs"),
    "spiral": DatasetInfo(300, 2, "binary", "two interleaved spirals"),
    "gaussian-quantiles": DatasetInfo(
        300, 2, "binary", "gaussian quantiles (make_gaussian_quantiles): a disc inside a ring"),
    "digits": DatasetInfo(1797, 64, "multiclass", "8x8 handwritten digits, 10 classes (sklearn)"),
    "breast-cancer": DatasetInfo(569, 30, "binary",
                                 "Wisconsin breast cancer, 30 features, binary (sklearn)"),
    "iris": DatasetInfo(150, 4, "multiclass", "iris flowers, 4 features, 3 classes (sklearn)"),
    "wine": DatasetInfo(178, 13, "multiclass",
                        "wine cultivars, 13 features, 3 classes (sklearn)"),
    "diabetes": DatasetInfo(442, 10, "regression",
                            "diabetes progression, 10 features, regression (sklearn)"),
}

#: Data sets read from the course's files (see ``nnlab.datasets.fetch`` for where they are
#: searched and how they are downloaded).
FILE_DATASETS = tuple(name for name, info in CATALOG.items() if info.files)

__all__ = ["CATALOG", "FILE_DATASETS", "DatasetInfo"]
