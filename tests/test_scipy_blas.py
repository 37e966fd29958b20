"""``nnlab._scipy_blas``: the command line's direct load of SciPy's two BLAS modules for Numba.

Each check runs in a fresh interpreter: what it tests is which modules a process has imported.
"""

import json
import subprocess
import sys

import pytest

from nnlab.fast import kernels

# A network of the compiled whole-epoch path whose products reach BLAS (n[l] n[l-1] m_b at least
# rounded_kernels.DOT_MIN: 64 x 64 x 64), trained in a fresh process; it prints what it saw.
TRAIN = """
import json, sys
from nnlab import _scipy_blas
if sys.argv[1] == "direct":
    _scipy_blas.use_direct_load()
import numpy as np
import nnlab
from nnlab.fast import path
rng = np.random.default_rng(0)
X = rng.standard_normal((20, 256))
Y = (X[:1] + X[1:2] > 0).astype(np.float64)
dims = [20, 64, 64, 1]
chosen = path.explain_path(optimizer="adam", dtype=X.dtype, activations=["relu", "relu", "sigmoid"],
                           dims=dims).name
result = nnlab.train(X, Y, dims, optimizer="adam", learning_rate=0.01, num_epochs=5,
                     batch_size=64, random_state=3)
print(json.dumps({
    "path": chosen,
    "scipy.linalg": "scipy.linalg" in sys.modules,
    "direct": [name in sys.modules for name in _scipy_blas.MODULES],
    "W1": result.params["W1"].tolist(), "costs": [float(c) for c in result.costs],
}))
import scipy.linalg  # a later import of the package (scikit-learn's, say) works as usual
from scipy.linalg import cython_blas
assert cython_blas is sys.modules["scipy.linalg.cython_blas"]
assert np.allclose(scipy.linalg.blas.dgemm(1.0, np.eye(2), np.ones((2, 2))), 1.0)
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.skipif(not kernels.enabled(), reason="Numba is not installed (or NNLAB_NUMBA=0)")
def test_the_direct_load_gives_numba_blas_without_scipy_linalg_and_the_same_numbers():
    runs = {}
    for how in ("direct", "usual"):
        out = _run(TRAIN, how)
        assert out.returncode == 0, out.stderr
        runs[how] = json.loads(out.stdout)
    direct, usual = runs["direct"], runs["usual"]
    assert direct["path"] == "compiled whole-epoch"
    assert direct["direct"] == [True, True] and not direct["scipy.linalg"]
    assert usual["scipy.linalg"]  # Numba's own import, without the direct load
    assert direct["W1"] == usual["W1"] and direct["costs"] == usual["costs"]  # bit for bit


def test_nothing_is_loaded_unless_asked_or_when_scipy_linalg_is_there():
    code = """
import sys
from nnlab import _scipy_blas
_scipy_blas.load_if_asked()
print(any(name in sys.modules for name in _scipy_blas.MODULES))
import scipy.linalg
print(_scipy_blas.load())
"""
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_a_failed_load_leaves_sys_modules_as_it_was():
    code = """
import sys
from nnlab import _scipy_blas
calls = []
def fail_second(name, path):
    calls.append(name)
    if len(calls) == 2:
        raise ImportError("no such module")
    return type(sys)(name)
_scipy_blas._from_file = fail_second
print(_scipy_blas.load(), [name in sys.modules for name in _scipy_blas.MODULES], len(calls))
"""
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == "False [False, False] 2"


def test_the_command_line_trains_without_importing_scipy_linalg():
    code = """
import contextlib, io, sys
from nnlab.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    rc = main(["train", "moons", "--epochs", "3"])
print(rc, "scipy.linalg" in sys.modules)
"""
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "False"]
