"""The playground's server: a Starlette app, one WebSocket session per open page, run by uvicorn.

HTTP endpoints (JSON unless said otherwise; errors are ``{"error": {"field", "message"}}``):

- ``GET /``: the page;  ``GET /static/...``: its CSS and JavaScript.
- ``GET /api/options``: the choices, defaults, limits and comparison presets the page draws.
- ``POST /api/validate``: ``{"settings": {...}, "compare": [...]}`` checked as a session would.
- ``POST /api/upload?name=FILE``: a CSV file as the request body (``x1,x2,label`` rows); answers
  its ``id``, to use as the ``upload`` setting with ``dataset = "csv"``.
- ``GET /api/sessions/{id}/config.toml?run=i``: the run's settings as a TOML file for
  ``nnlab train --config``;  ``GET /api/sessions/{id}/model.npz?run=i``: its trained weights as an
  nnlab model file;  ``GET /api/sessions/{id}/run.py?run=i``: a Python script that retrains the
  run with ``nnlab.Model`` to the same weights (``snippet``). They exist while the page is open.
- ``POST /api/model?name=FILE``: a saved nnlab model (``nnlab train --save``'s ``model.npz``, or
  the page's Export model) as the request body, checked (``loaded``); answers its ``id`` and the
  settings of its network, to send with ``configure`` as ``model``.
- ``GET /api/status``: open sessions, limits.

WebSocket ``/ws``, JSON messages. The page sends ``{"type": ...}`` with type

- ``configure`` (``settings``, optional ``compare``, optional ``model``: a loaded model's id, whose
  weights the run starts from): check, build data and networks; answered by ``ready`` (points,
  networks, first snapshot) or ``error``;
- ``play`` (optional ``speed``) / ``pause``: start or stop training (answered by ``state``); while
  playing the server sends ``snapshot`` messages;
- ``speed`` (``epochs_per_second``: 1 to 1000, or null for as fast as possible, the default):
  the pace of playing, from now on (answered by ``state``);
- ``step`` (optional ``unit``: ``epoch``, the default, or ``batch``: one mini-batch): answered by
  a ``snapshot`` whose ``step`` says what the step did (epoch, updates, the training cost before
  and after);  ``reset``: back to epoch 0 (a ``ready``);
- ``change`` (``settings``): new learning settings (``settings.LIVE_KEYS``: learning rate, L2 λ,
  keep_prob, the optimizer and its hyperparameters, batch size) for the running network from its
  next update on, the weights and epoch count kept; answered by ``changed`` (the settings and the
  change's label, also marked in every later snapshot's ``marks``). Any other setting changes
  with ``configure`` (a new run from epoch 0);
- ``weight`` (``layer``, ``row``, ``column``, ``value``): set one weight ``W[layer][row, column]``
  of the running network, from its next update on; answered by a ``snapshot`` with ``edited``
  (the change's label, also marked on the curves);
- ``gradcheck`` (optional ``run``): answered by ``gradcheck`` (the relative difference and the
  failing parameters) or ``error`` (while dropout is on).

The server first sends ``hello`` (the session id and the limits). A bad message is answered by an
``error`` naming the field; the session goes on. Training (playing, ``step``, ``gradcheck``) runs
in a small pool of threads shared by all sessions in turn (``Limits.train_threads``), a fraction
of a second at a time; what a page waits on briefly (settings, a new setup, an export) runs in
another pool, which never waits behind training. Training stops as soon as the page's WebSocket
closes.

Limits against a careless or hostile client (see ``serve``): a request body is read as it
streams and refused with 413 as soon as it passes its limit (``MAX_MESSAGE`` for JSON, the
upload limit for a file; a declared ``Content-Length`` over it is refused before any byte is
read); a message nested deeper than ``MAX_DEPTH`` is refused before it is parsed; a connection
must send a whole request head within ``HEADER_TIMEOUT`` seconds (``KEEP_ALIVE`` seconds of
silence between requests), at most ``MAX_HEAD`` bytes of it, and the server holds at most
``max_connections(limits)`` connections (the page's WebSockets included).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .._version import __version__
from ..runs.config import nesting_depth
from .data import UploadStore, parse_csv
from .lab import Lab
from .loaded import LoadedModel, ModelStore, check_fits, read_model
from .settings import (
    Limits,
    Settings,
    SettingsError,
    Variant,
    options,
    parse_compare,
    parse_settings,
    parse_speed,
)

STATIC = Path(__file__).parent / "static"
#: Training time per turn of a session (seconds): a snapshot goes to the page after each turn.
TURN_SECONDS = 0.05
#: The largest message a page may send (its settings are far smaller).
MAX_MESSAGE = 64 * 1024
#: The deepest nesting of lists and objects in a message (the page's are 4 deep at most).
MAX_DEPTH = 16
#: Seconds a connection may take to send a whole request head (the request line and headers).
HEADER_TIMEOUT = 10.0
#: Seconds an idle connection is kept open between requests.
KEEP_ALIVE = 5
#: The largest request head, in bytes.
MAX_HEAD = 16 * 1024
#: Nothing but this server: scripts, styles and connections from our own origin only.
CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
MESSAGE_TYPES = ("configure", "play", "pause", "step", "reset", "gradcheck", "change", "speed",
                 "weight")
#: While a slow session waits for its next epoch, it looks again at least this often (seconds).
MAX_WAIT = 0.25

log = logging.getLogger("nnlab.playground")


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def _advance_json(lab: Lab, max_epochs: int | None = None) -> str:
    return _dumps(lab.advance(TURN_SECONDS, max_epochs))


class Pace:
    """The pace of a playing session: ``rate`` epochs per second (None: as fast as it goes).

    ``due()`` is how many epochs may be trained now (None: any number): one at once when playing
    starts, then one each 1/rate seconds. A session that falls behind (a busy server) does not
    catch up in a burst: the pace starts again from where it is.

    >>> pace = Pace(2.0, clock=lambda: 0.0)
    >>> pace.due(), pace.took(1), pace.due(), pace.wait()
    (1, None, 0, 0.5)
    """

    def __init__(self, rate: float | None = None, clock: Callable[[], float] | None = None):
        import time

        self.clock = clock or time.monotonic
        self.rate = rate
        self.restart()

    def restart(self) -> None:
        self.start = self.clock()
        self.count = 0

    def due(self) -> int | None:
        if self.rate is None:
            return None
        behind = self.rate * (self.clock() - self.start) - self.count
        if behind > max(1.0, self.rate / 2):  # more than half a second late: no burst
            self.start = self.clock() - self.count / self.rate
            behind = 0.0
        return max(0, int(behind) + 1)

    def took(self, epochs: int) -> None:
        self.count += epochs

    def wait(self) -> float:
        """Seconds until the next epoch is due."""
        if self.rate is None:
            return 0.0
        return max(0.0, self.start + self.count / self.rate - self.clock())


def _error(field: str | None, message: str) -> dict[str, Any]:
    return {"type": "error", "field": field, "message": message}


def _http_error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"field": field, "message": message}}, status_code=status)


def parse_message(text: str | bytes, what: str = "message") -> Any:
    """``json.loads(text)`` for a message of the page, or ``SettingsError`` saying what is
    wrong with it: not JSON, or nested deeper than ``MAX_DEPTH``.

    >>> parse_message('{"type": "step"}')
    {'type': 'step'}
    >>> try:
    ...     parse_message("[" * 30000)
    ... except SettingsError as error:
    ...     print(error)
    message nests lists and objects 30000 deep: at most 16
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise SettingsError(None, f"{what} is not JSON (not UTF-8 text)") from None
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise SettingsError(None, f"{what} nests lists and objects {depth} deep: at most "
                                  f"{MAX_DEPTH}")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise SettingsError(None, f"{what} is not JSON") from None


