// The nnlab playground page: the form, the URL, the WebSocket to the server, and what it draws.
// The server checks every value; the page only shows what it answers.
import {
  RUN_COLORS, bytes, drawBoundary, drawCurves, drawGrid, drawNetwork, fitCanvas, lineAt, unitAt,
} from "./draw.js";

const $ = (id) => document.getElementById(id);

/** Everything the page knows; `window.playground` for curious users and for the tests. */
const state = {
  options: null,
  session: null,
  ws: null,
  ready: null, // the last "ready" message: data, networks
  settings: null, // the last settings the server accepted
  compare: [], // compared variants: [{label, ...changes}]
  runs: [], // per run: {label, layer_dims, rows, last}
  playing: false,
  connected: false,
  messages: 0, // messages received from the server so far
  pendingConfigures: 0, // configure and change messages sent and not yet answered
  speed: 10, // epochs per second while playing (null: as fast as possible)
  resetNote: "", // why the next "ready" starts again from epoch 0 (said before it happens)
  model: null, // the id of a loaded model file the run starts from (null: from the seed)
  layout: null, // where the network's units and weight lines are drawn (for hover and clicks)
  unit: null, // the unit shown large: {column, unit}
  pinned: false, // the unit stays shown (clicked) until another is clicked
  editing: null, // the weight line being edited: {layer, row, column, value}
};
window.playground = state;

// -- messages -------------------------------------------------------------------------------------

function showMessage(text, kind = "error") {
  const el = $("message");
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
}

function clearMessage() {
  const el = $("message");
  el.hidden = true;
  el.textContent = "";
  delete el.dataset.kind;
}

function fieldElement(field) {
  const special = {
    layers: "layers", activations: "layers", features: "features", batch_size: "batch-mode",
    compare: "compare-list", upload: "csv-file", gradcheck: "gradcheck", model: "model-file",
    weight: "weight-value",
  };
  if (field in special) return $(special[field]);
  return document.querySelector(`[data-setting="${field}"]`);
}

function markInvalid(field) {
  for (const el of document.querySelectorAll(".invalid")) el.classList.remove("invalid");
  const el = field ? fieldElement(field) : null;
  if (el) el.classList.add("invalid");
}

// -- the form -------------------------------------------------------------------------------------

function listOf(value) {
  if (Array.isArray(value)) return value.map(String);
  const text = String(value ?? "").trim();
  return text ? text.split(",").map((x) => x.trim()) : [];
}

function setSelect(select, value) {
  const v = String(value);
  if (![...select.options].some((o) => o.value === v)) {
    // a value the page does not offer (a hand-edited link): keep it so the server can say why
    select.add(new Option(v, v));
  }
  select.value = v;
}

function option(select, value, label) {
  select.add(new Option(label ?? value, value));
}

function addLayerRow(units = "4", act = "tanh", bn = false) {
  const row = document.createElement("div");
  row.className = "layer";
  const index = $("layers").children.length + 1;
  row.innerHTML = `<span class="layer-name">layer ${index}</span>
    <button type="button" class="minus" title="one unit less"
      aria-label="one unit less in layer ${index}">−</button>
    <input type="number" class="units" step="1" aria-label="units of layer ${index}">
    <button type="button" class="plus" title="one unit more"
      aria-label="one unit more in layer ${index}">+</button>
    <select class="act" aria-label="activation of layer ${index}"></select>
    <label class="inline bn-box" title="Batch norm: normalize Z over each mini-batch, then
      γ ⊙ Z_norm + β (no b); predictions and the pictures use the running statistics"><input
      type="checkbox" class="bn" aria-label="batch norm in layer ${index}"> BN</label>
    <button type="button" class="remove" title="remove this layer"
      aria-label="remove layer ${index}">✕</button>`;
  const select = row.querySelector(".act");
  for (const a of state.options.activations) option(select, a);
  row.querySelector(".units").value = units;
  row.querySelector(".bn").checked = bn === true || bn === "true";
  setSelect(select, act);
  $("layers").append(row);
  return row;
}

function setLayers(layers, acts, bns = []) {
  $("layers").replaceChildren();
  layers.forEach((n, i) => addLayerRow(n, acts[i] ?? acts[0] ?? "tanh", bns[i] ?? false));
}

function renumberLayers() {
  [...$("layers").children].forEach((row, i) => {
    row.querySelector(".layer-name").textContent = `layer ${i + 1}`;
    for (const [cls, what] of [["minus", "one unit less in"], ["plus", "one unit more in"],
      ["units", "units of"], ["act", "activation of"], ["bn", "batch norm in"],
      ["remove", "remove"]]) {
      row.querySelector(`.${cls}`).setAttribute("aria-label", `${what} layer ${i + 1}`);
    }
  });
}

/** The form as the server reads it (strings are fine: the server parses and checks them). */
function collect() {
  const s = {};
  for (const el of document.querySelectorAll("[data-setting]")) s[el.dataset.setting] = el.value;
  s.features = [...document.querySelectorAll("#features input:checked")].map((e) => e.value);
  const rows = [...document.querySelectorAll("#layers .layer")];
  s.layers = rows.map((r) => r.querySelector(".units").value);
  s.activations = rows.map((r) => r.querySelector(".act").value);
  s.batch_norm = rows.map((r) => r.querySelector(".bn").checked);
  const mode = $("batch-mode").value;
  s.batch_size = mode === "full" ? "full" : mode === "sgd" ? "1" : $("batch_size").value;
  return s;
}

