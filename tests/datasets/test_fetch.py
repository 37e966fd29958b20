"""Downloading the course's files: against a loopback HTTP server started here (127.0.0.1, a free
port, in a thread). No test touches the network: the registry of files is injected (small
synthetic files whose hashes the tests compute), or ``$NNLAB_DATA_URL`` points at the loopback
server serving the real files (those tests skip when the real files are not here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from nnlab.datasets import fetch
from nnlab.datasets._files import DataFileError
from nnlab.datasets.fetch import COURSE_FILES, DataFile, Fetcher, FetchError


class Mirror:
    """A loopback HTTP server: ``routes[path] = (behaviour, body)``; every request's path is
    kept in ``requests``. Behaviours: "ok"; "dies" (sends the full Content-Length, then half the
    body, then closes); "slow" (answers only after the client has given up). Anything else: 404.
    """

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                mirror.requests.append(self.path)
                kind, body = mirror.routes.get(self.path, ("missing", b""))
                if kind == "missing":
                    self.send_error(404)
                    return
                if kind == "slow":
                    mirror.stop.wait(10)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if kind == "dies":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror():
    m = Mirror()
    yield m
    m.close()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty download cache, with no $NNLAB_DATA in front of it."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("NNLAB_CACHE", str(folder))
    monkeypatch.delenv("NNLAB_DATA", raising=False)
    monkeypatch.delenv("NNLAB_DATA_URL", raising=False)
    return folder


def _blob(seed: int, size: int) -> bytes:
    return np.random.RandomState(seed).bytes(size)


def _spec(name: str, body: bytes, mirrors: list[str]) -> DataFile:
    return DataFile(name, sha256_of_bytes(body), len(body), tuple(mirrors), f"test file {name}")


def sha256_of_bytes(body: bytes) -> str:
    import hashlib

    return hashlib.sha256(body).hexdigest()


def _left(folder: Path) -> list[str]:
    """Every file in ``folder`` (temporary ones included)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ---------------------------------------------------------------------------- the library


def test_fetch_into_an_empty_cache_then_a_second_fetch_downloads_nothing(mirror, cache):
    a, b = _blob(0, 50_000), _blob(1, 777)
    mirror.routes = {"/m/a.bin": ("ok", a), "/m/b.bin": ("ok", b)}
    files = {"a.bin": _spec("a.bin", a, [mirror.url("/m/a.bin")]),
             "b.bin": _spec("b.bin", b, [mirror.url("/m/b.bin")])}
    said: list[str] = []
    got = fetch.fetch(files=files, announce=said.append)
    assert got == {"a.bin": (cache / "a.bin", True), "b.bin": (cache / "b.bin", True)}
    assert (cache / "a.bin").read_bytes() == a and (cache / "b.bin").read_bytes() == b
    assert _left(cache) == ["a.bin", "b.bin"] and len(said) == 2
    assert len(mirror.requests) == 2
    again = fetch.fetch(files=files)
    assert again == {"a.bin": (cache / "a.bin", False), "b.bin": (cache / "b.bin", False)}
    assert len(mirror.requests) == 2  # nothing downloaded the second time


def test_a_corrupted_file_is_refused_and_left_nowhere(mirror, cache):
    good = _blob(2, 4096)
    bad = bytearray(good)
    bad[100] ^= 1
    mirror.routes = {"/m/f.bin": ("ok", bytes(bad))}
    files = {"f.bin": _spec("f.bin", good, [mirror.url("/m/f.bin")])}
    with pytest.raises(FetchError) as info:
        fetch.fetch(files=files)
    assert "wrong SHA-256" in str(info.value)
    assert _left(cache) == []