class Playground:
    """The server's state: limits, the open sessions, the uploaded files, and two thread pools:
    ``training`` (``Limits.train_threads`` threads) for every epoch trained, whatever asks for it
    (the turns of playing sessions, a ``step``, a gradient check), shared by all sessions in turn;
    and ``interactive`` for the quick work a page waits on (checking settings and building a new
    setup, an export), so that it never queues behind anyone's training."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.sessions: dict[str, Session] = {}
        self.uploads = UploadStore(limits.max_uploads)
        self.models = ModelStore(limits.max_uploads)
        self._pools: dict[str, ThreadPoolExecutor] = {}

    def pool(self, name: str) -> ThreadPoolExecutor:
        """The ``training`` or ``interactive`` thread pool (started on first use)."""
        if name not in self._pools:
            threads = self.limits.train_threads if name == "training" else 2
            self._pools[name] = ThreadPoolExecutor(threads, thread_name_prefix=f"nnlab-{name}")
        return self._pools[name]

    def shutdown(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
        self._pools.clear()


class Session:
    """One open page: its lab, whether it is playing, and the task that trains it."""

    def __init__(self, playground: Playground, websocket: WebSocket):
        self.pg = playground
        self.ws = websocket
        self.id = secrets.token_urlsafe(12)
        self.lab: Lab | None = None
        self.settings: Settings | None = None
        self.variants: list[Variant] = []
        #: The model file the run started from (None: initialized from the seed).
        self.model: LoadedModel | None = None
        self.playing = False
        self.pace = Pace()
        self.closed = False
        self.lock = asyncio.Lock()  # one lab operation at a time, and its messages in order
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self._inflight: Future[Any] | None = None

    async def work(self, fn: Callable[..., Any], *args: Any, pool: str = "interactive") -> Any:
        """Run ``fn(*args)`` in a thread of ``pool`` (one at a time per session: the caller holds
        the session's lock)."""
        future = self.pg.pool(pool).submit(fn, *args)
        self._inflight = future
        return await asyncio.wrap_future(future)

    async def close(self) -> None:
        """The page has gone: stop training, and return once no work of this session runs."""
        self.closed = True
        self.playing = False
        if self.lab is not None:
            self.lab.closed = True
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
        if self._inflight is not None and not self._inflight.done():
            with contextlib.suppress(Exception):
                await asyncio.wrap_future(self._inflight)

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.ws.send_text(message if isinstance(message, str) else _dumps(message))

    async def send_state(self, reason: str | None = None) -> None:
        await self.send({"type": "state", "playing": self.playing, "reason": reason,
                         "speed": self.pace.rate})

    # -- the page's messages ----------------------------------------------------------------

    async def handle(self, text: str) -> None:
        """Answer one message from the page; a bad one is answered by an ``error``."""
        if len(text) > MAX_MESSAGE:
            await self.send(_error(None, f"message too large ({len(text)} characters; "
                                         f"at most {MAX_MESSAGE})"))
            return
        try:
            message = parse_message(text)
        except SettingsError as exc:
            await self.send(_error(exc.field, str(exc)))
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind not in MESSAGE_TYPES:
            await self.send(_error(None, f"unknown message type {kind!r}: expected one of "
                                         f"{', '.join(MESSAGE_TYPES)}"))
            return
        async with self.lock:
            try:
                await getattr(self, f"on_{kind}")(message)
            except SettingsError as exc:
                await self.send(_error(exc.field, str(exc)))

    async def on_configure(self, message: dict[str, Any]) -> None:
        settings = parse_settings(message.get("settings", {}), self.pg.limits)
        variants = parse_compare(message.get("compare"), settings, self.pg.limits)
        model = None
        if message.get("model") not in (None, ""):
            model = self.pg.models.get(message["model"])
            if variants:
                raise SettingsError("compare", "a loaded model trains alone: stop comparing "
                                               "first")
            check_fits(model, *_network(settings))
        await self._build(settings, variants, model)

    async def _build(self, settings: Settings, variants: list[Variant],
                     model: LoadedModel | None = None) -> None:
        initial = model.params if model is not None else None
        lab = await self.work(Lab, settings, variants, self.pg.limits, self.pg.uploads, initial)

        def ready_json() -> str:
            ready = lab.ready()
            ready["model"] = None if model is None else model.summary()
            return _dumps(ready)

        ready = await self.work(ready_json)
        self.lab, self.settings, self.variants, self.model = lab, settings, variants, model
        self.playing = False
        self.wake.clear()
        await self.send(ready)
        await self.send_state()

    def _need_lab(self) -> Lab:
        if self.lab is None:
            raise SettingsError(None, "nothing to train yet: the page has not sent its settings")
        return self.lab

    async def on_reset(self, message: dict[str, Any]) -> None:
        self._need_lab()
        assert self.settings is not None
        await self._build(self.settings, self.variants, self.model)

    async def on_play(self, message: dict[str, Any]) -> None:
        lab = self._need_lab()
        if "speed" in message:
            self.pace.rate = parse_speed(message["speed"])
        if not lab.active:
            self.playing = False
            await self.send_state("every run has stopped (diverged or at its limit): "
                                  "press reset to start again")
            return
        self.playing = True
        self.pace.restart()
        self.wake.set()
        await self.send_state()

    async def on_speed(self, message: dict[str, Any]) -> None:
        self.pace.rate = parse_speed(message.get("epochs_per_second"))
        self.pace.restart()
        await self.send_state()

    async def on_change(self, message: dict[str, Any]) -> None:
        lab = self._need_lab()
        assert self.settings is not None
        settings = parse_settings(message.get("settings", {}), self.pg.limits)
        labels = await self.work(lab.change, settings)
        self.settings = settings
        await self.send({"type": "changed", "settings": settings.to_dict(), "changes": labels,
                         "epoch": lab.runs[0].epoch, "marks": lab.runs[0].marks})

    async def on_weight(self, message: dict[str, Any]) -> None:
        lab = self._need_lab()
        label = await self.work(lab.set_weight, message.get("layer"), message.get("row"),
                                message.get("column"), message.get("value"), pool="training")
        snapshot = await self.work(lab.snapshot, pool="training")
        snapshot["edited"] = label
        await self.send(snapshot)

    async def on_pause(self, message: dict[str, Any]) -> None:
        self.playing = False
        self.wake.clear()
        await self.send_state()

    async def on_step(self, message: dict[str, Any]) -> None:
        lab = self._need_lab()
        unit = message.get("unit", "epoch")
        if unit not in ("epoch", "batch"):
            raise SettingsError("unit", f"step unit {unit!r} is unknown: choose epoch or batch")
        if self.playing:
            await self.on_pause(message)
        snapshot = await self.work(lambda: _dumps(lab.step_once(unit)), pool="training")
        await self.send(snapshot)

    async def on_gradcheck(self, message: dict[str, Any]) -> None:
        lab = self._need_lab()
        index = message.get("run", 0)
        if isinstance(index, bool) or not isinstance(index, int) or not (
            0 <= index < len(lab.runs)
        ):
            raise SettingsError("run", f"run = {index!r} is not one of the {len(lab.runs)} runs")
        try:
            result = await self.work(lab.gradient_check, index, pool="training")
        except ValueError as exc:  # dropout on: the engine explains why it refuses
            raise SettingsError("gradcheck", str(exc)) from None
        await self.send(result)

    # -- training ----------------------------------------------------------------------------

    async def train(self) -> None:
        """While playing, train a turn at a time and send a snapshot after each turn."""
        while not self.closed:
            await self.wake.wait()
            delay = 0.0
            async with self.lock:
                lab = self.lab
                if not self.playing or lab is None:
                    self.wake.clear()
                    continue
                due = self.pace.due()
                if due == 0:  # a slow pace: nothing due yet
                    delay = min(MAX_WAIT, self.pace.wait())
                    snapshot = None
                else:
                    try:
                        snapshot = await self.work(_advance_json, lab, due, pool="training")
                    except Exception as exc:  # a bug, not the page's fault: say so, stop
                        log.exception("playground session %s: training failed", self.id)
                        self.playing = False
                        self.wake.clear()
                        await self.send(_error(None, f"training failed on the server: {exc}"))
                        await self.send_state()
                        continue
                    self.pace.took(lab.advanced)
                if snapshot is not None:
                    await self.send(snapshot)
                    if not lab.active:
                        self.playing = False
                        self.wake.clear()
                        await self.send_state("every run has stopped (diverged or at its limit)")
            await asyncio.sleep(delay)


async def websocket_endpoint(websocket: WebSocket) -> None:
    pg: Playground = websocket.app.state.playground
    if not _same_origin(websocket.headers):
        await websocket.close(code=1008)  # refused before the handshake completes: HTTP 403
        return
    await websocket.accept()
    if len(pg.sessions) >= pg.limits.max_sessions:
        await websocket.send_text(_dumps(_error(
            "session", f"the server is busy: {len(pg.sessions)} pages are open, the limit is "
            f"{pg.limits.max_sessions} (raise it with --max-sessions); try again later",
        )))
        await websocket.close(code=1013)
        return
    session = Session(pg, websocket)
    pg.sessions[session.id] = session
    session.task = asyncio.create_task(session.train())
    try:
        await session.send({"type": "hello", "session": session.id,
                            "limits": pg.limits.to_dict(), "version": __version__})
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            try:
                if text is None:
                    await session.send(_error(None, "binary messages are not understood: "
                                                    "send JSON text"))
                else:
                    await session.handle(text)
            except WebSocketDisconnect:
                raise
            except Exception as exc:  # never a dead page: report and go on
                log.exception("playground session %s", session.id)
                await session.send(_error(None, f"the server failed on this request: {exc}"))
    except WebSocketDisconnect:
        pass  # the page went away (closed, reloaded, navigated)
    except Exception:  # e.g. a reply to a page that has just gone away
        log.debug("playground session %s ended", session.id, exc_info=True)
    finally:
        try:
            await session.close()
        finally:
            pg.sessions.pop(session.id, None)


def _network(settings: Settings) -> tuple[list[int], list[str], list[bool]]:
    """The layer sizes, activations and batch-normalized layers a run of ``settings`` has."""
    n_out = settings.classes if settings.output == "softmax" else 1
    return ([len(settings.features), *settings.layers, n_out],
            [*settings.activations, settings.output], list(settings.batch_norm))


def _same_origin(headers: Any) -> bool:
    """A page of another site must not drive this server: its Origin must be this host."""
    origin = headers.get("origin")
    return origin is None or urlsplit(origin).netloc == headers.get("host")


# -- HTTP ---------------------------------------------------------------------------------------


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={
        "Content-Security-Policy": CSP, "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff"})