/** Put (some) settings into the form. */
// Put settings into the form. `keepFocused`: leave the field the user is typing in alone (an
// answer that arrives between their typing and its change event must not undo what they typed).
function fill(s, keepFocused = false) {
  for (const el of document.querySelectorAll("[data-setting]")) {
    const k = el.dataset.setting;
    if (!(k in s)) continue;
    if (keepFocused && el === document.activeElement) continue;
    if (el.tagName === "SELECT") setSelect(el, s[k]);
    else el.value = s[k] ?? "";
  }
  if ("features" in s) {
    const chosen = listOf(s.features);
    for (const cb of document.querySelectorAll("#features input")) {
      cb.checked = chosen.includes(cb.value);
    }
  }
  if ("layers" in s || "activations" in s || "batch_norm" in s) {
    const layers = "layers" in s ? listOf(s.layers) : collect().layers;
    let acts = "activations" in s ? listOf(s.activations) : collect().activations;
    if (acts.length === 1) acts = layers.map(() => acts[0]);
    let bns = "batch_norm" in s ? listOf(s.batch_norm) : collect().batch_norm.map(String);
    if (bns.length === 1) bns = layers.map(() => bns[0]);
    setLayers(layers, acts, bns);
  }
  if ("batch_size" in s) {
    const b = String(s.batch_size);
    const mode = b === "full" ? "full" : b === "1" ? "sgd" : "mini";
    $("batch-mode").value = mode;
    if (mode === "mini") $("batch_size").value = b;
  }
  updateVisibility();
}

function datasetInfo(name) {
  return state.options.datasets.find((d) => d.name === name);
}

function updateVisibility() {
  const ds = datasetInfo($("dataset").value);
  $("noise").disabled = !ds || ds.noise === null;
  $("n_points").disabled = !ds || !ds.points;
  $("test_fraction").disabled = $("dataset").value === "football";
  $("csv-box").hidden = $("dataset").value !== "csv";
  const regression = $("problem").value === "regression";
  $("classes-box").hidden = regression;
  for (const item of $("dataset").options) {
    // each problem type offers its own data sets (more than two classes: blobs and spiral)
    const forRegression = state.options.regression_sets.includes(item.value);
    const many = Number($("classes").value) > 2;
    item.hidden = regression !== forRegression ||
      (!regression && many && !state.options.multiclass_sets.includes(item.value));
  }
  $("loss-name").textContent = regression ? "Loss: mean squared error" : "Loss: cross-entropy";
  const curve = state.options.curve_sets.includes($("dataset").value);
  for (const cb of document.querySelectorAll("#features input")) {
    cb.disabled = curve && !state.options.x1_features.includes(cb.value);
  }
  const notes = {
    flower: "The course's flower: its noise is fixed.",
    football: "The course's football file (data.mat): its own train / test split.",
    csv: "Your points: three columns x1, x2, label (2 to 5 classes).",
    sine: "y against x1 alone: the network's prediction is the dark curve.",
    step: "y against x1 alone: the network's prediction is the dark curve.",
    abs: "y against x1 alone: the network's prediction is the dark curve.",
    cubic: "y against x1 alone: the network's prediction is the dark curve.",
  };
  $("data-note").textContent = notes[$("dataset").value] ?? "";
  $("init-scale-box").hidden = $("init").value !== "random";
  const opt = $("optimizer").value;
  for (const el of document.querySelectorAll("label.opt")) el.hidden = !el.classList.contains(opt);
  $("batch-size-box").hidden = $("batch-mode").value !== "mini";
  const n = document.querySelectorAll("#layers .layer").length;
  $("network-summary").textContent = `${n} hidden layer${n === 1 ? "" : "s"}`;
  updateGradcheckButton();
}

function updateGradcheckButton() {
  const dropout = Boolean(state.ready && state.ready.dropout);
  const button = $("gradcheck");
  button.disabled = dropout || !state.connected;
  const reason = dropout
    ? "Gradient checking is off while dropout is on (keep_prob < 1): every forward pass draws " +
      "a new random mask, so J(θ+ε) and J(θ−ε) would be different functions and the finite " +
      "differences would not measure the gradient. Set keep_prob to 1 to check."
    : "";
  button.title = reason || "Compare backprop with finite differences";
  $("gradcheck-reason").textContent = reason;
  $("gradcheck-reason").hidden = !reason;
}

// -- the URL --------------------------------------------------------------------------------------

function toQuery(settings, compare) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(settings)) {
    q.set(k, Array.isArray(v) ? v.join(",") : String(v ?? ""));
  }
  if (compare.length) q.set("compare", JSON.stringify(compare));
  q.set("speed", state.speed === null ? "max" : String(state.speed));
  return q.toString();
}

function fromQuery(search) {
  const q = new URLSearchParams(search);
  const s = {};
  for (const k of Object.keys(state.options.defaults)) if (q.has(k)) s[k] = q.get(k);
  if (q.has("speed")) {
    const v = q.get("speed");
    const i = state.options.speeds.findIndex((x) => (x === null ? "max" : String(x)) === v);
    if (i >= 0) setSpeedIndex(i);
  }
  let compare = [];
  if (q.has("compare")) {
    try {
      compare = JSON.parse(q.get("compare"));
      if (!Array.isArray(compare)) throw new Error("not a list");
    } catch (e) {
      showMessage(`The link's compare value is not a JSON list of settings (${e.message}).`);
      compare = [];
    }
  }
  return { settings: s, compare };
}

