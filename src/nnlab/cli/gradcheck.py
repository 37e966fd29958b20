"""``nnlab gradcheck``: backprop's gradient against finite differences, on a data set and a
network given as for ``nnlab train`` (the settings that only steer training are not taken).

Exit codes: 0 passed (or inconclusive at a relu kink), 1 a wrong gradient, 2 a user's mistake.
"""

from __future__ import annotations

import argparse

import numpy as np

from .common import UsageError, emit
from .options import TRAINING_ONLY, add_settings, config_from_args


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """Check backprop's gradient against finite differences on a data set and network.

    Exit status 0 when it passes or is inconclusive at a relu kink, 1 on a mistake."""
    from ..gradcheck import gradient_check
    from ..runs.run import build_model, prepare_data

    config = config_from_args(args)
    if any(k < 1 for k in config.keep_probs()):
        raise UsageError(
            "gradient checking is refused with dropout on (--keep-prob < 1): each forward pass "
            "draws a new mask, so the finite differences would not measure the gradient"
        )
    if args.examples < 1:
        raise UsageError(f"--examples {args.examples}: expected >= 1")
    prepared = prepare_data(config.replace(val_split=0.0, early_stopping=0), args.data_dir)
    model = build_model(config, prepared.X_train.shape[1], prepared.task, len(prepared.classes))
    X = prepared.X_train[: args.examples]
    y = prepared.y_train[: args.examples]
    Y = model._targets(y, X.shape[0], np.dtype(np.float64))
    assert model.params is not None  # built
    n = sum(v.size for v in model.params.values())
    if n > args.max_params:
        raise UsageError(
            f"the network has {n} parameters; checking costs 2 forward passes each: use a "
            f"smaller network, or raise --max-params (now {args.max_params})")
    result = gradient_check(model.params, X.T, Y.T, model.activations, lambd=config.l2,
                            epsilon=args.fd_epsilon, loss=model.loss, l1=config.l1)
    payload = {"difference": result.difference, "per_parameter": result.per_parameter,
               "threshold": result.threshold, "passed": result.passed,
               "failing": result.failing, "examples": int(X.shape[0]), "parameters": n,
               "verdict": result.verdict, "inconclusive": result.inconclusive,
               "at_kink": result.at_kink, "difference_off_kink": result.difference_off_kink,
               "kinks": [k._asdict() for k in result.kinks]}
    emit(args, payload, result.report())
    # inconclusive at a kink is no mistake found: exit 0 (the report says INCONCLUSIVE)
    return 1 if result.verdict == "wrong" else 0



def register(sub: argparse._SubParsersAction) -> None:
    """Add ``gradcheck`` to the ``nnlab`` parser's sub-commands."""
    q = sub.add_parser("gradcheck", help="check backprop against finite differences",
                       description=cmd_gradcheck.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=(
                           "examples:\n  nnlab gradcheck moons --layers 5,3 --l2 0.7\n"
                           "  nnlab gradcheck iris --layers 4 --activation tanh --examples 10"))
    add_settings(q, skip=TRAINING_ONLY)
    q.add_argument("--examples", type=int, default=20, help="examples used (default 20)")
    q.add_argument("--fd-epsilon", dest="fd_epsilon", type=float, default=1e-7,
                   help="ε of the finite differences (default 1e-7)")
    q.add_argument("--max-params", type=int, default=20000, help="refuse larger networks")
    q.set_defaults(func=cmd_gradcheck)
