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

import numpy as np
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

    def button(self, name):
        return self.page.get_by_role("button", name=name, exact=True)

    def set_speed(self, key):
        """Move the Speed slider with the keyboard: "End" is as fast as possible, "Home" 1."""
        before = self.js("window.playground.messages")
        value = self.page.get_by_label("Speed").input_value()
        self.page.get_by_label("Speed").focus()
        self.page.keyboard.press(key)
        if self.page.get_by_label("Speed").input_value() != value:
            self.wait(f"window.playground.messages > {before}")  # the server's "state"

    def train(self, epochs):
        self.set_speed("End")
        self.button("Play").click()
        self.wait(f"window.playground.runs.every(r => r.last.epoch >= {epochs})")
        self.button("Pause").click()
        self.wait("!window.playground.playing")

    def screenshot(self, path):
        self.page.screenshot(path=str(path), full_page=True)

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
    # the curve from epoch 0 to the latest recorded one: past 1000 rows (lab.MAX_HISTORY) the
    # run records every stride-th epoch, so the last row may lie up to stride - 1 epochs back
    stride = rows[-1][0] - rows[-2][0]
    assert rows[0][0] == 0 and 0 <= page.epoch() - rows[-1][0] < stride
    end_loss = float(page.page.text_content("#test-loss"))
    assert end_loss < 0.7 * start_loss, (start_loss, end_loss)
    assert rows[-1][2] < rows[0][2]
    assert page.boundary() != start_picture
    assert float(page.page.text_content("#test-acc")) > 0.8
    assert page.button("Play").is_visible() and page.button("Pause").count() == 0


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
    page.open("?dataset=xor&layers=3&activations=tanh&batch_size=full")
    page.change("#keep_prob", "0.8")
    page.wait("window.playground.ready.dropout")
    assert page.page.is_disabled("#gradcheck")
    assert "Gradient checking is off while dropout is on" in page.page.text_content(
        "#gradcheck-reason")
    page.change("#keep_prob", "1")
    page.wait("!window.playground.ready.dropout")
    assert page.page.is_enabled("#gradcheck") and page.page.is_hidden("#gradcheck-reason")
    page.button("Step").click()
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
    page.page.select_option("#batch-mode", "full")
    page.wait("window.playground.settings.batch_size === 'full'")
    page.page.select_option("#batch-mode", "mini")
    page.wait("window.playground.settings.batch_size === 32")  # the size shown before
    page.change("#batch_size", "16")
    page.wait("window.playground.settings.batch_size === 16")
    url = page.page.url
    assert page.page.input_value("#share-url") == url
    for _ in range(3):  # mini-batches are on: a step is one mini-batch
        page.button("Step").click()
    page.wait("window.playground.runs[0].last.steps === 3")
    assert page.epoch() == 0
    first = (page.js("window.playground.runs[0].last.metrics.train_loss"), page.boundary())

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
            other.button("Step").click()
        other.wait("window.playground.runs[0].last.steps === 3")
        assert (other.js("window.playground.runs[0].last.metrics.train_loss"),
                other.boundary()) == first
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
    page.open("?dataset=blobs&n_points=10&optimizer=gd&lr=10&l2=10&layers=3&speed=max")
    assert page.page.text_content("#speed-text") == "as fast as possible"
    page.button("Play").click()
    page.wait("document.getElementById('message').textContent.includes('training diverged')")
    page.wait("!window.playground.playing")
    assert "try a smaller learning rate than 10" in page.page.text_content("#message")
    assert page.button("Play").is_visible()
    page.button("Reset").click()
    page.wait("window.playground.runs[0].last.epoch === 0")
    page.change("#lr", "0.1")
    page.button("Step").click()
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


# -- issue 20: speed, step, changes without reset, labels and keyboard -------------------------


