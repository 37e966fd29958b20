"""safetensors files: the weights by their course names (``W1``, ``b1``, ...) for other tools,
and everything nnlab needs to rebuild the model in the file's metadata.

A safetensors file is an 8-byte little-endian header length ``N``, ``N`` bytes of JSON — for each
tensor its ``dtype`` (``"F64"``...), ``shape`` and ``data_offsets`` into the data, and a
``__metadata__`` object of strings — and then the data, the tensors back to back in
little-endian order. ``nnlab export`` writes it with the ``safetensors`` package; this module
reads it back with NumPy alone (no extra needed), within the same bounds as nnlab's own files
(``nnlab.files.format``): the header's size and JSON are bounded before they are parsed, every
tensor's dtype, shape and offsets are checked, the tensors must fill the data exactly, and nothing
is read before its size is known to fit.

The metadata nnlab writes (every value a string, as the format requires):

- ``nnlab``: the JSON config nnlab's ``.npz`` files carry (``format``, ``format_version``,
  ``kind`` "model" or "estimator", the manifest of the arrays, the network's layers, loss and
  optimizer, the label names, an estimator's parameters), which ``nnlab.load`` rebuilds from;
- for other tools: ``nnlab_version``, ``kind``, ``layer_dims`` (JSON list), ``activations``
  (JSON list, g[1] .. g[L]), ``loss``, ``classes`` (JSON list: the labels of the output units),
  ``features`` (the 2-D feature maps the inputs are, if any) and, with batch norm,
  ``batch_norm_epsilon`` (the arrays ``gamma{l}``, ``beta{l}``, ``running_mean{l}`` and
  ``running_var{l}`` then stand in for ``b{l}``).

>>> import numpy as np
>>> data = encode_safetensors({"W1": np.eye(2)}, {"note": "hi"})
>>> arrays, metadata = decode_safetensors(data)
>>> arrays["W1"].tolist(), metadata
([[1.0, 0.0], [0.0, 1.0]], {'note': 'hi'})
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .format import (
    MAX_ARRAY_BYTES,
    MAX_CONFIG_BYTES,
    MAX_JSON_CONTAINERS,
    MAX_JSON_STRINGS,
    ModelFileError,
    _open_regular,
    _parse_config,
)

#: safetensors' dtype names ↔ NumPy's (little-endian), for the dtypes nnlab's files may hold.
DTYPES: dict[str, np.dtype] = {
    "F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8"),
    "I8": np.dtype("i1"), "I16": np.dtype("<i2"), "I32": np.dtype("<i4"), "I64": np.dtype("<i8"),
    "U8": np.dtype("u1"), "U16": np.dtype("<u2"), "U32": np.dtype("<u4"), "U64": np.dtype("<u8"),
    "BOOL": np.dtype("bool"),
}
_NAMES = {dtype.newbyteorder("="): name for name, dtype in DTYPES.items()}
#: The metadata key holding nnlab's own config (JSON).
CONFIG_KEY = "nnlab"


def encode_safetensors(arrays: Mapping[str, np.ndarray],
                       metadata: Mapping[str, str] | None = None) -> bytes:
    """The bytes of a safetensors file holding ``arrays`` and the string ``metadata``, written by
    the ``safetensors`` package (``pip install "nnlab[export]"``)."""
    from .._extras import require

    numpy_io = require("safetensors.numpy", "export", "writing a safetensors file")
    tensors = {}
    for name, value in arrays.items():
        a = np.ascontiguousarray(value)
        if a.dtype.newbyteorder("=") not in _NAMES:
            raise ValueError(f"array {name!r} has dtype {a.dtype}: not one nnlab writes")
        tensors[name] = a.astype(a.dtype.newbyteorder("<"), copy=False)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    return bytes(numpy_io.save(tensors, metadata=meta or None))


def _header(where: str, raw: bytes) -> dict[str, Any]:
    containers, strings = raw.count(b"[") + raw.count(b"{"), raw.count(b'"') // 2
    if containers > MAX_JSON_CONTAINERS or strings > MAX_JSON_STRINGS:
        raise ModelFileError(f"{where}: its safetensors header holds {containers} lists/objects "
                             f"and {strings} strings: more than a model has")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ModelFileError(f"{where}: not a safetensors file: its header is not JSON "
                             f"({type(exc).__name__})") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{where}: not a safetensors file: its header is not an object")
    return header


def _layout(where: str, header: dict[str, Any], size: int
            ) -> tuple[dict[str, tuple[np.dtype, tuple[int, ...], int]], dict[str, str]]:
    """Each tensor's dtype, shape and offset, checked against the data's ``size``, and the
    metadata."""
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ModelFileError(f"{where}: its safetensors __metadata__ must map strings to strings")
    spans, layout = [], {}
    for name, spec in header.items():
        if not isinstance(spec, dict):
            raise ModelFileError(f"{where}: tensor {name!r:.40} is not described by an object")
        dtype_name, shape, offsets = spec.get("dtype"), spec.get("shape"), spec.get("data_offsets")
        if dtype_name not in DTYPES:
            raise ModelFileError(f"{where}: tensor {name!r:.40} has dtype {dtype_name!r:.20}, "
                                 f"not one nnlab reads ({', '.join(DTYPES)})")
        if not isinstance(shape, list) or len(shape) > 8 or not all(
                isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise ModelFileError(f"{where}: tensor {name!r:.40} has shape {shape!r:.60}: "
                                 "expected a list of sizes")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(
                isinstance(n, int) and not isinstance(n, bool) for n in offsets)):
            raise ModelFileError(f"{where}: tensor {name!r:.40} has data_offsets "
                                 f"{offsets!r:.60}: expected [begin, end]")
        dtype = DTYPES[dtype_name]
        begin, end = offsets
        if end - begin != math.prod(shape) * dtype.itemsize:
            raise ModelFileError(f"{where}: tensor {name!r:.40} takes {end - begin} bytes, but "
                                 f"{dtype_name} {shape} needs {math.prod(shape) * dtype.itemsize}")
        spans.append((begin, end, name))
        layout[name] = (dtype, tuple(shape), begin)
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            raise ModelFileError(f"{where}: tensor {name!r:.40} starts at byte {begin} of the "
                                 f"data, expected {position} (tensors overlap or leave a gap)")
        position = end
    if position != size:
        raise ModelFileError(f"{where}: the tensors take {position} bytes but the file holds "
                             f"{size} after its header (truncated or padded)")
    if size > MAX_ARRAY_BYTES:
        raise ModelFileError(f"{where}: its tensors would take {size} bytes, over the "
                             f"{MAX_ARRAY_BYTES} budget")
    return layout, metadata


def decode_safetensors(data: bytes, where: str = "safetensors data"
                       ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays (native byte order) and metadata of a safetensors file's bytes, checked."""
    if len(data) < 8:
        raise ModelFileError(f"{where}: not a safetensors file (shorter than its 8-byte header)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_CONFIG_BYTES or 8 + n > len(data):
        raise ModelFileError(f"{where}: not a safetensors file (a header of {n} bytes in a file "
                             f"of {len(data)})")
    layout, metadata = _layout(where, _header(where, data[8:8 + n]), len(data) - 8 - n)
    body = memoryview(data)[8 + n:]
    arrays = {}
    for name, (dtype, shape, begin) in layout.items():
        flat = np.frombuffer(body, dtype=dtype, count=math.prod(shape), offset=begin)
        arrays[name] = flat.reshape(shape).astype(dtype.newbyteorder("="))
    return arrays, metadata


def read_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The arrays and metadata of a safetensors file; a ``ModelFileError`` names what is wrong
    (not a regular file, not safetensors, a header or tensor out of bounds)."""
    path = Path(path)
    with _open_regular(path) as f:
        head = f.read(8)
        if len(head) < 8:
            raise ModelFileError(f"{path}: not a safetensors file (shorter than its 8-byte "
                                 "header)")
        (n,) = struct.unpack("<Q", head)
        size = os.fstat(f.fileno()).st_size
        if n > MAX_CONFIG_BYTES or 8 + n > size:
            raise ModelFileError(f"{path}: not a safetensors file (a header of {n} bytes in a "
                                 f"file of {size})")
        raw = f.read(n)
        _layout(str(path), _header(str(path), raw), size - 8 - n)  # checked before the data
        data = head + raw + f.read(size - 8 - n + 1)
    if len(data) != size:
        raise ModelFileError(f"{path}: changed while it was read")
    return decode_safetensors(data, str(path))


def load_safetensors(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(arrays, config)`` of a safetensors file that nnlab exported, as
    ``nnlab.files.format.load_arrays`` returns them for an ``.npz``: the config is the
    metadata's ``nnlab`` entry, checked like an ``.npz``'s (format, version, the manifest
    against the tensors). ``nnlab.load`` builds the model or estimator from them."""
    path = Path(path)
    arrays, metadata = read_safetensors(path)
    raw = metadata.get(CONFIG_KEY)
    if raw is None:
        raise ModelFileError(
            f"{path}: a safetensors file without nnlab's metadata (no {CONFIG_KEY!r} entry): "
            "nnlab reads back only the files `nnlab export` writes")
    config = _parse_config(path, raw.encode("utf-8"))
    manifest = config["arrays"]
    if set(manifest) != set(arrays):
        raise ModelFileError(
            f"{path}: the tensors do not match nnlab's manifest (missing: "
            f"{sorted(set(manifest) - set(arrays))}, extra: {sorted(set(arrays) - set(manifest))})")
    for name, a in arrays.items():
        spec = manifest[name]
        if not isinstance(spec, dict) or spec.get("shape") != list(a.shape) or (
                spec.get("dtype") != str(a.dtype)):
            raise ModelFileError(f"{path}: tensor {name!r} is {a.dtype} {list(a.shape)}, but "
                                 f"nnlab's manifest says {spec!r:.80}")
    if config.get("kind") not in ("model", "estimator"):
        raise ModelFileError(f"{path}: holds a {config.get('kind')!r:.40}; an exported file "
                             "holds a model or an estimator")
    return arrays, config
