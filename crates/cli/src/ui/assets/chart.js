'use strict';
// yamlett's canvas chart for M4-sampled series. The server sends at most ~4
// points per pixel column (first, last, min, max), so drawing every point is
// cheap and exact: the line passes through each column's extremes, and the
// min–max band of each column is shaded so no spike hides. NaN breaks the
// line (a gap) and is flagged; ±inf is flagged too.
(function () {
  const PAD = { left: 58, right: 12, top: 10, bottom: 26 };

  function fmtNum(v) {
    if (!isFinite(v)) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
    return String(Math.round(v * 1000) / 1000);
  }

  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    const step0 = (hi - lo) / n;
    const mag = Math.pow(10, Math.floor(Math.log10(step0)));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(t);
    return out;
  }

  // EMA as TensorBoard smooths, debiased so the start is not pulled to 0;
  // non-finite values pass through and do not poison what follows.
  function ema(values, weight) {
    if (!(weight > 0)) return values;
    let last = 0, n = 0;
    return values.map((v) => {
      if (!isFinite(v)) return v;
      last = last * weight + (1 - weight) * v;
      n++;
      return last / (1 - Math.pow(weight, n));
    });
  }

  class Chart {
    // opts: { onZoom(fromStep|null, toStep|null) }
    constructor(parent, opts) {
      this.opts = opts || {};
      this.lines = [];
      this.x = 'step';
      this.y = 'linear';
      this.smooth = 0;
      this.hover = null;
      this.drag = null;
      this.canvas = document.createElement('canvas');
      this.flag = document.createElement('div');
      this.flag.className = 'flag';
      this.tip = document.createElement('div');
      this.tip.className = 'tip';
      parent.append(this.canvas, this.flag, this.tip);
      this.canvas.addEventListener('mousemove', (e) => this.onMove(e));
      this.canvas.addEventListener('mouseleave', () => { this.hover = null; this.tip.style.display = 'none'; this.draw(); });
      this.canvas.addEventListener('mousedown', (e) => { this.drag = { x0: this.localX(e), x1: this.localX(e) }; });
      window.addEventListener('mouseup', (e) => this.onUp(e));
      this.canvas.addEventListener('dblclick', () => this.opts.onZoom && this.opts.onZoom(null, null));
    }

    // lines: [{ label, color, steps, values (numbers, NaN kept), times (ms) }]
    setData(lines) {
      this.lines = lines;
      // What the chart holds, for tests and for the curious (devtools).
      const steps = lines.flatMap((l) => (l.steps.length ? [l.steps[0], l.steps[l.steps.length - 1]] : []));
      this.canvas.dataset.lines = String(lines.length);
      this.canvas.dataset.first = steps.length ? String(Math.min(...steps)) : '';
      this.canvas.dataset.last = steps.length ? String(Math.max(...steps)) : '';
      this.draw();
    }
    setMode(x, y, smooth) { this.x = x; this.y = y; this.smooth = smooth; this.draw(); }
    // Columns worth asking the server for: one per device pixel of plot width.
    columns() { return Math.max(50, Math.round((this.canvas.clientWidth || 600) - PAD.left - PAD.right)); }

    localX(e) { return e.clientX - this.canvas.getBoundingClientRect().left; }

    xsOf(line) {
      return this.x === 'time' && line.times && line.times.length === line.steps.length ? line.times : line.steps;
    }

    // The data box of what is drawn, in data units (y after the log transform).
    domain() {
      let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
      for (const line of this.lines) {
        const xs = this.xsOf(line);
        for (let i = 0; i < xs.length; i++) {
          const y = this.ty(line.values[i]);
          if (xs[i] < x0) x0 = xs[i];
          if (xs[i] > x1) x1 = xs[i];
          if (isFinite(y)) { if (y < y0) y0 = y; if (y > y1) y1 = y; }
        }
      }
      if (!(x1 > x0)) { x0 = (isFinite(x0) ? x0 : 0) - 1; x1 = x0 + 2; }
      if (!(y1 > y0)) { const c = isFinite(y0) ? y0 : 0; y0 = c - 1; y1 = c + 1; }
      const m = (y1 - y0) * 0.05;
      return { x0, x1, y0: y0 - m, y1: y1 + m };
    }

    ty(v) { return this.y === 'log' ? (v > 0 ? Math.log10(v) : NaN) : v; }

    draw() {
      const c = this.canvas, dpr = window.devicePixelRatio || 1;
      const w = c.clientWidth || 600, h = c.clientHeight || 240;
      if (c.width !== Math.round(w * dpr)) c.width = Math.round(w * dpr);
      if (c.height !== Math.round(h * dpr)) c.height = Math.round(h * dpr);
      const g = c.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      const d = this.domain();
      this.view = d;
      const pw = w - PAD.left - PAD.right, ph = h - PAD.top - PAD.bottom;
      const sx = (x) => PAD.left + ((x - d.x0) / (d.x1 - d.x0)) * pw;
      const sy = (y) => PAD.top + (1 - (y - d.y0) / (d.y1 - d.y0)) * ph;
      this.sx = sx;
      // Axes and grid.
      g.font = '11px system-ui, sans-serif';
      g.strokeStyle = '#e6e8ee'; g.fillStyle = '#6b7385'; g.lineWidth = 1;
      g.textAlign = 'right'; g.textBaseline = 'middle';
      for (const t of niceTicks(d.y0, d.y1, 5)) {
        const y = Math.round(sy(t)) + 0.5;
        g.beginPath(); g.moveTo(PAD.left, y); g.lineTo(w - PAD.right, y); g.stroke();
        g.fillText(this.y === 'log' ? fmtNum(Math.pow(10, t)) : fmtNum(t), PAD.left - 6, y);
      }
      g.textAlign = 'center'; g.textBaseline = 'top';
      for (const t of niceTicks(d.x0, d.x1, 6)) {
        const x = Math.round(sx(t)) + 0.5;
        g.beginPath(); g.moveTo(x, PAD.top); g.lineTo(x, h - PAD.bottom); g.stroke();
        const label = this.x === 'time' ? new Date(t).toISOString().slice(11, 19) : fmtNum(t);
        g.fillText(label, x, h - PAD.bottom + 6);
      }
      let nan = 0, inf = 0, firstNan = null, drawn = 0;
      for (const line of this.lines) {
        const xs = this.xsOf(line);
        const raw = line.values.map((v) => this.ty(v));
        const smooth = this.smooth > 0 ? ema(line.values, this.smooth).map((v) => this.ty(v)) : null;
        // Min–max band per pixel column.
        g.fillStyle = line.color; g.globalAlpha = 0.18;
        let col = null, lo = 0, hi = 0;
        const flush = () => { if (col !== null && hi > lo) g.fillRect(col, sy(hi), 1, Math.max(1, sy(lo) - sy(hi))); };
        for (let i = 0; i < xs.length; i++) {
          const y = raw[i];
          if (!isFinite(y)) continue;
          const px = Math.floor(sx(xs[i]));
          if (px !== col) { flush(); col = px; lo = y; hi = y; } else { lo = Math.min(lo, y); hi = Math.max(hi, y); }
        }
        flush();
        g.globalAlpha = 1;
        // The line, broken at NaN (a gap), faint under its smoothed version.
        const path = (ys, alpha, width) => {
          g.globalAlpha = alpha; g.strokeStyle = line.color; g.lineWidth = width;
          g.beginPath();
          let open = false;
          for (let i = 0; i < xs.length; i++) {
            const y = ys[i];
            if (!isFinite(y)) { open = false; continue; }
            const px = sx(xs[i]), py = sy(y);
            if (open) g.lineTo(px, py); else { g.moveTo(px, py); open = true; }
            drawn++;
          }
          g.stroke(); g.globalAlpha = 1;
        };
        path(raw, smooth ? 0.3 : 1, 1.5);
        if (smooth) path(smooth, 1, 1.8);
        // NaN and ±inf markers on the top edge.
        for (let i = 0; i < xs.length; i++) {
          const v = line.values[i];
          if (isFinite(v)) continue;
          if (Number.isNaN(v)) { nan++; if (firstNan === null) firstNan = line.steps[i]; } else inf++;
          g.fillStyle = '#c62828';
          const px = sx(xs[i]);
          g.beginPath(); g.moveTo(px - 4, PAD.top); g.lineTo(px + 4, PAD.top); g.lineTo(px, PAD.top + 7); g.fill();
        }
      }
      this.canvas.dataset.drawn = String(drawn);
      const flags = [];
      if (nan) flags.push('NaN from step ' + firstNan + ' (drawn as a gap)');
      if (inf) flags.push('±inf values (marked ▼)');
      if (this.y === 'log') flags.push('log scale: values ≤ 0 not drawn');
      this.flag.textContent = flags.join(' · ');
      // Hover crosshair and drag selection.
      if (this.hover !== null) {
        g.strokeStyle = '#99a'; g.lineWidth = 1;
        g.beginPath(); g.moveTo(this.hover + 0.5, PAD.top); g.lineTo(this.hover + 0.5, h - PAD.bottom); g.stroke();
      }
      if (this.drag && Math.abs(this.drag.x1 - this.drag.x0) > 2) {
        g.fillStyle = 'rgba(47,111,222,0.15)';
        g.fillRect(Math.min(this.drag.x0, this.drag.x1), PAD.top, Math.abs(this.drag.x1 - this.drag.x0), ph);
      }
    }

    // Data x of a canvas x.
    invert(px) {
      const w = this.canvas.clientWidth || 600, d = this.view;
      return d.x0 + ((px - PAD.left) / (w - PAD.left - PAD.right)) * (d.x1 - d.x0);
    }

    nearest(line, x) {
      const xs = this.xsOf(line);
      let lo = 0, hi = xs.length - 1;
      if (hi < 0) return -1;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (xs[mid] < x) lo = mid + 1; else hi = mid; }
      if (lo > 0 && Math.abs(xs[lo - 1] - x) < Math.abs(xs[lo] - x)) lo--;
      return lo;
    }

    onMove(e) {
      const px = this.localX(e);
      if (this.drag) { this.drag.x1 = px; this.draw(); return; }
      if (!this.view) return;
      this.hover = px;
      const x = this.invert(px);
      const rows = [];
      for (const line of this.lines) {
        const i = this.nearest(line, x);
        if (i < 0) continue;
        let row = (this.lines.length > 1 ? line.label + '  ' : '') + 'step ' + line.steps[i] + '  ' + String(line.values[i]);
        if (line.times && line.times[i] !== undefined) row += '  ' + new Date(line.times[i]).toISOString();
        rows.push(row);
      }
      this.tip.textContent = rows.join('\n');
      this.tip.style.display = rows.length ? 'block' : 'none';
      this.tip.style.left = Math.min(px + 14, (this.canvas.clientWidth || 600) - 200) + 'px';
      this.tip.style.top = (e.clientY - this.canvas.getBoundingClientRect().top + 30) + 'px';
      this.draw();
    }

    onUp() {
      const drag = this.drag;
      this.drag = null;
      if (!drag) return;
      if (Math.abs(drag.x1 - drag.x0) < 5) { this.draw(); return; }
      const a = this.invert(Math.min(drag.x0, drag.x1)), b = this.invert(Math.max(drag.x0, drag.x1));
      // Zooming always asks for a step range: map a time range through the points.
      let from = a, to = b;
      if (this.x === 'time' && this.lines.length) {
        const line = this.lines[0];
        from = line.steps[this.nearest(line, a)]; to = line.steps[this.nearest(line, b)];
      }
      from = Math.floor(from); to = Math.ceil(to);
      if (to <= from) to = from + 1;
      if (this.opts.onZoom) this.opts.onZoom(from, to); else this.draw();
    }
  }

  window.YamlettChart = Chart;
})();
