"""The course's data files: where nnlab looks for them, and how it downloads them (with pooch).

Where: a file is read from the first of these folders that holds it:

1. ``--data-dir DIR`` (``data_dir=`` in Python): when given, the only folder searched;
2. ``$NNLAB_DATA`` (``run.sh`` points it at a bundled ``../shared/data`` when there is one);
3. the cache: ``$NNLAB_CACHE`` if set, else ``pooch.os_cache("nnlab")`` (``~/.cache/nnlab``
   on Linux).

Downloads: ``nnlab datasets fetch`` (or :func:`fetch`) puts the three files in the cache, or in
``--data-dir``. Each file is tried from ``$NNLAB_DATA_URL`` (a base URL: an offline mirror)
first, then from pinned mirrors (public repositories, each at a fixed commit). A file is
downloaded to a temporary name, its SHA-256 checked, and only then renamed: a wrong hash is
refused and removed, a 404, a timeout or a dropped connection moves on to the next mirror, and no
partial file is ever left. ``nnlab reproduce`` downloads what it misses on first need;
``--no-download`` or ``NNLAB_OFFLINE=1`` turns that off.

>>> COURSE_FILES["data.mat"].size
6038
>>> [name for name in COURSE_FILES]
['train_catvnoncat.h5', 'test_catvnoncat.h5', 'data.mat']
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ._files import (
    CACHE_ENV,
    DATA_ENV,
    SHORT,
    DataFileError,
    cache_dir,
    search_folders,
)

#: A base URL tried before the pinned mirrors (``$NNLAB_DATA_URL/<file name>``).
URL_ENV = "NNLAB_DATA_URL"
#: Set to 1 to turn off downloading on first need (``nnlab reproduce --no-download``).
OFFLINE_ENV = "NNLAB_OFFLINE"

_KULBEAR = ("https://raw.githubusercontent.com/Kulbear/deep-learning-coursera/"
            "8ef9dd4fd4a627217d4ff31e63b661dbb3db9150/")
_NGUYEN = ("https://raw.githubusercontent.com/nguyenlinhvn512/Dropout-and-Regularization/"
           "10418404bf362c143b3bced3f649a63903ab7ed1/")
_HERMAN = ("https://raw.githubusercontent.com/HermanSihombing/Regularization/"
           "7fe0eecca7d040ec1e233c620682d0bb5fff99b9/")
_CAT_FOLDER = quote("Neural Networks and Deep Learning/datasets/")


@dataclass(frozen=True)
class DataFile:
    """A file nnlab can download: its name, SHA-256, size in bytes and mirror URLs (tried in
    order, after ``$NNLAB_DATA_URL``)."""

    name: str
    sha256: str
    size: int
    mirrors: tuple[str, ...]
    what: str = ""


#: The course's files (see ``../shared/data/SOURCES.md`` in the development tree for where the
#: hashes and commits come from).
COURSE_FILES: dict[str, DataFile] = {
    f.name: f
    for f in (
        DataFile("train_catvnoncat.h5",
                 "fbe56ab67c3ae28d564e3a644189117976d6b31af0a3ce9bb17dbf22908af242", 2_572_022,
                 (_KULBEAR + _CAT_FOLDER + "train_catvnoncat.h5",
                  _NGUYEN + "train_catvnoncat.h5"),
                 SHORT["train_catvnoncat.h5"]),
        DataFile("test_catvnoncat.h5",
                 "6a9d39ce52fa85953c5834695b8534a30ed8cfd54971fb2f080b5a24d002b951", 616_958,
                 (_KULBEAR + _CAT_FOLDER + "test_catvnoncat.h5",
                  _NGUYEN + "test_catvnoncat.h5"),
                 SHORT["test_catvnoncat.h5"]),
        DataFile("data.mat",
                 "1218828095bf91d215622d00b2a5b8784c359e29d9d9c5734949b8e60c5bc231", 6_038,
                 (_HERMAN + "data.mat", _NGUYEN + "data.mat"),
                 SHORT["data.mat"]),
    )
}


class FetchError(DataFileError):
    """No mirror gave a file with the right hash: the message (one line) names the file, the
    URLs tried and how to place the file by hand."""


def offline() -> bool:
    """Whether ``$NNLAB_OFFLINE`` turns downloading on first need off (any value but 0)."""
    return os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0")


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def urls_for(spec: DataFile) -> list[str]:
    """The URLs tried for ``spec``, in order: ``$NNLAB_DATA_URL/<name>`` (when set), then its
    mirrors."""
    base = os.environ.get(URL_ENV, "").strip()
    first = [base.rstrip("/") + "/" + quote(spec.name)] if base else []
    return first + [u for u in spec.mirrors if u not in first]


def target_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where :func:`fetch` puts files: ``data_dir`` if given, else the cache."""
    if data_dir is not None:
        return Path(data_dir)
    cache = cache_dir()
    if cache is None:  # pooch missing: its require() below says what to install
        _pooch()
        raise AssertionError("unreachable")  # pragma: no cover
    return cache


def _pooch():
    from .._extras import require

    return require("pooch", "course", "downloading the course data")


def _why(exc: BaseException) -> str:
    """A few words on why a download failed."""
    import requests

    if isinstance(exc, ValueError):
        return "wrong SHA-256, refused"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    if isinstance(exc, requests.RequestException):
        return "download broke off"
    return type(exc).__name__


