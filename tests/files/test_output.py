"""Output paths: nnlab replaces only what is its own — a regular file or a new path — keeps the
old file on any error, follows the umask, and cleans up after a killed writer."""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nnlab.files.format import (
    TEMP_MARK,
    FileWriteError,
    atomic_write_bytes,
    atomic_write_files,
    check_output_path,
)

SRC = str(Path(__file__).resolve().parents[2] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC, "PYTHONDONTWRITEBYTECODE": "1"}


def _nnlab(*args, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "nnlab", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=ENV, **kw)


def _one_line_exit_2(out) -> str:
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr, out.stderr
    return lines[0]


@pytest.fixture
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("trained")
    out = _nnlab("train", "moons", "--epochs", "1", "--layers", "3", "--quiet", "--save",
                 "run", cwd=folder)
    assert out.returncode == 0, out.stderr
    return folder / "run"


# ----------------------------------------------------------------------- what may be replaced


def _special(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()
    elif kind == "folder":
        path.mkdir()
    elif kind == "device":
        try:
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # a copy of /dev/null
        except (PermissionError, OSError):
            pytest.skip("cannot make a device node here")
    return path


@pytest.mark.parametrize("kind, words", [("fifo", "a FIFO"), ("socket", "a socket"),
                                         ("folder", "a folder"),
                                         ("device", "a character device")])
def test_only_regular_files_are_replaced(tmp_path, kind, words):
    path = _special(tmp_path, kind)
    before = os.lstat(path)
    with pytest.raises(FileWriteError, match=f"is {words}.*: nnlab only writes a regular file"):
        atomic_write_bytes(path, b"data")
    after = os.lstat(path)
    assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode)
    assert after.st_ino == before.st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == [kind]  # no temp file left


def test_symlink_is_written_through_and_kept(tmp_path):
    """Documented: a link to a regular file (or to a new path) is followed; the target is
    replaced atomically in its own folder, and the link stays a link."""
    elsewhere = tmp_path / "real"
    elsewhere.mkdir()
    target = elsewhere / "model.npz"
    target.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    atomic_write_bytes(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(elsewhere / "fresh.npz")
    atomic_write_bytes(dangling, b"fresh")
    assert dangling.is_symlink() and (elsewhere / "fresh.npz").read_bytes() == b"fresh"
    to_dir = tmp_path / "to_dir"
    to_dir.symlink_to(elsewhere)
    with pytest.raises(FileWriteError, match=r"a link to .*is a folder"):
        atomic_write_bytes(to_dir, b"x")
    assert to_dir.is_symlink()


def test_cli_refuses_a_fifo_for_predictions(tmp_path, model_dir):
    os.mkfifo(tmp_path / "out.csv")
    line = _one_line_exit_2(_nnlab("predict", str(model_dir), "moons", "--out", "out.csv",
                                   cwd=tmp_path))
    assert "a FIFO" in line
    assert stat.S_ISFIFO(os.lstat(tmp_path / "out.csv").st_mode)


# ----------------------------------------------------------------------- errors: one line


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EFBIG, errno.EACCES, errno.EROFS])
def test_write_errors_are_one_line_and_keep_the_old_file(tmp_path, monkeypatch, code):
    path = tmp_path / "m.npz"
    atomic_write_bytes(path, b"old")
    real = os.write

    def failing(fd, data):
        if fd > 2:
            raise OSError(code, os.strerror(code))
        return real(fd, data)

    monkeypatch.setattr(os, "write", failing)
    with pytest.raises(FileWriteError, match=os.strerror(code)) as err:
        atomic_write_bytes(path, b"new" * 1000)
    assert "\n" not in str(err.value) and "unchanged" in str(err.value)
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_fsync_and_replace_errors_keep_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    atomic_write_bytes(path, b"old")
    for name in ("fsync", "replace"):
        def fail(*args, **kw):
            raise OSError(errno.EIO, "Input/output error")
        with monkeypatch.context() as m:
            m.setattr(os, name, fail)
            with pytest.raises(FileWriteError, match="Input/output error"):
                atomic_write_bytes(path, b"new")
        assert path.read_bytes() == b"old"
        assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_parent_that_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FileWriteError, match="a parent of it is a file"):
        atomic_write_bytes(tmp_path / "afile" / "m.npz", b"x")
    with pytest.raises(FileWriteError, match=r"is a file, not a folder|a parent of it is a file"):
        atomic_write_bytes(tmp_path / "afile" / "deeper" / "m.npz", b"x")