async def api_options(request: Request) -> JSONResponse:
    return JSONResponse(options(request.app.state.playground.limits))


async def api_status(request: Request) -> JSONResponse:
    pg: Playground = request.app.state.playground
    return JSONResponse({"sessions": len(pg.sessions), "uploads": len(pg.uploads),
                         "limits": pg.limits.to_dict(), "version": __version__})


class BodyTooLarge(SettingsError):
    """A request body over its limit (answered with 413 Content Too Large)."""


async def read_body(request: Request, limit: int, what: str = "the request body") -> bytes:
    """The request's body, read as it streams: ``BodyTooLarge`` as soon as it passes ``limit``
    bytes (at once when its ``Content-Length`` says so), so that no more than about ``limit``
    bytes of it are ever held, whatever the client sends."""
    too_large = f"{what} is larger than {limit} bytes"
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge(None, too_large)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(None, too_large)
    return bytes(body)


async def _json_body(request: Request) -> Any:
    body = await read_body(request, MAX_MESSAGE)
    return parse_message(body, "the request body")


async def api_validate(request: Request) -> JSONResponse:
    pg: Playground = request.app.state.playground
    if not _same_origin(request.headers):
        return _http_error(403, "requests from another site are refused")
    try:
        body = await _json_body(request)
        if not isinstance(body, dict):
            raise SettingsError(None, 'expected {"settings": {...}, "compare": [...]}')
        settings = parse_settings(body.get("settings", {}), pg.limits)
        variants = parse_compare(body.get("compare"), settings, pg.limits)
    except BodyTooLarge as exc:
        return _http_error(413, str(exc), exc.field)
    except SettingsError as exc:
        return _http_error(422, str(exc), exc.field)
    return JSONResponse({
        "settings": settings.to_dict(),
        "compare": [{"label": v.label, "settings": v.settings.to_dict()} for v in variants],
    })