def test_speed_paces_the_epochs_and_step_makes_one(page, tmp_path):
    page.open("?dataset=xor&n_points=60&layers=3&batch_size=full")
    assert page.page.text_content("#speed-text") == "10 epochs/s"  # the default: watchable
    page.set_speed("Home")
    assert page.page.text_content("#speed-text") == "1 epoch/s"
    assert "speed=1" in page.page.url
    page.button("Play").click()
    page.wait("window.playground.playing")
    time.sleep(3.5)
    page.button("Pause").click()
    page.wait("!window.playground.playing")
    epochs = page.epoch()
    # about 4 at 1 epoch per second (the first at once): a tolerant check of the pace
    assert 2 <= epochs <= 7, epochs
    page.button("Step").click()
    page.wait(f"window.playground.runs[0].last.epoch === {epochs + 1}")
    info = page.page.get_by_role("status", name="Last step").text_content()
    assert info.startswith(f"Step: epoch {epochs} → {epochs + 1} (1 update), training cost ")
    # mini-batches on (a change without reset): a step is one mini-batch
    page.page.get_by_label("Batch", exact=True).select_option("mini")
    page.wait("window.playground.settings.batch_size === 32")  # the size the field held
    page.change("#batch_size", "10")
    page.wait("window.playground.settings.batch_size === 10")
    assert page.epoch() == epochs + 1
    steps = page.js("window.playground.runs[0].last.steps")
    page.button("Step").click()
    page.wait(f"window.playground.runs[0].last.steps === {steps + 1}")
    assert page.epoch() == epochs + 1
    assert page.page.get_by_role("status", name="Last step").text_content().startswith(
        f"Step: mini-batch 1 of 5 in epoch {epochs + 1}")
    page.screenshot(tmp_path / "speed-and-step.png")


def test_a_learning_rate_change_keeps_the_run_and_is_marked(page, tmp_path):
    page.open("?dataset=moons&optimizer=gd&lr=0.05&batch_size=full")
    page.train(30)
    epoch = page.epoch()
    weights = page.js("window.playground.runs[0].last.weights")
    before = page.js("window.playground.messages")
    page.page.get_by_label("Learning rate").fill("0.5")
    page.page.get_by_label("Learning rate").press("Enter")
    page.wait(f"window.playground.messages > {before} && window.playground.settings.lr === 0.5")
    assert page.epoch() == epoch and page.js("window.playground.runs[0].last.weights") == weights
    assert page.js("window.playground.runs[0].marks") == [
        {"epoch": epoch, "step": epoch, "label": "α 0.05 → 0.5"}]
    assert "lr=0.5" in page.page.url
    page.button("Step").click()
    page.wait(f"window.playground.runs[0].last.epoch === {epoch + 1}")
    assert page.js("window.playground.runs[0].last.lr") == 0.5
    page.page.get_by_label("Log scale").check()
    page.screenshot(tmp_path / "learning-rate-change.png")
    # a change of the network starts again from epoch 0, and the page said so before
    page.page.get_by_label("units of layer 1").focus()
    assert "starts again from epoch 0" in page.page.text_content("#message")
    page.change("#layers .layer:nth-child(1) .units", "6")
    page.wait("window.playground.runs[0].last.epoch === 0")
    assert "Started again from epoch 0: hidden layers changed" in page.page.text_content(
        "#message")


def test_every_control_has_a_name_and_the_keyboard_reaches_it(page, tmp_path):
    page.open("?speed=max")
    for name in ("Reset", "Play", "Step"):
        button = page.button(name)
        assert button.is_visible() and button.locator("svg").count() >= 1
        assert not any(glyph in button.text_content() for glyph in "▶⏸⟲")
    for label in ("Speed", "Learning rate", "Log scale", "Batch size", "Data set"):
        assert page.page.get_by_label(label).count() >= 1, label
    unnamed = page.js("""[...document.querySelectorAll('button, input, select')]
        .filter(e => e.type !== 'hidden' && !e.closest('[hidden]'))
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                     && !e.textContent.trim())
        .map(e => e.outerHTML)""")
    assert unnamed == []
    # Tab from the top of the page: Reset, Play, Step, Speed in turn; Space plays
    page.page.locator("h1").click()
    reached = []
    for _ in range(8):
        page.page.keyboard.press("Tab")
        reached.append(page.js("document.activeElement.id"))
    assert reached[:4] == ["reset", "play", "step", "speed"], reached
    page.page.get_by_role("button", name="Play").focus()
    page.page.keyboard.press("Space")
    page.wait("window.playground.playing")
    pause = page.button("Pause")
    assert pause.is_visible() and pause.locator("svg.icon-pause").is_visible()
    page.page.keyboard.press("Space")
    page.wait("!window.playground.playing")
    page.screenshot(tmp_path / "controls.png")
    print(f"\nscreenshots: {tmp_path}")


