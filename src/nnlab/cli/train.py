"""``nnlab train``: train a network from settings (flags and / or a TOML file), report the
metrics, save the model; checkpoints and ``--resume`` continue a run bit for bit.

Exit codes: 0 trained, 1 diverged, 2 a user's mistake (one line on stderr), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .common import UsageError, emit, fmt_metrics
from .options import SETTINGS, add_settings, config_from_args

EPILOG = """\
examples:
  nnlab train moons --layers 5,2 --optimizer adam --lr 0.01 --epochs 200
  nnlab train football --layers 20,3 --batch-size full --l2 0.7 --save runs/l2
  nnlab train data.csv --target label --val-split 0.2 --early-stopping 10
  nnlab train --config exp.toml --lr 0.1
  nnlab train moons --checkpoint ck.npz --checkpoint-every 10
  nnlab train --resume ck.npz"""


def _check_outputs(args: argparse.Namespace) -> None:
    """The files ``train`` will write can be written (regular files or new paths, in folders
    that exist or can be made): checked before any training."""
    from ..files.format import check_output_path
    from ..runs.run import CONFIG_FILE, MODEL_FILE, model_path

    if args.save:
        file = model_path(args.save)
        check_output_path(file)
        if file.name == MODEL_FILE and file.parent == Path(args.save):
            check_output_path(Path(args.save) / CONFIG_FILE)
    if args.checkpoint:
        check_output_path(args.checkpoint)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a network on a data set and report train / validation (/ test) accuracy."""
    from ..runs.run import run_config, save_run
    from ..training import DivergenceError

    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise UsageError(f"--checkpoint-every {args.checkpoint_every}: expected >= 1")
    for flag in ("save", "checkpoint", "resume"):
        if getattr(args, flag) is not None and not getattr(args, flag).strip():
            raise UsageError(f"--{flag} '': give a path")
    config = None if args.resume else config_from_args(args)
    changes = None
    if config is None:
        if args.config or args.dataset:
            raise UsageError("--resume continues a run with its saved settings: don't give "
                               "a data set or --config with it")
        # --epochs sets a new total; any other setting must equal the checkpoint's
        changes = {k: getattr(args, k) for k in SETTINGS if getattr(args, k, None) is not None}
    _check_outputs(args)  # a bad --save / --checkpoint is refused before training, not after
    try:
        result = run_config(
            config, data_dir=args.data_dir, verbose=0 if args.json or args.quiet else "auto",
            checkpoint=args.checkpoint, checkpoint_every=args.checkpoint_every or 1,
            resume=args.resume, resume_changes=changes,
        )
    except KeyboardInterrupt as exc:
        print(f"nnlab train: {_interrupted(args, exc)}", file=sys.stderr)
        return 130
    except DivergenceError as exc:
        print(f"nnlab train: error: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"error": str(exc), "epoch": exc.epoch}))
        return 1
    rose = _cost_rose(result)
    if rose:
        print(f"nnlab train: warning: {rose}", file=sys.stderr)
    saved = None
    if args.save:
        saved = str(save_run(result, args.save))
    payload = {"config": result.config.to_dict(), "metrics": result.metrics,
               "epochs": result.epochs_run, "stopped_early": result.stopped_early,
               "classes": result.classes, "loss_curve": result.history.loss, "model": saved}
    text = fmt_metrics(result.metrics)
    text = f"trained {result.epochs_run} epochs" + (
        " (stopped early)" if result.stopped_early else "") + "\n" + text
    if saved:
        text += f"\nmodel saved to {saved}"
    emit(args, payload, text)
    return 0


def _interrupted(args: argparse.Namespace, exc: KeyboardInterrupt) -> str:
    """What Ctrl-C left behind, and how to go on: one line."""
    import shlex

    if not args.checkpoint:
        if args.resume:
            return (f"interrupted; {args.resume} still holds the run as it was (add --checkpoint "
                    "FILE to keep the progress of a resumed run)")
        return "interrupted; nothing was saved (--checkpoint FILE makes a run resumable)"
    epoch = getattr(exc, "checkpoint_epoch", None)
    if epoch is None:
        return f"interrupted before the first checkpoint was written to {args.checkpoint}"
    again = ["nnlab", "train", "--resume", args.checkpoint, "--checkpoint", args.checkpoint]
    for flag in ("checkpoint_every", "data_dir", "save"):
        if getattr(args, flag, None) is not None:
            again += ["--" + flag.replace("_", "-"), str(getattr(args, flag))]
    return (f"interrupted; {args.checkpoint} holds the run after epoch {epoch}; go on with: "
            + " ".join(shlex.quote(a) for a in again))


def _cost_rose(result) -> str | None:
    """A warning when training ended far above where it started (a learning rate too large
    makes the cost jump instead of descend), else None."""
    loss = result.history.loss
    if not loss:
        return None
    first = result.initial_loss if result.initial_loss is not None else loss[0]
    last = loss[-1]
    if not (np.isfinite(first) and np.isfinite(last)) or not (last > 2 * first and
                                                              last - first > 0.1):
        return None
    start = "before training" if result.initial_loss is not None else "after epoch 1"
    return (f"the cost rose from {first:.4g} ({start}) to {last:.4g} (epoch {len(loss)}): the "
            f"learning rate {result.config.lr:g} is probably too large; try a smaller --lr")



def register(sub: argparse._SubParsersAction) -> None:
    """Add ``train`` to the ``nnlab`` parser's sub-commands."""
    p = sub.add_parser("train", help="train a network on a data set",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=cmd_train.__doc__, epilog=EPILOG)
    add_settings(p)
    p.add_argument("--save", metavar="PATH", help="write the model: a folder (model.npz and "
                   "config.toml) or a .npz file")
    p.add_argument("--checkpoint", metavar="FILE.npz", help="write a checkpoint for --resume")
    p.add_argument("--checkpoint-every", type=int, metavar="N", help="epochs between "
                   "checkpoints (default 1)")
    p.add_argument("--resume", metavar="FILE.npz", help="continue a checkpointed run exactly")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)
