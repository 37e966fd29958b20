// Canvas drawing for the nnlab playground: heatmaps, points, the network, curves.
// Plain ES module, no dependencies. Class 0 / negative values are orange, class 1 / positive blue.

export const ORANGE = [245, 147, 34];
export const BLUE = [8, 119, 189];
const WHITE = [250, 250, 250];
/** The classes' colours beyond two (class 0 orange, class 1 blue, as with two classes). */
export const CLASS_COLORS = [ORANGE, BLUE, [42, 157, 63], [142, 68, 173], [214, 39, 40]];
export const RUN_COLORS = ["#0877bd", "#e8710a", "#2a9d3f", "#8e44ad"];

function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

/** Byte 0..255 (0 = orange, 128 = white, 255 = blue) → [r, g, b]; `light` fades it for
 * backgrounds so the points stay visible. */
export function colour(byte, light = false) {
  const t = byte / 255;
  let c = t < 0.5 ? mix(ORANGE, WHITE, t * 2) : mix(WHITE, BLUE, (t - 0.5) * 2);
  if (light) c = mix(c, WHITE, 0.35);
  return c;
}

/** Base64 text → Uint8Array. */
export function bytes(b64) {
  const raw = atob(b64);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** Fill the rectangle (x, y, w, h) at the canvas's own resolution, a pixel at a time:
 * `rgbAt(gx, gy)` gives the colour at the pixel's centre in the coordinates of an n × n grid
 * (0 at the first grid point's centre, row 0 at the top). */
function paint(ctx, n, x, y, w, h, rgbAt) {
  const W = Math.max(1, Math.round(w));
  const H = Math.max(1, Math.round(h));
  const img = new ImageData(W, H);
  for (let py = 0; py < H; py++) {
    const gy = ((py + 0.5) / H) * n - 0.5;
    for (let px = 0; px < W; px++) {
      const [r, g, b] = rgbAt(((px + 0.5) / W) * n - 0.5, gy);
      const k = 4 * (py * W + px);
      img.data[k] = r;
      img.data[k + 1] = g;
      img.data[k + 2] = b;
      img.data[k + 3] = 255;
    }
  }
  const off = document.createElement("canvas");
  off.width = W;
  off.height = H;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.drawImage(off, x, y, w, h);
}

/** Draw an n × n grid of bytes (row 0 at the top) over the rectangle at the canvas's own
 * resolution: each pixel's value is interpolated (bilinear, between the grid points' centres)
 * before it is coloured, so the picture is smooth however small the grid. */
export function drawGrid(ctx, grid, n, x, y, w, h, light = false) {
  const at = (i, j) => grid[Math.min(n - 1, Math.max(0, j)) * n + Math.min(n - 1, Math.max(0, i))];
  paint(ctx, n, x, y, w, h, (gx, gy) => {
    const i0 = Math.floor(gx);
    const j0 = Math.floor(gy);
    const tx = gx - i0;
    const ty = gy - j0;
    const top = at(i0, j0) * (1 - tx) + at(i0 + 1, j0) * tx;
    const bottom = at(i0, j0 + 1) * (1 - tx) + at(i0 + 1, j0 + 1) * tx;
    return colour(top * (1 - ty) + bottom * ty, light);
  });
}

/** Give a canvas as many pixels as it shows (its CSS size × the device pixel ratio). */
export function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.round((canvas.clientWidth || canvas.width) * ratio);
  const h = Math.round((canvas.clientHeight || canvas.height) * ratio);
  if (w > 0 && h > 0 && (canvas.width !== w || canvas.height !== h)) {
    canvas.width = w;
    canvas.height = h;
  }
}

/** K classes over the plane: every class's probability is interpolated (bilinear) at each
 * pixel; the pixel takes the most probable class's colour, shaded by its probability (faint at
 * 1/K, full at 1), so the borders between the classes are smooth. */
export function drawClasses(ctx, probs, n, x, y, w, h) {
  const K = probs.length;
  const clamp = (i) => Math.min(n - 1, Math.max(0, i));
  paint(ctx, n, x, y, w, h, (gx, gy) => {
    const j0 = Math.floor(gy);
    const i0 = Math.floor(gx);
    const ty = gy - j0;
    const tx = gx - i0;
    const r0 = clamp(j0) * n;
    const r1 = clamp(j0 + 1) * n;
    const c0 = clamp(i0);
    const c1 = clamp(i0 + 1);
    let best = 0;
    let prob = -1;
    for (let k = 0; k < K; k++) {
      const g = probs[k];
      const p = ((g[r0 + c0] * (1 - tx) + g[r0 + c1] * tx) * (1 - ty) +
        (g[r1 + c0] * (1 - tx) + g[r1 + c1] * tx) * ty) / 255;
      if (p > prob) {
        prob = p;
        best = k;
      }
    }
    const shade = Math.max(0, Math.min(1, (prob - 1 / K) / (1 - 1 / K)));
    return mix(WHITE, CLASS_COLORS[best % CLASS_COLORS.length], 0.2 + 0.5 * shade);
  });
}

/** The decision boundary: the output over the plane, then the points (test points hollow).
 * `view`: `{output, probs, valueScale}`: for softmax, `probs` holds each class's probability
 * grid; for identity (regression), `grid` the value on the diverging
 * scale (0 orange = -valueScale, white 0, 255 blue = +valueScale), and the points are coloured by
 * their value on the same scale. */
export function drawBoundary(canvas, grid, n, data, showTest = true, view = {}) {
  if (view.curve && data) {
    drawCurve(canvas, data, view, showTest);
    return;
  }
  fitCanvas(canvas);
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  if (view.output === "softmax" && view.probs) {
    drawClasses(ctx, view.probs, n, 0, 0, W, H);
  } else if (grid) drawGrid(ctx, grid, n, 0, 0, W, H, true);
  if (!data) return;
  const [x1min, x1max, x2min, x2max] = data.box;
  const px = (x) => ((x - x1min) / (x1max - x1min)) * W;
  const py = (y) => ((x2max - y) / (x2max - x2min)) * H;
  const r = Math.max(2, Math.min(4 * (window.devicePixelRatio || 1), W / 90));
  const pointColour = (label) => {
    if (view.output === "softmax") return CLASS_COLORS[Math.round(label) % CLASS_COLORS.length];
    if (view.output === "identity") {
      const t = Math.max(-1, Math.min(1, label / (view.valueScale || 1)));
      return colour(Math.round(((t + 1) / 2) * 255));
    }
    return label > 0.5 ? BLUE : ORANGE;
  };
  const dot = (p, test) => {
    const c = pointColour(p[2]);
    ctx.beginPath();
    ctx.arc(px(p[0]), py(p[1]), r, 0, 2 * Math.PI);
    if (test) {
      ctx.fillStyle = "white";
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = `rgb(${c})`;
    } else {
      ctx.fillStyle = `rgb(${c})`;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = "white";
    }
    ctx.stroke();
  };
  for (const p of data.train) dot(p, false);
  if (showTest) for (const p of data.test) dot(p, true);
}

/** The colour of the prediction's curve on a 1-D set. */
export const CURVE_COLOR = [34, 34, 34];

/** A 1-D set (y against x1): axes, the points at (x1, y) coloured by their value on the
 * diverging scale (test points hollow), and the network's prediction as a curve over them.
 * `view.curve` = the predictions at `view.curveX`; `data.box` = (x1 range, y range). */
function drawCurve(canvas, data, view, showTest) {
  fitCanvas(canvas);
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  const ratio = window.devicePixelRatio || 1;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  const [x1min, x1max, ymin, ymax] = data.box;
  const px = (x) => ((x - x1min) / (x1max - x1min)) * W;
  const py = (y) => ((ymax - y) / (ymax - ymin)) * H;
  // the axes: y = 0 and x1 = 0, and a light grid at the whole numbers
  ctx.lineWidth = 1;
  ctx.strokeStyle = "#eee";
  for (let x = Math.ceil(x1min); x <= x1max; x++) {
    ctx.beginPath();
    ctx.moveTo(Math.round(px(x)) + 0.5, 0);
    ctx.lineTo(Math.round(px(x)) + 0.5, H);
    ctx.stroke();
  }
  ctx.strokeStyle = "#bbb";
  ctx.beginPath();
  ctx.moveTo(0, Math.round(py(0)) + 0.5);
  ctx.lineTo(W, Math.round(py(0)) + 0.5);
  ctx.moveTo(Math.round(px(0)) + 0.5, 0);
  ctx.lineTo(Math.round(px(0)) + 0.5, H);
  ctx.stroke();
  ctx.fillStyle = "#666";
  ctx.font = `${11 * ratio}px sans-serif`;
  ctx.textAlign = "right";
  ctx.fillText("x1", W - 4 * ratio, py(0) - 4 * ratio);
  ctx.textAlign = "left";
  ctx.fillText("y", px(0) + 4 * ratio, 12 * ratio);
  const r = Math.max(2, Math.min(4 * ratio, W / 90));
  const dot = (p, test) => {
    const t = Math.max(-1, Math.min(1, p[2] / (view.valueScale || 1)));
    const c = colour(Math.round(((t + 1) / 2) * 255));
    ctx.beginPath();
    ctx.arc(px(p[0]), py(p[2]), r, 0, 2 * Math.PI);
    ctx.fillStyle = test ? "white" : `rgb(${c})`;
    ctx.fill();
    ctx.lineWidth = test ? 2 : 1;
    ctx.strokeStyle = test ? `rgb(${c})` : "white";
    ctx.stroke();
  };
  for (const p of data.train) dot(p, false);
  if (showTest) for (const p of data.test) dot(p, true);
  // the prediction, over the points
  const xs = view.curveX || [];
  ctx.beginPath();
  let started = false;
  view.curve.forEach((y, i) => {
    if (y === null || !Number.isFinite(y)) return;
    const yy = Math.max(ymin - (ymax - ymin), Math.min(ymax + (ymax - ymin), y));
    if (started) ctx.lineTo(px(xs[i]), py(yy));
    else ctx.moveTo(px(xs[i]), py(yy));
    started = true;
  });
  ctx.lineWidth = 2.5 * ratio;
  ctx.strokeStyle = `rgb(${CURVE_COLOR})`;
  ctx.stroke();
}

/** The network: inputs, hidden units and output as small pictures of their output over the plane,
 * joined by the weights (thickness ∝ |w|, blue positive, orange negative). */
export function drawNetwork(canvas, net) {
  const { dims, labels, pictures, weights, n } = net;
  const columns = dims.length;
  const widest = Math.max(...dims);
  const size = Math.max(14, Math.min(36, Math.floor(560 / widest) - 8));
  const gap = Math.max(6, Math.round(size / 3));
  const height = Math.max(widest * (size + gap) + 30, 120);
  canvas.height = height;
  const W = canvas.width;
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, W, height);
  const colX = (c) => 48 + (c * (W - 70 - size)) / Math.max(1, columns - 1);
  const rowY = (c, j) => {
    const total = dims[c] * (size + gap) - gap;
    return (height - 20 - total) / 2 + 16 + j * (size + gap);
  };
  // where each unit and each weight line is (canvas pixels), for the page's hover and clicks
  const layout = { size, units: [], lines: [] };
  // weights
  if (weights) {
    for (let l = 1; l < columns; l++) {
      const Wl = weights[l - 1].W;
      for (let j = 0; j < dims[l]; j++) {
        for (let i = 0; i < dims[l - 1]; i++) {
          const w = Wl[j][i];
          const from = [colX(l - 1) + size, rowY(l - 1, i) + size / 2];
          const to = [colX(l), rowY(l, j) + size / 2];
          layout.lines.push({ layer: l, row: j, column: i, value: w, from, to });
          ctx.beginPath();
          ctx.moveTo(...from);
          ctx.lineTo(...to);
          ctx.lineWidth = Math.min(8, 0.4 + 2.5 * Math.abs(w));
          ctx.strokeStyle = w >= 0 ? "rgba(8,119,189,0.65)" : "rgba(245,147,34,0.7)";
          ctx.stroke();
        }
      }
    }
  }
  // units
  ctx.font = "11px sans-serif";
  ctx.textAlign = "center";
  ctx.fillStyle = "#444";
  for (let c = 0; c < columns; c++) {
    ctx.fillText(labels[c], colX(c) + size / 2, 11);
    for (let j = 0; j < dims[c]; j++) {
      const x = colX(c);
      const y = rowY(c, j);
      layout.units.push({ column: c, unit: j, x, y });
      const pic = pictures[c] && pictures[c][j];
      if (pic) drawGrid(ctx, pic.grid, pic.n || n, x, y, size, size);
      else {
        ctx.fillStyle = "#eee";
        ctx.fillRect(x, y, size, size);
        ctx.fillStyle = "#444";
      }
      ctx.lineWidth = 1;
      ctx.strokeStyle = "#555";
      ctx.strokeRect(x + 0.5, y + 0.5, size - 1, size - 1);
      if (pic && pic.caption) {
        ctx.fillStyle = "#333";
        ctx.textAlign = "right";
        ctx.fillText(pic.caption, x - 3, y + size / 2 + 4);
        ctx.textAlign = "center";
      }
    }
  }
  if (net.selected) {  // the weight being edited, drawn over the others
    const line = layout.lines.find((e) => e.layer === net.selected.layer &&
      e.row === net.selected.row && e.column === net.selected.column);
    if (line) {
      ctx.beginPath();
      ctx.moveTo(...line.from);
      ctx.lineTo(...line.to);
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#111";
      ctx.setLineDash([4, 3]);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }
  return layout;
}

/** Which weight line of `layout` passes within `tolerance` pixels of (x, y), the nearest
 * (null: none). */
export function lineAt(layout, x, y, tolerance = 5) {
  let best = null;
  let bestD = tolerance;
  for (const line of layout.lines) {
    const [x0, y0] = line.from;
    const [x1, y1] = line.to;
    const dx = x1 - x0;
    const dy = y1 - y0;
    const t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy || 1)));
    const d = Math.hypot(x - (x0 + t * dx), y - (y0 + t * dy));
    if (d <= bestD) {
      bestD = d;
      best = line;
    }
  }
  return best;
}