async def _read_upload(request: Request, default_name: str, field: str
                       ) -> tuple[str, bytes] | Response:
    """An upload's name and bytes, or the error response: another site's request (403), a body
    over ``--max-upload-bytes`` (413, naming ``field``)."""
    pg: Playground = request.app.state.playground
    if not _same_origin(request.headers):
        return _http_error(403, "requests from another site are refused")
    limit = pg.limits.max_upload_bytes
    name = request.query_params.get("name") or default_name
    try:
        return name, await read_body(request, limit)
    except BodyTooLarge:
        return _http_error(413, f"{name}: the file is larger than {limit} bytes (raise the limit "
                                "with --max-upload-bytes)", field)


async def api_upload(request: Request) -> Response:
    pg: Playground = request.app.state.playground
    got = await _read_upload(request, "upload.csv", "upload")
    if isinstance(got, Response):
        return got
    name, body = got
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return _http_error(422, f"{name}: the file is not UTF-8 text (expected a CSV file)",
                           "upload")
    try:
        upload = parse_csv(text, name, pg.limits)
    except SettingsError as exc:
        return _http_error(422, str(exc), exc.field)
    pg.uploads.add(upload)
    return JSONResponse(upload.summary())


async def api_model_upload(request: Request) -> Response:
    """A saved nnlab model (the bytes of its ``.npz``), checked and kept: its id and settings."""
    pg: Playground = request.app.state.playground
    got = await _read_upload(request, "model.npz", "model")
    if isinstance(got, Response):
        return got
    name, body = got
    try:
        loaded = await asyncio.to_thread(read_model, body, name, pg.limits)
    except SettingsError as exc:
        return _http_error(422, str(exc), exc.field)
    pg.models.add(loaded)
    return JSONResponse(loaded.summary())