def test_cli_file_too_large_is_one_line(tmp_path, model_dir):
    """EFBIG for real: RLIMIT_FSIZE in the child (Python ignores SIGXFSZ, so write fails)."""
    import resource

    (tmp_path / "p.csv").write_text("old\n")

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))

    line = _one_line_exit_2(_nnlab("predict", str(model_dir), "moons", "--out", "p.csv",
                                   cwd=tmp_path, preexec_fn=limit))
    assert "File too large" in line
    assert (tmp_path / "p.csv").read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in a read-only folder anyway")
def test_cli_permission_denied_is_one_line(tmp_path, model_dir):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        line = _one_line_exit_2(_nnlab("predict", str(model_dir), "moons", "--out",
                                       "locked/p.csv", cwd=tmp_path))
        assert "ermission denied" in line
    finally:
        locked.chmod(0o700)


def test_bad_save_path_is_refused_before_training(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "dir.npz").mkdir()
    # a parent that is a file; a file given as the run's folder; a folder given as the file
    for save in ("afile/run", "afile", "dir.npz"):
        line = _one_line_exit_2(_nnlab("train", "moons", "--epochs", "2", "--quiet",
                                       "--save", save, "--checkpoint", "ck.npz", cwd=tmp_path))
        assert "a parent of it is a file" in line or "is a folder" in line, line
        assert not (tmp_path / "ck.npz").exists(), "training ran before the path was checked"


def test_check_output_path(tmp_path):
    assert check_output_path(tmp_path / "new" / "deeper" / "m.npz").name == "m.npz"
    with pytest.raises(FileWriteError, match="is a folder"):
        check_output_path(tmp_path)


# ----------------------------------------------------------------------- modes and temp files


def test_new_files_follow_the_umask_and_replaced_files_keep_their_mode(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "new", b"x")
        assert stat.S_IMODE(os.stat(tmp_path / "new").st_mode) == 0o644
        os.umask(0o077)
        atomic_write_bytes(tmp_path / "newer", b"x")
        assert stat.S_IMODE(os.stat(tmp_path / "newer").st_mode) == 0o600
        (tmp_path / "shared").write_bytes(b"old")
        os.chmod(tmp_path / "shared", 0o664)
        atomic_write_bytes(tmp_path / "shared", b"new")  # replaced: its mode stays
        assert stat.S_IMODE(os.stat(tmp_path / "shared").st_mode) == 0o664
    finally:
        os.umask(old)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_killed_writer_leaves_a_temp_file_that_the_next_write_removes(tmp_path):
    path = tmp_path / "ck.npz"
    code = ("import os, signal, sys\n"
            "from nnlab.files.format import atomic_write_bytes\n"
            "os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
            "atomic_write_bytes(sys.argv[1], b'x' * 1_000_000)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], env=ENV, timeout=60)
    assert out.returncode == -signal.SIGKILL
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and TEMP_MARK in left[0]  # kill -9 between fsync and rename
    atomic_write_bytes(path, b"new")
    assert [p.name for p in tmp_path.iterdir()] == ["ck.npz"]


def test_stale_temp_files_removed_live_and_foreign_ones_kept(tmp_path):
    dead = tmp_path / f".ck.npz{TEMP_MARK}{_dead_pid()}-0a1b2c3d"
    live = tmp_path / f".ck.npz{TEMP_MARK}1-0a1b2c3d"  # pid 1 is alive; the file is fresh
    old_live = tmp_path / f".other{TEMP_MARK}1-99999999"  # alive but two hours old
    legacy = tmp_path / ".ck.npz.k2j4h5g6.tmp"  # the earlier versions' pattern, two hours old
    fresh_legacy = tmp_path / ".ck.npz.abcdefgh.tmp"
    mine = tmp_path / ".notes.tmp"  # not our pattern
    for p in (dead, live, old_live, legacy, fresh_legacy, mine):
        p.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    for p in (old_live, legacy, mine):
        os.utime(p, (two_hours_ago, two_hours_ago))
    atomic_write_bytes(tmp_path / "ck.npz", b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["ck.npz", live.name, fresh_legacy.name, mine.name])


def test_group_write_is_all_or_nothing_until_the_renames(tmp_path, monkeypatch):
    a, b = tmp_path / "model.npz", tmp_path / "config.toml"
    atomic_write_files([(a, b"model 1"), (b, b"config 1")])
    real = os.write
    calls = []

    def fail_second(fd, data):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    monkeypatch.setattr(os, "write", fail_second)
    with pytest.raises(FileWriteError, match="No space left"):
        atomic_write_files([(a, b"model 2"), (b, b"config 2")])
    monkeypatch.undo()
    assert a.read_bytes() == b"model 1" and b.read_bytes() == b"config 1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "model.npz"]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_replacing_keeps_the_owner(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    os.chown(path, 1234, 5678)
    atomic_write_bytes(path, b"new")
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (1234, 5678) and path.read_bytes() == b"new"