/** Which unit of `layout` is at (x, y) (null: none). */
export function unitAt(layout, x, y) {
  return layout.units.find((u) => x >= u.x && x <= u.x + layout.size &&
    y >= u.y && y <= u.y + layout.size) || null;
}

/** Curves of several runs: `series` = [{rows, column, color, dash, label}], rows being
 * [epoch, train loss, test loss, train acc, test acc]. The title and the legend sit above the plot
 * area (never over a curve); `log` draws the values on a log scale; `marks` = [{epoch, label}]
 * are drawn as vertical lines, each labelled with its change. */
export function drawCurves(canvas, series, options = {}) {
  const { title = "", yMax = null, yMin = 0, log = false, marks = [], epoch = 0 } = options;
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  ctx.font = "11px sans-serif";
  const left = 48;
  const right = 8;
  const bottom = 22;
  // the title, then the legend's entries, left to right, wrapped: all above the plot area
  const legend = [];
  let lx = left + ctx.measureText(title).width + 16;
  let line = 0;
  for (const s of series) {
    if (!s.label) continue;
    const width = 26 + ctx.measureText(s.label).width + 14;
    if (lx + width > W - right && lx > left) {
      line += 1;
      lx = left;
    }
    legend.push({ s, x: lx, y: 12 + line * 14 });
    lx += width;
  }
  const top = 12 + line * 14 + 12;
  let xMax = Math.max(1, epoch);
  let hi = yMax === null ? 0 : yMax;
  let lo = Infinity;
  for (const s of series) {
    for (const r of s.rows) {
      xMax = Math.max(xMax, r[0]);
      const v = r[s.column];
      if (v === null || !Number.isFinite(v)) continue;
      if (yMax === null) hi = Math.max(hi, v);
      if (v > 0) lo = Math.min(lo, v);
    }
  }
  if (!(hi > yMin)) hi = yMin + 1;
  const useLog = log && Number.isFinite(lo) && hi > lo;
  const floor = useLog ? lo : yMin;
  const scale = (v) => (useLog ? Math.log10(Math.max(v, lo)) : Math.min(v, hi));
  const span = scale(hi) - scale(floor) || 1;
  const X = (e) => left + ((W - left - right) * e) / xMax;
  const Y = (v) => top + (H - top - bottom) * (1 - (scale(Math.min(v, hi)) - scale(floor)) / span);
  ctx.strokeStyle = "#999";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(left, top);
  ctx.lineTo(left, H - bottom);
  ctx.lineTo(W - right, H - bottom);
  ctx.stroke();
  ctx.fillStyle = "#444";
  ctx.textAlign = "right";
  ctx.fillText(hi.toPrecision(3), left - 4, top + 4);
  ctx.fillText(useLog ? floor.toPrecision(2) : String(yMin), left - 4, H - bottom);
  if (useLog) ctx.fillText("log", left - 4, (top + H - bottom) / 2 + 4);
  ctx.textAlign = "left";
  ctx.fillText(title, left, 12);
  ctx.textAlign = "right";
  ctx.fillText(`epoch ${xMax}`, W - right, H - 6);
  // the changes made while training
  ctx.font = "10px sans-serif";
  marks.forEach((m, i) => {
    const x = Math.round(X(m.epoch)) + 0.5;
    ctx.strokeStyle = "#8a8a8a";
    ctx.setLineDash([2, 3]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, H - bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    // the label beside its line, on the side with room, staggered so that neighbours differ
    const width = ctx.measureText(m.label).width;
    const rightSide = x + 3 + width <= W - right;
    const y = top + 10 + (i % 3) * 12;
    ctx.fillStyle = "rgba(255,255,255,0.85)";
    ctx.fillRect(rightSide ? x + 2 : x - 4 - width, y - 9, width + 3, 12);
    ctx.fillStyle = "#444";
    ctx.textAlign = rightSide ? "left" : "right";
    ctx.fillText(m.label, rightSide ? x + 3 : x - 3, y);
  });
  ctx.font = "11px sans-serif";
  for (const s of series) {
    ctx.beginPath();
    let started = false;
    for (const r of s.rows) {
      const v = r[s.column];
      if (v === null || !Number.isFinite(v)) continue;
      if (!started) ctx.moveTo(X(r[0]), Y(v));
      else ctx.lineTo(X(r[0]), Y(v));
      started = true;
    }
    ctx.setLineDash(s.dash ? [5, 4] : []);
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.8;
    ctx.stroke();
  }
  ctx.setLineDash([]);
  for (const { s, x, y } of legend) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.8;
    ctx.setLineDash(s.dash ? [5, 4] : []);
    ctx.beginPath();
    ctx.moveTo(x, y - 4);
    ctx.lineTo(x + 22, y - 4);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#333";
    ctx.textAlign = "left";
    ctx.fillText(s.label, x + 26, y);
  }
}
