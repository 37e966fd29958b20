// Canvas drawing for the nnlab playground: heatmaps, points, the network, curves.
// Plain ES module, no dependencies. Class 0 / negative values are orange, class 1 / positive blue.

export const ORANGE = [245, 147, 34];
export const BLUE = [8, 119, 189];
const WHITE = [250, 250, 250];
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

/** Draw an n × n grid of bytes (row 0 at the top) scaled to fill the rectangle. */
export function drawGrid(ctx, grid, n, x, y, w, h, light = false) {
  const img = new ImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const [r, g, b] = colour(grid[i], light);
    img.data[4 * i] = r;
    img.data[4 * i + 1] = g;
    img.data[4 * i + 2] = b;
    img.data[4 * i + 3] = 255;
  }
  const off = document.createElement("canvas");
  off.width = n;
  off.height = n;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.save();
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, x, y, w, h);
  ctx.restore();
}

/** The decision boundary: the output over the plane, then the points (test points hollow). */
export function drawBoundary(canvas, grid, n, data, showTest = true) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  if (grid) drawGrid(ctx, grid, n, 0, 0, W, H, true);
  if (!data) return;
  const [x1min, x1max, x2min, x2max] = data.box;
  const px = (x) => ((x - x1min) / (x1max - x1min)) * W;
  const py = (y) => ((x2max - y) / (x2max - x2min)) * H;
  const r = Math.max(2, Math.min(4, W / 90));
  const dot = (p, test) => {
    const c = p[2] > 0.5 ? BLUE : ORANGE;
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
  // weights
  if (weights) {
    for (let l = 1; l < columns; l++) {
      const Wl = weights[l - 1].W;
      for (let j = 0; j < dims[l]; j++) {
        for (let i = 0; i < dims[l - 1]; i++) {
          const w = Wl[j][i];
          ctx.beginPath();
          ctx.moveTo(colX(l - 1) + size, rowY(l - 1, i) + size / 2);
          ctx.lineTo(colX(l), rowY(l, j) + size / 2);
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
}

/** Curves of several runs: `series` = [{rows, column, color, dash, label}], rows being
 * [epoch, train loss, test loss, train acc, test acc]. */
export function drawCurves(canvas, series, { title = "", yMax = null, yMin = 0 } = {}) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  const H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  const left = 44;
  const right = 8;
  const top = 18;
  const bottom = 22;
  let xMax = 1;
  let hi = yMax === null ? 0 : yMax;
  for (const s of series) {
    for (const r of s.rows) {
      xMax = Math.max(xMax, r[0]);
      const v = r[s.column];
      if (yMax === null && v !== null && Number.isFinite(v)) hi = Math.max(hi, v);
    }
  }
  if (!(hi > yMin)) hi = yMin + 1;
  const X = (e) => left + ((W - left - right) * e) / xMax;
  const Y = (v) => top + (H - top - bottom) * (1 - (Math.min(v, hi) - yMin) / (hi - yMin));
  ctx.strokeStyle = "#999";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(left, top);
  ctx.lineTo(left, H - bottom);
  ctx.lineTo(W - right, H - bottom);
  ctx.stroke();
  ctx.fillStyle = "#444";
  ctx.font = "11px sans-serif";
  ctx.textAlign = "right";
  ctx.fillText(hi.toPrecision(3), left - 4, top + 4);
  ctx.fillText(String(yMin), left - 4, H - bottom);
  ctx.textAlign = "left";
  ctx.fillText(title, left + 4, 12);
  ctx.textAlign = "right";
  ctx.fillText(`epoch ${xMax}`, W - right, H - 6);
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
  // legend
  ctx.textAlign = "left";
  let y = top + 12;
  for (const s of series) {
    if (!s.label) continue;
    ctx.strokeStyle = s.color;
    ctx.setLineDash(s.dash ? [5, 4] : []);
    ctx.beginPath();
    ctx.moveTo(W - right - 150, y - 4);
    ctx.lineTo(W - right - 128, y - 4);
    ctx.stroke();
    ctx.fillStyle = "#333";
    ctx.fillText(s.label, W - right - 124, y);
    y += 14;
  }
  ctx.setLineDash([]);
}