// -- the server -----------------------------------------------------------------------------------

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

// Each configure is answered by one "ready" (or an "error"). While later ones are still on their
// way, an answer is stale: it must not refill the form (that would undo what the user has typed
// since) nor rewrite the URL; the answer to the latest one does both.
function configure() {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  state.pendingConfigures = (state.pendingConfigures || 0) + 1;
  send({ type: "configure", settings: collect(), compare: state.compare.length >= 2 ? state.compare : null,
    model: state.model });
}

// The keys whose values differ between the form and the settings the server holds.
function changedKeys(form, held) {
  const norm = (v) => {
    if (Array.isArray(v)) return v.map(String).join(",");
    const text = String(v ?? "").trim();
    return text !== "" && Number.isFinite(Number(text)) ? String(Number(text)) : text;
  };
  return Object.keys(form).filter((k) => norm(form[k]) !== norm(held[k]));
}

// A change in the form: learning settings go to the running network (kept, marked on the
// curves); anything else (data, network, initialization) starts again from epoch 0.
function apply() {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  const form = collect();
  const live = new Set(state.options.live);
  const keys = state.settings ? changedKeys(form, state.settings) : ["dataset"];
  const comparing = state.compare.length >= 2 || (state.ready && state.ready.comparing);
  if (!comparing && state.ready && keys.every((k) => live.has(k))) {
    state.pendingConfigures = (state.pendingConfigures || 0) + 1;
    send({ type: "change", settings: form });
    return;
  }
  // a loaded model's weights stay only while its network does
  const network = ["features", "layers", "activations", "problem", "classes", "init", "init_scale"];
  if (state.model && keys.some((k) => network.includes(k))) state.model = null;
  const epoch = state.runs[0] && state.runs[0].last ? state.runs[0].last.epoch : 0;
  if (epoch > 0) {
    const names = keys.filter((k) => !live.has(k)).map((k) => state.options.labels[k] ?? k);
    state.resetNote = `Started again from epoch 0: ${names.join(", ") || "the setup"} changed ` +
      `(the network was at epoch ${epoch}).`;
  }
  configure();
}

function answerConfigure() {
  if (state.pendingConfigures > 0) state.pendingConfigures -= 1;
  return state.pendingConfigures === 0;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(`${scheme}${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => {
    state.connected = true;
    $("connection").textContent = "connected";
    configure();
  };
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    const handler = handlers[msg.type];
    if (handler) handler(msg);
    state.messages += 1;
  };
  ws.onclose = (event) => {
    state.connected = false;
    state.playing = false;
    $("connection").textContent = "disconnected";
    setPlaying(false);
    updateGradcheckButton();
    if (event.code !== 1013) {
      showMessage("The connection to the server closed. Reload the page to go on " +
        "(the link keeps your settings).");
    }
  };
}

function setPlaying(playing) {
  state.playing = playing;
  $("play-text").textContent = playing ? "Pause" : "Play";
  // (an SVG element has no `hidden` property: the attribute hides it, through the CSS)
  $("play").querySelector(".icon-play").toggleAttribute("hidden", playing);
  $("play").querySelector(".icon-pause").toggleAttribute("hidden", !playing);
  $("play").classList.toggle("playing", playing);
}

const handlers = {
  hello(msg) {
    state.session = msg.session;
  },
  ready(msg) {
    const latest = answerConfigure();
    state.ready = msg;
    state.settings = msg.settings;
    state.runs = msg.runs.map((r) => ({ ...r, rows: [], last: null }));
    if (latest) {
      fill(msg.settings, true);
      markInvalid(null);
      clearMessage();
      if (state.resetNote) showMessage(state.resetNote, "info");
      state.resetNote = "";
      updateUrl();
    }
    $("step-info").textContent = "";
    $("gradcheck-panel").hidden = true;
    state.model = msg.model ? msg.model.id : null;
    $("model-info").hidden = !msg.model;
    $("model-info").textContent = msg.model
      ? `Started from ${msg.model.name}` +
        (msg.model.epoch !== null ? ` (trained ${msg.model.epoch} epochs before)` : "") +
        (msg.model.notes.length ? `; ${msg.model.notes.join("; ")}` : "") +
        ". Changing the network starts afresh from the seed." : "";
    closeWeightEditor();
    state.unit = null; // a new network: no unit shown until one is hovered
    state.pinned = false;
    $("unit-view").hidden = true;
    delete $("unit-weights").dataset.key;
    setupViews();
    handlers.snapshot(msg.snapshot);
    updateVisibility();
  },
  snapshot(msg) {
    msg.runs.forEach((r, i) => {
      const run = state.runs[i];
      if (!run) return;
      if (r.reset) run.rows = r.rows.slice();
      else run.rows.push(...r.rows);
      run.marks = r.marks || [];
      run.last = r;
    });
    if (msg.step) showStep(msg.step);
    if (msg.edited) {
      $("step-info").textContent = `Set ${msg.edited}: the network trains on from it`;
    }
    draw();
    for (const e of msg.events) {
      showMessage(e.label ? `${e.label}: ${e.message}` : e.message,
        e.kind === "diverged" ? "error" : "warning");
    }
  },
  changed(msg) {
    const latest = answerConfigure();
    state.settings = msg.settings;
    if (state.ready) {
      state.ready.settings = msg.settings;
      state.ready.dropout = Number(msg.settings.keep_prob) < 1 && msg.settings.layers.length > 0;
    }
    if (state.runs[0]) state.runs[0].marks = msg.marks;
    if (latest) {
      fill(msg.settings, true);
      markInvalid(null);
      clearMessage();
      updateUrl();
    }
    updateVisibility();
    draw();
  },
  state(msg) {
    setPlaying(msg.playing);
    if (!msg.reason) return;
    const el = $("message");
    if (!el.hidden && el.dataset.kind === "error") el.textContent += `\n${msg.reason}`;
    else showMessage(msg.reason, "warning");
  },
  error(msg) {
    if (msg.field !== undefined) answerConfigure();
    if (msg.field === "model") state.model = null; // (the next setup starts from the seed)
    showMessage(msg.message, "error");
    markInvalid(msg.field);
  },
  gradcheck(msg) {
    const panel = $("gradcheck-panel");
    panel.hidden = false;
    const who = msg.label ? `${msg.label}, ` : "";
    const atKink = msg.at_kink || [];
    const inconclusive = msg.verdict === "inconclusive";
    $("gradcheck-summary").textContent = (msg.passed
      ? `Passed: relative difference ${msg.difference.toExponential(2)} ≤ ${msg.threshold}: ` +
        "backpropagation agrees with finite differences"
      : inconclusive
      ? `Inconclusive at a kink: the disagreement (in ${atKink.join(", ")}) is only in ` +
        `entries whose ±ε steps move a relu's Z across 0 (${msg.kinks}; counting from 0), ` +
        "where finite differences do not measure the derivative. Every other entry agrees: " +
        "no mistake found"
      : `FAILED: relative difference ${msg.difference.toExponential(2)} > ${msg.threshold}; ` +
        `parameters off: ${msg.failing.join(", ")}`) +
      ` (${who}epoch ${msg.epoch}, ${msg.parameters} parameters, ${msg.examples} examples).`;
    $("gradcheck-summary").className = msg.passed ? "passed" : inconclusive ? "inconclusive"
      : "failed";
    const rows = Object.entries(msg.per_parameter).map(([k, d]) =>
      `<tr><td>${k}</td><td>${d.toExponential(2)}</td>` +
      `<td>${d <= msg.threshold ? "ok" : atKink.includes(k) ? "at a kink" : "WRONG"}</td></tr>`);
    $("gradcheck-table").innerHTML =
      "<tr><th>parameter</th><th>relative difference</th><th></th></tr>" + rows.join("");
  },
};

