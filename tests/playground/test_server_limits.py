"""The playground server under abuse: huge and endless request bodies, slow and idle connections,
deeply nested messages, and training that must not hold up the quick requests of other pages.

The memory and connection tests run a real server (``nnlab playground --port 0``) in a
subprocess and talk to it over loopback with raw sockets; the rest use Starlette's TestClient.
"""

from __future__ import annotations

import asyncio
import json
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from nnlab.playground import lab as lab_module
from nnlab.playground.server import (
    HEADER_TIMEOUT,
    MAX_DEPTH,
    MAX_MESSAGE,
    create_app,
    max_connections,
)
from nnlab.playground.settings import Limits
from nnlab.runs.config import nesting_depth as json_depth  # the one scan, for JSON too

#: The heaviest settings the default limits allow: 6 layers of 16 units, 2000 points, one point
#: per update, four compared runs.
HEAVY = {"dataset": "spiral", "n_points": 2000, "layers": "16,16,16,16,16,16",
         "activations": "tanh", "batch_size": "1",
         "features": "x1,x2,x1_sq,x2_sq,x1_x2,sin_x1,sin_x2"}
HEAVY_COMPARE = [{"label": o, "optimizer": o} for o in ("gd", "momentum", "rmsprop", "adam")]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def server():
    """A real server: ``(host, port, pid)``."""
    proc = subprocess.Popen([sys.executable, "-m", "nnlab", "playground", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("nnlab playground: http://127.0.0.1:"), proc.stderr.read()
        port = int(line.split()[2].rstrip("/").rsplit(":", 1)[1])
        yield "127.0.0.1", port, proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err


def read_response(sock: socket.socket, seconds: float = 30.0) -> bytes:
    """What the server has answered on ``sock`` (up to the end of its head and a short body)."""
    sock.settimeout(seconds)
    data = b""
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < 20:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def closed_by_server(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` within ``seconds`` (reading what it sends)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:  # reset
        return True
    return True


def test_a_300_mb_chunked_post_is_refused_while_it_streams(server):
    host, port, pid = server
    before = rss_mb(pid)
    sock = socket.create_connection((host, port), timeout=30)
    sock.sendall(f"POST /api/validate HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    chunk = b"%x\r\n" % (1 << 20) + b" " * (1 << 20) + b"\r\n"  # 1 MB of JSON white space
    sent, answer, peak = 0, b"", before
    started = time.monotonic()
    try:  # go on sending after the answer too: whatever comes must not be kept
        while sent < 300 and time.monotonic() - started < 120:
            if not answer and select.select([sock], [], [], 0)[0]:
                answer = read_response(sock)
            sock.sendall(chunk)
            sent += 1
            if sent % 20 == 0:
                peak = max(peak, rss_mb(pid))
    except OSError:  # the server closed the connection while we were still sending
        pass
    if not answer:
        try:
            answer = read_response(sock)
        except OSError:
            answer = b""
    sock.close()
    peak = max(peak, rss_mb(pid))
    status_line = answer.split(b"\r\n", 1)[0]
    print(f"\nchunked POST: sent {sent} MB; server RSS {before:.0f} -> peak {peak:.0f} MB; "
          f"answer {status_line!r}")
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"larger than 65536 bytes" in answer
    assert peak - before < 100


def test_a_declared_length_over_the_limit_is_refused_before_the_body(server):
    host, port, _ = server
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(f"POST /api/validate HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     "Content-Type: application/json\r\nContent-Length: 300000000\r\n\r\n{"
                     .encode())
        answer = read_response(sock)  # no body sent: the answer comes from the length alone
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_slow_and_idle_connections_are_closed_and_their_number_is_bounded(server):
    host, port, _ = server
    limit = max_connections(Limits())
    trickle = socket.create_connection((host, port), timeout=30)  # a byte a second, for ever
    trickle.sendall(b"GET / HTTP/1.1\r\n")
    started = time.monotonic()
    partial = []
    for _ in range(150):  # each sends part of a request head, then nothing
        sock = socket.create_connection((host, port), timeout=30)
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\nX-Slow: ".encode())
        partial.append(sock)
    early = sum(closed_by_server(s, 0.05) for s in partial)
    deadline = started + HEADER_TIMEOUT + 10
    trickle_closed = None
    while time.monotonic() < deadline and trickle_closed is None:
        try:
            trickle.sendall(b"X")
        except OSError:
            trickle_closed = time.monotonic() - started
            break
        if closed_by_server(trickle, 1.0):
            trickle_closed = time.monotonic() - started
    left = [s for s in partial if not closed_by_server(s, max(0.05, deadline - time.monotonic()))]
    elapsed = time.monotonic() - started
    for s in [*partial, trickle]:
        s.close()
    print(f"\n150 partial heads: {early} closed at once (limit {limit} connections), all closed "
          f"after {elapsed:.1f} s; a trickling head closed after {trickle_closed} s")
    assert early >= 150 + 1 - limit  # over the limit: closed as soon as accepted
    assert not left
    assert trickle_closed is not None and trickle_closed > HEADER_TIMEOUT / 2  # by the timeout
    # and the server still answers
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(f"GET /api/status HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        assert read_response(sock).startswith(b"HTTP/1.1 200")


# ------------------------------------------------------------------------------ in-process


@pytest.fixture
def client():
    with TestClient(create_app(Limits(train_threads=2))) as c:
        yield c


def test_a_deeply_nested_websocket_message_is_answered_and_the_session_goes_on(client):
    with client.websocket_connect("/ws") as ws:
        assert ws.receive_json()["type"] == "hello"
        ws.send_text("[" * 30000)
        error = ws.receive_json()
        assert error == {"type": "error", "field": None,
                         "message": f"message nests lists and objects 30000 deep: at most "
                                    f"{MAX_DEPTH}"}
        ws.send_text('{"type": "configure", "settings": {"x": ' + "[" * 20 + "]" * 20 + "}}")
        assert "nests lists and objects 22 deep" in ws.receive_json()["message"]
        ws.send_text('{"type": "configure", "settings": {"dataset": "xor", "note": "[[[[[[[[[[['
                     '[[[[[[[[[[[[[["}}')  # brackets in a string do not count
        answer = ws.receive_json()
        assert answer["type"] == "error" and answer["field"] == "note"
        ws.send_json({"type": "configure", "settings": {"dataset": "xor"}})
        assert ws.receive_json()["type"] == "ready"


def test_a_deeply_nested_request_body_is_a_clear_error(client):
    answer = client.post("/api/validate", content=b"[" * 30000)
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == (
        f"the request body nests lists and objects 30000 deep: at most {MAX_DEPTH}")
    big = client.post("/api/validate", content=b" " * (MAX_MESSAGE + 1))
    assert big.status_code == 413


def test_training_never_holds_up_another_pages_configure(client, monkeypatch):
    """Two pages' steps occupy every training thread (held there by the test); a third page's
    configure is answered all the same. It used to queue behind them in the same pool."""
    release = threading.Event()
    entered = threading.Semaphore(0)
    real_step = lab_module.Lab.step_once

    def held_step(self, unit="epoch"):
        entered.release()
        release.wait(60)
        return real_step(self, unit)

    monkeypatch.setattr(lab_module.Lab, "step_once", held_step)
    stepping, ready = [], {}

    def step_page():
        with client.websocket_connect("/ws") as ws:
            ws.receive_json()
            ws.send_json({"type": "configure", "settings": {"dataset": "xor"}})
            while ws.receive_json()["type"] != "state":
                pass
            ws.send_json({"type": "step"})
            stepping.append(ws.receive_json()["type"])

    def configure_page():
        with client.websocket_connect("/ws") as ws:
            ws.receive_json()
            ws.send_json({"type": "configure", "settings": {"dataset": "moons"}})
            ready["type"] = ws.receive_json()["type"]

    steps = [threading.Thread(target=step_page, daemon=True) for _ in range(2)]
    for t in steps:
        t.start()
    try:
        for _ in steps:
            assert entered.acquire(timeout=60), "a step never started"
        page = threading.Thread(target=configure_page, daemon=True)
        page.start()
        page.join(30)
        assert ready.get("type") == "ready", "configure waited behind the other pages' training"
    finally:
        release.set()
        for t in steps:
            t.join(60)
    assert stepping == ["snapshot", "snapshot"]


@pytest.mark.slow
def test_quick_requests_while_three_pages_flood_step_with_the_heaviest_settings(server):
    """Report only (no timing assert beyond a generous bound): how long a fourth page's
    configure takes while three pages send ``step`` after ``step`` with the heaviest settings."""
    import websockets

    host, port, _ = server
    url = f"ws://{host}:{port}/ws"

    async def page(settings, compare=None):
        ws = await websockets.connect(url, max_size=2**24, open_timeout=30)
        assert json.loads(await ws.recv())["type"] == "hello"
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "configure", "settings": settings,
                                  "compare": compare}))
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        return ws, time.perf_counter() - started

    async def flood(ws, stop, steps):
        while not stop.is_set():
            await ws.send(json.dumps({"type": "step"}))
            while json.loads(await ws.recv())["type"] != "snapshot":
                pass
            steps.append(1)

    async def main():
        alone = [(await page({"dataset": "moons"}))[1] for _ in range(3)]
        heavy = [(await page(HEAVY, HEAVY_COMPARE))[0] for _ in range(3)]
        stop, steps = asyncio.Event(), []
        floods = [asyncio.create_task(flood(ws, stop, steps)) for ws in heavy]
        await asyncio.sleep(2)
        busy = []
        for _ in range(5):
            ws, seconds = await page({"dataset": "moons"})
            busy.append(seconds)
            await ws.close()
        stop.set()
        await asyncio.gather(*floods)
        for ws in heavy:
            await ws.close()
        return alone, busy, len(steps)

    alone, busy, steps = asyncio.run(main())
    print(f"\nconfigure alone: {max(alone):.2f} s at most; while 3 pages flood step with the "
          f"heaviest settings ({steps} steps): median {sorted(busy)[2]:.2f} s, "
          f"max {max(busy):.2f} s")
    assert max(busy) < 60


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_TEXT = st.text(alphabet=st.sampled_from('ab"\\[]{}\n'), max_size=8)
_JSON = st.recursive(
    st.none() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_JSON)
def test_json_depth_is_the_nesting_of_any_json_value(value):
    """Brackets, quotes and backslashes inside strings never count."""
    assert json_depth(json.dumps(value)) == _depth(value)
    assert json_depth(json.dumps(value, indent=1, ensure_ascii=False)) == _depth(value)
