"""``nnlab export``: a saved model (or estimator) for other tools: an ONNX graph, or its weights
by their course names in a safetensors file (``nnlab.files.export``).

The ONNX graph and the safetensors writer need the ``export`` extra (``pip install
"nnlab[export]"``); without it the command says so in one line (exit code 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import UsageError, emit

#: The formats, with their suffix (the same as ``nnlab.files.export.FORMATS``, without
#: importing it before a command runs).
FORMATS = {"onnx": ".onnx", "safetensors": ".safetensors"}


def _output(model: str, out: str | None, fmt: str | None) -> tuple[Path, str]:
    """Where to write and in which format: ``--out`` (its suffix names the format when
    ``--format`` does not), else beside the model: ``runs/m/model.onnx`` for the folder
    ``runs/m``, ``m.onnx`` for ``m.npz``."""
    if out is not None:
        suffix = Path(out).suffix.lower()
        if fmt is None:
            fmt = next((name for name, s in FORMATS.items() if s == suffix), None)
            if fmt is None:
                raise UsageError(f"--out {out}: say which format to write with --format "
                                 f"{'|'.join(FORMATS)} (the suffix {suffix or '(none)'!r} "
                                 "names none)")
        return Path(out), fmt
    if fmt is None:
        raise UsageError(f"say which format to write: --format {'|'.join(FORMATS)} (or --out "
                         "FILE.onnx / FILE.safetensors)")
    path = Path(model)
    base = path / "model" if path.is_dir() else path.with_suffix("")
    out_path = base.with_name(base.name + FORMATS[fmt])
    if out_path == path:
        raise UsageError(f"{model} is already {fmt}: name another file with --out")
    return out_path, fmt


def cmd_export(args: argparse.Namespace) -> int:
    """Write a saved model as an ONNX graph or a safetensors file (weights W1, b1, ... with the
    architecture in the metadata, read back by nnlab.load)."""
    from ..files.export import export
    from ..files.models import load

    out, fmt = _output(args.model, args.out, args.format)
    obj = load(args.model)
    if isinstance(obj, tuple):
        raise UsageError(f"{args.model}: a bare parameter file (W1, b1, ... without the layers' "
                         "activations): export needs a model, e.g. one saved by nnlab train")
    written = export(obj, out, fmt, dtype=args.dtype)
    model = getattr(obj, "model_", obj)
    dims = model.layer_dims
    dtype = args.dtype or str(model.params["W1"].dtype)
    what = {"onnx": "ONNX graph (opset 17)", "safetensors": "safetensors weights"}[fmt]
    emit(args, {"model": args.model, "out": str(out), "format": fmt, "dtype": dtype,
                "layer_dims": dims, "activations": model.activations, "bytes":
                written.stat().st_size},
         f"wrote {out}: {what}, {dtype}, layers {dims} ({', '.join(model.activations)})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``export`` to the ``nnlab`` parser's sub-commands."""
    q = sub.add_parser("export", help="write a saved model as ONNX or safetensors",
                       description=cmd_export.__doc__,
                       epilog="examples: nnlab export runs/m --format onnx; "
                              "nnlab export runs/m -o m.safetensors")
    q.add_argument("model", help="a saved model: a folder, a .npz model, checkpoint or "
                   "estimator file")
    q.add_argument("--format", choices=tuple(FORMATS),
                   help="onnx or safetensors (default: from --out's suffix)")
    q.add_argument("-o", "--out", metavar="FILE", help="the file to write (default: beside "
                   "the model, e.g. runs/m/model.onnx)")
    q.add_argument("--dtype", choices=("float32", "float64"),
                   help="the numbers' type in the file (default: the model's)")
    q.add_argument("--json", action="store_true", help="print machine-readable JSON")
    q.set_defaults(func=cmd_export)
