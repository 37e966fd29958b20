"""End to end: the playground in a real headless Chromium (Debian's, driven by Playwright), against
``nnlab playground`` started as a user starts it. One server and one browser for the module; each
test opens fresh pages. `.ci/prepare` installs /usr/bin/chromium."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from nnlab.files.format import load_params
from nnlab.runs.config import TrainConfig

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def server():
    env = dict(os.environ)  # conftest.py sets NNLAB_DATA when it finds the course's files
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnlab", "playground", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    line = proc.stdout.readline()
    assert line.startswith("nnlab playground: http://127.0.0.1:"), proc.stderr.read()
    yield line.split()[2].rstrip("/")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err, err


@pytest.fixture(scope="module")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run .ci/prepare (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=ARGS, headless=True, accept_downloads=True,
            viewport={"width": 1280, "height": 1000},
        )
        yield context
        context.close()


class Page:
    """A page of the playground, with the errors it logged and every URL it requested."""

    def __init__(self, context, base):
        self.base = base
        self.page = context.new_page()
        self.errors = []
        self.requests = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, query=""):
        self.page.goto(f"{self.base}/{query}")
        self.wait("Boolean(window.playground.ready)")
        return self

    def js(self, expression):
        return self.page.evaluate(expression)

    def wait(self, expression, seconds=30):
        """Poll a JavaScript expression until it is truthy (a guard, not a timing test). The page's
        Content-Security-Policy forbids eval, so this polls from here."""
        deadline = time.monotonic() + seconds
        while True:
            value = self.js(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"never true: {expression}; errors: {self.errors}")
            time.sleep(0.05)

    def change(self, selector, value):
        """Type a value into a field and leave it (its change event sends the settings)."""
        before = self.js("window.playground.messages")
        self.page.fill(selector, str(value))
        self.page.press(selector, "Enter")
        self.wait(f"window.playground.messages > {before}")

    def epoch(self):
        return self.js("window.playground.runs[0].last.epoch")

    def train(self, epochs):
        self.page.click("#play")
        self.wait(f"window.playground.runs.every(r => r.last.epoch >= {epochs})")
        self.page.click("#play")
        self.wait("!window.playground.playing")

    def boundary(self, selector="#boundary"):
        return self.page.eval_on_selector(selector, "c => c.toDataURL()")

    def close(self, allowed=()):
        errors = [e for e in self.errors if not any(a in e for a in allowed)]
        own = [u for u in self.requests
               if not u.startswith(self.base) and not u.startswith(("data:", "blob:"))]
        self.page.close()
        assert errors == [], errors
        assert own == [], f"requests outside the server: {own}"


@pytest.fixture
def page(browser, server):
    p = Page(browser, server)
    yield p
    p.close(allowed=getattr(p, "allowed", ()))


def test_moons_play_the_test_cost_falls_and_the_heatmap_changes(page):
    page.open()
    page.page.select_option("#dataset", "xor")
    page.wait("window.playground.settings.dataset === 'xor'")
    page.page.select_option("#dataset", "moons")
    page.wait("window.playground.settings.dataset === 'moons'")
    assert page.page.input_value("#noise") == "0.2"  # the set's own noise came with it
    start_loss = float(page.page.text_content("#test-loss"))
    start_picture = page.boundary()
    page.train(300)
    assert page.epoch() >= 300
    rows = page.js("window.playground.runs[0].rows")
    assert rows[0][0] == 0 and rows[-1][0] == page.epoch()
    end_loss = float(page.page.text_content("#test-loss"))
    assert end_loss < 0.7 * start_loss, (start_loss, end_loss)
    assert rows[-1][2] < rows[0][2]
    assert page.boundary() != start_picture
    assert float(page.page.text_content("#test-acc")) > 0.8
    assert page.page.text_content("#play") == "▶ Play"


def test_compare_preset(page):
    page.open()
    page.page.click("#preset-init")
    page.wait("window.playground.ready.comparing && window.playground.runs.length === 3")
    titles = page.page.locator(".compare-card h3").all_text_contents()
    assert titles == ["zeros", "large random (×10)", "He"]
    assert page.page.input_value("#dataset") == "circles"  # the course's setup came along
    assert "compare=" in page.page.url
    pictures = [page.boundary(f".compare-card:nth-child({i}) canvas") for i in (1, 2, 3)]
    page.train(40)
    epochs = page.js("window.playground.runs.map(r => r.last.epoch)")
    assert len(set(epochs)) == 1 and epochs[0] >= 40
    losses = page.js("window.playground.runs.map(r => r.rows[0][1])")
    assert losses[1] > 5 * losses[2]  # large random weights start with a huge loss
    assert [page.boundary(f".compare-card:nth-child({i}) canvas") for i in (1, 2, 3)] != pictures
    assert "epoch" in page.page.text_content(".compare-card .compare-metrics")
    page.page.click("#compare-stop")
    page.wait("!window.playground.ready.comparing")
    assert "compare=" not in page.page.url
    # your own comparison: the current settings, then a changed copy
    page.page.fill("#compare-label", "slow")
    page.page.click("#compare-add")
    assert "Add one more setting" in page.page.text_content("#compare-list")
    page.change("#lr", "0.1")
    page.page.fill("#compare-label", "fast")
    page.page.click("#compare-add")
    page.wait("window.playground.ready.comparing && window.playground.runs.length === 2")
    assert page.page.locator(".compare-card h3").all_text_contents() == ["slow", "fast"]
    assert page.js("window.playground.ready.runs.map(r => r.settings.lr)") == [0.01, 0.1]


def test_gradient_check_and_its_reason_under_dropout(page):
    page.open("?dataset=xor&layers=3&activations=tanh")
    page.change("#keep_prob", "0.8")
    page.wait("window.playground.ready.dropout")
    assert page.page.is_disabled("#gradcheck")
    assert "Gradient checking is off while dropout is on" in page.page.text_content(
        "#gradcheck-reason")
    page.change("#keep_prob", "1")
    page.wait("!window.playground.ready.dropout")
    assert page.page.is_enabled("#gradcheck") and page.page.is_hidden("#gradcheck-reason")
    page.page.click("#step")
    page.page.click("#gradcheck")
    page.wait("!document.getElementById('gradcheck-panel').hidden")
    summary = page.page.text_content("#gradcheck-summary")
    assert summary.startswith("Passed: relative difference") and "epoch 1" in summary
    assert page.page.locator("#gradcheck-table tr").count() == 5  # header + W1 b1 W2 b2


def test_a_shared_url_gives_the_same_setup_and_run(page, browser, server):
    page.open()
    page.page.select_option("#dataset", "spiral")
    page.wait("window.playground.settings.dataset === 'spiral'")
    page.page.click("#add-layer")
    page.wait("window.playground.settings.layers.length === 3")
    page.page.select_option("#layers .layer:nth-child(3) .act", "relu")
    page.wait("window.playground.settings.activations[2] === 'relu'")
    page.page.check("#features input[value=sin_x1]")
    page.change("#lr", "0.03")
    page.change("#seed", "7")
    page.page.select_option("#batch-mode", "mini")
    page.wait("window.playground.settings.batch_size === 64")  # the page's default size
    page.change("#batch_size", "32")
    page.wait("window.playground.settings.batch_size === 32")
    url = page.page.url
    assert page.page.input_value("#share-url") == url
    for _ in range(3):
        page.page.click("#step")
    page.wait("window.playground.runs[0].last.epoch === 3")
    first = (page.page.text_content("#test-loss"), page.boundary())

    other = Page(browser, server)
    try:
        other.page.goto(url)
        other.wait("Boolean(window.playground.ready)")
        assert other.js("window.playground.settings") == page.js("window.playground.settings")
        assert other.page.input_value("#dataset") == "spiral"
        assert other.page.input_value("#lr") == "0.03" and other.page.input_value("#seed") == "7"
        assert other.page.locator("#layers .layer").count() == 3
        assert other.page.is_checked("#features input[value=sin_x1]")
        assert other.page.input_value("#batch-mode") == "mini"
        for _ in range(3):
            other.page.click("#step")
        other.wait("window.playground.runs[0].last.epoch === 3")
        assert (other.page.text_content("#test-loss"), other.boundary()) == first
    finally:
        other.close()


def test_upload_a_csv_and_export(page, tmp_path):
    lines = ["x1,x2,side"] + [
        f"{i / 10:.1f},{(i * 7 % 11) / 10:.1f},{'left' if i < 30 else 'right'}" for i in range(60)
    ]
    good = tmp_path / "sides.csv"
    good.write_text("\n".join(lines) + "\n")
    page.open()
    page.page.select_option("#dataset", "csv")
    assert page.page.is_visible("#csv-file")
    page.page.set_input_files("#csv-file", str(good))
    page.wait("window.playground.settings.dataset === 'csv'")
    assert page.js("window.playground.ready.data.name") == "sides.csv"
    assert "60 points, classes left (0, orange) and right (1, blue)" in page.page.text_content(
        "#csv-info")
    assert len(page.js("window.playground.ready.data.train")) == 42
    page.train(20)
    with page.page.expect_download() as download:
        page.page.click("#export-config")
    cfg = TrainConfig.from_toml(Path(download.value.path()).read_text())
    assert cfg.dataset == "sides.csv" and cfg.target == "side" and cfg.epochs == page.epoch()
    with page.page.expect_download() as download:
        page.page.click("#export-model")
    params, meta = load_params(download.value.path())
    assert meta["epoch"] == page.epoch() and params["W1"].shape == (4, 2)
    assert download.value.suggested_filename.endswith(".npz")
    # a file that is not what the playground reads: the page says why
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,a\n3,4,b\n5,six,a\n7,8,b\n")
    page.allowed = ("status of 422",)
    page.page.set_input_files("#csv-file", str(bad))
    page.wait("document.getElementById('message').textContent.startsWith('bad.csv')")
    assert page.page.text_content("#message") == "bad.csv: line 3: 'six' is not a number"


def test_a_bad_value_shows_the_servers_message(page, course_data):
    page.open()
    page.change("#lr", "-1")
    page.wait("!document.getElementById('message').hidden")
    assert page.page.text_content("#message") == (
        "learning rate (lr) = -1 is out of range: allowed 0 < lr ≤ 10")
    assert "invalid" in page.page.get_attribute("#lr", "class")
    assert "lr=0.01" in page.page.url  # the link keeps the last setup the server accepted
    page.change("#lr", "0.05")
    page.wait("document.getElementById('message').hidden")
    assert "invalid" not in (page.page.get_attribute("#lr", "class") or "")
    # a hand-edited link: the server's message, and the page still works
    page.page.goto(f"{page.base}/?noise=9&dataset=moons")
    page.wait("!document.getElementById('message').hidden")
    assert page.page.text_content("#message") == (
        "noise = 9 is out of range: allowed 0 ≤ noise ≤ 2")
    page.change("#noise", "0.3")
    page.wait("window.playground.settings && window.playground.settings.noise === 0.3")
    # football comes from the course's file when the data folder has it
    if course_data is not None:
        page.page.select_option("#dataset", "football")
        page.wait("window.playground.settings.dataset === 'football'")
        assert len(page.js("window.playground.ready.data.train")) == 211
        assert page.page.is_disabled("#n_points") and page.page.is_disabled("#noise")
    else:
        option = page.page.locator("#dataset option[value=football]")
        assert option.is_disabled() and "data.mat not found" in option.get_attribute("title")


def test_a_diverging_run_shows_a_message_and_the_page_goes_on(page):
    page.open("?dataset=blobs&n_points=10&optimizer=gd&lr=10&l2=10&layers=3")
    page.page.click("#play")
    page.wait("document.getElementById('message').textContent.includes('training diverged')")
    page.wait("!window.playground.playing")
    assert "try a smaller learning rate than 10" in page.page.text_content("#message")
    assert page.page.text_content("#play") == "▶ Play"
    page.page.click("#reset")
    page.wait("window.playground.runs[0].last.epoch === 0")
    page.change("#lr", "0.1")
    page.page.click("#step")
    page.wait("window.playground.runs[0].last.epoch === 1")


def test_an_answer_that_arrives_while_typing_keeps_what_was_typed(page):
    """The server's answer to an earlier change refills the form; it must leave the field being
    typed in alone, or the value typed there is lost before its change event sends it."""
    page.open()
    before = page.js("window.playground.messages")
    # in one go, before any answer can arrive: a change sends the settings (seed 1), then the
    # user starts typing 7 into the seed field
    page.js("""() => {
        document.getElementById('lr').dispatchEvent(new Event('change', {bubbles: true}));
        const seed = document.getElementById('seed');
        seed.focus();
        seed.value = '7';
    }""")
    page.wait(f"window.playground.messages > {before}")  # the answer (seed 1) arrived
    assert page.page.input_value("#seed") == "7"
    # the user leaves the field: its change event sends what they typed
    page.js("document.getElementById('seed').dispatchEvent(new Event('change', {bubbles: true}))")
    page.wait("String(window.playground.settings.seed) === '7'")
