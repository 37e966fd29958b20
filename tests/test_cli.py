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
