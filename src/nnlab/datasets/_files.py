"""Finding the course's data files: the folder nnlab reads them from, and clear errors.

The cat images and the football data are not redistributed with nnlab. They are read from a
data folder: the one given explicitly (``data_dir=``, the CLI's ``--data-dir``), else the one
named by the ``NNLAB_DATA`` environment variable, else the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The environment variable that names the data folder.
DATA_ENV = "NNLAB_DATA"


class DataFileError(OSError):
    """A data file is missing or is not what the loader expects.

    The message names the file, the folder searched and what the file should hold.
    """


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``path`` if given, else ``$NNLAB_DATA``, else the current directory."""
    if path is not None:
        return Path(path)
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else Path.cwd()


def _where(folder: Path, explicit: bool) -> str:
    if explicit:
        how = "the data folder given"
    elif os.environ.get(DATA_ENV):
        how = f"${DATA_ENV}"
    else:
        how = f"the current directory; set ${DATA_ENV} or pass --data-dir to choose the folder"
    return f"{folder} ({how})"


def find_data_file(
    name: str, expected: str, path: str | os.PathLike[str] | None = None
) -> Path:
    """The path of data file ``name`` in the data folder, or a ``DataFileError`` that says
    which file, which folder and what it should hold (``expected``)."""
    folder = data_dir(path)
    file = folder / name
    if not folder.is_dir():
        raise DataFileError(
            f"{name}: the data folder {_where(folder, path is not None)} does not exist; "
            f"expected it to hold {name}: {expected}"
        )
    if not file.is_file():
        raise DataFileError(
            f"{name} not found in {_where(folder, path is not None)}; expected {expected}"
        )
    return file


def malformed(file: Path, problem: str, expected: str) -> DataFileError:
    """The error for a data file that exists but does not hold what it should."""
    return DataFileError(
        f"{file.name} in {file.parent} is malformed: {problem}; expected {expected}"
    )
