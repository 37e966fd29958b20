"""nnlab's files: numbers and JSON only, written atomically, read within bounds, checked.

- ``format``: the file format itself: bounded ``.npz`` readers and writers, the JSON manifest,
  atomic writes (``atomic_write_bytes``), random generator and optimizer state, ``ModelFileError``
  and ``FileWriteError``; ``save_params`` / ``load_params`` for a bare parameter dict.
- ``models``: ``Model`` files, checkpoints with exact resume (``ModelCheckpoint``), estimator
  files, and ``nnlab.save`` / ``nnlab.load``.

Nothing is imported here: ``nnlab.files.format`` loads NumPy only, ``nnlab.files.models`` the
``Model`` too.
"""
