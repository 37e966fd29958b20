"""Finding the course's data files: the folders nnlab reads them from, and clear errors.

The cat images and the football data are not redistributed with nnlab. A file is taken from the
first folder of the search order that holds it: ``--data-dir``, ``$NNLAB_DATA``, the cache (the
order and the downloads are documented in :mod:`nnlab.datasets.fetch`).
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable that names the data folder.
DATA_ENV = "NNLAB_DATA"
#: The environment variable that moves the download cache.
CACHE_ENV = "NNLAB_CACHE"

#: One line per course file, for "not found" messages (the loaders say more when a file is
#: malformed).
SHORT: dict[str, str] = {
    "train_catvnoncat.h5": "the course's cat / non-cat training pictures (HDF5)",
    "test_catvnoncat.h5": "the course's cat / non-cat test pictures (HDF5)",
    "data.mat": "the course's football data (MATLAB)",
}


class DataFileError(OSError):
    """A data file is missing or is not what the loader expects.

    The message names the file, the folders searched and what the file should hold.
    ``data_file`` is the file's name and ``missing`` says whether it was not found at all
    (rather than found but malformed).
    """

    data_file: str | None = None
    missing: bool = False


def cache_dir() -> Path | None:
    """The download cache: ``$NNLAB_CACHE``, else ``pooch.os_cache("nnlab")``; None when it is
    not set and pooch is not installed (nothing can have been downloaded then)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    try:
        import pooch
    except ImportError:
        return None
    return Path(pooch.os_cache("nnlab"))


def search_folders(
    path: str | os.PathLike[str] | None = None,
) -> list[tuple[Path, str]]:
    """The folders searched, in order, each with how it was chosen:
    ``[(folder, "--data-dir")]`` when ``path`` is given, else ``$NNLAB_DATA`` (if set), then the
    cache (``$NNLAB_CACHE`` or pooch's)."""
    if path is not None:
        return [(Path(path), "the data folder given")]
    folders: list[tuple[Path, str]] = []
    env = os.environ.get(DATA_ENV)
    if env:
        folders.append((Path(env), f"${DATA_ENV}"))
    cache = cache_dir()
    if cache is not None:
        how = f"${CACHE_ENV}" if os.environ.get(CACHE_ENV) else "the cache"
        folders.append((cache, how))
    return folders


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The first folder searched: ``path`` if given, else ``$NNLAB_DATA``, else the cache
    (the current directory when there is no cache: pooch missing and ``$NNLAB_CACHE`` unset)."""
    folders = search_folders(path)
    return folders[0][0] if folders else Path.cwd()


def locate(name: str, path: str | os.PathLike[str] | None = None) -> Path | None:
    """The first copy of data file ``name`` in the search order, or None."""
    for folder, _ in search_folders(path):
        if (folder / name).is_file():
            return folder / name
    return None


def _missing(name: str, expected: str, path: str | os.PathLike[str] | None) -> DataFileError:
    folders = search_folders(path)
    if path is not None and not Path(path).is_dir():
        text = (f"{name}: the data folder {Path(path)} (the data folder given) does not exist; "
                f"expected it to hold {name}: {SHORT.get(name, expected)}")
    else:
        where = " nor in ".join(
            f"{f} ({how}{'' if f.is_dir() else ', which does not exist'})" for f, how in folders
        ) or "any folder (no --data-dir, no $NNLAB_DATA, no cache)"
        text = f"{name} not found in {where}; expected {SHORT.get(name, expected)}"
    hint = "`nnlab datasets fetch" + (f" --data-dir {path}`" if path is not None else "`")
    err = DataFileError(f"{text}; get it with {hint}")
    err.data_file, err.missing = name, True
    return err


def find_data_file(
    name: str, expected: str, path: str | os.PathLike[str] | None = None
) -> Path:
    """The path of data file ``name`` (the first copy in the search order), or a
    ``DataFileError`` that says which file, which folders and how to get it."""
    found = locate(name, path)
    if found is None:
        raise _missing(name, expected, path)
    return found


def malformed(file: Path, problem: str, expected: str) -> DataFileError:
    """The error for a data file that exists but does not hold what it should."""
    err = DataFileError(
        f"{file.name} in {file.parent} is malformed: {problem}; expected {expected}"
    )
    err.data_file = file.name
    return err
