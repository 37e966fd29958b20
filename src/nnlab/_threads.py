"""Thread limits for code that runs many trainings side by side in processes.

Each worker process trains small networks; letting BLAS start its own threads in every worker
only makes the processes fight over the cores (and makes results depend on the thread count).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit BLAS (OpenBLAS, MKL) to one thread inside the block.

    >>> with one_blas_thread():
    ...     pass
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1):
        yield
