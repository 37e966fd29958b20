"""Commands that answer at once (issue 17): what ``nnlab`` imports to run a command, and the
parser that registers only the command it runs. No time is asserted: the imports are."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from nnlab.cli import COMMANDS, build_parser

#: Runs ``nnlab ARGV`` in a fresh interpreter, then prints (on stderr, as JSON) the top-level
#: packages it loaded among WATCHED and the nnlab command modules it imported.
_PROBE = """
import json, sys
from nnlab.cli import main
try:
    code = main({argv})
except SystemExit as exc:
    code = exc.code
loaded = sorted({{m.partition(".")[0] for m in sys.modules}} & set({watched}))
commands = sorted(m for m in sys.modules
                  if m.startswith(("nnlab.cli.", "nnlab.sweep")) and m != "nnlab.cli.common")
print(json.dumps([loaded, commands]), file=sys.stderr)
sys.exit(code)
"""
WATCHED = ["numpy", "sklearn", "pandas", "pyarrow", "matplotlib", "numba"]


def probe(argv: list[str], cwd=None) -> tuple[subprocess.CompletedProcess, list[str], list[str]]:
    """``nnlab ARGV`` in a subprocess: (the process, packages loaded, command modules loaded)."""
    code = _PROBE.format(argv=json.dumps(argv), watched=json.dumps(WATCHED))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=cwd)
    *_, last = proc.stderr.rstrip("\n").split("\n")
    loaded, commands = json.loads(last)
    return proc, loaded, commands


@pytest.mark.parametrize("argv", [["--help"], ["--version"], []])
def test_help_and_version_import_no_numpy_and_no_command_module(argv):
    proc, loaded, commands = probe(argv)
    assert proc.returncode == (2 if argv == [] else 0), proc.stderr
    assert "usage: nnlab" in proc.stdout or proc.stdout.startswith("nnlab ")
    assert loaded == []
    assert commands == []


@pytest.mark.parametrize("argv", [["datasets"], ["datasets", "--json"]])
def test_the_list_of_data_sets_imports_no_numpy(argv):
    proc, loaded, commands = probe(argv)
    assert proc.returncode == 0, proc.stderr
    assert "moons" in proc.stdout and "cat" in proc.stdout
    assert loaded == []
    assert commands == ["nnlab.cli.datasets"]


def test_train_imports_its_own_command_module_and_no_scikit_learn(tmp_path):
    # the split of --val-split and the moons are nnlab's own, equal to scikit-learn's
    proc, loaded, commands = probe(["train", "moons", "--epochs", "2", "--val-split", "0.2",
                                    "--save", str(tmp_path / "m")])
    assert proc.returncode == 0, proc.stderr
    assert "sklearn" not in loaded and "pandas" not in loaded and "pyarrow" not in loaded
    assert commands == ["nnlab.cli.options", "nnlab.cli.train"]

    for argv in (["evaluate", str(tmp_path / "m"), "moons"],
                 ["predict", str(tmp_path / "m"), "circles"]):
        proc, loaded, commands = probe(argv)
        assert proc.returncode == 0, proc.stderr
        assert "sklearn" not in loaded and "pandas" not in loaded, argv
        assert commands == ["nnlab.cli.saved_model"], argv


def test_the_command_list_is_what_the_modules_register():
    """COMMANDS (what ``nnlab --help`` lists without importing the modules) holds the names,
    order and help lines that the command modules' ``register`` give."""
    full = build_parser()
    sub = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    registered = [(c.dest, c.help) for c in sub._choices_actions]
    assert registered == [(name, help_line) for name, _, help_line in COMMANDS]
    for name, module, _ in COMMANDS:
        assert sub.choices[name].get_default("func").__module__ == module, name


def test_the_top_help_and_each_commands_help_are_those_of_the_full_parser():
    full = build_parser()
    sub = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    assert build_parser(only=()).format_help() == full.format_help()
    for name, _, _ in COMMANDS:
        one = build_parser(only=[name])
        one_sub = next(a for a in one._actions if isinstance(a, argparse._SubParsersAction))
        assert one.format_help() == full.format_help(), name
        assert one_sub.choices[name].format_help() == sub.choices[name].format_help(), name


@pytest.mark.parametrize("argv", [["--help", "train"], ["train", "--help"],
                                  ["frobnicate"], ["--", "train"]])
def test_the_cli_answers_as_the_full_parser_does(argv, capsys):
    """main builds only the named command's parser: what it prints and its exit code are the
    full parser's."""
    from nnlab.cli import main

    with pytest.raises(SystemExit) as full_exit:
        build_parser().parse_args(argv)
    full_out = capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    assert (code, out.out, out.err) == (full_exit.value.code, full_out.out, full_out.err)