SAMPLE_CLASSES = """([k]) => {
    // which class colour each sampled pixel of the heatmap leans to (its colour minus white)
    const colours = [[245, 147, 34], [8, 119, 189], [42, 157, 63], [142, 68, 173],
                     [214, 39, 40]].slice(0, k);
    const c = document.getElementById('boundary');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const counts = new Array(k).fill(0);
    for (let y = 5; y < c.height; y += Math.floor(c.height / 40)) {
        for (let x = 5; x < c.width; x += Math.floor(c.width / 40)) {
            const i = 4 * (y * c.width + x);
            const d = [0, 1, 2].map(j => 250 - data[i + j]);
            let best = 0, bestScore = -Infinity;
            colours.forEach((col, n) => {
                const e = col.map(v => 250 - v);
                const norm = Math.hypot(...e) * (Math.hypot(...d) || 1);
                const score = (d[0] * e[0] + d[1] * e[1] + d[2] * e[2]) / norm;
                if (score > bestScore) { bestScore = score; best = n; }
            });
            counts[best] += 1;
        }
    }
    return counts;
}"""

DISTINCT_IN_A_ROW = """() => {
    const c = document.getElementById('boundary');
    const row = c.getContext('2d').getImageData(0, Math.floor(c.height / 2), c.width, 1).data;
    const seen = new Set();
    for (let i = 0; i < row.length; i += 4) seen.add(`${row[i]},${row[i + 1]},${row[i + 2]}`);
    return seen.size;
}"""


def test_three_classes_and_regression(page, tmp_path):
    page.open("?speed=max")
    assert page.page.get_by_label("Problem type").input_value() == "classification"
    page.change("#classes", "3")  # moons has two classes: the page picks the blobs
    page.wait("window.playground.ready.classes === 3 && "
              "window.playground.settings.dataset === 'blobs'")
    assert page.js("window.playground.ready.output") == "softmax"
    start = page.js("window.playground.runs[0].last.metrics.test_loss")
    page.train(100)
    end = page.js("window.playground.runs[0].last.metrics")
    assert end["test_loss"] < 0.5 * start and end["test_accuracy"] > 0.8, (start, end)
    counts = page.page.evaluate(SAMPLE_CLASSES, [3])
    assert all(n > 0.1 * sum(counts) for n in counts), counts  # three colours, each a region
    page.screenshot(tmp_path / "three-classes.png")

    page.page.get_by_label("Problem type").select_option("regression")
    page.wait("window.playground.ready.output === 'identity'")
    assert page.js("window.playground.settings.dataset") == "plane"
    assert page.page.is_hidden("#classes")
    start = page.js("window.playground.runs[0].last.metrics.test_loss")
    page.train(200)
    end = page.js("window.playground.runs[0].last.metrics")
    assert end["test_loss"] < 0.7 * start and end["test_accuracy"] is None, (start, end)
    assert page.page.text_content("#loss-name") == "Loss: mean squared error"
    assert page.page.evaluate(DISTINCT_IN_A_ROW) > 60  # a continuous scale across the plane
    page.screenshot(tmp_path / "regression.png")

    # a CSV file with three labels: three classes
    lines = ["x1,x2,fruit"] + [f"{cx + (i % 7) / 10:.2f},{(i * 3 % 11) / 10 - 0.5:.2f},{name}"
                               for name, cx in (("apple", -2), ("kiwi", 0), ("pear", 2))
                               for i in range(30)]
    fruit = tmp_path / "fruit.csv"
    fruit.write_text("\n".join(lines) + "\n")
    page.page.get_by_label("Problem type").select_option("classification")
    page.wait("window.playground.ready.output === 'sigmoid'")
    page.page.get_by_label("Data set").select_option("csv")
    page.page.set_input_files("#csv-file", str(fruit))
    page.wait("window.playground.settings.dataset === 'csv' && "
              "window.playground.ready.classes === 3")
    assert page.page.input_value("#classes") == "3"
    assert "classes apple (0, orange), kiwi (1, blue), pear (2, green)" in page.page.text_content(
        "#csv-info")
    start = page.js("window.playground.runs[0].last.metrics.test_loss")
    page.train(100)
    assert page.js("window.playground.runs[0].last.metrics.test_loss") < 0.5 * start
    counts = page.page.evaluate(SAMPLE_CLASSES, [3])
    assert all(n > 0.1 * sum(counts) for n in counts), counts
    page.screenshot(tmp_path / "csv-three-classes.png")


# -- issue 20, part 2: 1-D regression, the network's units and weights, L1, batch norm, files ----


DARK_PIXELS = """() => {
    // pixels of the prediction's curve (dark grey) on the Output canvas
    const c = document.getElementById('boundary');
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i] < 60 && data[i + 1] < 60 && data[i + 2] < 60) n += 1;
    }
    return [n, c.width];
}"""


