"""Safe model files: numbers and JSON only, written atomically, read within bounds, checked.

A model file is one ``.npz`` archive (a zip of ``.npy`` arrays) that holds the arrays by name plus
one extra array, ``__config__``: the UTF-8 bytes of a JSON document with

- ``format`` (``"nnlab"``) and ``format_version`` (an int; files from a newer nnlab are refused),
- ``kind`` (what the file holds: ``"params"``, ``"model"``, ``"checkpoint"``, ``"estimator"``),
- ``arrays``: the manifest, ``{name: {"dtype": ..., "shape": [...]}}`` for every array,
- anything else the writer wants to keep (layer sizes, activations, hyperparameters, history).

**Reading** never imports or executes anything, and never allocates more than the file can
justify. Before a member's data is read, its zip entry (uncompressed size, compression ratio,
duplicate names) and its ``.npy`` header (dtype, shape, Fortran order) are checked against the
manifest and against a budget: ``MAX_CONFIG_BYTES`` for the JSON, ``MAX_ARRAY_BYTES`` for all the
arrays together, and at most ``MAX_INFLATION`` times its compressed size for a compressed member
(nnlab writes members uncompressed, so a legitimate file's arrays take no more memory than the file
takes disk). Members are then read with a reader that stops at the declared size. Anything else
(not a zip, a FIFO or device, a text dtype, pickled objects, a shape that disagrees with the
manifest) is a ``ModelFileError`` that names the file and says what it is not.

**Writing** (``atomic_write_bytes`` / ``atomic_write_files``) only ever replaces a regular file or
creates a new one: a folder, device, FIFO or socket at the path is refused with a
``FileWriteError``. A symlink is written *through*: its target (a regular file, or a new file) is
replaced atomically in the target's own folder and the link is kept. The data goes to a temporary
file ``.<name>.nnlab-tmp-<pid>-<random>`` in the destination folder, is flushed and fsynced, then
moved over the old file with ``os.replace``: a crash at any moment leaves either the old file or
the new one (plus, after ``kill -9``, a temporary file that the next process to write to that
folder removes once its writer is gone or it is an hour old). A replaced file keeps its mode; a
new file gets ``0o666`` less the umask, like any other tool's. An ``OSError`` (disk full, file
too large, permission denied, a parent that is a file) becomes one ``FileWriteError`` line; the
old file is left as it was.

>>> import numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "params.npz")
>>> save_arrays(path, {"W1": np.ones((2, 3))}, {"kind": "params"})
>>> arrays, config = load_arrays(path)
>>> arrays["W1"].shape, config["kind"]
((2, 3), 'params')
"""

from __future__ import annotations

import io
import json
import math
import os
import secrets
import stat
import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
from numpy.lib import format as npy_format

FORMAT = "nnlab"
FORMAT_VERSION = 1
CONFIG_KEY = "__config__"
#: The only dtypes a model file may hold.
ALLOWED_DTYPES = frozenset(
    {"float16", "float32", "float64", "int8", "int16", "int32", "int64",
     "uint8", "uint16", "uint32", "uint64", "bool"}
)
#: The largest JSON document (``__config__``) read, in bytes; checked before it is decompressed.
MAX_CONFIG_BYTES = 16 * 1024 * 1024
#: The most lists and objects, and strings, its JSON may hold (bounds the parsed size).
MAX_JSON_CONTAINERS = 200_000
MAX_JSON_STRINGS = 1_000_000
#: The most bytes all the arrays of one file may take once loaded (2 GiB).
MAX_ARRAY_BYTES = 2 * 1024**3
#: A compressed member may not inflate to more than this many times its stored size (nnlab
#: stores members uncompressed; random weights compress by about 1.1).
MAX_INFLATION = 20
#: The most members one file may hold.
MAX_MEMBERS = 4096
#: The largest ``.npy`` header read.
MAX_HEADER_BYTES = 4096
#: Temporary files of dead processes, or older than this (seconds), are removed on a write.
STALE_TEMP_SECONDS = 3600
TEMP_MARK = ".nnlab-tmp-"


class ModelFileError(ValueError):
    """A model file that is missing, unreadable, corrupt, of an unknown version or unexpected."""