def fetch_file(
    spec: DataFile,
    folder: str | os.PathLike[str],
    *,
    timeout: float = 30.0,
    announce: Callable[[str], None] | None = None,
) -> tuple[Path, bool]:
    """Put ``spec`` into ``folder``, verified; return ``(path, downloaded)``.

    A copy already there with the right hash is kept (``downloaded`` False, nothing fetched).
    Otherwise the URLs of :func:`urls_for` are tried in order; raises :class:`FetchError` when
    none gives the right file, leaving no partial or unverified file behind.
    """
    folder = Path(folder)
    path = folder / spec.name
    if path.is_file() and sha256_of(path) == spec.sha256:
        return path, False
    pooch = _pooch()
    import requests

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataFileError(f"{spec.name}: cannot create {folder} ({exc.strerror})") from None
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # our own one line replaces pooch's "Downloading ..." log
    tried: list[str] = []
    try:
        for url in urls_for(spec):
            if announce is not None:
                announce(f"downloading {spec.name} ({spec.size:,} bytes) from {url}")
            downloader = pooch.HTTPDownloader(timeout=timeout, progressbar=False)
            try:
                pooch.retrieve(url, known_hash=f"sha256:{spec.sha256}", fname=spec.name,
                               path=folder, downloader=downloader)
            except (ValueError, requests.RequestException) as exc:
                tried.append(f"{url} ({_why(exc)})")
                continue
            except PermissionError as exc:
                raise DataFileError(
                    f"{spec.name}: cannot write into {folder} ({exc.strerror})") from None
            path.chmod(0o644)  # pooch's temporary file was private to this user
            return path, True
    finally:
        logger.setLevel(level)
    if path.is_file() and sha256_of(path) != spec.sha256:
        path.unlink()  # a stale copy with a wrong hash must not be read as the course's file
    err = FetchError(
        f"{spec.name}: could not download it: tried {'; '.join(tried)}. Place the file "
        f"({spec.size:,} bytes, sha256 {spec.sha256}) by hand in {folder}, or in a folder you "
        f"name with --data-dir or ${DATA_ENV}"
    )
    err.data_file, err.missing = spec.name, True
    raise err


def fetch(
    names: Iterable[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    files: Mapping[str, DataFile] | None = None,
    timeout: float = 30.0,
    announce: Callable[[str], None] | None = None,
) -> dict[str, tuple[Path, bool]]:
    """Download the course's files (all, or ``names``) into ``data_dir`` (default: the cache)
    and verify them; a file already there with the right hash is not downloaded again.

    Returns ``{name: (path, downloaded)}``. Raises :class:`FetchError` for the first file that
    no mirror could give (the files before it are kept). ``files`` replaces the registry
    (``COURSE_FILES``), e.g. for a test's own files.
    """
    registry = COURSE_FILES if files is None else files
    chosen = list(registry) if names is None else list(names)
    for name in chosen:
        if name not in registry:
            raise DataFileError(f"unknown data file {name!r}: one of {', '.join(registry)}")
    folder = target_dir(data_dir)
    return {name: fetch_file(registry[name], folder, timeout=timeout, announce=announce)
            for name in chosen}


@dataclass
class FileStatus:
    """Where a file was found (None: nowhere) and whether its SHA-256 matches."""

    name: str
    path: Path | None
    how: str
    hash_ok: bool | None

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "path": None if self.path is None else str(self.path),
                "found_in": self.how or None, "sha256_ok": self.hash_ok}


def status(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    files: Mapping[str, DataFile] | None = None,
) -> list[FileStatus]:
    """Each file's first copy in the search order and whether its hash matches."""
    registry = COURSE_FILES if files is None else files
    out = []
    for name, spec in registry.items():
        found = next(((f / name, how) for f, how in search_folders(data_dir)
                      if (f / name).is_file()), None)
        if found is None:
            out.append(FileStatus(name, None, "", None))
        else:
            out.append(FileStatus(name, found[0], found[1], sha256_of(found[0]) == spec.sha256))
    return out


def describe_search(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """The search order as lines of text, for ``nnlab datasets status``."""
    env = os.environ.get(DATA_ENV)
    cache = cache_dir()
    lines = [
        "search order (a file is read from the first folder that holds it):",
        f"  1. --data-dir     {data_dir if data_dir is not None else '(not given)'}"
        + ("  (when given, the only folder searched)" if data_dir is not None else ""),
        f"  2. ${DATA_ENV}    {env or '(not set)'}",
        f"  3. the cache      {cache if cache is not None else '(pooch not installed)'}"
        f"  (${CACHE_ENV} moves it)",
        f"downloads: ${URL_ENV} ({os.environ.get(URL_ENV) or 'not set'}), then pinned mirrors;",
        f"  reproduce downloads what it misses unless {OFFLINE_ENV}=1 or --no-download",
    ]
    return lines


class Fetcher:
    """Downloading on first need for ``nnlab reproduce``: ``fetcher(name)`` fetches one course
    file into ``data_dir`` (default: the cache) and announces it on one line; a file that
    failed once is not tried again (the same ``FetchError`` is raised)."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        announce: Callable[[str], None] | None = None,
        *,
        files: Mapping[str, DataFile] | None = None,
        timeout: float = 30.0,
    ):
        self.data_dir = data_dir
        self.announce = announce
        self.files = COURSE_FILES if files is None else files
        self.timeout = timeout
        self.failed: dict[str, FetchError] = {}

    def __call__(self, name: str) -> bool:
        """Fetch ``name``; False if it is not a file nnlab can download."""
        if name not in self.files:
            return False
        if name in self.failed:
            raise self.failed[name]
        folder = target_dir(self.data_dir)
        try:
            path, downloaded = fetch_file(self.files[name], folder, timeout=self.timeout)
        except FetchError as exc:
            self.failed[name] = exc
            raise
        if self.announce is not None:
            spec = self.files[name]
            self.announce(f"downloaded {name} ({spec.size:,} bytes, sha256 ok) into "
                          f"{path.parent}" if downloaded else f"{name} found in {path.parent}")
        return True