def test_one_d_regression_draws_the_prediction_as_a_curve(page, tmp_path):
    page.open("?speed=max")
    page.page.get_by_label("Problem type").select_option("regression")
    page.wait("window.playground.ready.output === 'identity'")
    page.page.get_by_label("Data set").select_option("sine")
    page.wait("window.playground.settings.dataset === 'sine'")
    x2 = page.page.locator("#features input[value=x2]")
    assert not x2.is_checked() and x2.is_disabled()  # y against x1 alone
    assert page.js("window.playground.settings.features") == ["x1"]
    assert "y against x1 alone" in page.page.text_content("#data-note")
    dark, width = page.page.evaluate(DARK_PIXELS)
    assert dark > width  # the curve crosses the picture
    start = page.js("window.playground.runs[0].last.metrics.test_loss")
    picture = page.boundary()
    page.change("#layers .layer:nth-child(1) .units", "8")
    page.train(400)
    end = page.js("window.playground.runs[0].last.metrics.test_loss")
    assert end < 0.5 * start, (start, end)
    assert page.boundary() != picture
    page.screenshot(tmp_path / "regression-sine.png")
    # back to a 2-D set: x2 comes back
    page.page.get_by_label("Data set").select_option("gaussian")
    page.wait("window.playground.settings.dataset === 'gaussian'")
    assert page.js("window.playground.settings.features") == ["x1", "x2"]
    print(f"\nscreenshots: {tmp_path}")


def canvas_point(page, x, y, selector="#network"):
    """Page coordinates of the canvas pixel (x, y) (the canvas is drawn larger than shown)."""
    box = page.page.locator(selector).bounding_box()
    w, h = page.js(f"[document.querySelector('{selector}').width, "
                   f"document.querySelector('{selector}').height]")
    return box["x"] + x * box["width"] / w, box["y"] + y * box["height"] / h


def test_hover_a_unit_and_edit_a_weight(page, tmp_path):
    page.open("?dataset=xor&layers=3&batch_size=full&speed=max")
    page.button("Step").click()
    page.wait("window.playground.runs[0].last.epoch === 1")
    unit = page.js("window.playground.layout.units.find(u => u.column === 1 && u.unit === 1)")
    size = page.js("window.playground.layout.size")
    page.page.mouse.move(*canvas_point(page, unit["x"] + size / 2, unit["y"] + size / 2))
    page.wait("!document.getElementById('unit-view').hidden")
    assert page.page.text_content("#unit-title") == "Layer 1, unit 2"
    rows = page.page.locator("#unit-weights tr").all_text_contents()
    W1 = page.js("window.playground.runs[0].last.weights[0]")
    assert rows == [f"w from x1{W1['W'][1][0]:.3f}edit", f"w from x2{W1['W'][1][1]:.3f}edit",
                    f"bias b{W1['b'][1]:.3f}"]
    assert page.page.get_by_role("img", name="The unit's output over the plane").is_visible()
    # click a weight line: W2[0, 1], from layer 1's unit 2 to the output
    line = page.js("window.playground.layout.lines.find(e => e.layer === 2 && e.column === 1)")
    mid = [(line["from"][0] + line["to"][0]) / 2, (line["from"][1] + line["to"][1]) / 2]
    page.page.mouse.click(*canvas_point(page, *mid))
    editor = page.page.get_by_role("spinbutton", name="Weight")
    assert editor.is_visible() and editor.input_value() == str(line["value"])
    assert "W2[0,1] (layer 1 unit 2 → output unit 1)" in page.page.text_content("#weight-editor")
    page.screenshot(tmp_path / "edit-a-weight.png")
    editor.fill("1.5")
    editor.press("Enter")
    page.wait("window.playground.runs[0].last.weights[1].W[0][1] === 1.5")
    assert page.epoch() == 1 and page.page.is_hidden("#weight-editor")
    assert page.js("window.playground.runs[0].marks.at(-1).label").endswith("→ 1.5")
    assert "Set W2[0,1]" in page.page.get_by_role("status", name="Last step").text_content()
    page.button("Step").click()  # the network trains on from the edited weight
    page.wait("window.playground.runs[0].last.epoch === 2")
    after = page.js("window.playground.runs[0].last.weights[1].W[0][1]")
    assert after != 1.5 and abs(after - 1.5) < 0.05
    page.screenshot(tmp_path / "hover-a-unit.png")
    # the same with the keyboard: the arrow keys on the network picture, then a weight's "edit"
    network = page.page.get_by_role("img", name="The network")
    network.focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft", "ArrowDown"):
        page.page.keyboard.press(key)
    assert page.page.text_content("#unit-title") == "Layer 1, unit 2"
    edit = page.button("edit the weight w from x1 (W1[1,0])")
    edit.focus()
    page.page.keyboard.press("Enter")
    editor = page.page.get_by_role("spinbutton", name="Weight W1[1,0]")
    assert page.js("document.activeElement.id") == "weight-value"
    page.page.keyboard.type("-2")
    page.page.keyboard.press("Enter")
    page.wait("window.playground.runs[0].last.weights[0].W[1][0] === -2")
    assert editor.is_hidden() and page.js("document.activeElement.id") == "network"


