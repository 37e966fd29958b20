"""The command as a user runs it: through a subprocess."""

import subprocess
import sys

import nnlab


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "nnlab", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_version():
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"nnlab {nnlab.__version__}"


def test_demo_prints_costs_and_accuracy():
    out = run("demo", "--iterations", "2000")
    assert out.returncode == 0, out.stderr
    assert "Cost after iteration 0: 0.693048" in out.stdout
    assert "Cost after iteration 1000: 0.288083" in out.stdout
    assert "Accuracy:" in out.stdout


def test_no_command_shows_help_and_fails():
    out = run()
    assert out.returncode == 2
    assert "usage: nnlab" in out.stdout


def test_unknown_command_is_one_clear_line():
    out = run("frobnicate")
    assert out.returncode == 2
    assert "invalid choice: 'frobnicate'" in out.stderr
    assert "Traceback" not in out.stderr


def _parsers():
    """nnlab's parser and every sub-command's, by name."""
    import argparse

    from nnlab.cli import build_parser

    top = build_parser()
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    return {"nnlab": top, **sub.choices}


def test_no_parser_accepts_abbreviated_flags():
    parsers = _parsers()
    assert {"train", "predict", "gradcheck", "sweep", "reproduce", "playground"} <= set(parsers)
    assert [name for name, p in parsers.items() if p.allow_abbrev] == []


def test_an_abbreviation_is_refused_not_guessed(tmp_path):
    # --data once read as --data-dir: moons was trained and the run exited 0
    out = subprocess.run([sys.executable, "-m", "nnlab", "train", "--data", "nope.csv",
                          "--epochs", "1"], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert out.returncode == 2 and "unrecognized arguments: --data" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_arguments_of_the_model_commands_have_help_texts():
    parsers = _parsers()
    for name in ("train", "evaluate", "predict", "summary", "gradcheck", "plot"):
        missing = [a.dest for a in parsers[name]._actions if not a.help]
        assert missing == [], (name, missing)


def test_every_command_is_registered_by_its_own_module():
    """Each command's handler is ``cmd_<name>`` of a module that adds its parser with
    ``register(subparsers)``: nnlab.cli.<module>, or the sweep package's command module."""
    import importlib

    for name, parser in _parsers().items():
        if name == "nnlab":
            continue
        func = parser.get_default("func")
        assert func.__name__ == f"cmd_{name}", name
        module = importlib.import_module(func.__module__)
        assert func.__module__.startswith("nnlab.cli.") or func.__module__ == "nnlab.sweep.command"
        assert callable(module.register), name


def test_one_error_class_for_a_users_mistake():
    from nnlab.cli import CommandError, UsageError
    from nnlab.cli.common import user_errors

    assert CommandError is UsageError
    assert UsageError in user_errors()