def _session_run(request: Request) -> tuple[Session, Lab, int]:
    pg: Playground = request.app.state.playground
    session = pg.sessions.get(request.path_params["sid"])
    if session is None or session.lab is None:
        raise LookupError("no such session: exports come from an open page's session "
                          "(reload the page and train again)")
    raw = request.query_params.get("run", "0")
    if not raw.isdigit() or int(raw) >= len(session.lab.runs):
        raise SettingsError("run", f"run = {raw!r} is not one of the "
                                   f"{len(session.lab.runs)} runs (0 to "
                                   f"{len(session.lab.runs) - 1})")
    return session, session.lab, int(raw)


def _filename(lab: Lab, index: int, extension: str) -> str:
    run = lab.runs[index]
    parts = ["nnlab", run.settings.dataset, re.sub(r"[^a-z0-9]+", "-", run.label.lower()),
             f"epoch{run.epoch}"]
    return "-".join(p.strip("-") for p in parts if p.strip("-")) + extension


async def _text_download(request: Request, make: Callable[[Lab, int], str], media_type: str,
                         extension: str, in_thread: bool) -> Response:
    """A run as a text file to download: ``make(lab, index)`` (in the session's worker thread
    when ``in_thread``), or the settings error that says why the run cannot be written so."""
    try:
        session, lab, index = _session_run(request)
    except LookupError as exc:
        return _http_error(404, str(exc))
    except SettingsError as exc:
        return _http_error(422, str(exc), exc.field)
    async with session.lock:
        try:
            text = await session.work(make, lab, index) if in_thread else make(lab, index)
        except SettingsError as exc:  # a run the file cannot describe
            return _http_error(422, str(exc), exc.field)
    return Response(text, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{_filename(lab, index, extension)}"'})


async def api_config(request: Request) -> Response:
    """The run's settings as the TOML file ``nnlab train --config`` reads."""
    return await _text_download(request, lambda lab, index: lab.train_config(index).to_toml(),
                                "application/toml", ".toml", in_thread=False)


async def api_python(request: Request) -> Response:
    """The run as a Python script that retrains it with ``nnlab.Model`` (``snippet``)."""
    from .snippet import python_snippet

    return await _text_download(request, python_snippet, "text/x-python", ".py", in_thread=True)


async def api_model(request: Request) -> Response:
    try:
        session, lab, index = _session_run(request)
    except LookupError as exc:
        return _http_error(404, str(exc))
    except SettingsError as exc:
        return _http_error(422, str(exc), exc.field)
    async with session.lock:
        data = await session.work(lab.model_file, index)
    return Response(data, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{_filename(lab, index, ".npz")}"'})


class AllowedHosts:
    """ASGI middleware: answer only requests whose ``Host`` header names one of ``hosts``. A
    server on 127.0.0.1 that allows only loopback names is out of reach of DNS rebinding (a web
    page whose own host name was made to point at 127.0.0.1 sends that name and is refused)."""

    LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

    def __init__(self, app: Any, hosts: frozenset[str]):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and not self.allowed(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            response = _http_error(
                400, f"this server answers requests for {', '.join(sorted(self.hosts))} only")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def allowed(self, scope: Any) -> bool:
        host = ""
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host = value.decode("latin-1").lower()
        if host.startswith("["):  # [::1]:8000
            host = host[1 : host.find("]")]
        elif host.count(":") == 1:
            host = host.split(":")[0]
        return host in self.hosts


def create_app(limits: Limits | None = None, hosts: frozenset[str] | None = None) -> Starlette:
    """The playground as an ASGI app (``app.state.playground`` holds its state).

    ``hosts``: answer only requests for these host names (``serve`` gives the loopback names when
    it listens on a loopback address); None answers any."""
    playground = Playground(limits or Limits())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            playground.shutdown()

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/options", api_options),
            Route("/api/status", api_status),
            Route("/api/validate", api_validate, methods=["POST"]),
            Route("/api/upload", api_upload, methods=["POST"]),
            Route("/api/model", api_model_upload, methods=["POST"]),
            Route("/api/sessions/{sid}/run.py", api_python),
            Route("/api/sessions/{sid}/config.toml", api_config),
            Route("/api/sessions/{sid}/model.npz", api_model),
            WebSocketRoute("/ws", websocket_endpoint),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.playground = playground
    if hosts is not None:
        app.add_middleware(AllowedHosts, hosts=frozenset(hosts))
    return app


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port). ``OSError`` if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def max_connections(limits: Limits) -> int:
    """The most connections the server holds at once: the pages' WebSockets and room for their
    page loads, exports and uploads; one more is closed as soon as it is accepted.

    >>> max_connections(Limits(max_sessions=32))
    96
    """
    return limits.max_sessions + 64


def guarded_protocol(header_timeout: float = HEADER_TIMEOUT, connections: int = 96) -> type:
    """uvicorn's h11 HTTP protocol, with what it lacks against slow or idle clients: a connection
    that has not sent a whole request head ``header_timeout`` seconds after it opened (or after
    its last answer) is closed, however slowly it trickles bytes; and a connection beyond
    ``connections`` open ones is closed at once."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > connections:
                log.debug("playground: %d connections open, closing a new one", connections)
                transport.close()
                return
            self._arm()

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(header_timeout, self._head_timeout)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timeout(self) -> None:
            self._head_timer = None
            if self.transport.is_closing() or self.transport.get_protocol() is not self:
                return  # closed, or now a WebSocket
            if self.conn.their_state is h11.IDLE:  # no whole request head since it was armed
                self.transport.close()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()  # the next request's head is due within the timeout too

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedH11Protocol


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: Limits | None = None,
    open_browser: bool = False,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the playground with uvicorn until interrupted; ``announce`` gets the address line."""
    import uvicorn

    sock = bind_socket(host, port)
    actual = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{actual}/"
    loopback = host in AllowedHosts.LOOPBACK or host.startswith("127.")
    app = create_app(limits, hosts=AllowedHosts.LOOPBACK | {host} if loopback else None)
    limits = app.state.playground.limits
    connections = max_connections(limits)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, ws_max_size=MAX_MESSAGE * 2, lifespan="on",
        timeout_graceful_shutdown=2, http=guarded_protocol(HEADER_TIMEOUT, connections),
        timeout_keep_alive=KEEP_ALIVE, h11_max_incomplete_event_size=MAX_HEAD,
        limit_concurrency=connections,
    )
    server = uvicorn.Server(config)
    announce(f"nnlab playground: {url}  (Ctrl+C to stop)")
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    server.run(sockets=[sock])
