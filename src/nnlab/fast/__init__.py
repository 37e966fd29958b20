"""The fast stepper: the textbook's formulas on flat preallocated buffers, optionally compiled.

``FastTrainer`` (``stepper.py``) implements the loop's stepper protocol
(``nnlab.training.Stepper``); ``path.py`` holds the one decision of which stepper runs
(``explain_path``); the optional Numba kernels are split by numerical contract: ``kernels.py``
(exact: the same bits as the NumPy they replace) and ``rounded_kernels.py`` (equal to rounding:
sums reassociated, Adam's other form, whole epochs of small networks). Nothing here knows ``Model``,
the estimators or the command line: it takes plain settings and arrays.

What each piece mirrors (its formula lives in the textbook module named), and the test that
holds it equal:

- ``_relu`` … ``_softmax``, in place over Z: A = g(Z) (``activations.py``); their
  ``_*_backward``, from A = g(Z): dZ = dA · g'(Z). Bit for bit: tests/fast/test_stepper.py.
- ``_binary_crossentropy`` … into scratch buffers: J (``losses.py``). Bit for bit:
  tests/fast/test_kernels.py.
- ``FastTrainer._forward``: Z = W A_prev + b, A = g(Z), inverted dropout; ``_backward``:
  dW = (1/m) dZ A_prev^T, db = (1/m) Σ dZ, dA_prev = W^T dZ (``layers.py``, ``network.py``).
  Bit for bit: tests/fast/test_stepper.py, under both backends (NumPy and Numba).
- ``_update_gd`` … ``_update_adam`` over the flat θ in cache-sized blocks, and
  ``kernels.update`` (one exact compiled loop each): the updates of ``optimizers.py``. Bit for
  bit: tests/fast/test_stepper.py (both backends), tests/fast/test_kernels.py.
- ``rounded_kernels.run_batches``: every batch of an epoch in one compiled call, sums
  reassociated: an epoch of ``train_step``. To rounding: tests/fast/test_kernels.py.
- ``_DualFirstLayer``: full-batch descent on W[1] carried as W[1]₀ - C X^T. To rounding:
  tests/fast/test_stepper.py.

θ is laid out ``[W1 ... WL, b1 ... bL]`` (``nnlab.network.parameter_keys``), the one layout of
flattened parameters in nnlab (``gradcheck`` uses it too).
"""

from .._scipy_blas import load_if_asked

load_if_asked()  # before kernels.py imports Numba: the command line's saving (nnlab._scipy_blas)

from .path import FAST_DTYPES, Path, exact_only, explain_path  # noqa: E402 (after the load)
from .stepper import CHUNK_BYTES, FastTrainer  # noqa: E402
from .warmup import warm_up  # noqa: E402

__all__ = [
    "CHUNK_BYTES",
    "FAST_DTYPES",
    "FastTrainer",
    "Path",
    "exact_only",
    "explain_path",
    "warm_up",
]