def test_a_corrupted_copy_already_there_is_replaced_or_removed(mirror, cache):
    good = _blob(3, 2048)
    cache.mkdir()
    (cache / "f.bin").write_bytes(b"stale")
    mirror.routes = {"/m/f.bin": ("ok", good)}
    files = {"f.bin": _spec("f.bin", good, [mirror.url("/m/f.bin")])}
    assert fetch.fetch(files=files) == {"f.bin": (cache / "f.bin", True)}
    assert (cache / "f.bin").read_bytes() == good
    (cache / "f.bin").write_bytes(b"stale again")
    mirror.routes = {}
    with pytest.raises(FetchError):
        fetch.fetch(files=files)
    assert _left(cache) == []  # never read as the course's file


def test_a_404_on_the_first_mirror_falls_through_to_the_second(mirror, cache):
    body = _blob(4, 3000)
    mirror.routes = {"/second/f.bin": ("ok", body)}
    files = {"f.bin": _spec("f.bin", body, [mirror.url("/first/f.bin"),
                                            mirror.url("/second/f.bin")])}
    assert fetch.fetch(files=files)["f.bin"] == (cache / "f.bin", True)
    assert mirror.requests == ["/first/f.bin", "/second/f.bin"]


def test_a_wrong_file_on_the_first_mirror_falls_through_to_the_second(mirror, cache):
    body = _blob(5, 3000)
    mirror.routes = {"/first/f.bin": ("ok", _blob(6, 3000)), "/second/f.bin": ("ok", body)}
    files = {"f.bin": _spec("f.bin", body, [mirror.url("/first/f.bin"),
                                            mirror.url("/second/f.bin")])}
    assert fetch.fetch(files=files)["f.bin"] == (cache / "f.bin", True)
    assert (cache / "f.bin").read_bytes() == body and _left(cache) == ["f.bin"]


def test_a_server_that_dies_mid_file_leaves_no_partial_file(mirror, cache):
    body = _blob(7, 200_000)
    mirror.routes = {"/dies/f.bin": ("dies", body)}
    files = {"f.bin": _spec("f.bin", body, [mirror.url("/dies/f.bin")])}
    with pytest.raises(FetchError) as info:
        fetch.fetch(files=files)
    assert mirror.requests == ["/dies/f.bin"]
    assert "/dies/f.bin (" in str(info.value)
    assert _left(cache) == []
    mirror.routes["/good/f.bin"] = ("ok", body)  # and the next mirror is tried
    files = {"f.bin": _spec("f.bin", body, [mirror.url("/dies/f.bin"),
                                            mirror.url("/good/f.bin")])}
    assert fetch.fetch(files=files)["f.bin"] == (cache / "f.bin", True)
    assert _left(cache) == ["f.bin"]


def test_a_timeout_moves_on_to_the_next_mirror(mirror, cache):
    body = _blob(8, 1000)
    mirror.routes = {"/slow/f.bin": ("slow", body), "/good/f.bin": ("ok", body)}
    files = {"f.bin": _spec("f.bin", body, [mirror.url("/slow/f.bin"),
                                            mirror.url("/good/f.bin")])}
    assert fetch.fetch(files=files, timeout=0.2)["f.bin"] == (cache / "f.bin", True)
    assert mirror.requests == ["/slow/f.bin", "/good/f.bin"]


def test_when_every_mirror_fails_one_line_names_the_file_the_urls_and_what_to_do(mirror, cache):
    body = _blob(9, 100)
    urls = [mirror.url("/a/f.bin"), mirror.url("/b/f.bin")]
    files = {"f.bin": _spec("f.bin", body, urls)}
    with pytest.raises(FetchError) as info:
        fetch.fetch(files=files)
    message = str(info.value)
    assert "\n" not in message and message.startswith("f.bin: could not download it")
    assert all(f"{u} (HTTP 404)" in message for u in urls)
    assert "by hand in " + str(cache) in message and sha256_of_bytes(body) in message
    assert isinstance(info.value, DataFileError) and info.value.missing