class FileWriteError(OSError):
    """An output path nnlab will not or cannot write (a folder, device or FIFO; disk full,
    permission denied...). The message is one line; the old file, if any, is unchanged."""


# ---------------------------------------------------------------------------------------------
# Writing: only regular files, atomically


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"))


def _what(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)  # no /proc: read it the portable way (and put it back)
    os.umask(old)
    return old


def resolve_output(path: str | os.PathLike) -> tuple[Path, int | None]:
    """Where a write to ``path`` lands, and the mode of the file it replaces (None: a new file).

    A symlink is followed to its target. Raises ``FileWriteError`` when the path (or the link's
    target) is a folder, device, FIFO or socket, or when a parent is not a folder.

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> resolve_output(os.path.join(folder, "new.npz"))[1] is None
    True
    >>> resolve_output(folder)
    Traceback (most recent call last):
    ...
    nnlab.files.format.FileWriteError: ...: is a folder: nnlab only writes a regular file or ...
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise FileWriteError(f"{path}: a parent of it is a file, not a folder") from None
    except OSError as exc:
        raise FileWriteError(f"{path}: cannot write ({exc.strerror or exc})") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        shown = path if target == path else f"{path} (a link to {target})"
        raise FileWriteError(
            f"{shown}: is {_what(st.st_mode)}: nnlab only writes a regular file or a new path"
        )
    return target, None if st is None else stat.S_IMODE(st.st_mode)


def check_output_path(path: str | os.PathLike) -> Path:
    """Check, before any work is done, that ``path`` can be written: the path is a regular file
    or new, and its nearest existing parent is a folder this process may write. Returns where the
    write will land. Raises ``FileWriteError`` naming the problem.

    >>> import tempfile, os
    >>> check_output_path(os.path.join(tempfile.mkdtemp(), "runs", "m.npz")).name
    'm.npz'
    """
    target, _ = resolve_output(path)
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        if parent.is_symlink():
            break
        parent = parent.parent
    if not parent.is_dir():
        raise FileWriteError(f"{path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise FileWriteError(f"{path}: cannot write in {parent} (permission denied)")
    return target


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process (or not a pid we can ask about): keep its file
    return True


def _remove_stale_temps(folder: Path, now: float | None = None) -> list[Path]:
    """Remove our temporary files in ``folder`` left by a killed writer: ``*.nnlab-tmp-<pid>-*``
    whose process is gone or that are older than ``STALE_TEMP_SECONDS`` (and temporary files of
    nnlab versions before 0.x, ``.<name>.<random>.tmp``, an hour old). Returns what was removed."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not name.startswith("."):
            continue
        stale = False
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if TEMP_MARK in name:
                pid_text = name.rsplit(TEMP_MARK, 1)[1].split("-", 1)[0]
                stale = age > STALE_TEMP_SECONDS or (
                    pid_text.isdigit() and int(pid_text) != os.getpid()
                    and not _pid_alive(int(pid_text)))
            elif name.endswith(".tmp") and name.count(".") >= 3 and age > STALE_TEMP_SECONDS:
                stale = True  # the pattern of earlier versions: .<name>.<8 random>.tmp
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


_SWEPT: set[Path] = set()


class _suppress_os_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        return exc_type is not None and issubclass(exc_type, OSError)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _one_line(path: Path, exc: OSError) -> FileWriteError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return FileWriteError(f"{path}: cannot write ({reason}); any old file there is unchanged")


