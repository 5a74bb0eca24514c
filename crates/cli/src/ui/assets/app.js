'use strict';
// yamlett's dashboard: one page, one view per URL. Run content reaches the
// DOM through textContent only (never parsed as HTML), so a parameter
// holding <script> or <img onerror=…> is shown as text.
(function () {
  const view = document.getElementById('view');
  const crumbs = document.getElementById('crumbs');
  const COLORS = ['#2f6fde', '#e8590c', '#2b8a3e', '#ae3ec9', '#c92a2a', '#1098ad', '#f08c00', '#5c7cfa', '#495057', '#d6336c'];
  const POLL_MS = 4000;
  window.yamlettTimings = {};
  let token = 0; // bumped on every navigation: stale answers and timers stop

  // ---- DOM helpers ---------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'value' || k === 'checked') e[k] = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  function link(href, text, cls) {
    return el('a', { href, class: cls, onclick: (e) => { if (!e.ctrlKey && !e.metaKey && e.button === 0) { e.preventDefault(); go(href); } } }, text);
  }
  function badge(status) {
    const s = ['running', 'finished', 'failed', 'dead'].includes(status) ? status : 'unknown';
    return el('span', { class: 'badge ' + s, text: status || 'unknown' });
  }
  const enc = encodeURIComponent;

  // ---- relaxed Extended JSON -------------------------------------------------
  function isWrapper(v, key) { return v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && key in v; }
  // A number from a value: plain JSON numbers and {"$numberDouble": "NaN"} alike.
  function num(v) {
    if (typeof v === 'number') return v;
    if (isWrapper(v, '$numberDouble')) return Number(v.$numberDouble);
    if (isWrapper(v, '$numberLong')) return Number(v.$numberLong);
    if (isWrapper(v, '$numberInt')) return Number(v.$numberInt);
    if (isWrapper(v, '$numberDecimal')) return Number(v.$numberDecimal);
    return null;
  }
  function dateMs(v) {
    if (!isWrapper(v, '$date')) return null;
    const d = v.$date;
    return typeof d === 'string' ? Date.parse(d) : Number(d.$numberLong);
  }
  function isScalarWrapper(v) {
    return ['$numberDouble', '$numberLong', '$numberInt', '$numberDecimal', '$date', '$oid', '$binary', '$timestamp', '$regularExpression', '$symbol', '$minKey', '$maxKey', '$undefined', '$code']
      .some((k) => isWrapper(v, k) || (k === '$binary' && v && typeof v === 'object' && '$binary' in v));
  }
  function show(v) {
    if (v === null || v === undefined) return v === null ? 'null' : '';
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    const n = num(v);
    if (n !== null) return isWrapper(v, '$numberDouble') ? v.$numberDouble : String(isWrapper(v, '$numberDecimal') ? v.$numberDecimal : n);
    const d = dateMs(v);
    if (d !== null) return isFinite(d) ? new Date(d).toISOString().replace('.000Z', 'Z') : JSON.stringify(v);
    if (isWrapper(v, '$oid')) return 'ObjectId(' + v.$oid + ')';
    return JSON.stringify(v);
  }
  function isArtifact(v) { return v && typeof v === 'object' && !Array.isArray(v) && 'codec' in v && 'sha256' in v && 'size' in v && 'location' in v; }
  function isObject(v) { return v && typeof v === 'object' && !Array.isArray(v) && !isScalarWrapper(v); }
  // Dotted leaves of a document, as the server's /api/keys names them.
  function leaves(doc, prefix, out) {
    out = out || [];
    for (const [k, v] of Object.entries(doc || {})) {
      const key = prefix ? prefix + '.' + k : k;
      if (key === '_yamlett.writers') continue;
      if (isObject(v) && Object.keys(v).length && !isArtifact(v)) leaves(v, key, out);
      else out.push([key, v]);
    }
    return out;
  }
  function get(doc, key) {
    let v = doc;
    for (const part of key.split('.')) { if (!isObject(v)) return undefined; v = v[part]; }
    return v;
  }

  // ---- API ---------------------------------------------------------------
  async function api(endpoint, params) {
    const q = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => enc(k) + '=' + enc(v)).join('&');
    const res = await fetch('/api/' + endpoint + (q ? '?' + q : ''));
    const body = await res.json().catch(() => ({ error: 'HTTP ' + res.status }));
    if (!res.ok) { const e = new Error(body.error || 'HTTP ' + res.status); e.status = res.status; throw e; }
    return body;
  }

  // ---- routing -------------------------------------------------------------
  function go(href) { history.pushState(null, '', href); route(); }
  window.addEventListener('popstate', route);
  function setCrumbs(parts) {
    crumbs.replaceChildren(...parts.flatMap((p, i) => (i ? [el('span', { class: 'sep', text: '›' }), p] : [p])));
  }
  function route() {
    token++;
    const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const q = new URLSearchParams(location.search);
    view.replaceChildren();
    if (parts.length === 0) return experimentsView(token);
    if (parts[0] === 'experiments' && parts.length === 2) return runsView(token, parts[1], q);
    if (parts[0] === 'experiments' && parts.length === 4 && parts[2] === 'runs') return runView(token, parts[1], parts[3]);
    if (parts[0] === 'experiments' && parts.length === 3 && parts[2] === 'compare') return compareView(token, parts[1], (q.get('ids') || '').split(',').filter(Boolean));
    view.append(el('h1', { text: 'Not found' }));
  }
  function failed(err) { view.append(el('p', { class: 'error', text: err.message })); }
  const expHref = (name) => '/experiments/' + enc(name);
  const runHref = (name, id) => expHref(name) + '/runs/' + enc(id);

  // ---- / : experiments -----------------------------------------------------
  async function experimentsView(t) {
    setCrumbs([]);
    document.title = 'yamlett';
    let list;
    try { list = await api('experiments'); } catch (e) { return failed(e); }
    if (t !== token) return;
    view.append(el('h1', { text: 'Experiments' }));
    if (!list.length) return view.append(el('p', { class: 'muted', text: 'No experiments in this store yet.' }));
    view.append(el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, el('th', { text: 'Experiment' }), el('th', { text: 'Runs' }), el('th', { text: 'Last activity' }))),
      el('tbody', {}, list.map((x) => el('tr', {},
        el('td', {}, link(expHref(x.name), x.name)),
        el('td', { class: 'num', text: x.runs.toLocaleString('en') }),
        el('td', { text: x.last_modified || '' })))))));
  }

  // ---- /experiments/<name> : runs -----------------------------------------
  function runsState(q) {
    const [sortKey, sortDir] = (q.get('sort') || '').split(':');
    return {
      filter: q.get('filter') || '',
      sortKey: sortKey || '',
      sortDir: sortDir === '1' ? 1 : -1,
      cols: q.get('cols') ? q.get('cols').split(',').filter(Boolean) : null,
      skip: Math.max(0, parseInt(q.get('skip') || '0', 10) || 0),
      group: q.get('group') || '',
      metric: q.get('metric') || '',
    };
  }
  function runsUrl(name, s) {
    const q = new URLSearchParams();
    if (s.filter) q.set('filter', s.filter);
    if (s.sortKey) q.set('sort', s.sortKey + ':' + s.sortDir);
    if (s.cols) q.set('cols', s.cols.join(','));
    if (s.skip) q.set('skip', String(s.skip));
    if (s.group) q.set('group', s.group);
    if (s.metric) q.set('metric', s.metric);
    const qs = q.toString();
    return expHref(name) + (qs ? '?' + qs : '');
  }
  const PAGE = 50;

  function runsView(t, name, q) {
    const s = runsState(q);
    const selected = new Set();
    setCrumbs([link(expHref(name), name)]);
    document.title = name + ' · yamlett';
    const filter = el('input', { class: 'filter', value: s.filter, placeholder: 'MongoDB filter, e.g. {"metrics.f1_score": {"$gte": 0.9}}  (Enter to apply)', spellcheck: 'false', 'aria-label': 'filter' });
    const error = el('div', { class: 'error', id: 'filter-error' });
    const compare = el('button', { class: 'primary', disabled: true, onclick: () => go(expHref(name) + '/compare?ids=' + [...selected].map(enc).join(',')) }, 'Compare');
    const summary = el('span', { class: 'muted', id: 'runs-summary' });
    const table = el('table', { id: 'runs' });
    const pager = el('div', { class: 'pager' });
    const picker = el('div', { class: 'picker' });
    const pickerSearch = el('input', { placeholder: 'search keys', class: 'filter' });
    const pickerPanel = el('details', { class: 'panel', id: 'columns-panel', ontoggle: () => pickerPanel.open && loadKeys().then(drawPicker) }, el('summary', { text: 'Columns' }), pickerSearch, picker);
    const groupPanel = el('details', { class: 'panel', id: 'group-panel', open: !!s.group }, el('summary', { text: 'Group by' }));
    view.append(el('h1', { text: name }),
      el('div', { class: 'toolbar' }, filter, el('button', { onclick: apply }, 'Apply'), compare, summary),
      error, pickerPanel, groupPanel, el('div', { class: 'table-wrap' }, table), pager);
    filter.addEventListener('keydown', (e) => { if (e.key === 'Enter') apply(); });
    pickerSearch.addEventListener('input', () => drawPicker());

    function apply() {
      s.filter = filter.value.trim();
      s.skip = 0;
      update();
    }
    function update() { history.replaceState(null, '', runsUrl(name, s)); load(); }

    let keys = null;
    async function loadKeys() {
      if (!keys) keys = await api('keys', { experiment: name }).catch((e) => { error.textContent = e.message; return []; });
      return keys;
    }
    function drawPicker() {
      const needle = pickerSearch.value.toLowerCase();
      picker.replaceChildren(...(keys || []).filter((k) => k.key !== '_id' && k.key.toLowerCase().includes(needle)).map((k) => {
        const box = el('input', { type: 'checkbox', checked: (s.cols || []).includes(k.key), onchange: () => {
          const cols = (s.cols || current.cols).filter((c) => c !== k.key);
          if (box.checked) cols.push(k.key);
          s.cols = cols; update();
        } });
        return el('label', { title: k.types.join(', ') + ' · ' + k.runs + ' runs' }, box, ' ' + k.key);
      }));
    }

    let current = { cols: [] };
    let timer = null;
    async function load() {
      clearTimeout(timer);
      const params = { experiment: name, filter: s.filter, skip: s.skip, limit: PAGE };
      if (s.sortKey) params.sort = JSON.stringify({ [s.sortKey]: s.sortDir });
      if (s.cols) params.fields = s.cols.join(',');
      let page;
      try { page = await api('runs', params); } catch (e) {
        if (t !== token) return;
        filter.classList.add('bad'); error.textContent = e.message; return;
      }
      if (t !== token) return;
      filter.classList.remove('bad'); error.textContent = '';
      const cols = s.cols || defaultColumns(page.runs);
      current = { cols };
      drawTable(page, cols);
      if (window.yamlettTimings.rows === undefined) window.yamlettTimings.rows = performance.now();
      if (page.runs.some((r) => get(r, '_yamlett.status') === 'running')) timer = setTimeout(() => t === token && load(), POLL_MS);
    }
    function defaultColumns(runs) {
      // Scalars, metrics first; of a series' summary only its last value.
      const seen = new Set();
      for (const r of runs) {
        const series = get(r, '_yamlett.series');
        const under = (k) => Array.isArray(series) && series.some((x) => k.startsWith(x + '.') && k !== x + '.last');
        for (const [k, v] of leaves(r)) {
          if (k === '_id' || k.startsWith('_yamlett.') || isArtifact(v) || Array.isArray(v) || under(k)) continue;
          seen.add(k);
        }
      }
      const rank = (k) => (k.startsWith('metrics.') ? 0 : k.startsWith('params.') ? 1 : 2);
      return [...seen].sort((a, b) => rank(a) - rank(b)).slice(0, 10);
    }
    function header(label, key) {
      const arrow = s.sortKey === key ? (s.sortDir === 1 ? ' ▲' : ' ▼') : '';
      return el('th', { class: 'sortable', title: 'sort by ' + key, 'data-key': key, onclick: () => {
        if (s.sortKey === key) s.sortDir = -s.sortDir; else { s.sortKey = key; s.sortDir = key.startsWith('metrics.') ? -1 : 1; }
        s.skip = 0; update();
      } }, label + arrow);
    }
    function drawTable(page, cols) {
      table.replaceChildren(
        el('thead', {}, el('tr', {}, el('th', {}), header('id', '_id'), header('status', '_yamlett.status'), header('created', '_yamlett.created_at'), cols.map((c) => header(c, c)))),
        el('tbody', {}, page.runs.map((r) => {
          const box = el('input', { type: 'checkbox', checked: selected.has(r._id), onchange: () => {
            if (box.checked) selected.add(r._id); else selected.delete(r._id);
            compare.disabled = selected.size < 1; compare.textContent = 'Compare (' + selected.size + ')';
          } });
          return el('tr', {}, el('td', {}, box), el('td', {}, link(runHref(name, r._id), r._id)),
            el('td', {}, badge(get(r, '_yamlett.status'))), el('td', { text: show(get(r, '_yamlett.created_at')) }),
            cols.map((c) => { const v = get(r, c); return el('td', { class: num(v) !== null ? 'num cell' : 'cell', title: show(v), text: show(v) }); }));
        })));
      const end = s.skip + page.runs.length;
      summary.textContent = page.total ? (s.skip + 1).toLocaleString('en') + '–' + end.toLocaleString('en') + ' of ' + page.total.toLocaleString('en') + ' runs' : 'no runs match';
      pager.replaceChildren(
        el('button', { disabled: s.skip === 0, onclick: () => { s.skip = Math.max(0, s.skip - PAGE); update(); } }, '‹ Previous'),
        el('button', { disabled: end >= page.total, onclick: () => { s.skip += PAGE; update(); } }, 'Next ›'));
    }

    // Group-by: the store computes mean/min/max/count per group with $group
    // over every matching run, not the first page.
    const groupKey = el('select', { 'aria-label': 'group key' });
    const metricKey = el('select', { 'aria-label': 'metric' });
    const groupOut = el('div');
    const groupError = el('div', { class: 'error' });
    groupPanel.append(el('div', { class: 'toolbar' }, 'group by ', groupKey, ' metric ', metricKey, el('button', { onclick: () => { s.group = groupKey.value; s.metric = metricKey.value; update(); runGroup(); } }, 'Group')), groupError, groupOut);
    groupPanel.addEventListener('toggle', async () => {
      if (!groupPanel.open || groupKey.options.length) return;
      const ks = (await loadKeys()).filter((k) => !k.key.startsWith('_yamlett.writers'));
      const numeric = ks.filter((k) => k.types.some((x) => ['double', 'int', 'long', 'decimal'].includes(x)));
      groupKey.replaceChildren(...ks.filter((k) => !k.types.includes('object') && !k.types.includes('array')).map((k) => el('option', { value: k.key, text: k.key })));
      metricKey.replaceChildren(...numeric.map((k) => el('option', { value: k.key, text: k.key })));
      if (s.group) groupKey.value = s.group; else { const p = ks.find((k) => k.key.startsWith('params.')); if (p) groupKey.value = p.key; }
      if (s.metric) metricKey.value = s.metric; else { const m = numeric.find((k) => k.key.startsWith('metrics.')); if (m) metricKey.value = m.key; }
      if (s.group && s.metric) runGroup();
    });
    async function runGroup() {
      const g = groupKey.value, m = metricKey.value;
      if (!g || !m) return;
      const pipeline = '[{"$match": ' + (s.filter || '{}') + '}, {"$group": {"_id": ' + JSON.stringify('$' + g) +
        ', "mean": {"$avg": ' + JSON.stringify('$' + m) + '}, "min": {"$min": ' + JSON.stringify('$' + m) + '}, "max": {"$max": ' + JSON.stringify('$' + m) +
        '}, "count": {"$sum": 1}}}, {"$sort": {"_id": 1}}, {"$limit": 60}]';
      let groups;
      try { groups = await api('aggregate', { experiment: name, pipeline }); groupError.textContent = ''; } catch (e) { groupError.textContent = e.message; return; }
      drawGroups(groups, g, m);
    }
    function drawGroups(groups, g, m) {
      const canvas = el('canvas', { class: 'groupchart', width: 900, height: 260 });
      canvas.style.width = '100%'; canvas.style.height = '260px';
      groupOut.replaceChildren(canvas, el('table', {}, el('thead', {}, el('tr', {}, ['' + g, 'count', 'mean ' + m, 'min', 'max'].map((x) => el('th', { text: x })))),
        el('tbody', {}, groups.map((x) => el('tr', {}, el('td', { text: show(x._id) }), el('td', { class: 'num', text: show(x.count) }),
          el('td', { class: 'num', text: show(x.mean) }), el('td', { class: 'num', text: show(x.min) }), el('td', { class: 'num', text: show(x.max) }))))));
      const w = canvas.clientWidth || 900, h = 260, dpr = window.devicePixelRatio || 1;
      canvas.width = w * dpr; canvas.height = h * dpr;
      const c = canvas.getContext('2d'); c.setTransform(dpr, 0, 0, dpr, 0, 0);
      const vals = groups.flatMap((x) => [num(x.min), num(x.max), num(x.mean)]).filter((v) => v !== null && isFinite(v));
      if (!vals.length) return;
      let lo = Math.min(0, ...vals), hi = Math.max(...vals);
      if (hi === lo) hi = lo + 1;
      const top = 10, bottom = h - 40, left = 50, bw = (w - left - 10) / groups.length;
      const y = (v) => bottom - ((v - lo) / (hi - lo)) * (bottom - top);
      c.font = '11px system-ui'; c.fillStyle = '#6b7385'; c.textAlign = 'right';
      c.fillText(String(Math.round(hi * 1000) / 1000), left - 6, top + 8); c.fillText(String(Math.round(lo * 1000) / 1000), left - 6, bottom);
      groups.forEach((x, i) => {
        const cx = left + i * bw + bw / 2, mean = num(x.mean), mn = num(x.min), mx = num(x.max);
        c.fillStyle = COLORS[0];
        if (mean !== null && isFinite(mean)) c.fillRect(cx - bw * 0.3, y(mean), bw * 0.6, y(Math.max(lo, 0)) - y(mean));
        if (mn !== null && mx !== null) { c.strokeStyle = '#1d2330'; c.beginPath(); c.moveTo(cx, y(mn)); c.lineTo(cx, y(mx)); c.moveTo(cx - 4, y(mn)); c.lineTo(cx + 4, y(mn)); c.moveTo(cx - 4, y(mx)); c.lineTo(cx + 4, y(mx)); c.stroke(); }
        c.fillStyle = '#1d2330'; c.textAlign = 'center';
        c.fillText(show(x._id).slice(0, Math.max(3, Math.floor(bw / 7))), cx, bottom + 14);
        c.fillStyle = '#6b7385'; c.fillText('n=' + show(x.count), cx, bottom + 28);
      });
    }
    load();
  }

  // ---- charts shared by the run and compare views --------------------------
  // Series keys of a run: the library's series (listed under _yamlett.series)
  // and numeric lists stored with push.
  function seriesKeys(run) {
    const out = new Set(Array.isArray(get(run, '_yamlett.series')) ? get(run, '_yamlett.series') : []);
    for (const [k, v] of leaves(run)) if (Array.isArray(v) && v.length > 1 && v.every((x) => num(x) !== null)) out.add(k);
    return [...out].sort();
  }
  function chartControls(charts) {
    const state = { x: 'step', y: 'linear', smooth: 0 };
    const apply = () => charts.forEach((c) => c.chart.setMode(state.x, state.y, state.smooth));
    const xs = el('select', { 'aria-label': 'x axis', onchange: () => { state.x = xs.value; apply(); } }, el('option', { value: 'step', text: 'x: step' }), el('option', { value: 'time', text: 'x: time' }));
    const ys = el('select', { 'aria-label': 'y scale', onchange: () => { state.y = ys.value; apply(); } }, el('option', { value: 'linear', text: 'y: linear' }), el('option', { value: 'log', text: 'y: log' }));
    const sm = el('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: 0, 'aria-label': 'smoothing', oninput: () => { state.smooth = Number(sm.value); label.textContent = 'smoothing ' + sm.value; apply(); } });
    const label = el('span', { class: 'muted', text: 'smoothing 0' });
    const box = el('div', { class: 'toolbar' }, xs, ys, sm, label, el('span', { class: 'muted', text: 'drag to zoom · double-click to reset' }));
    // Charts added later (a series that appeared) take the current modes.
    box.apply = apply;
    return box;
  }
  // A chart of `key` for each run in `runs` ([{id, color}]), refetched at the
  // chart's width on zoom.
  function seriesChart(name, key, runs, t) {
    const box = el('div', { class: 'chart', 'data-key': key }, el('h3', { text: key }));
    let range = null;
    const chart = new window.YamlettChart(box, { onZoom: (from, to) => { range = from === null ? null : [from, to]; fetchAll(); } });
    async function fetchAll() {
      const lines = await Promise.all(runs.map(async (r) => {
        const p = { experiment: name, id: r.id, key, columns: chart.columns() };
        if (range) { p.from = range[0]; p.to = range[1]; }
        try {
          const s = await api('series', p);
          return { label: r.id, color: r.color, steps: s.steps, values: s.values.map(num), times: s.times.map((x) => (typeof x === 'number' ? x : dateMs(x))) };
        } catch (e) { return null; }
      }));
      if (t !== token) return;
      chart.setData(lines.filter(Boolean));
    }
    return { box, chart, refresh: fetchAll, setRuns: (list) => { runs = list; } };
  }

  // ---- /experiments/<name>/runs/<id> ---------------------------------------
  function tree(value, key, depth) {
    if (isObject(value) && Object.keys(value).length) {
      const d = el('details', { open: depth < 2 || Object.keys(value).length <= 6 }, el('summary', {}, el('span', { class: 'k', text: key }), el('span', { class: 'muted', text: '  {' + Object.keys(value).length + '}' })));
      for (const [k, v] of Object.entries(value)) d.append(tree(v, k, depth + 1));
      return d;
    }
    if (Array.isArray(value) && value.length > 8) {
      const d = el('details', {}, el('summary', {}, el('span', { class: 'k', text: key }), el('span', { class: 'muted', text: '  [' + value.length + ']' })));
      d.append(el('div', { class: 'leaf', text: JSON.stringify(value) }));
      return d;
    }
    const cls = typeof value === 'string' ? 's' : num(value) !== null ? 'n' : '';
    return el('div', { class: 'leaf' }, el('span', { class: 'k', text: key + ': ' }), el('span', { class: cls, text: Array.isArray(value) ? JSON.stringify(value) : show(value) }));
  }

  async function runView(t, name, id) {
    setCrumbs([link(expHref(name), name), link(runHref(name, id), id)]);
    document.title = id + ' · yamlett';
    let run;
    try { run = await api('run', { experiment: name, id }); } catch (e) { return failed(e); }
    if (t !== token) return;
    const status = el('span', { id: 'run-status' }, badge(get(run, '_yamlett.status')));
    const meta = el('div', { class: 'meta' });
    const fillMeta = (r) => meta.replaceChildren(...[['created', '_yamlett.created_at'], ['last modified', '_yamlett.last_modified_at'], ['ended', '_yamlett.ended_at'], ['host', '_yamlett.host']]
      .filter(([, k]) => get(r, k) !== undefined).map(([l, k]) => el('span', {}, l + ': ' + show(get(r, k)))));
    fillMeta(run);
    const treeBox = el('div', { class: 'tree', id: 'run-tree' });
    const fillTree = (r) => treeBox.replaceChildren(...Object.entries(r).map(([k, v]) => tree(v, k, 0)));
    fillTree(run);
    const charts = seriesKeys(run).map((k) => seriesChart(name, k, [{ id, color: COLORS[0] }], t));
    const artifacts = leaves(run).filter(([, v]) => isArtifact(v));
    view.append(el('h1', {}, id, ' ', status), meta);
    if (charts.length) view.append(el('h2', { text: 'Series' }), chartControls(charts), el('div', { class: 'charts' }, charts.map((c) => c.box)));
    if (artifacts.length) view.append(el('h2', { text: 'Artifacts' }), el('div', { class: 'table-wrap' }, el('table', { id: 'artifacts' },
      el('thead', {}, el('tr', {}, ['key', 'size', 'codec', 'sha256'].map((x) => el('th', { text: x })))),
      el('tbody', {}, artifacts.map(([k, v]) => el('tr', {}, el('td', { text: k }), el('td', { class: 'num', text: show(v.size) }), el('td', { text: show(v.codec) }), el('td', { text: show(v.sha256) })))))));
    view.append(el('h2', { text: 'Document' }), treeBox);
    charts.forEach((c) => c.refresh());
    // A running run refreshes itself: document, status and charts.
    const poll = async () => {
      if (t !== token) return;
      if (get(run, '_yamlett.status') !== 'running') return;
      try { run = await api('run', { experiment: name, id }); } catch (e) { return; }
      if (t !== token) return;
      status.replaceChildren(badge(get(run, '_yamlett.status'))); fillMeta(run); fillTree(run);
      charts.forEach((c) => c.refresh());
      setTimeout(poll, POLL_MS);
    };
    setTimeout(poll, POLL_MS);
  }

  // ---- /experiments/<name>/compare?ids=a,b ---------------------------------
  async function compareView(t, name, ids) {
    setCrumbs([link(expHref(name), name), el('span', { text: 'compare' })]);
    document.title = 'compare · ' + name + ' · yamlett';
    const fetchRuns = () => Promise.all(ids.map((id) => api('run', { experiment: name, id })));
    let runs;
    try { runs = await fetchRuns(); } catch (e) { return failed(e); }
    if (t !== token) return;
    const colored = runs.map((r, i) => ({ id: r._id, color: COLORS[i % COLORS.length] }));
    const badges = colored.map(() => el('span', { class: 'compare-status' }));
    view.append(el('h1', { text: 'Compare ' + runs.length + ' runs' }),
      el('div', { class: 'legend' }, colored.map((c, i) => el('span', {}, el('span', { class: 'swatch', style: null, 'data-color': c.color }), link(runHref(name, c.id), c.id), ' ', badges[i]))));
    view.querySelectorAll('.swatch').forEach((s) => { s.style.background = s.dataset.color; });
    // Charts by series key; a series a run starts logging later gets its
    // chart (or its line) at the next refresh.
    const charts = new Map();
    const chartList = [];
    const seriesBox = el('div', { id: 'compare-series' });
    const chartsBox = el('div', { class: 'charts' });
    let controls = null;
    const runsWith = (k) => colored.filter((c) => seriesKeys(runs.find((r) => r._id === c.id)).includes(k));
    let keys = [];
    function drawCharts() {
      keys = [...new Set(runs.flatMap(seriesKeys))].sort();
      let added = false;
      for (const k of keys) {
        let c = charts.get(k);
        if (c) c.setRuns(runsWith(k));
        else {
          c = seriesChart(name, k, runsWith(k), t);
          charts.set(k, c); chartList.push(c); chartsBox.append(c.box); added = true;
        }
      }
      if (chartList.length && !controls) {
        controls = chartControls(chartList);
        seriesBox.append(el('h2', { text: 'Series' }), controls, chartsBox);
      }
      if (added) controls.apply();
      chartList.forEach((c) => c.refresh());
    }
    // Parameters and results side by side; "only differences" hides equal rows.
    const only = el('input', { type: 'checkbox', id: 'only-diff', onchange: () => draw() });
    const table = el('table', { id: 'compare-table' });
    view.append(seriesBox, el('h2', { text: 'Parameters and results' }), el('label', {}, only, ' only differences'), el('div', { class: 'table-wrap' }, table));
    function draw() {
      const seriesSet = new Set(keys);
      const rows = new Map();
      runs.forEach((r, i) => {
        for (const [k, v] of leaves(r)) {
          if (k === '_id' || seriesSet.has(k) || k.startsWith('_yamlett.series') || (k.startsWith('_yamlett.') && !['_yamlett.status', '_yamlett.created_at', '_yamlett.ended_at', '_yamlett.host'].includes(k))) continue;
          if (!rows.has(k)) rows.set(k, new Array(runs.length).fill(undefined));
          rows.get(k)[i] = v;
        }
      });
      const body = [...rows.keys()].sort().map((k) => {
        const vals = rows.get(k);
        const shown = vals.map((v) => (v === undefined ? '—' : show(v)));
        const differs = shown.some((x) => x !== shown[0]);
        if (only.checked && !differs) return null;
        return el('tr', { class: differs ? 'diff' : '' }, el('td', { class: 'cell', text: k }), shown.map((x) => el('td', { class: 'cell', title: x, text: x })));
      }).filter(Boolean);
      table.replaceChildren(el('thead', {}, el('tr', {}, el('th', { text: 'key' }), colored.map((c) => el('th', { text: c.id })))), el('tbody', {}, body));
    }
    function drawAll() {
      runs.forEach((r, i) => badges[i].replaceChildren(badge(get(r, '_yamlett.status'))));
      drawCharts();
      draw();
    }
    drawAll();
    // While any of the runs is running, everything refreshes by itself, as
    // the run view does; a failed refresh is retried at the next tick.
    const poll = async () => {
      if (t !== token) return;
      if (!runs.some((r) => get(r, '_yamlett.status') === 'running')) return;
      try {
        const fresh = await fetchRuns();
        if (t !== token) return;
        runs = fresh;
        drawAll();
      } catch (e) { /* the store may be busy: try again */ }
      setTimeout(poll, POLL_MS);
    };
    setTimeout(poll, POLL_MS);
  }

  route();
})();
