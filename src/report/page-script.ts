// The report page's script: it draws the sections from the JSON the page embeds
// (#report-data, a ReportData) as inline SVG and tables, and shows an op's configuration
// (or a task's) in a tooltip on hover. Plain ES2017, no library, no network: the layout
// was computed in Node (src/report/graph-view.ts). Every drawn element a test or a reader
// may look for carries data attributes: .op[data-op], .device-row[data-device],
// .memory-row[data-device]. Written without template literals, so that it can live in a
// TypeScript string.

export const PAGE_SCRIPT = String.raw`
"use strict";
(function () {
  var R = JSON.parse(document.getElementById("report-data").textContent);
  var SVG = "http://www.w3.org/2000/svg";
  var tip = document.getElementById("tooltip");

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(e);
    return e;
  }
  function h(name, attrs, text, parent) {
    var e = document.createElement(name);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (parent) parent.appendChild(e);
    return e;
  }
  function sec(s) {
    if (s >= 1) return s.toFixed(3) + " s";
    if (s >= 1e-3) return (s * 1e3).toFixed(3) + " ms";
    return (s * 1e6).toFixed(1) + " \u00b5s";
  }
  function bytes(b) {
    if (b >= 1073741824) return (b / 1073741824).toFixed(2) + " GiB";
    if (b >= 1048576) return (b / 1048576).toFixed(2) + " MiB";
    if (b >= 1024) return (b / 1024).toFixed(1) + " KiB";
    return b + " B";
  }
  function colour(i) {
    return "hsl(" + ((i * 137.508) % 360).toFixed(1) + ", 62%, " + (i % 2 ? 72 : 80) + "%)";
  }
  function missing(id, text) {
    h("p", { "class": "missing" }, text, document.getElementById(id));
  }
  function table(parent, head, rows) {
    var t = h("table", {}, null, parent);
    var tr = h("tr", {}, null, h("thead", {}, null, t));
    head.forEach(function (x) { h("th", {}, x, tr); });
    var body = h("tbody", {}, null, t);
    rows.forEach(function (r) {
      var row = h("tr", {}, null, body);
      r.forEach(function (x) { h("td", {}, x, row); });
    });
    return t;
  }

  // ---- tooltip ------------------------------------------------------------------------
  function showTip(ev, lines) {
    tip.textContent = "";
    lines.forEach(function (l, i) { h(i === 0 ? "strong" : "div", {}, l, tip); });
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    var w = tip.offsetWidth, hh = tip.offsetHeight;
    if (x + w > window.innerWidth) x = Math.max(0, ev.clientX - w - 14);
    if (y + hh > window.innerHeight) y = Math.max(0, ev.clientY - hh - 14);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function hideTip() { tip.hidden = true; }
  function opLines(o) {
    var lines = [o.name, "op " + o.kind + ", output " + o.shape, "config: " + o.config];
    if (o.dims) lines.push("degrees: " + o.dims.map(function (d) { return d.name + " (" + d.cls + ", size " + d.size + ") = " + d.degree; }).join("; "));
    if (o.tasks !== undefined) lines.push(o.tasks + " task" + (o.tasks === 1 ? "" : "s") + (o.devices !== undefined ? " on devices " + o.devices : ""));
    if (o.computeSeconds !== undefined) lines.push("predicted compute " + sec(o.computeSeconds) + ", communication " + sec(o.commSeconds));
    return lines;
  }

  // ---- header -------------------------------------------------------------------------
  (function header() {
    var p = document.getElementById("summary");
    var parts = [R.source.kind === "plan" ? "plan " + R.source.file : "model file " + R.source.file, "model " + R.model];
    if (R.strategy !== undefined) parts.push("strategy " + R.strategy + (R.searched ? " (searched)" : ""));
    if (R.mesh) parts.push("mesh " + R.mesh.name + ": " + R.mesh.devices + " devices, " + R.mesh.summary);
    parts.push("optimizer " + R.optimizer);
    if (R.iterationTime !== undefined) parts.push("predicted iteration " + sec(R.iterationTime));
    p.textContent = parts.join(" \u00b7 ");
    var notes = document.getElementById("notes");
    R.notes.forEach(function (n) { h("li", {}, n, notes); });
  })();

  // ---- graph --------------------------------------------------------------------------
  (function graph() {
    var G = R.graph;
    var legend = document.getElementById("graph-legend");
    G.configs.forEach(function (c, i) {
      var item = h("span", { "class": "legend-item", "data-config": c.config }, null, legend);
      h("span", { "class": "swatch", style: "background:" + colour(i) }, null, item);
      h("span", {}, c.config + " (" + c.ops + " op" + (c.ops === 1 ? "" : "s") + ")", item);
    });
    var svg = el("svg", { id: "graph-svg", width: G.width, height: G.height, viewBox: "0 0 " + G.width + " " + G.height, role: "img" }, document.getElementById("graph-view"));
    var defs = el("defs", {}, svg);
    var marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto" }, defs);
    el("path", { d: "M0,0L10,5L0,10z", "class": "arrow" }, marker);
    var edges = el("g", { "class": "edges" }, svg);
    G.edges.forEach(function (e) {
      if (!e.points.length) return;
      var d = e.points.map(function (p, i) { return (i ? "L" : "M") + p.x + "," + p.y; }).join("");
      el("path", { d: d, "class": "edge", "data-from": e.from, "data-to": e.to, "marker-end": "url(#arrow)" }, edges);
    });
    var nodes = el("g", { "class": "ops" }, svg);
    G.ops.forEach(function (o, i) {
      var g = el("g", { "class": "op", "data-op": o.name, "data-index": i, "data-config": o.config, transform: "translate(" + (o.x - o.width / 2) + "," + (o.y - o.height / 2) + ")" }, nodes);
      el("rect", { width: o.width, height: o.height, rx: 4, fill: colour(o.colour) }, g);
      var name = el("text", { x: 6, y: 14, "class": "op-name" }, g);
      name.textContent = o.name;
      var kind = el("text", { x: 6, y: 28, "class": "op-kind" }, g);
      kind.textContent = o.kind;
    });
    nodes.addEventListener("mousemove", function (ev) {
      var g = ev.target.closest ? ev.target.closest(".op") : null;
      if (!g) return hideTip();
      showTip(ev, opLines(G.ops[Number(g.getAttribute("data-index"))]));
    });
    nodes.addEventListener("mouseleave", hideTip);
    var zoom = document.getElementById("graph-zoom");
    zoom.addEventListener("change", function () {
      var f = Number(zoom.value);
      svg.setAttribute("width", String(Math.round(G.width * f)));
      svg.setAttribute("height", String(Math.round(G.height * f)));
    });
  })();

  // ---- timeline -----------------------------------------------------------------------
  (function timeline() {
    var T = R.timeline;
    if (T.missing) missing("timeline-view", T.missing);
    var P = T.predicted, M = T.measured;
    if (!P && !M) return;
    var devices = [];
    if (P) P.devices.forEach(function (d) { devices.push(d.device); });
    else M.devices.forEach(function (d) { devices.push(d.device); });
    var mByDevice = {};
    if (M) M.devices.forEach(function (d) { mByDevice[d.device] = d; });
    var pUs = P ? P.iterationTime * 1e6 : 0, mUs = M ? M.stepTime * 1e6 : 0;
    // One time scale for both lanes, unless one is more than 5x the other (a CPU run of a
    // model priced for GPUs): then each lane spans the full width (the select switches).
    var scaleSel = document.getElementById("timeline-scale");
    var ratio = P && M && pUs > 0 && mUs > 0 ? mUs / pUs : 1;
    scaleSel.value = ratio > 5 || ratio < 0.2 ? "fitted" : "shared";
    if (!(P && M)) scaleSel.parentNode.hidden = true;
    var LABEL = 96, W = 960, LANE = 14, LINK = 9, GAP = 8;
    var rowH = (P ? LANE + LINK + 2 : 0) + (M ? LANE + 2 : 0);
    var height = 24 + devices.length * (rowH + GAP);
    var view = document.getElementById("timeline-view");
    var svg = null;
    function draw() {
      if (svg) view.removeChild(svg);
      svg = el("svg", { id: "timeline-svg", width: LABEL + W + 10, height: height, viewBox: "0 0 " + (LABEL + W + 10) + " " + height, "data-scale": scaleSel.value }, view);
      drawInto(svg, scaleSel.value === "fitted");
    }
    scaleSel.addEventListener("change", draw);
    function drawInto(svg, fitted) {
      var shared = Math.max(pUs, mUs) || 1;
      var spanP = fitted ? pUs || 1 : shared, spanM = fitted ? mUs || 1 : shared;
      var axis = el("g", { "class": "axis" }, svg);
      for (var k = 0; k <= 5; k++) {
        var t = (shared * k) / 5;
        el("line", { x1: LABEL + (k / 5) * W, x2: LABEL + (k / 5) * W, y1: 16, y2: height, "class": "tick" }, axis);
        var lab = el("text", { x: LABEL + (k / 5) * W, y: 12, "text-anchor": k === 0 ? "start" : k === 5 ? "end" : "middle" }, axis);
        lab.textContent = fitted ? (k * 20) + " %" : sec(t / 1e6);
      }
      var rows = el("g", { "class": "rows" }, svg);
      // Drawn as one markup string, and tasks closer than a pixel merged into one rect: a
      // large model on many devices has tens of thousands of tasks per iteration.
      function lane(list, take, span, y, hgt, clsOf, key) {
        var out = "", cur = null;
        function flush() {
          if (!cur) return;
          out += '<rect x="' + cur.x0.toFixed(2) + '" y="' + y + '" width="' + (cur.x1 - cur.x0).toFixed(2) + '" height="' + hgt + '" class="task ' + cur.cls + '" data-k="' + key + '" data-i="' + cur.i + '" data-j="' + cur.j + '" data-n="' + cur.n + '"/>';
        }
        for (var i = 0; i < list.length; i++) {
          var tk = list[i];
          if (!take(tk)) continue;
          var x0 = LABEL + (tk[0] / span) * W, x1 = x0 + Math.max(0.5, (tk[1] / span) * W), cls = clsOf(tk);
          if (cur && x0 <= cur.x1 + 0.5 && (cls === cur.cls || x1 - x0 < 1)) {
            cur.x1 = Math.max(cur.x1, x1);
            cur.j = i;
            cur.n++;
            continue;
          }
          flush();
          cur = { x0: x0, x1: x1, cls: cls, i: i, j: i, n: 1 };
        }
        flush();
        return out;
      }
      function predictedClass(tk) {
        var kind = T.kinds[tk[2]];
        return (kind === "xfer" || kind === "allreduce" ? "comm" : "compute") + " kind-" + kind;
      }
      function measuredClass(tk) { return "measured " + (tk[4] === 1 ? "comm" : "compute"); }
      var markup = "";
      devices.forEach(function (dev, i) {
        var y = 24 + i * (rowH + GAP);
        markup += '<g class="device-row" data-device="' + dev + '"><text x="0" y="' + (y + 11) + '" class="row-label">device ' + dev + "</text>";
        if (P) {
          var d = P.devices[i];
          markup += '<g class="lane" data-lane="predicted"><rect x="' + LABEL + '" y="' + y + '" width="' + ((pUs / spanP) * W).toFixed(2) + '" height="' + (LANE + LINK + 1) + '" class="idle"/>';
          markup += lane(d.tasks, function (tk) { return tk[4] === 0; }, spanP, y, LANE, predictedClass, "p" + i);
          markup += lane(d.tasks, function (tk) { return tk[4] === 1; }, spanP, y + LANE + 1, LINK, predictedClass, "p" + i);
          markup += "</g>";
          y += LANE + LINK + 2;
        }
        if (M) {
          var md = mByDevice[dev];
          markup += '<g class="lane" data-lane="measured">';
          if (md) {
            markup += '<rect x="' + LABEL + '" y="' + y + '" width="' + ((md.span * 1e6 / spanM) * W).toFixed(2) + '" height="' + LANE + '" class="idle measured"/>';
            markup += lane(md.tasks, function () { return true; }, spanM, y, LANE, measuredClass, "m" + dev);
          } else markup += '<text x="' + (LABEL + 4) + '" y="' + (y + 11) + '" class="row-note">not in the measured trace</text>';
          markup += "</g>";
        }
        markup += "</g>";
      });
      rows.innerHTML = markup;
      rows.addEventListener("mousemove", function (ev) {
        var k = ev.target.getAttribute ? ev.target.getAttribute("data-k") : null;
        if (k === null) return hideTip();
        var measured = k.charAt(0) === "m";
        var list = measured ? mByDevice[Number(k.slice(1))].tasks : P.devices[Number(k.slice(1))].tasks;
        var kinds = measured ? M.kinds : T.kinds;
        var i = Number(ev.target.getAttribute("data-i")), j = Number(ev.target.getAttribute("data-j")), n = Number(ev.target.getAttribute("data-n"));
        var first = list[i], last = list[j];
        var where = measured ? "measured, step " + M.step : "predicted, " + (first[4] === 0 ? "device queue" : "link");
        var op = function (tk) { return tk[3] >= 0 ? " of " + R.graph.ops[tk[3]].name : ""; };
        if (n === 1) return showTip(ev, [kinds[first[2]] + op(first), where, "from " + sec(first[0] / 1e6) + " for " + sec(first[1] / 1e6)]);
        showTip(ev, [n + " tasks, too short to draw apart", where, "first: " + kinds[first[2]] + op(first), "last: " + kinds[last[2]] + op(last), "from " + sec(first[0] / 1e6) + " to " + sec((last[0] + last[1]) / 1e6)]);
      });
      rows.addEventListener("mouseleave", hideTip);
    }
    draw();
    var head = ["device"];
    if (P) head.push("predicted compute", "predicted communication", "predicted idle");
    if (M) head.push("measured compute", "measured communication", "measured idle");
    table(document.getElementById("timeline-table"), head, devices.map(function (dev, i) {
      var r = [String(dev)];
      if (P) { var d = P.devices[i]; r.push(sec(d.compute), sec(d.comm), sec(d.idle)); }
      if (M) { var m = mByDevice[dev]; if (m) r.push(sec(m.compute), sec(m.comm), sec(m.idle)); else r.push("\u2014", "\u2014", "\u2014"); }
      return r;
    }));
    if (M) {
      var p = document.getElementById("timeline-measured");
      p.textContent = "Measured: step " + M.step + " of " + M.file + " (" + M.source + "), " + sec(M.stepTime) + " from the first device's start to the last device's end" + (P ? "; predicted iteration " + sec(P.iterationTime) + " (ratio " + (M.stepTime / P.iterationTime).toFixed(2) + ")." : ".");
    }
  })();

  // ---- memory -------------------------------------------------------------------------
  (function memory() {
    var Mm = R.memory;
    if (Mm.missing) return missing("memory-view", Mm.missing);
    var legend = document.getElementById("memory-legend");
    Mm.parts.forEach(function (p, i) {
      var item = h("span", { "class": "legend-item" }, null, legend);
      h("span", { "class": "swatch mem-" + i }, null, item);
      h("span", {}, p, item);
    });
    var maxTotal = 1, maxCap = 1;
    Mm.devices.forEach(function (d) { maxTotal = Math.max(maxTotal, d.total); maxCap = Math.max(maxCap, d.capacity); });
    // Far below capacity the bars would be invisible: scale to the largest total and say so.
    var offScale = maxTotal < 0.25 * maxCap;
    var max = offScale ? maxTotal * 1.15 : Math.max(maxCap, maxTotal);
    if (offScale) h("p", { "class": "note", id: "memory-scale" }, "Every device uses less than a quarter of its capacity: the bars are scaled to the largest total, and the capacity lies beyond the right edge.", document.getElementById("memory-view"));
    var LABEL = 96, W = 720, H = 16, GAP = 6;
    var height = Mm.devices.length * (H + GAP) + 4;
    var svg = el("svg", { id: "memory-svg", width: LABEL + W + 260, height: height }, document.getElementById("memory-view"));
    Mm.devices.forEach(function (d, i) {
      var y = i * (H + GAP) + 2;
      var over = d.total > d.capacity;
      var g = el("g", { "class": "memory-row" + (over ? " over" : ""), "data-device": d.device, "data-total": d.total, "data-capacity": d.capacity }, svg);
      var lab = el("text", { x: 0, y: y + 12, "class": "row-label" }, g);
      lab.textContent = "device " + d.device;
      el("rect", { x: LABEL, y: y, width: Math.min(1, d.capacity / max) * W, height: H, "class": "capacity" }, g);
      var x = LABEL;
      d.parts.forEach(function (b, k) {
        if (b <= 0) return;
        var w = (b / max) * W;
        var r = el("rect", { x: x, y: y + 2, width: Math.max(0.5, w), height: H - 4, "class": "part mem-" + k }, g);
        var title = el("title", {}, r);
        title.textContent = Mm.parts[k] + ": " + bytes(b);
        x += w;
      });
      if (d.capacity <= max) el("line", { x1: LABEL + (d.capacity / max) * W, x2: LABEL + (d.capacity / max) * W, y1: y - 1, y2: y + H + 1, "class": "capacity-mark" }, g);
      var t = el("text", { x: LABEL + W + 8, y: y + 12, "class": over ? "over-text" : "" }, g);
      t.textContent = bytes(d.total) + " of " + bytes(d.capacity) + (over ? " \u2014 over capacity" : "");
    });
    table(document.getElementById("memory-table"), ["device"].concat(Mm.parts, ["total", "capacity"]), Mm.devices.map(function (d) {
      return [String(d.device)].concat(d.parts.map(bytes), [bytes(d.total), bytes(d.capacity)]);
    }));
  })();

  // ---- communication ------------------------------------------------------------------
  (function comm() {
    var C = R.comm;
    if (C.missing) return missing("comm-view", C.missing);
    var box = document.getElementById("comm-view");
    var classes = Object.keys(C.bytesByLinkClass).sort();
    h("p", {}, classes.length ? "Bytes moved per link class: " + classes.map(function (c) { return c + " " + bytes(C.bytesByLinkClass[c]); }).join(", ") + "." : "No bytes move between devices.", box);
    if (!C.edges.length) return;
    var t = table(box, ["kind", "from", "to", "bytes", "link time", "transfers", "devices"], C.edges.map(function (e) {
      return [e.kind === "allreduce" ? "all-reduce (weights)" : e.kind, e.from, e.to, bytes(e.bytes), sec(e.seconds), String(e.transfers), e.devices.join(", ")];
    }));
    t.setAttribute("id", "comm-table");
  })();

  // ---- comparison with data parallelism -----------------------------------------------
  (function comparison() {
    var C = R.comparison;
    if (C.missing) return missing("comparison-view", C.missing);
    var box = document.getElementById("comparison-view");
    if (C.note) h("p", { "class": "note" }, C.note, box);
    var X = C.result;
    if (!X) return;
    var ul = h("ul", { id: "why" }, null, box);
    X.why.forEach(function (w) { h("li", {}, w, ul); });
    table(box, ["", "data parallelism", R.strategy || "this strategy"], [
      ["iteration", sec(X.dpIterationTime), sec(X.iterationTime)],
      ["compute (summed over devices)", sec(X.dp.computeTime), sec(X.self.computeTime)],
      ["busiest device", sec(X.dp.busiest), sec(X.self.busiest)],
      ["link time", sec(X.dp.commTime), sec(X.self.commTime)],
      ["bytes moved", bytes(Object.keys(X.dp.bytes).reduce(function (a, k) { return a + X.dp.bytes[k]; }, 0)), bytes(Object.keys(X.self.bytes).reduce(function (a, k) { return a + X.self.bytes[k]; }, 0))],
    ]);
    if (X.changes.length) {
      h("h3", {}, "Strategy-wide differences", box);
      table(box, ["what", "data parallelism", "this strategy"], X.changes.map(function (c) { return [c.what, c.a, c.b + (c.detail ? " (" + c.detail.join("; ") + ")" : "")]; }));
    }
    function ops(title, list) {
      if (!list.length) return;
      h("h3", {}, title, box);
      table(box, ["op", "data parallelism", "this strategy", "saved", "\u0394 compute", "\u0394 communication", "\u0394 memory"], list.map(function (r) {
        return [r.op, r.dp, r.config, sec(Math.abs(r.saved)) + (r.saved < 0 ? " lost" : ""), (r.computeDelta < 0 ? "\u2212" : "+") + sec(Math.abs(r.computeDelta)), (r.commDelta < 0 ? "\u2212" : "+") + sec(Math.abs(r.commDelta)), (r.memoryDelta < 0 ? "\u2212" : "+") + bytes(Math.abs(r.memoryDelta))];
      }));
    }
    ops("Ops that gain the most", X.gains);
    ops("Ops that lose the most", X.losses);
  })();
  document.body.setAttribute("data-ready", "true");
})();
`;