function updateUrl() {
  if (!state.settings) return;
  history.replaceState(null, "", `?${toQuery(state.settings, state.compare)}`);
  $("share-url").value = location.href;
}

function speedText(v) {
  return v === null ? "as fast as possible" : `${v} epoch${v === 1 ? "" : "s"}/s`;
}

function setSpeedIndex(i) {
  const speeds = state.options.speeds;
  const index = Math.max(0, Math.min(speeds.length - 1, i));
  $("speed").max = String(speeds.length - 1);
  $("speed").value = String(index);
  state.speed = speeds[index];
  $("speed-text").textContent = speedText(state.speed);
  $("speed").setAttribute("aria-valuetext", speedText(state.speed));
}

function showStep(step) {
  const cost = `training cost ${fmt(step.loss_before)} → ${fmt(step.loss_after)}`;
  $("step-info").textContent = step.unit === "batch"
    ? `Step: mini-batch ${step.batch + 1} of ${step.batches} in epoch ${step.epoch_before} ` +
      `(update ${step.steps_after}), ${cost}`
    : `Step: epoch ${step.epoch_before} → ${step.epoch_after} (${step.steps_after - step.steps_before} ` +
      `update${step.steps_after - step.steps_before === 1 ? "" : "s"}), ${cost}`;
}

// -- drawing --------------------------------------------------------------------------------------

function fmt(x, digits = 4) {
  if (x === null || x === undefined) return "–";
  return Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(digits);
}

function setupViews() {
  const comparing = state.ready.comparing;
  $("compare-view").hidden = !comparing;
  // while comparing, the runs are drawn in the Compare panel; the single-run views rest
  for (const el of document.querySelectorAll("#output-panel canvas, #output-panel table, #network")) {
    el.classList.toggle("dimmed", comparing);
  }
  $("comparing-note").hidden = !comparing;
  const sid = state.session;
  $("export-config").href = `/api/sessions/${sid}/config.toml?run=0`;
  $("export-model").href = `/api/sessions/${sid}/model.npz?run=0`;
  const grid = $("compare-grid");
  grid.replaceChildren();
  if (!comparing) return;
  state.runs.forEach((run, i) => {
    const card = document.createElement("div");
    card.className = "compare-card";
    card.innerHTML = `<h3></h3>
      <canvas width="220" height="220" class="compare-boundary"></canvas>
      <p class="compare-metrics"></p>
      <p class="compare-links"><a download href="/api/sessions/${sid}/config.toml?run=${i}">TOML</a>
      · <a download href="/api/sessions/${sid}/model.npz?run=${i}">model</a></p>`;
    card.querySelector("h3").textContent = run.label;
    card.querySelector("h3").style.color = RUN_COLORS[i];
    grid.append(card);
  });
  renderCompareList();
}