def test_l1_changes_live_and_batch_norm_resets_saying_so_first(page, tmp_path):
    page.open("?dataset=moons&speed=max")
    page.train(20)
    epoch = page.epoch()
    l1 = page.page.get_by_label("L1", exact=True)
    assert l1.input_value() == "0"
    l1.fill("0.01")
    l1.press("Enter")
    page.wait("window.playground.settings.l1 === 0.01")
    assert page.epoch() == epoch  # no reset
    assert page.js("window.playground.runs[0].marks.at(-1)") == {
        "epoch": epoch, "step": page.js("window.playground.runs[0].last.steps"),
        "label": "λ1 0 → 0.01"}
    assert "l1=0.01" in page.page.url
    bn = page.page.get_by_label("batch norm in layer 1")
    bn.focus()
    assert "starts again from epoch 0" in page.page.text_content("#message")
    bn.check()
    page.wait("window.playground.ready.settings.batch_norm[0] === true && "
              "window.playground.runs[0].last.epoch === 0")
    assert "Started again from epoch 0: batch norm changed" in page.page.text_content("#message")
    assert page.js("window.playground.settings.batch_norm") == [True, False]
    page.train(60)
    assert page.js("window.playground.runs[0].last.metrics.test_accuracy") > 0.8
    counts = page.page.evaluate(SAMPLE_CLASSES, [2])
    assert all(n > 0.1 * sum(counts) for n in counts), counts  # the heatmap still draws
    assert len(page.js("window.playground.runs[0].last.units[0]")) == 4
    unit = page.js("window.playground.layout.units.find(u => u.column === 1 && u.unit === 0)")
    size = page.js("window.playground.layout.size")
    page.page.mouse.move(*canvas_point(page, unit["x"] + size / 2, unit["y"] + size / 2))
    page.wait("!document.getElementById('unit-view').hidden")
    rows = page.page.locator("#unit-weights th").all_text_contents()
    assert rows[-2:] == ["batch norm γ", "batch norm β"]
    page.screenshot(tmp_path / "batch-norm-and-l1.png")


def test_load_a_saved_model_then_export_python_that_retrains_it(page, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "nnlab", "train", "moons", "--layers", "4,3", "--epochs", "5",
         "--save", str(tmp_path / "saved")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page.open("?dataset=xor&speed=max")
    page.page.get_by_label("Load model").set_input_files(str(tmp_path / "saved" / "model.npz"))
    page.wait("window.playground.ready.model !== null && "
              "window.playground.settings.dataset === 'moons'")
    assert page.js("window.playground.settings.layers") == [4, 3]
    assert page.js("window.playground.settings.activations") == ["relu", "relu"]
    assert page.page.text_content("#model-info").startswith(
        "Started from model.npz (trained 5 epochs before).")
    from nnlab.files.models import load_model

    saved = load_model(tmp_path / "saved" / "model.npz")
    W1 = page.js("window.playground.runs[0].last.weights[0].W")
    np.testing.assert_allclose(W1, saved.params["W1"], atol=6e-5)  # (sent to 4 decimals)
    page.train(10)
    page.change("#lr", "0.03")  # a change between epochs: the script replays it
    page.train(page.epoch() + 5)
    with page.page.expect_download() as download:
        page.button("Export Python").click()
    script = Path(download.value.path()).read_text()
    assert download.value.suggested_filename.endswith(".py")
    with page.page.expect_download() as download:
        page.page.click("#export-model")
    params, meta = load_params(download.value.path())
    assert meta["epoch"] == page.epoch()
    (tmp_path / "run.py").write_text(script)
    ran = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "again.npz")],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    again = load_model(tmp_path / "again.npz")
    for k in params:  # the page's weights, bit for bit
        np.testing.assert_array_equal(again.params[k], params[k], err_msg=k)
    # a file that is not a model: the server's message
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    page.allowed = ("status of 422",)
    page.page.get_by_label("Load model").set_input_files(str(bad))
    page.wait("document.getElementById('message').textContent.startsWith('bad.npz')")
    assert page.page.text_content("#message") == (
        "bad.npz: not an nnlab model file: not a zip archive")
