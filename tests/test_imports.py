"""A light install: what ``import nnlab`` and the command line load, and what a feature says when
the extra it needs is missing.

Each test runs a fresh interpreter (``sys.modules`` of this one is full of everything). A missing
package is simulated by a meta-path finder, installed first thing in that interpreter, that
refuses to import it, as Python does when the package is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import nnlab

#: Packages of the extras (plot, course, playground, fast, dask), and the heavy required ones
#: that neither ``import nnlab`` nor ``nnlab --help`` needs.
OPTIONAL = ("matplotlib", "numba", "llvmlite", "starlette", "uvicorn", "websockets", "h5py",
            "pooch", "dask", "distributed")
HEAVY = (*OPTIONAL, "sklearn", "scipy", "pandas")

#: Python code that makes ``import NAME`` fail for the top-level names in BLOCKED (a JSON list).
_BLOCKER = """
import sys
BLOCKED = set({blocked})
class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, _NotInstalled())
"""

#: Runs the command line in-process (after the blocker), then prints the heavy modules loaded.
_CLI = """
from nnlab.cli import main
try:
    code = main({argv})
except SystemExit as exc:
    code = exc.code
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def run_python(code: str, blocked: tuple[str, ...] = (), **kwargs) -> subprocess.CompletedProcess:
    """``python -c CODE`` in a fresh interpreter where the packages ``blocked`` are missing."""
    prelude = "import json, sys\n" + _BLOCKER.format(blocked=json.dumps(list(blocked)))
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                          text=True, timeout=300, **kwargs)


def run_cli(argv: list[str], blocked: tuple[str, ...] = (), **kwargs) -> tuple[
        subprocess.CompletedProcess, list[str]]:
    """``nnlab ARGV`` with ``blocked`` missing: (the process, the heavy modules it loaded)."""
    proc = run_python(_CLI.format(argv=json.dumps(argv), heavy=json.dumps(HEAVY)), blocked,
                      **kwargs)
    *stderr, loaded = proc.stderr.rstrip("\n").split("\n")
    proc.stderr = "\n".join(stderr) + ("\n" if stderr else "")
    return proc, json.loads(loaded)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The single line on stderr of a command that failed with exit code 2 (no traceback)."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


# ------------------------------------------------------------------------- what start-up loads
def test_import_nnlab_loads_no_optional_or_heavy_package():
    proc = run_python(f"import nnlab\nprint(json.dumps(sorted(m for m in {list(HEAVY)!r} "
                      "if m in sys.modules)))")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["train", "--help"],
                                  ["playground", "--help"], ["sweep", "--help"]])
def test_the_command_lines_help_and_version_load_no_optional_or_heavy_package(argv):
    proc, loaded = run_cli(argv)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    assert loaded == []


def test_version_prints_what_the_parser_would():
    from nnlab.cli import build_parser

    proc, _ = run_cli(["--version"])
    assert proc.stdout == f"nnlab {nnlab.__version__}\n"
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--version"])
    assert exc.value.code == 0