// How to colour a run's output: two classes, K classes (softmax) or values (regression).
function boundaryView(r) {
  const ready = state.ready;
  return { output: ready.output, valueScale: ready.value_scale,
    probs: r.probs ? r.probs.map(bytes) : null, curve: r.curve || null, curveX: ready.curve_x };
}

function draw() {
  const ready = state.ready;
  if (!ready || !state.runs.length || !state.runs[0].last) return;
  const first = state.runs[0].last;
  $("epoch").textContent = String(first.epoch);
  $("lr-now").textContent = fmt(first.lr, 5);
  const showTest = $("show-test").checked;
  if (ready.comparing) {
    const cards = [...document.querySelectorAll(".compare-card")];
    state.runs.forEach((run, i) => {
      const r = run.last;
      if (!r || !cards[i]) return;
      drawBoundary(cards[i].querySelector("canvas"), bytes(r.boundary), ready.grid, ready.data,
        showTest, boundaryView(r));
      const m = r.metrics;
      cards[i].querySelector(".compare-metrics").textContent =
        `epoch ${r.epoch} · test loss ${fmt(m.test_loss)} · test acc ${fmt(m.test_accuracy, 3)}` +
        (r.diverged ? " · diverged" : "");
    });
    const lossSeries = [];
    const accSeries = [];
    state.runs.forEach((run, i) => {
      const c = RUN_COLORS[i];
      lossSeries.push({ rows: run.rows, column: 1, color: c, label: `${run.label} train` });
      lossSeries.push({ rows: run.rows, column: 2, color: c, dash: true, label: `${run.label} test` });
      accSeries.push({ rows: run.rows, column: 4, color: c, dash: true, label: `${run.label} test` });
    });
    drawCurves($("compare-loss"), lossSeries, { title: "loss (solid: train, dashed: test)",
      log: $("log-scale").checked });
    drawCurves($("compare-acc"), accSeries, { title: "test accuracy", yMax: 1 });
    return;
  }
  const run = state.runs[0];
  const boundary = bytes(first.boundary);
  drawBoundary($("boundary"), boundary, ready.grid, ready.data, showTest, boundaryView(first));
  const m = first.metrics;
  $("train-loss").textContent = fmt(m.train_loss);
  $("test-loss").textContent = fmt(m.test_loss);
  $("train-acc").textContent = fmt(m.train_accuracy, 3);
  $("test-acc").textContent = fmt(m.test_accuracy, 3);
  const marks = run.marks || [];
  drawCurves($("loss-curves"), [
    { rows: run.rows, column: 1, color: RUN_COLORS[0], label: "train" },
    { rows: run.rows, column: 2, color: RUN_COLORS[1], dash: true, label: "test" },
  ], { title: "loss", log: $("log-scale").checked, marks, epoch: first.epoch });
  drawCurves($("acc-curves"), [
    { rows: run.rows, column: 3, color: RUN_COLORS[0], label: "train" },
    { rows: run.rows, column: 4, color: RUN_COLORS[1], dash: true, label: "test" },
  ], { title: "accuracy", yMax: 1, marks, epoch: first.epoch });
  const labels = state.options.features;
  const featureLabel = (name) => (labels.find((f) => f.name === name) || { label: name }).label;
  const dims = run.layer_dims;
  const pictures = [run.features.map((name) => ({
    grid: bytes(ready.feature_grids[name].data), n: ready.unit_grid, caption: featureLabel(name),
  }))];
  for (const layer of first.units || []) {
    pictures.push(layer.map((u) => ({ grid: bytes(u.data), n: ready.unit_grid })));
  }
  // K outputs (softmax): each unit's picture is its class's probability over the plane
  pictures.push(ready.output === "softmax"
    ? (first.probs || []).map((p) => ({ grid: bytes(p), n: ready.grid }))
    : [{ grid: boundary, n: ready.grid }]);
  const columnLabels = dims.map((_, c) =>
    c === 0 ? "input" : c === dims.length - 1 ? "output" : `layer ${c}`);
  state.pictures = pictures;
  state.layout = drawNetwork($("network"), { dims, labels: columnLabels, pictures,
    weights: first.weights, n: ready.unit_grid, selected: state.editing });
  if (state.unit) showUnit(state.unit);
}

// -- the network's units and weights: hover a unit, click a weight line --------------------------

function columnName(c) {
  const dims = state.runs[0].layer_dims;
  return c === 0 ? "input" : c === dims.length - 1 ? "output" : `layer ${c}`;
}

function sourceName(c, i) {
  if (c > 0) return `${columnName(c)} unit ${i + 1}`;
  const name = state.runs[0].features[i];
  const f = state.options.features.find((x) => x.name === name);
  return f ? f.label : name;
}