def test_the_data_url_is_tried_before_the_mirrors(mirror, cache, monkeypatch):
    body = _blob(10, 500)
    mirror.routes = {"/local/f%20x.bin": ("ok", body)}
    monkeypatch.setenv("NNLAB_DATA_URL", mirror.url("/local/"))
    files = {"f x.bin": _spec("f x.bin", body, [mirror.url("/pinned/f.bin")])}
    assert fetch.fetch(files=files)["f x.bin"] == (cache / "f x.bin", True)
    assert mirror.requests == ["/local/f%20x.bin"]


def test_fetch_into_a_given_folder_and_unknown_names(mirror, cache, tmp_path):
    body = _blob(11, 64)
    mirror.routes = {"/f.bin": ("ok", body)}
    files = {"f.bin": _spec("f.bin", body, [mirror.url("/f.bin")])}
    assert fetch.fetch(data_dir=tmp_path / "mine", files=files)["f.bin"][0] == (
        tmp_path / "mine" / "f.bin")
    assert _left(cache) == []
    with pytest.raises(DataFileError, match="unknown data file 'nope'"):
        fetch.fetch(["nope"], files=files)


def test_status_says_where_and_whether_the_hash_matches(cache, tmp_path, monkeypatch):
    body = _blob(12, 64)
    files = {"f.bin": _spec("f.bin", body, []), "g.bin": _spec("g.bin", body, [])}
    env = tmp_path / "env"
    env.mkdir()
    cache.mkdir()
    (env / "f.bin").write_bytes(b"not it")
    (cache / "f.bin").write_bytes(body)
    (cache / "g.bin").write_bytes(body)
    monkeypatch.setenv("NNLAB_DATA", str(env))
    found = {s.name: s for s in fetch.status(files=files)}
    assert (found["f.bin"].path, found["f.bin"].hash_ok) == (env / "f.bin", False)
    assert (found["g.bin"].path, found["g.bin"].how) == (cache / "g.bin", "$NNLAB_CACHE")
    assert found["g.bin"].hash_ok
    assert fetch.status(tmp_path / "nothing", files=files)[0].path is None


def test_the_registry_pins_every_mirror_to_a_commit():
    for spec in COURSE_FILES.values():
        assert len(spec.mirrors) >= 2 and len(spec.sha256) == 64
        for url in spec.mirrors:
            assert url.startswith("https://") and " " not in url
            commit = url.split("/")[5]
            assert len(commit) == 40 and int(commit, 16) >= 0, url


def test_a_missing_pooch_names_the_extra(monkeypatch, cache):
    monkeypatch.setitem(sys.modules, "pooch", None)  # what a failed import leaves
    files = {"f.bin": _spec("f.bin", b"x", ["http://127.0.0.1:9/f.bin"])}
    with pytest.raises(ImportError, match=r'pip install "nnlab\[course\]"') as info:
        fetch.fetch(files=files)
    assert "\n" not in str(info.value)


# ------------------------------------------------- reproduce: fetching on first need, in-process


def _football_mat(path: Path) -> bytes:
    from scipy.io import savemat

    rng = np.random.RandomState(0)
    savemat(path, {"X": rng.randn(12, 2), "y": (rng.rand(12, 1) > 0.5).astype(np.uint8),
                   "Xval": rng.randn(6, 2), "yval": (rng.rand(6, 1) > 0.5).astype(np.uint8)})
    return path.read_bytes()


def test_run_experiments_fetches_a_missing_file_on_first_need(mirror, cache, tmp_path,
                                                              monkeypatch):
    from nnlab.experiments import regularization, run_experiments

    body = _football_mat(tmp_path / "small.mat")
    mirror.routes = {"/data.mat": ("ok", body)}
    files = {"data.mat": _spec("data.mat", body, [mirror.url("/data.mat")])}
    one = regularization.tasks(None)[:1]  # one run is enough here
    monkeypatch.setattr(regularization, "tasks", lambda data_dir: one)
    monkeypatch.setattr(regularization, "COURSE_NUMBERS",
                        {one[0].key: regularization.COURSE_NUMBERS[one[0].key]})
    said: list[str] = []
    report = run_experiments(["regularization"], jobs=1, fetch=Fetcher(announce=said.append,
                                                                       files=files))
    assert report.experiments[0].status == "ok", report.experiments[0].reason
    assert (cache / "data.mat").read_bytes() == body
    assert said == [f"downloaded data.mat ({len(body):,} bytes, sha256 ok) into {cache}"]
    assert mirror.requests == ["/data.mat"]