def test_every_public_name_resolves_lazily_to_its_definition():
    proc = run_python(
        "import nnlab\n"
        "before = set(sys.modules)\n"
        "values = {n: getattr(nnlab, n) for n in nnlab.__all__}\n"
        "print(json.dumps({n: getattr(v, '__name__', None) for n, v in values.items()}))\n"
        "print(json.dumps(sorted(set(dir(nnlab)) >= set(nnlab.__all__) and ['dir-ok'])))\n"
    )
    assert proc.returncode == 0, proc.stderr
    names, dir_ok = proc.stdout.splitlines()
    resolved = json.loads(names)
    for name, module_or_name in resolved.items():
        if name == "__version__":
            continue
        assert module_or_name in (name, f"nnlab.{name}"), name
    assert json.loads(dir_ok) == ["dir-ok"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        nnlab.nope  # noqa: B018


def test_moved_modules_stay_reachable_from_nnlab_under_their_old_names():
    import nnlab.datasets.features
    import nnlab.files.format
    import nnlab.files.models

    assert nnlab.io is nnlab.files.format
    assert nnlab.saving is nnlab.files.models
    assert nnlab.features is nnlab.datasets.features
    assert nnlab.saving.ModelCheckpoint is nnlab.files.models.ModelCheckpoint
    assert nnlab.save is nnlab.files.models.save
    assert "io" not in dir(nnlab)  # reachable, not advertised


def test_the_estimators_and_the_engine_work_with_no_extra_installed():
    code = f"""
import numpy as np
import nnlab
X = np.random.default_rng(0).normal(size=(40, 2)); y = (X[:, 0] > 0).astype(int)
clf = nnlab.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, y)
res = nnlab.train(X.T, y[None, :], [2, 3, 1], ["relu", "sigmoid"], num_epochs=5, random_state=0)
model = nnlab.Model([nnlab.Dense(3, "relu"), nnlab.Dense(1, "sigmoid")], optimizer="adam",
                    random_state=0)
model.fit(X, y, epochs=2, batch_size=16, verbose=0)
loaded = sorted(m for m in {OPTIONAL!r} if m in sys.modules)
print(clf.predict(X).shape, len(res.costs), loaded)
"""
    proc = run_python(code, blocked=OPTIONAL)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "(40,) 5 []"


# ---------------------------------------------------------------- a missing extra, one line
def test_train_without_numba_falls_back_to_numpy_silently(tmp_path):
    proc, loaded = run_cli(["train", "moons", "--epochs", "3", "--json"], blocked=("numba",),
                           cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "metrics" in json.loads(proc.stdout)
    assert "numba" not in loaded


def test_plotting_without_matplotlib_names_the_plot_extra(tmp_path):
    proc, _ = run_cli(["datasets", "moons", "--plot", str(tmp_path / "m.png")],
                      blocked=("matplotlib",))
    line = one_line_error(proc)
    assert line == ('nnlab datasets: error: plotting needs matplotlib, which is not installed: '
                    'pip install "nnlab[plot]"')
    assert not (tmp_path / "m.png").exists()


def test_the_plotting_module_without_matplotlib_raises_one_line_missing_extra_error():
    proc = run_python(
        "from nnlab._extras import MissingExtraError\n"
        "try:\n    import nnlab.plotting\n"
        "except MissingExtraError as exc:\n    print(type(exc).__mro__[1].__name__, exc)\n",
        blocked=("matplotlib",))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ('ImportError plotting needs matplotlib, which is not installed: '
                           'pip install "nnlab[plot]"\n')


@pytest.mark.parametrize("package", ["starlette", "uvicorn", "websockets"])
def test_the_playground_without_its_server_names_the_playground_extra(package):
    proc, _ = run_cli(["playground", "--port", "0"], blocked=(package,))
    line = one_line_error(proc)
    assert line == (f"nnlab playground: error: the playground needs {package}, which is not "
                    'installed: pip install "nnlab[playground]"')


def test_the_cat_pictures_without_h5py_name_the_course_extra(data_dir):
    proc, _ = run_cli(["datasets", "cat", "--data-dir", str(data_dir)], blocked=("h5py",))
    line = one_line_error(proc)
    assert line.startswith("nnlab datasets: error: ")
    assert 'needs h5py, which is not installed: pip install "nnlab[course]"' in line


def test_fetching_the_course_data_without_pooch_names_the_course_extra(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "NNLAB_OFFLINE"}  # the suite's is on
    env["NNLAB_DATA_URL"] = "http://127.0.0.1:9/"  # never reached: pooch is needed first
    proc, _ = run_cli(["datasets", "fetch", "--data-dir", str(tmp_path)], blocked=("pooch",),
                      env=env)
    line = one_line_error(proc)
    assert 'needs pooch, which is not installed: pip install "nnlab[course]"' in line
    assert list(tmp_path.iterdir()) == []


def test_a_sweep_on_a_dask_scheduler_without_dask_names_the_dask_extra(tmp_path):
    (tmp_path / "s.toml").write_text('[base]\ndataset = "moons"\nepochs = 1\n'
                                     '[grid]\nlr = [0.1]\n')
    proc, _ = run_cli(["sweep", "s.toml", "--scheduler", "tcp://127.0.0.1:1"],
                      blocked=("dask", "distributed"), cwd=tmp_path)
    line = one_line_error(proc)
    assert "nnlab[dask]" in line and "pip install" in line