/** The unit (column c, unit j) drawn large with its incoming weights and bias. */
function showUnit(unit) {
  const first = state.runs[0] && state.runs[0].last;
  const pictures = state.pictures;
  if (!first || !pictures || !state.ready || state.ready.comparing) return;
  const { column: c, unit: j } = unit;
  const pic = pictures[c] && pictures[c][j];
  state.unit = unit;
  $("unit-view").hidden = false;
  const canvas = $("unit-large");
  fitCanvas(canvas);
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (pic) drawGrid(ctx, pic.grid, pic.n, 0, 0, canvas.width, canvas.height);
  const title = c === 0 ? `Input ${sourceName(0, j)}` : `${columnName(c)}, unit ${j + 1}`;
  $("unit-title").textContent = title[0].toUpperCase() + title.slice(1);
  // [name, value, index of the weight (editable) or null]
  const rows = [];
  if (c > 0 && first.weights && first.weights[c - 1] && first.weights[c - 1].W[j]) {
    const { W, b, gamma } = first.weights[c - 1];
    W[j].forEach((w, i) => rows.push([`w from ${sourceName(c - 1, i)}`, w, i]));
    if (gamma) {  // batch norm: a scale γ and a shift β instead of b
      rows.push(["batch norm γ", gamma[j], null], ["batch norm β", b[j], null]);
    } else rows.push(["bias b", b[j], null]);
  }
  const table = $("unit-weights");
  const key = `${c},${j},${rows.map((r) => r[0]).join(";")}`;
  if (table.dataset.key !== key) {  // a new unit: new rows (else only the numbers change, so
    table.dataset.key = key;        // that a focused "edit" button keeps its focus)
    table.replaceChildren(...rows.map(([name, , i]) => {
      const tr = document.createElement("tr");
      tr.innerHTML = "<th></th><td></td><td></td>";
      tr.querySelector("th").textContent = name;
      if (i !== null) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "edit-weight";
        button.textContent = "edit";
        button.setAttribute("aria-label", `edit the weight ${name} (W${c}[${j},${i}])`);
        button.onclick = () => {
          const W = state.runs[0].last.weights[c - 1].W;
          openWeightEditor({ layer: c, row: j, column: i, value: W[j][i] });
        };
        tr.lastElementChild.append(button);
      }
      return tr;
    }));
  }
  [...table.rows].forEach((tr, k) => { tr.cells[1].textContent = rows[k][1].toFixed(3); });
  table.setAttribute("aria-label", `Incoming weights of ${title}`);
}

/** The arrow keys on the network picture: move between units (left / right: layers, up /
 * down: units), each shown large with its incoming weights, whose "edit" buttons edit them. */
function moveUnit(event) {
  const dims = state.runs[0] && state.runs[0].layer_dims;
  const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  if (!dims || !(event.key in moves)) return;
  event.preventDefault();
  const [dc, dj] = moves[event.key];
  const now = state.unit || { column: 0, unit: 0 };
  const column = Math.max(0, Math.min(dims.length - 1, now.column + (state.unit ? dc : 0)));
  const unit = Math.max(0, Math.min(dims[column] - 1, (column === now.column ? now.unit : 0) +
    (state.unit ? dj : 0)));
  state.pinned = true;
  showUnit({ column, unit });
}

function networkPoint(event) {
  const canvas = $("network");
  const sx = canvas.width / (canvas.clientWidth || canvas.width);
  const sy = canvas.height / (canvas.clientHeight || canvas.height);
  return [event.offsetX * sx, event.offsetY * sy];
}

function openWeightEditor(line) {
  state.editing = { layer: line.layer, row: line.row, column: line.column, value: line.value };
  $("weight-name").textContent = `W${line.layer}[${line.row},${line.column}] ` +
    `(${sourceName(line.layer - 1, line.column)} → ${columnName(line.layer)} unit ${line.row + 1})`;
  $("weight-value").value = String(line.value);
  $("weight-editor").hidden = false;
  $("weight-value").focus();
  $("weight-value").select();
  draw();
}

function closeWeightEditor() {
  state.editing = null;
  $("weight-editor").hidden = true;
}

function bindNetwork() {
  const canvas = $("network");
  canvas.addEventListener("keydown", moveUnit);
  canvas.addEventListener("mousemove", (event) => {
    if (!state.layout) return;
    const [x, y] = networkPoint(event);
    const unit = unitAt(state.layout, x, y);
    canvas.style.cursor = unit || lineAt(state.layout, x, y) ? "pointer" : "crosshair";
    if (unit && !state.pinned) showUnit(unit);
  });
  canvas.addEventListener("click", (event) => {
    if (!state.layout) return;
    const [x, y] = networkPoint(event);
    const unit = unitAt(state.layout, x, y);
    if (unit) {
      state.pinned = true;
      showUnit(unit);
      return;
    }
    const line = lineAt(state.layout, x, y);
    if (line) openWeightEditor(line);
  });
  $("weight-editor").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!state.editing) return;
    const { layer, row, column } = state.editing;
    send({ type: "weight", layer, row, column, value: Number($("weight-value").value) });
    closeWeightEditor();
    $("network").focus();
  });
  $("weight-cancel").onclick = () => {
    closeWeightEditor();
    draw();
    $("network").focus();
  };
}

// -- files: load a saved model, export the run as Python -----------------------------------------