def test_run_experiments_without_fetch_downloads_nothing_and_skips(mirror, cache):
    from nnlab.experiments import run_experiments

    report = run_experiments(["regularization"], jobs=1)
    assert report.experiments[0].status == "skipped"
    assert "nnlab datasets fetch" in report.experiments[0].reason
    assert mirror.requests == []


def test_a_failed_fetch_is_tried_once_and_its_reason_shared(mirror, cache):
    from nnlab.experiments import run_experiments
    from nnlab.experiments.report import summary_line

    files = {n: _spec(n, b"x", [mirror.url(f"/gone/{n}")]) for n in COURSE_FILES}
    report = run_experiments(["logistic", "deep", "gradcheck"], jobs=1,
                             fetch=Fetcher(files=files))
    status = {e.name: e.status for e in report.experiments}
    assert status == {"logistic": "skipped", "deep": "skipped", "gradcheck": "ok"}
    assert mirror.requests == ["/gone/train_catvnoncat.h5"]  # once, for both experiments
    text = summary_line(report)
    assert text.count("could not download") == 1
    assert "skipped a logistic, f deep: train_catvnoncat.h5: could not download it" in text


# ------------------------------------------------------------------ the command line


#: Runs ``nnlab`` with the registry's mirrors replaced from $NNLAB_TEST_MIRRORS (JSON), so that a
#: failing download never falls through to the real (public) mirrors.
BOOT = (
    "import json, os, sys\n"
    "from nnlab.datasets import fetch\n"
    "for n, d in json.loads(os.environ['NNLAB_TEST_MIRRORS']).items():\n"
    "    fetch.COURSE_FILES[n] = fetch.DataFile(n, d['sha256'], d['size'], tuple(d['mirrors']))\n"
    "from nnlab.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _nnlab(*args: str, env: dict[str, str], cwd: Path, files: dict | None = None):
    command = [sys.executable, "-m", "nnlab", *args]
    if files is not None:
        env = {**env, "NNLAB_TEST_MIRRORS": json.dumps(
            {n: {"sha256": s.sha256, "size": s.size, "mirrors": list(s.mirrors)}
             for n, s in files.items()})}
        command = [sys.executable, "-c", BOOT, *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    """A user's environment with no data anywhere: an empty cache, no $NNLAB_DATA, online."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NNLAB_DATA", "NNLAB_OFFLINE", "NNLAB_DATA_URL")}
    env["NNLAB_CACHE"] = str(tmp_path / "cache")
    return env


@pytest.fixture
def real_mirror(mirror, data_dir):
    """The loopback server serving the course's real files at /course/."""
    for name in COURSE_FILES:
        mirror.routes[f"/course/{name}"] = ("ok", (data_dir / name).read_bytes())
    return mirror


def test_cli_fetch_then_status_with_the_real_files(real_mirror, clean_env, tmp_path):
    env = {**clean_env, "NNLAB_DATA_URL": real_mirror.url("/course")}
    cache = Path(env["NNLAB_CACHE"])
    first = _nnlab("datasets", "fetch", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    for name in COURSE_FILES:
        assert f"{name}: downloaded, sha256 ok: {cache / name}" in first.stdout
    assert len(real_mirror.requests) == 3
    second = _nnlab("datasets", "fetch", "--json", env=env, cwd=tmp_path)
    assert second.returncode == 0 and len(real_mirror.requests) == 3
    assert [f["downloaded"] for f in json.loads(second.stdout)["files"]] == [False] * 3
    status = _nnlab("datasets", "status", env=env, cwd=tmp_path)
    assert status.returncode == 0, status.stdout
    assert "search order" in status.stdout and "$NNLAB_DATA" in status.stdout
    assert status.stdout.count("sha256 ok") == 3 and str(cache) in status.stdout


def test_cli_fetch_when_every_mirror_fails_is_one_line_and_exit_2(mirror, clean_env, tmp_path):
    files = {n: _spec(n, b"x", [mirror.url(f"/a/{n}"), mirror.url(f"/b/{n}")])
             for n in COURSE_FILES}
    out = _nnlab("datasets", "fetch", "--data-dir", str(tmp_path / "d"), env=clean_env,
                 cwd=tmp_path, files=files)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    error = [line for line in out.stderr.splitlines() if "error" in line]
    assert len(error) == 1 and "train_catvnoncat.h5: could not download it" in error[0]
    assert mirror.url("/a/train_catvnoncat.h5") + " (HTTP 404)" in error[0]
    assert "by hand in " + str(tmp_path / "d") in error[0]
    assert _left(tmp_path / "d") == []
    status = _nnlab("datasets", "status", env=clean_env, cwd=tmp_path, files=files)
    assert status.returncode == 1 and status.stdout.count("missing") == 3


def test_cli_fetch_respects_offline(mirror, clean_env, tmp_path):
    env = {**clean_env, "NNLAB_OFFLINE": "1", "NNLAB_DATA_URL": mirror.url("/course")}
    out = _nnlab("datasets", "fetch", env=env, cwd=tmp_path)
    assert out.returncode == 2 and "NNLAB_OFFLINE" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and mirror.requests == []


@pytest.mark.parametrize("how", ["--no-download", "NNLAB_OFFLINE=1"])
def test_reproduce_offline_downloads_nothing_and_skips_once_per_reason(mirror, clean_env,
                                                                      tmp_path, how):
    env = {**clean_env, "NNLAB_DATA_URL": mirror.url("/course")}
    flags = []
    if how == "--no-download":
        flags = [how]
    else:
        env["NNLAB_OFFLINE"] = "1"
    out = _nnlab("reproduce", "--only", "a,f", "--jobs", "1", "--out", str(tmp_path / "r"),
                 *flags, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert mirror.requests == []
    assert out.stdout.count("train_catvnoncat.h5 not found") == 1
    assert "skipped a logistic, f deep: train_catvnoncat.h5 not found" in out.stdout
    assert "a logistic: skipped" in out.stdout and "f deep: skipped" in out.stdout


def test_reproduce_when_the_download_fails_runs_the_rest_and_exits_0(mirror, clean_env,
                                                                     tmp_path):
    files = {n: _spec(n, b"x", [mirror.url(f"/a/{n}"), mirror.url(f"/b/{n}")])
             for n in COURSE_FILES}
    out = _nnlab("reproduce", "--only", "a,f,g", "--jobs", "1", "--out", str(tmp_path / "r"),
                 env=clean_env, cwd=tmp_path, files=files)
    assert out.returncode == 0, out.stderr
    assert mirror.requests == ["/a/train_catvnoncat.h5", "/b/train_catvnoncat.h5"]
    assert (out.stdout + out.stderr).count("could not download") == 1
    assert "3 of 3 course numbers matched exactly" in out.stdout
    assert "a logistic: skipped" in out.stdout and "f deep: skipped" in out.stdout


@pytest.mark.slow
def test_reproduce_fetches_on_first_need_and_says_so(real_mirror, clean_env, tmp_path):
    env = {**clean_env, "NNLAB_DATA_URL": real_mirror.url("/course")}
    out = _nnlab("reproduce", "--only", "d", "--jobs", "1", "--out", str(tmp_path / "r"),
                 env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    cache = Path(env["NNLAB_CACHE"])
    said = [line for line in out.stderr.splitlines() if "data.mat" in line]
    assert said == [f"nnlab reproduce: downloaded data.mat (6,038 bytes, sha256 ok) into {cache}"]
    assert real_mirror.requests == ["/course/data.mat"]
    assert "6 of 6 course numbers matched exactly" in out.stdout
