"""Safe model files: numbers and JSON only, written atomically, checked strictly on load.

A model file is one ``.npz`` archive (a zip of ``.npy`` arrays) that holds the arrays by name plus
one extra array, ``__config__``: the UTF-8 bytes of a JSON document with

- ``format`` (``"nnlab"``) and ``format_version`` (an int; files from a newer nnlab are refused),
- ``kind`` (what the file holds: ``"params"``, ``"model"``, ``"checkpoint"``, ``"estimator"``),
- ``arrays``: the manifest, ``{name: {"dtype": ..., "shape": [...]}}`` for every array,
- anything else the writer wants to keep (layer sizes, activations, hyperparameters, history).

Loading uses ``numpy.load(..., allow_pickle=False)``: nothing in the file is ever imported or
executed. The set of arrays, their dtypes and shapes must be exactly those of the manifest, every
dtype must be a plain number type, and anything else is refused with a ``ModelFileError``.

Writes go to a temporary file in the destination folder, are flushed and fsynced, then moved over
the old file with ``os.replace``: a crash at any moment leaves either the old file or the new one.

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
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "nnlab"
FORMAT_VERSION = 1
CONFIG_KEY = "__config__"
#: The only dtypes a model file may hold.
ALLOWED_DTYPES = frozenset(
    {"float16", "float32", "float64", "int8", "int16", "int32", "int64",
     "uint8", "uint16", "uint32", "uint64", "bool"}
)
MAX_CONFIG_BYTES = 64 * 1024 * 1024


class ModelFileError(ValueError):
    """A model file that is missing, unreadable, corrupt, of an unknown version or unexpected."""


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress_os_error():
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


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


class _suppress_os_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        return exc_type is not None and issubclass(exc_type, OSError)


def _manifest(arrays: Mapping[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    return {k: {"dtype": str(v.dtype), "shape": list(v.shape)} for k, v in arrays.items()}


def save_arrays(
    path: str | os.PathLike, arrays: Mapping[str, np.ndarray], config: Mapping[str, Any]
) -> None:
    """Save ``arrays`` and the JSON-able ``config`` to one ``.npz`` file, atomically.

    Raises ``ValueError`` for an array of a non-number dtype or a name that is not a plain
    identifier-like string, ``TypeError`` for a config that JSON cannot hold.
    """
    clean: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name or name == CONFIG_KEY or "/" in name:
            raise ValueError(f"array name {name!r} is not allowed in a model file")
        a = np.ascontiguousarray(value)
        if str(a.dtype) not in ALLOWED_DTYPES:
            raise ValueError(f"array {name!r} has dtype {a.dtype}: only number dtypes are saved")
        clean[name] = a
    doc = {**config, "format": FORMAT, "format_version": FORMAT_VERSION,
           "arrays": _manifest(clean)}
    payload = json.dumps(doc, allow_nan=False, sort_keys=True).encode("utf-8")
    buffer = io.BytesIO()
    np.savez(buffer, **{CONFIG_KEY: np.frombuffer(payload, dtype=np.uint8)}, **clean)
    atomic_write_bytes(path, buffer.getvalue())


def load_arrays(
    path: str | os.PathLike, kind: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load and check a file written by ``save_arrays``; returns ``(arrays, config)``.

    ``kind``, when given, must match the file's ``kind``. Every problem is a ``ModelFileError``
    that names the file and what was wrong.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, expected a model file (.npz)")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{path}: not an nnlab model file (a bare .npy array)")
        with loaded as npz:
            names = list(npz.files)
            if CONFIG_KEY not in names:
                raise ModelFileError(f"{path}: not an nnlab model file (no {CONFIG_KEY} entry)")
            raw = {k: npz[k] for k in names}
    except ModelFileError:
        raise
    except ValueError as exc:  # e.g. "Object arrays cannot be loaded when allow_pickle=False"
        raise ModelFileError(f"{path}: refused: {exc}") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError, RuntimeError) as exc:
        raise ModelFileError(f"{path}: unreadable or corrupt model file ({exc})") from None
    for k, v in raw.items():
        # NumPy hands back a member that is not a .npy array as raw bytes: refuse it
        if not isinstance(v, np.ndarray):
            raise ModelFileError(f"{path}: entry {k!r} is not a NumPy array")
    config = _parse_config(path, raw.pop(CONFIG_KEY))
    arrays = raw
    _check_manifest(path, arrays, config)
    if kind is not None and config.get("kind") != kind:
        raise ModelFileError(
            f"{path}: holds a {config.get('kind')!r}, expected a {kind!r} file"
        )
    return arrays, config


def _parse_config(path: Path, raw: np.ndarray) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_CONFIG_BYTES:
        raise ModelFileError(f"{path}: malformed {CONFIG_KEY} entry")
    try:
        config = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: its config is not valid JSON ({exc})") from None
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


def _check_manifest(path: Path, arrays: Mapping[str, np.ndarray], config: dict) -> None:
    manifest = config["arrays"]
    if set(manifest) != set(arrays):
        missing = sorted(set(manifest) - set(arrays))
        extra = sorted(set(arrays) - set(manifest))
        raise ModelFileError(
            f"{path}: the arrays do not match the manifest (missing: {missing}, extra: {extra})"
        )
    for name, a in arrays.items():
        spec = manifest[name]
        if not isinstance(spec, dict):
            raise ModelFileError(f"{path}: malformed manifest entry for {name!r}")
        if str(a.dtype) not in ALLOWED_DTYPES or str(a.dtype) != spec.get("dtype"):
            raise ModelFileError(
                f"{path}: array {name!r} has dtype {a.dtype}, expected {spec.get('dtype')}"
            )
        if list(a.shape) != spec.get("shape"):
            raise ModelFileError(
                f"{path}: array {name!r} has shape {list(a.shape)}, expected {spec.get('shape')}"
            )


# ---------------------------------------------------------------------------------------------
# Parameters: W1, b1, ..., WL, bL


def check_params_shapes(params: Mapping[str, np.ndarray], where: str = "params") -> list[int]:
    """Check that W1, b1, ..., WL, bL chain up: W[l] is (n[l], n[l-1]), b[l] is (n[l], 1).

    Returns the layer sizes ``[n_x, n_1, ..., n_L]``.
    """
    L = sum(1 for k in params if k.startswith("W"))
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in "Wb"}
    if L == 0 or set(params) != expected:
        raise ModelFileError(
            f"{where}: expected parameters {sorted(expected) or ['W1', 'b1']}, "
            f"found {sorted(params)}"
        )
    dims = [params["W1"].shape[1] if params["W1"].ndim == 2 else -1]
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        if W.ndim != 2 or W.shape[1] != dims[-1] or W.shape[0] < 1 or b.shape != (W.shape[0], 1):
            raise ModelFileError(
                f"{where}: W{l} {W.shape} and b{l} {b.shape} do not fit layer {l - 1}'s "
                f"size {dims[-1]}"
            )
        if not np.issubdtype(W.dtype, np.floating) or W.dtype != b.dtype:
            raise ModelFileError(f"{where}: W{l} and b{l} must share one float dtype")
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
    from . import optimizers

    states = {c.__name__: c for c in (optimizers.GDState, optimizers.MomentumState,
                                      optimizers.RMSpropState, optimizers.AdamState)}
    extra = getattr(optimizers, "SGDState", None)
    if extra is not None:
        states["SGDState"] = extra
    cls = states.get(meta.get("type"))
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