async function loadModel(file) {
  const body = await file.arrayBuffer();
  const response = await fetch(`/api/model?name=${encodeURIComponent(file.name)}`, {
    method: "POST", body, headers: { "Content-Type": "application/octet-stream" },
  });
  const answer = await response.json();
  $("model-file").value = "";
  if (!response.ok) {
    showMessage(answer.error.message);
    markInvalid("model");
    return;
  }
  const s = answer.settings;
  fill({ problem: s.problem, classes: s.classes });
  if (!("dataset" in s)) fitDataset();
  fill(s);
  if (s.dataset) {
    const ds = datasetInfo(s.dataset);
    if (ds && ds.noise !== null && !("noise" in s)) $("noise").value = ds.noise;
  }
  state.model = answer.id;
  state.resetNote = "";
  configure();
}

async function exportPython() {
  const response = await fetch(`/api/sessions/${state.session}/run.py?run=0`);
  if (!response.ok) {
    const answer = await response.json();
    showMessage(answer.error.message);
    return;
  }
  const text = await response.text();
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = disposition.match(/filename="([^"]+)"/);
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "text/x-python" }));
  a.download = match ? match[1] : "nnlab-run.py";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// -- comparisons ----------------------------------------------------------------------------------

const MODEL_KEYS = [
  "features", "layers", "activations", "batch_norm", "init", "init_scale", "l2", "l1", "keep_prob",
  "optimizer", "lr", "beta", "beta1", "beta2", "epsilon", "decay", "batch_size",
];

function describeVariant(v) {
  return Object.entries(v)
    .filter(([k]) => k !== "label")
    .map(([k, val]) => `${k}=${Array.isArray(val) ? val.join(",") : val}`)
    .join(" ");
}

function renderCompareList() {
  const list = $("compare-list");
  list.replaceChildren();
  state.compare.forEach((v, i) => {
    const li = document.createElement("li");
    li.innerHTML = `<strong></strong> <span class="note"></span>
      <button type="button" class="remove-variant" title="remove"
        aria-label="remove this compared setting">✕</button>`;
    li.querySelector("strong").textContent = v.label ?? "ABCD"[i];
    li.querySelector("span").textContent = describeVariant(v);
    li.querySelector("button").onclick = () => {
      state.compare.splice(i, 1);
      renderCompareList();
      if (state.compare.length !== 1) configure();
    };
    list.append(li);
  });
  if (state.compare.length === 1) {
    const li = document.createElement("li");
    li.className = "note";
    li.textContent = "Add one more setting to compare.";
    list.append(li);
  }
}

function applyPreset(name) {
  const preset = state.options.presets[name];
  fill(preset.base);
  state.compare = preset.variants.map((v) => ({ ...v }));
  renderCompareList();
  configure();
}

function addVariant() {
  if (state.compare.length >= 4) {
    showMessage("A comparison runs at most 4 settings: remove one first.");
    return;
  }
  const s = collect();
  const v = { label: $("compare-label").value.trim() || "ABCD"[state.compare.length] };
  for (const k of MODEL_KEYS) v[k] = s[k];
  state.compare.push(v);
  $("compare-label").value = "";
  renderCompareList();
  if (state.compare.length >= 2) configure();
}

// -- start ----------------------------------------------------------------------------------------

async function uploadCsv(file) {
  const text = await file.text();
  const response = await fetch(`/api/upload?name=${encodeURIComponent(file.name)}`, {
    method: "POST", body: text, headers: { "Content-Type": "text/csv" },
  });
  const answer = await response.json();
  if (!response.ok) {
    showMessage(answer.error.message);
    markInvalid("upload");
    return;
  }
  $("upload").value = answer.id;
  setSelect($("problem"), "classification");
  $("classes").value = String(answer.classes.length);
  setSelect($("dataset"), "csv");
  const colours = ["orange", "blue", "green", "purple", "red"];
  const named = answer.classes.map((c, k) => `${c} (${k}, ${colours[k]})`);
  $("csv-info").textContent = `${answer.name}: ${answer.n_points} points, classes ` +
    (named.length === 2 ? named.join(" and ") : named.join(", "));
  updateVisibility();
  apply();
}

/** A data set of the chosen problem type (and number of classes), the first when the one chosen
 * is not. */
function fitDataset() {
  const regression = $("problem").value === "regression";
  const sets = regression ? state.options.regression_sets
    : Number($("classes").value) > 2 ? state.options.multiclass_sets
      : state.options.datasets.map((d) => d.name)
        .filter((name) => !state.options.regression_sets.includes(name));
  if (!sets.includes($("dataset").value)) {
    setSelect($("dataset"), sets[0]);
    const ds = datasetInfo(sets[0]);
    if (ds && ds.noise !== null) $("noise").value = ds.noise;
  }
}

/** A 1-D set (y against x1) takes features of x1 only; back on a 2-D set x2 comes back. */
function fitFeatures(previous) {
  const curves = state.options.curve_sets;
  const x1 = state.options.x1_features;
  const boxes = [...document.querySelectorAll("#features input")];
  if (curves.includes($("dataset").value)) {
    for (const cb of boxes) if (!x1.includes(cb.value)) cb.checked = false;
    if (!boxes.some((cb) => cb.checked)) boxes.find((cb) => cb.value === "x1").checked = true;
  } else if (curves.includes(previous)) {
    const x2 = boxes.find((cb) => cb.value === "x2");
    if (x2) x2.checked = true;
  }
}

