"""``nnlab demo``: the course's 2-4-1 tanh network on the planar flower data, with its costs and
accuracy as the course prints them."""

from __future__ import annotations

import argparse


def cmd_demo(args: argparse.Namespace) -> int:
    """Train the course's 2-4-1 tanh network on the planar flower data."""
    from ..datasets import load_flower
    from ..engine import train
    from ..network import predict

    X, Y = load_flower()
    activations = ["tanh", "sigmoid"]
    print("Planar flower data: 400 points, 2 classes. Network 2 -> 4 tanh -> 1 sigmoid,")
    print("weights randn * 0.01 from RandomState(2), learning rate 1.2, 10000 iterations.")
    result = train(
        X, Y, [2, 4, 1], activations, init="random", random_state=2,
        learning_rate=1.2, num_epochs=args.iterations, print_every=1000,
    )
    accuracy = float((predict(X, result.params, activations) == Y).mean() * 100)
    print(f"Accuracy: {accuracy:.2f} %  (course: 90 %, i.e. 90.75 %)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``demo`` to the ``nnlab`` parser's sub-commands."""
    demo = sub.add_parser(
        "demo",
        help="train the 2-4-1 tanh network on the planar flower data",
        description=cmd_demo.__doc__,
        epilog="example: nnlab demo --iterations 5000",
    )
    demo.add_argument("--iterations", type=int, default=10000, help="default: 10000")
    demo.set_defaults(func=cmd_demo)
