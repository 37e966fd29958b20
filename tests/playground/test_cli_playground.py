"""``nnlab playground`` as a user starts it: a real uvicorn server in a subprocess."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "nnlab", "playground", *args], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


def test_starts_on_loopback_prints_its_address_serves_and_stops_on_ctrl_c():
    proc = start("--port", "0", "--max-units", "32")
    try:
        line = proc.stdout.readline()
        assert line.startswith("nnlab playground: http://127.0.0.1:"), line
        url = line.split()[2]
        with urllib.request.urlopen(url, timeout=30) as page:
            assert page.status == 200 and b"nnlab playground" in page.read()
        with urllib.request.urlopen(url + "api/options", timeout=30) as answer:
            assert json.load(answer)["limits"]["max_units"] == 32  # the flag reached the server
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "nnlab playground: stopped" in out


def test_bad_flags_and_a_taken_port_are_one_clear_line():
    out = subprocess.run([sys.executable, "-m", "nnlab", "playground", "--max-sessions", "0"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "nnlab playground: error: --max-sessions 0 must be a whole number >= 1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "nnlab", "playground", "--port", str(port)],
                             capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr
    assert "--port 0 picks a free one" in out.stderr and "Traceback" not in out.stderr


def test_open_hands_the_address_to_the_browser(tmp_path):
    opened = tmp_path / "opened.txt"
    browser = f"{sys.executable} -c \"import sys; open(sys.argv[1], 'w').write(sys.argv[2])\" " \
              f"{opened} %s"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlab", "playground", "--port", "0", "--open"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "BROWSER": browser},
    )
    try:
        url = proc.stdout.readline().split()[2]
        deadline = time.monotonic() + 30
        while not (opened.exists() and opened.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text() == url
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