function bind() {
  const form = [$("data-panel"), $("network-panel"), $("training-panel")];
  for (const panel of form) {
    panel.addEventListener("change", (event) => {
      const target = event.target;
      if (target.id === "csv-file" || target.closest("#weight-editor")) return;
      if (target.id === "batch-mode" && target.value === "mini" && !$("batch_size").value) {
        $("batch_size").value = "64";
      }
      const before = $("dataset").value;
      if (target.id === "problem" || target.id === "classes") fitDataset();
      if (target.id === "problem" || target.id === "classes" || target.id === "dataset") {
        fitFeatures(state.settings ? state.settings.dataset : before);
      }
      if (target.id === "dataset") {
        const ds = datasetInfo(target.value);
        if (ds && ds.noise !== null) $("noise").value = ds.noise;
        updateVisibility();
        if (target.value === "csv" && !$("upload").value) {
          showMessage("Choose a CSV file: three columns x1, x2, label.", "info");
          return;
        }
      }
      updateVisibility();
      apply();
    });
    // say it before it happens: a change here starts again from epoch 0
    panel.addEventListener("focusin", (event) => {
      const target = event.target;
      // a weight, the network's picture, a unit's view: the running network's, no reset
      if (target.closest("#weight-editor, #network, #unit-view")) return;
      const resets = panel.id !== "training-panel" || target.id === "init" ||
        target.id === "init_scale";
      const epoch = state.runs[0] && state.runs[0].last ? state.runs[0].last.epoch : 0;
      if (resets && epoch > 0 && !(state.ready && state.ready.comparing)) {
        showMessage("Changing this starts again from epoch 0, with new weights (the learning " +
          "settings below change the running network instead).", "info");
      }
    });
  }
  $("layers").addEventListener("click", (event) => {
    const row = event.target.closest(".layer");
    if (!row) return;
    const units = row.querySelector(".units");
    if (event.target.classList.contains("remove")) row.remove();
    else if (event.target.classList.contains("plus")) units.value = Number(units.value) + 1;
    else if (event.target.classList.contains("minus")) units.value = Number(units.value) - 1;
    else return;
    renumberLayers();
    updateVisibility();
    apply();
  });
  $("add-layer").onclick = () => {
    const rows = document.querySelectorAll("#layers .layer");
    const last = rows[rows.length - 1];
    addLayerRow(last ? last.querySelector(".units").value : "4",
      last ? last.querySelector(".act").value : "tanh");
    updateVisibility();
    apply();
  };
  $("csv-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) uploadCsv(file).catch((e) => showMessage(`Upload failed: ${e.message}`));
  });
  $("play").onclick = () => send(state.playing ? { type: "pause" }
    : { type: "play", speed: state.speed });
  $("step").onclick = () => send({ type: "step",
    unit: state.settings && state.settings.batch_size !== "full" ? "batch" : "epoch" });
  $("speed").addEventListener("input", () => {
    setSpeedIndex(Number($("speed").value));
    send({ type: "speed", epochs_per_second: state.speed });
    updateUrl();
  });
  $("log-scale").onchange = draw;
  $("reset").onclick = () => send({ type: "reset" });
  $("gradcheck").onclick = () => send({ type: "gradcheck", run: 0 });
  $("show-test").onchange = draw;
  $("copy-link").onclick = async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      showMessage("Link copied: it reproduces this setup.", "info");
    } catch {
      $("share-url").select();
      showMessage("Copy the link from the box at the bottom of the page.", "info");
    }
  };
  $("compare-add").onclick = addVariant;
  $("export-python").onclick = () => exportPython()
    .catch((e) => showMessage(`Export failed: ${e.message}`));
  $("model-file").addEventListener("change", (event) => {
    const file = event.target.files[0];
    if (file) loadModel(file).catch((e) => showMessage(`Loading the model failed: ${e.message}`));
  });
  bindNetwork();
  $("compare-stop").onclick = () => {
    state.compare = [];
    renderCompareList();
    configure();
  };
  $("message").onclick = clearMessage;
}

async function start() {
  const response = await fetch("/api/options");
  state.options = await response.json();
  const o = state.options;
  for (const d of o.datasets) {
    const item = new Option(d.unavailable ? `${d.label} (file missing)` : d.label, d.name);
    if (d.unavailable) {
      item.disabled = true;
      item.title = d.unavailable;
    }
    $("dataset").add(item);
  }
  for (const p of o.problems) option($("problem"), p);
  for (const i of o.inits) option($("init"), i);
  for (const name of o.optimizers) option($("optimizer"), name);
  for (const f of o.features) {
    const label = document.createElement("label");
    label.className = "inline";
    label.innerHTML = `<input type="checkbox" value="${f.name}"> <span></span>`;
    label.querySelector("span").textContent = f.label;
    $("features").append(label);
  }
  for (const [name, preset] of Object.entries(o.presets)) {
    const b = document.createElement("button");
    b.type = "button";
    b.id = `preset-${name}`;
    b.textContent = preset.title;
    b.onclick = () => applyPreset(name);
    $("presets").append(b);
  }
  setSpeedIndex(o.speeds.indexOf(o.default_speed));
  fill(o.defaults);
  const fromUrl = fromQuery(location.search);
  fill(fromUrl.settings);
  state.compare = fromUrl.compare;
  renderCompareList();
  bind();
  connect();
}

start().catch((e) => showMessage(`The page could not start: ${e.message}`));