def atomic_write_files(items: Sequence[tuple[str | os.PathLike, bytes]]) -> None:
    """Write several files as one step as far as a file system allows: every file's data is
    written and fsynced to a temporary file first, and only then are they moved into place, in
    the order given. An error before the moves leaves every old file as it was; a crash between
    two moves leaves the first files new and the rest old (a pair written this way should carry a
    shared id so that a reader can tell, see ``nnlab.files.models.save_model``).

    Raises ``FileWriteError`` (one line) for any path that is not a regular file or new, and for
    every ``OSError`` on the way.
    """
    plans = []
    for path, data in items:
        path = Path(path)
        target, mode = resolve_output(path)
        owner = None
        if mode is not None:
            with _suppress_os_error():
                st = os.stat(target)
                owner = (st.st_uid, st.st_gid)
        plans.append((path, target, mode, owner, data))
    temps: list[tuple[Path, Path, Path]] = []
    try:
        for path, target, mode, owner, data in plans:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                raise FileWriteError(f"{path}: {target.parent} is a file, not a folder") from None
            except OSError as exc:
                raise _one_line(path, exc) from None
            if target.parent not in _SWEPT:  # once per folder and process: a sweep's
                _SWEPT.add(target.parent)    # thousands of writes scan it once
                _remove_stale_temps(target.parent)
            if mode is None:
                mode = 0o666 & ~_umask()
            tmp = target.parent / f".{target.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}"
            try:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
                fd = os.open(tmp, flags, 0o600)
            except OSError as exc:
                raise _one_line(path, exc) from None
            temps.append((path, target, tmp))
            try:
                _write_all(fd, data)
                os.fchmod(fd, mode)
                if owner is not None and owner != (os.geteuid(), os.getegid()):
                    with _suppress_os_error():  # keep the old file's owner where allowed
                        os.fchown(fd, *owner)
                os.fsync(fd)
            except OSError as exc:
                raise _one_line(path, exc) from None
            finally:
                os.close(fd)
        for path, target, tmp in temps:
            try:
                os.replace(tmp, target)
            except OSError as exc:
                raise _one_line(path, exc) from None
    except BaseException:
        for _, _, tmp in temps:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        raise
    for folder in dict.fromkeys(target.parent for _, target, _ in temps):
        _fsync_dir(folder)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see ``atomic_write_files``): only a regular file or a
    new path is written, a symlink is written through, the old file's mode is kept.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> atomic_write_bytes(path, b"hello")
    >>> open(path, "rb").read()
    b'hello'
    """
    atomic_write_files([(path, data)])


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _manifest(arrays: Mapping[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    return {k: {"dtype": str(v.dtype), "shape": list(v.shape)} for k, v in arrays.items()}


#: ``numpy.savez``'s own keyword arguments: an array of that name would be taken as the keyword
#: (``allow_pickle``: silently left out of the file), so such names are refused.
SAVEZ_KEYWORDS = ("file", "allow_pickle")


def encode_arrays(arrays: Mapping[str, np.ndarray], config: Mapping[str, Any]) -> bytes:
    """The bytes of a model file holding ``arrays`` and the JSON-able ``config``.

    Raises ``ValueError`` for an array of a non-number dtype or a name that is not a plain
    identifier-like string, ``TypeError`` for a config that JSON cannot hold.
    """
    clean: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if (not isinstance(name, str) or not name or name in (CONFIG_KEY, *SAVEZ_KEYWORDS)
                or "/" in name):
            raise ValueError(f"array name {name!r} is not allowed in a model file")
        a = np.ascontiguousarray(value)
        if str(a.dtype) not in ALLOWED_DTYPES:
            raise ValueError(f"array {name!r} has dtype {a.dtype}: only number dtypes are saved")
        clean[name] = a
    doc = {**config, "format": FORMAT, "format_version": FORMAT_VERSION,
           "arrays": _manifest(clean)}
    payload = json.dumps(doc, allow_nan=False, sort_keys=True).encode("utf-8")
    if len(payload) > MAX_CONFIG_BYTES:
        raise ValueError(f"the file's JSON would take {len(payload)} bytes, over the "
                         f"{MAX_CONFIG_BYTES} a reader accepts")
    buffer = io.BytesIO()
    # names are never savez's own keywords (refused above); the stubs cannot know that
    np.savez(buffer, **{CONFIG_KEY: np.frombuffer(payload, dtype=np.uint8)}, **clean)  # type: ignore[arg-type]
    return buffer.getvalue()


def save_arrays(
    path: str | os.PathLike, arrays: Mapping[str, np.ndarray], config: Mapping[str, Any]
) -> None:
    """Save ``arrays`` and the JSON-able ``config`` to one ``.npz`` file, atomically.

    Raises ``ValueError`` for an array of a non-number dtype or a name that is not a plain
    identifier-like string, ``TypeError`` for a config that JSON cannot hold, ``FileWriteError``
    when the path cannot be written.
    """
    atomic_write_bytes(path, encode_arrays(arrays, config))


# ---------------------------------------------------------------------------------------------
# Reading: bounded before anything is allocated


def _open_regular(path: Path) -> IO[bytes]:
    """Open ``path`` for reading without ever blocking (a FIFO) and only if it is a regular
    file; every refusal is a ``ModelFileError``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such model file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a folder, expected a model file (.npz)") from None
    except NotADirectoryError:
        parent = path.parent
        while parent != parent.parent and not parent.exists():
            parent = parent.parent
        try:
            what = _what(os.stat(parent).st_mode) if not parent.is_file() else "a file"
        except OSError:
            what = "not a folder"
        raise ModelFileError(f"{path}: not an nnlab model file: {parent} is {what}, not a "
                             "model folder") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot open it ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ModelFileError(f"{path}: is a folder, expected a model file (.npz)")
        if not stat.S_ISREG(mode):
            raise ModelFileError(f"{path}: not an nnlab model file: {_what(mode)}, not a file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_exactly(f: Any, n: int) -> bytearray:
    """Read exactly ``n`` bytes (never more), or raise EOFError."""
    out = bytearray(n)
    view = memoryview(out)
    got = 0
    while got < n:
        k = f.readinto(view[got:got + min(n - got, 1 << 20)])
        if not k:
            raise EOFError(f"ends after {got} of {n} bytes")
        got += k
    return out


def _dtype_words(dtype: np.dtype) -> str:
    if dtype.hasobject:
        return "Python objects (pickled data, which nnlab never loads)"
    if dtype.kind in "US":
        return f"text ({dtype.str})"
    if dtype.names is not None:
        return f"records ({dtype.str})"
    if dtype.kind in "biuf" and not dtype.isnative:
        return f"numbers in the other byte order ({dtype.str})"
    return f"{dtype} ({dtype.str})"


def _member_header(path: Path, name: str, f: IO[bytes]) -> tuple[np.dtype, tuple[int, ...],
                                                                  bool, int]:
    """Parse a member's .npy header: (dtype, shape, fortran_order, header length)."""
    try:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(
                f, max_header_size=MAX_HEADER_BYTES)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(
                f, max_header_size=MAX_HEADER_BYTES)
        else:
            raise ModelFileError(f"{path}: entry {name!r} is a .npy of version {version}, "
                                 "which nnlab does not write")
    except ModelFileError:
        raise
    except (ValueError, EOFError, OSError, SyntaxError, TypeError, zipfile.BadZipFile) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(
            f"{path}: entry {name!r} is not a valid .npy array ({first})") from None
    return dtype, tuple(shape), bool(fortran), f.tell()


def _check_spec(path: Path, name: str, spec: Any) -> tuple[np.dtype, tuple[int, ...], int]:
    """A manifest entry, checked: (dtype, shape, bytes)."""
    if not isinstance(spec, dict):
        raise ModelFileError(f"{path}: malformed manifest entry for {name!r}")
    dtype_name, shape = spec.get("dtype"), spec.get("shape")
    if not isinstance(dtype_name, str) or dtype_name not in ALLOWED_DTYPES:
        raise ModelFileError(
            f"{path}: the manifest gives array {name!r} the dtype {dtype_name!r}, not a number "
            f"type (allowed: {', '.join(sorted(ALLOWED_DTYPES))})")
    if not isinstance(shape, list) or len(shape) > 8 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise ModelFileError(f"{path}: the manifest gives array {name!r} the shape {shape!r}: "
                             "expected a list of sizes")
    dtype = np.dtype(dtype_name)
    return dtype, tuple(shape), math.prod(shape) * dtype.itemsize


def _read_member(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str,
                 dtype: np.dtype, shape: tuple[int, ...], nbytes: int) -> np.ndarray:
    with zf.open(info) as f:
        got_dtype, got_shape, fortran, header_len = _member_header(path, name, f)
        if got_dtype != dtype:
            raise ModelFileError(
                f"{path}: array {name!r} holds {_dtype_words(got_dtype)}, but the manifest says "
                f"{dtype} ({dtype.str})")
        if got_shape != shape:
            raise ModelFileError(f"{path}: array {name!r} has shape {list(got_shape)}, "
                                 f"expected {list(shape)}")
        if header_len + nbytes != info.file_size:
            raise ModelFileError(
                f"{path}: entry {name!r} is {info.file_size} bytes, but its header declares "
                f"{header_len + nbytes}")
        data = _read_exactly(f, nbytes)
    flat = np.frombuffer(data, dtype=dtype)
    return flat.reshape(shape, order="F" if fortran else "C")


def _entries(path: Path, zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by array name, after the checks that need no reading."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ModelFileError(f"{path}: holds {len(infos)} entries (at most {MAX_MEMBERS})")
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        shown = info.filename
        if not shown.endswith(".npy"):
            raise ModelFileError(f"{path}: entry {shown!r} is not a .npy array")
        name = shown[:-4]  # the JSON's own limit (MAX_CONFIG_BYTES) bounds __config__
        if name in entries:
            raise ModelFileError(f"{path}: the entry {shown!r} appears twice")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{path}: entry {shown!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"{path}: entry {shown!r} uses a compression nnlab does not "
                                 "read")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise ModelFileError(f"{path}: entry {shown!r} declares two different sizes")
        if name != CONFIG_KEY and info.file_size > MAX_INFLATION * info.compress_size + 65536:
            raise ModelFileError(
                f"{path}: entry {shown!r} would inflate {info.compress_size} bytes to "
                f"{info.file_size}: refused (a zip bomb?)")
        entries[name] = info
    return entries


def _read_config(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo | None) -> dict:
    if info is None:
        raise ModelFileError(f"{path}: not an nnlab model file (no {CONFIG_KEY} entry)")
    if info.file_size > MAX_CONFIG_BYTES + MAX_HEADER_BYTES:
        raise ModelFileError(f"{path}: its {CONFIG_KEY} entry is {info.file_size} bytes, over "
                             f"the {MAX_CONFIG_BYTES} allowed")
    with zf.open(info) as f:
        dtype, shape, _, header_len = _member_header(path, CONFIG_KEY, f)
        if dtype != np.uint8 or len(shape) != 1 or shape[0] > MAX_CONFIG_BYTES or (
                header_len + shape[0] != info.file_size):
            raise ModelFileError(f"{path}: malformed {CONFIG_KEY} entry")
        raw = bytes(_read_exactly(f, shape[0]))
    return _parse_config(path, raw)


def load_arrays(
    path: str | os.PathLike, kind: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load and check a file written by ``save_arrays``; returns ``(arrays, config)``.

    ``kind``, when given, must match the file's ``kind``. Every problem is a ``ModelFileError``
    that names the file and what was wrong; nothing is read before its size is known to fit.
    """
    path = Path(path)
    with _open_regular(path) as f:
        if f.read(6) == b"\x93NUMPY":
            raise ModelFileError(f"{path}: not an nnlab model file (a bare .npy array)")
        f.seek(0)
        try:
            with zipfile.ZipFile(f) as zf:
                entries = _entries(path, zf)
                config = _read_config(path, zf, entries.pop(CONFIG_KEY, None))
                manifest = config["arrays"]
                if set(manifest) != set(entries):
                    missing = sorted(set(manifest) - set(entries))
                    extra = sorted(set(entries) - set(manifest))
                    raise ModelFileError(
                        f"{path}: the arrays do not match the manifest (missing: {missing}, "
                        f"extra: {extra})")
                specs = {name: _check_spec(path, name, manifest[name]) for name in entries}
                total = sum(s[2] for s in specs.values())
                if total > MAX_ARRAY_BYTES:
                    raise ModelFileError(
                        f"{path}: its arrays would take {total} bytes, over the "
                        f"{MAX_ARRAY_BYTES} budget")
                arrays = {name: _read_member(path, zf, entries[name], name, *specs[name])
                          for name in entries}
        except ModelFileError:
            raise
        except zipfile.BadZipFile as exc:
            if "zip file" in str(exc).lower():
                raise ModelFileError(
                    f"{path}: not an nnlab model file: not a zip archive") from None
            raise ModelFileError(f"{path}: corrupt model file ({exc})") from None
        except (OSError, EOFError, ValueError, KeyError, RuntimeError, NotImplementedError,
                zipfile.LargeZipFile) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelFileError(f"{path}: unreadable or corrupt model file ({first})") from None
    if kind is not None and config.get("kind") != kind:
        raise ModelFileError(
            f"{path}: holds a {config.get('kind')!r}, expected a {kind!r} file"
        )
    return arrays, config


def _parse_config(path: Path, raw: bytes) -> dict[str, Any]:
    # Parsed JSON takes several times its size in Python objects; lists, objects and strings
    # take the most (an empty list: 3 bytes of text, ~64 of memory), so their count is bounded.
    containers, strings = raw.count(b"[") + raw.count(b"{"), raw.count(b'"') // 2
    if containers > MAX_JSON_CONTAINERS or strings > MAX_JSON_STRINGS:
        raise ModelFileError(
            f"{path}: its config holds {containers} lists/objects and {strings} strings (at "
            f"most {MAX_JSON_CONTAINERS} and {MAX_JSON_STRINGS}): not a file nnlab wrote")
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: its config is not valid JSON ({exc})") from None
    except RecursionError:
        raise ModelFileError(f"{path}: its config is nested too deeply") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an nnlab model file (format is not {FORMAT!r})")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"{path}: format_version {version!r} is not an int")
    if version > FORMAT_VERSION or version < 1:
        raise ModelFileError(
            f"{path}: format version {version} is not supported by this nnlab "
            f"(it reads versions 1 to {FORMAT_VERSION}); upgrade nnlab to read it"
        )
    if not isinstance(config.get("arrays"), dict):
        raise ModelFileError(f"{path}: its config has no array manifest")
    return config

# ---------------------------------------------------------------------------------------------
# Parameters: W1, b1, ..., WL, bL


#: A batch-normalized layer's arrays in place of its ``b{l}``: γ, β and the running statistics.
BATCH_NORM_ARRAYS = ("gamma", "beta", "running_mean", "running_var")


def check_params_shapes(params: Mapping[str, np.ndarray], where: str = "params") -> list[int]:
    """Check that W1, b1, ..., WL, bL chain up: W[l] is (n[l], n[l-1]), b[l] is (n[l], 1).
    A batch-normalized layer has, instead of ``b{l}``, ``gamma{l}``, ``beta{l}``,
    ``running_mean{l}`` and ``running_var{l}``, each (n[l], 1).

    Returns the layer sizes ``[n_x, n_1, ..., n_L]``.

    >>> check_params_shapes({"W1": np.zeros((3, 2)), "b1": np.zeros((3, 1))})
    [2, 3]
    """
    L = sum(1 for k in params if k.startswith("W"))
    norm = [f"W{l}" in params and f"gamma{l}" in params for l in range(1, L + 1)]
    expected = {f"W{l}" for l in range(1, L + 1)}
    for l, bn in enumerate(norm, start=1):
        expected |= {f"{p}{l}" for p in BATCH_NORM_ARRAYS} if bn else {f"b{l}"}
    if L == 0 or set(params) != expected:
        raise ModelFileError(
            f"{where}: expected parameters {sorted(expected) or ['W1', 'b1']}, "
            f"found {sorted(params)}"
        )
    dims = [params["W1"].shape[1] if params["W1"].ndim == 2 else -1]
    for l in range(1, L + 1):
        W = params[f"W{l}"]
        others = [f"{p}{l}" for p in BATCH_NORM_ARRAYS] if norm[l - 1] else [f"b{l}"]
        if W.ndim != 2 or W.shape[1] != dims[-1] or W.shape[0] < 1 or any(
                params[k].shape != (W.shape[0], 1) for k in others):
            shapes = " and ".join(f"{k} {params[k].shape}" for k in [f"W{l}", *others])
            raise ModelFileError(
                f"{where}: {shapes} do not fit layer {l - 1}'s size {dims[-1]}"
            )
        if not np.issubdtype(W.dtype, np.floating) or any(
                params[k].dtype != W.dtype for k in others):
            names = [f"W{l}", *others]
            raise ModelFileError(f"{where}: {', '.join(names[:-1])} and {names[-1]} must share "
                                 "one float dtype")
        dims.append(W.shape[0])
    return dims


def save_params(
    path: str | os.PathLike, params: Mapping[str, np.ndarray], **config: Any
) -> None:
    """Save a parameter dict (plus JSON-able ``config``, e.g. activations) atomically."""
    check_params_shapes(params)
    save_arrays(path, dict(params), {"kind": "params", **config})


def load_params(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load a file written by ``save_params``: ``(params, config)``, shapes checked."""
    arrays, config = load_arrays(path, kind="params")
    check_params_shapes(arrays, where=str(path))
    if not all(np.all(np.isfinite(v)) for v in arrays.values()):
        raise ModelFileError(f"{path}: holds NaN or infinite parameters")
    return arrays, config


# ---------------------------------------------------------------------------------------------
# Random generator state, as JSON and arrays (no pickle)


def rng_state_to_json(rng: np.random.RandomState | np.random.Generator) -> dict[str, Any]:
    """The full state of ``rng`` as JSON-able data (arrays become lists of ints)."""
    state: Mapping[str, Any]
    if isinstance(rng, np.random.RandomState):
        state = rng.get_state(legacy=False)
        kind = "RandomState"
    elif isinstance(rng, np.random.Generator):
        state = rng.bit_generator.state
        kind = "Generator"
    else:
        raise TypeError(f"cannot save the state of {type(rng).__name__}")
    return {"type": kind, "state": _jsonable(state)}


def rng_from_json(doc: Mapping[str, Any]) -> np.random.RandomState | np.random.Generator:
    """Rebuild a generator saved by ``rng_state_to_json``, in exactly that state."""
    try:
        state = _unjsonable(doc["state"])
        if doc["type"] == "RandomState":
            rng = np.random.RandomState()
            rng.set_state(state)
            return rng
        if doc["type"] == "Generator":
            name = state["bit_generator"]
            if name not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
                raise ValueError(f"unknown bit generator {name!r}")
            bit_generator = getattr(np.random, name)()
            bit_generator.state = state
            return np.random.Generator(bit_generator)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"malformed random generator state ({exc})") from None
    raise ModelFileError(f"unknown random generator type {doc.get('type')!r}")


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return {"__ndarray__": x.tolist(), "dtype": str(x.dtype)}
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    return x


def _unjsonable(x: Any) -> Any:
    if isinstance(x, dict):
        if "__ndarray__" in x:
            if x.get("dtype") not in ALLOWED_DTYPES:
                raise ValueError(f"dtype {x.get('dtype')!r} not allowed")
            return np.array(x["__ndarray__"], dtype=x["dtype"])
        return {k: _unjsonable(v) for k, v in x.items()}
    return x


# ---------------------------------------------------------------------------------------------
# Optimizer state (the NamedTuples of nnlab.optimizers), as arrays plus JSON


def optimizer_state_to_arrays(state: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Flatten an optimizer state into arrays named ``opt.<field>.<param>`` and JSON metadata.

    >>> from nnlab.optimizers import adam
    >>> st = adam().init({"W1": np.zeros((1, 2))})
    >>> sorted(optimizer_state_to_arrays(st)[0]), optimizer_state_to_arrays(st)[1]
    (['opt.s.W1', 'opt.v.W1'], {'type': 'AdamState', 't': 0})
    """
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"type": type(state).__name__}
    for field, value in state._asdict().items():
        if isinstance(value, dict):
            for k, a in value.items():
                arrays[f"opt.{field}.{k}"] = np.asarray(a)
        else:
            meta[field] = int(value)
    return arrays, meta


def optimizer_state_from_arrays(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> Any:
    """Rebuild the state saved by ``optimizer_state_to_arrays``."""
    from .. import optimizers

    states = {c.__name__: c for c in (optimizers.GDState, optimizers.MomentumState,
                                      optimizers.RMSpropState, optimizers.AdamState)}
    extra = getattr(optimizers, "SGDState", None)
    if extra is not None:
        states["SGDState"] = extra
    cls = states.get(cast(str, meta.get("type")))
    if cls is None:
        raise ModelFileError(f"unknown optimizer state type {meta.get('type')!r}")
    fields: dict[str, Any] = {}
    for field in cls._fields:
        if field in meta:
            value = meta[field]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ModelFileError(f"optimizer state {field}={value!r} is not a count")
            fields[field] = value
        else:
            prefix = f"opt.{field}."
            fields[field] = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
    return cls(**fields)
