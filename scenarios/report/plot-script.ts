// The script inside report.html that draws each scenario's plot as SVG from the data embedded in
// the page. It is plain browser JavaScript kept as a string: the page must work opened from disk,
// with no network and no bundler, and its Content-Security-Policy allows only inline code.
// Written without template literals so it can sit inside one here.

export const PLOT_SCRIPT = String.raw`
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var W = 960, H = 340, L = 70, R = 20, T = 56, B = 40;
  var data = JSON.parse(document.getElementById('report-data').textContent);

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, cls, anchor) {
    var t = el('text', { x: x, y: y, 'class': cls, 'text-anchor': anchor || 'middle' }, parent);
    t.textContent = s;
    return t;
  }
  // Round steps (1, 2, 5 times a power of ten) so axis labels read well.
  function step(range, count) {
    var raw = range / count, mag = Math.pow(10, Math.floor(Math.log10(raw || 1))), n = raw / mag;
    return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
  }

  function draw(figure, s) {
    var svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, 'class': 'plot', role: 'img', 'data-points': s.points.length, 'data-markers': s.markers.length });
    el('title', {}, svg).textContent = 'sequence number against time';
    figure.appendChild(svg);
    if (!s.points.length && !s.markers.length) {
      text(svg, W / 2, H / 2, 'nothing was recorded', 'empty');
      return;
    }
    var lo = Infinity, hi = -Infinity;
    s.points.forEach(function (p) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); });
    if (lo === Infinity) { lo = 0; hi = 1; }
    if (hi === lo) hi = lo + 1;
    var span = s.span || 1;
    var x = function (t) { return L + (t / span) * (W - L - R); };
    var y = function (n) { return H - B - ((n - lo) / (hi - lo)) * (H - T - B); };

    var axes = el('g', { 'class': 'axes' }, svg);
    el('line', { x1: L, y1: H - B, x2: W - R, y2: H - B }, axes);
    el('line', { x1: L, y1: T, x2: L, y2: H - B }, axes);
    var xs = step(span / 1000, 8);
    for (var sec = 0; sec <= span / 1000 + 1e-9; sec += xs) {
      el('line', { x1: x(sec * 1000), y1: H - B, x2: x(sec * 1000), y2: H - B + 4 }, axes);
      text(axes, x(sec * 1000), H - B + 16, (Math.round(sec * 1000) / 1000) + ' s', 'tick');
    }
    var ys = step(hi - lo, 5);
    for (var n = Math.ceil(lo / ys) * ys; n <= hi; n += ys) {
      el('line', { x1: L - 4, y1: y(n), x2: W - R, y2: y(n), 'class': 'grid' }, axes);
      text(axes, L - 8, y(n) + 4, String(n), 'tick', 'end');
    }
    text(axes, (L + W - R) / 2, H - 6, 'time since the first event', 'axis-label');
    var yl = text(axes, 16, (T + H - B) / 2, 'sequence number', 'axis-label');
    yl.setAttribute('transform', 'rotate(-90 16 ' + (T + H - B) / 2 + ')');

    var marks = el('g', { 'class': 'markers' }, svg);
    var row = 0;
    s.markers.forEach(function (m) {
      var mx = x(m.t), g = el('g', { 'class': 'marker marker-' + m.kind }, marks);
      el('title', {}, g).textContent = m.label + ' at ' + (m.t / 1000).toFixed(3) + ' s';
      if (m.kind === 'checkpoint') {
        // Many and routine: a tick under the axis, not a line across the plot.
        el('path', { d: 'M' + mx + ' ' + (H - B) + ' l-4 8 h8 z' }, g);
        return;
      }
      el('line', { x1: mx, y1: T - 6, x2: mx, y2: H - B }, g);
      // Labels take turns on three rows so that close events stay readable.
      var label = m.label.length > 30 ? m.label.slice(0, 29) + '\u2026' : m.label;
      text(g, mx + 3, 14 + (row++ % 3) * 14, label, 'marker-label', 'start');
    });

    // A pause in the records (a suspend, a restart) breaks the line instead of bridging it. A
    // pause is long against both the run and the usual spacing (logs arrive in batches).
    var steps = [];
    for (var k = 1; k < s.points.length; k++) if (s.points[k][0] > s.points[k - 1][0]) steps.push(s.points[k][0] - s.points[k - 1][0]);
    steps.sort(function (a, b) { return a - b; });
    var usual = steps.length ? steps[Math.floor(steps.length / 2)] : 0;
    var segments = [[]], gap = Math.max(span / 50, usual * 5);
    s.points.forEach(function (p, i) {
      if (i > 0 && p[0] - s.points[i - 1][0] > gap) segments.push([]);
      segments[segments.length - 1].push(x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1));
    });
    segments.forEach(function (seg) { if (seg.length) el('polyline', { points: seg.join(' '), 'class': 'series' }, svg); });
    if (s.points.length < 400) {
      var dots = el('g', { 'class': 'dots' }, svg);
      s.points.forEach(function (p) { el('circle', { cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 1.6 }, dots); });
    }
  }

  data.scenarios.forEach(function (s, i) {
    var figure = document.getElementById('plot-' + i);
    if (figure) draw(figure, s.series);
  });
  document.body.setAttribute('data-drawn', String(data.scenarios.length));
})();
`;
