// vmsim report: draws every table and chart of the page from the JSON in #vmsim-data.
// Strings from the data enter the page only through textContent and setAttribute, never as
// markup. Nothing is fetched.
"use strict";

// Errors are collected (the browser tests read them) and shown at the top of the page.
window.__vmsimErrors = [];
function reportError(message) {
  window.__vmsimErrors.push(String(message));
  const box = document.getElementById("errors");
  if (box) {
    box.hidden = false;
    box.textContent = "Some parts of this report could not be drawn: " + window.__vmsimErrors.join("; ");
  }
}
window.addEventListener("error", (e) => reportError(e.message));
// The page's policy forbids every load; an attempt is an error of the page.
document.addEventListener("securitypolicyviolation", (e) => reportError("blocked a load of " + e.blockedURI));

// The SVG namespace, taken from an <svg> element the HTML parser made.
const SVG_NS = document.getElementById("svg-ns").namespaceURI;
const PALETTE = ["#1f6fb5", "#d1495b", "#2a9d55", "#8e5ac8", "#e08a1e", "#6b4f3a", "#17a2b8"];
const DASHES = ["", "7 4", "2 3", "10 3 2 3"];
const W = 760, H = 330, M = { left: 78, right: 20, top: 16, bottom: 56 };

// ---------- elements and numbers ----------

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function sv(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

function int(n) {
  return Number(n).toLocaleString("en-US", { maximumFractionDigits: 0 });
}

function num(n, digits) {
  return Number(n).toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function pct(r) {
  return num(r * 100, 2) + " %";
}

// A number for an axis tick: 1.5k, 2M, 0.25.
function short(v) {
  const a = Math.abs(v);
  const trim = (x) => String(Number(x.toPrecision(3)));
  if (a >= 1e9) return trim(v / 1e9) + "G";
  if (a >= 1e6) return trim(v / 1e6) + "M";
  if (a >= 1e4) return trim(v / 1e3) + "k";
  if (a === 0 || a >= 1) return trim(v);
  return trim(v);
}

// KiB as the largest binary unit that keeps the number at least 1.
function kib(k) {
  if (k >= 1024 * 1024) return num(k / (1024 * 1024), 2) + " GiB";
  if (k >= 1024) return num(k / 1024, 2) + " MiB";
  return int(k) + " KiB";
}

function pageBytes(name) {
  const m = /^(\d+)([KMG])$/.exec(name || "");
  if (!m) return 4096;
  return Number(m[1]) * { K: 1024, M: 1024 * 1024, G: 1024 * 1024 * 1024 }[m[2]];
}

function niceStep(span, count) {
  const raw = span / Math.max(1, count);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

// Ticks a nice step apart from lo; with `cover`, up to the first tick at or above hi (so the
// axis can end there), else up to hi.
function linearTicks(lo, hi, count, cover) {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, count);
  const end = cover ? Math.ceil(hi / step - 1e-9) * step : hi;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= end + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function logTicks(lo, hi) {
  const out = [];
  const first = Math.floor(Math.log10(Math.max(lo, 1e-12)));
  const decades = Math.log10(hi) - Math.log10(lo);
  const mults = decades < 2.5 ? [1, 2, 5] : [1];
  for (let e = first; Math.pow(10, e) <= hi; e++) {
    for (const m of mults) {
      const v = m * Math.pow(10, e);
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

// ---------- hover ----------

const tip = document.getElementById("tip");
function showTip(evt, lines) {
  tip.textContent = lines.join("\n");
  tip.hidden = false;
  const x = Math.min(evt.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
  const y = Math.min(evt.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
  tip.style.left = Math.max(4, x) + "px";
  tip.style.top = Math.max(4, y) + "px";
}
function hideTip() {
  tip.hidden = true;
}

// ---------- chart frame: axes, grid, legend ----------

function frame(opts) {
  const svg = sv("svg", {
    class: "chart",
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": opts.title,
  });
  svg.appendChild(sv("title", {}, opts.title));
  return svg;
}

function legend(items) {
  const box = el("div", { class: "legend" });
  items.forEach((it) => {
    const item = el("span", {});
    const key = el("span", { class: it.bar ? "box" : "key" });
    if (it.bar) key.style.background = it.color;
    else {
      key.style.borderTopColor = it.color;
      key.style.borderTopStyle = it.dash ? "dashed" : "solid";
    }
    item.appendChild(key);
    item.appendChild(document.createTextNode(it.name));
    box.appendChild(item);
  });
  return box;
}

function axes(svg, xTicks, yTicks, xPos, yPos, xFmt, yFmt, xLabel, yLabel) {
  const x0 = M.left, x1 = W - M.right, y0 = H - M.bottom, y1 = M.top;
  for (const t of yTicks) {
    const y = yPos(t);
    svg.appendChild(sv("line", { class: "grid", x1: x0, x2: x1, y1: y, y2: y }));
    svg.appendChild(sv("text", { x: x0 - 6, y: y + 4, "text-anchor": "end" }, yFmt(t)));
  }
  for (const t of xTicks) {
    const x = xPos(t);
    svg.appendChild(sv("line", { class: "axis", x1: x, x2: x, y1: y0, y2: y0 + 5 }));
    svg.appendChild(sv("text", { x: x, y: y0 + 19, "text-anchor": "middle" }, xFmt(t)));
  }
  svg.appendChild(sv("line", { class: "axis", x1: x0, x2: x1, y1: y0, y2: y0 }));
  svg.appendChild(sv("line", { class: "axis", x1: x0, x2: x0, y1: y0, y2: y1 }));
  svg.appendChild(sv("text", { class: "label", x: (x0 + x1) / 2, y: H - 12, "text-anchor": "middle" }, xLabel));
  svg.appendChild(
    sv("text", { class: "label", transform: `translate(16 ${(y0 + y1) / 2}) rotate(-90)`, "text-anchor": "middle" }, yLabel)
  );
}

// Nearest index to x in an increasing array.
function nearest(xs, x) {
  let lo = 0, hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  return Math.abs(xs[hi] - x) < Math.abs(xs[lo] - x) ? hi : lo;
}

// A line chart. opts: title, series [{name, xs, ys}], xLabel, yLabel, xFmt, yFmt (ticks),
// xTip, yTip (hover), logX, yMin, yMax.
function lineChart(opts) {
  const svg = frame(opts);
  const all = opts.series.filter((s) => s.xs.length > 0);
  const xsAll = all.flatMap((s) => [s.xs[0], s.xs[s.xs.length - 1]]);
  let xLo = Math.min(...xsAll), xHi = Math.max(...xsAll);
  if (opts.logX) xLo = Math.max(xLo, 1);
  if (xHi <= xLo) xHi = xLo + 1;
  let yLo = opts.yMin !== undefined ? opts.yMin : Math.min(0, ...all.flatMap((s) => s.ys));
  let yHi = opts.yMax !== undefined ? opts.yMax : Math.max(...all.flatMap((s) => s.ys));
  if (!(yHi > yLo)) yHi = yLo + 1;
  const yt = linearTicks(yLo, yHi, 5, true);
  yHi = Math.max(yHi, yt[yt.length - 1]);
  const x0 = M.left, x1 = W - M.right, y0 = H - M.bottom, y1 = M.top;
  const lx = (v) => (opts.logX ? Math.log10(Math.max(v, xLo)) : v);
  const xPos = (v) => x0 + ((lx(v) - lx(xLo)) / (lx(xHi) - lx(xLo))) * (x1 - x0);
  const yPos = (v) => y0 - ((v - yLo) / (yHi - yLo)) * (y0 - y1);
  const xt = opts.logX ? logTicks(xLo, xHi) : linearTicks(xLo, xHi, 7);
  axes(svg, xt, yt, xPos, yPos, opts.xFmt || short, opts.yFmt || short, opts.xLabel, opts.yLabel);
  const styled = all.map((s, i) => ({ ...s, color: PALETTE[i % PALETTE.length], dash: DASHES[i % DASHES.length] }));
  for (const s of styled) {
    let d = "";
    for (let i = 0; i < s.xs.length; i++) {
      d += (i ? "L" : "M") + xPos(s.xs[i]).toFixed(1) + " " + yPos(s.ys[i]).toFixed(1);
    }
    const path = sv("path", { class: "series", d: d, stroke: s.color, "data-points": s.xs.length });
    if (s.dash) path.setAttribute("stroke-dasharray", s.dash);
    path.appendChild(sv("title", {}, s.name));
    svg.appendChild(path);
  }
  // Hover: a cursor line and a marker per series at the nearest sample.
  const cursor = sv("line", { class: "cursor", y1: y1, y2: y0, visibility: "hidden" });
  svg.appendChild(cursor);
  const markers = styled.map((s) => {
    const m = sv("circle", { class: "marker", r: 4, fill: s.color, visibility: "hidden" });
    svg.appendChild(m);
    return m;
  });
  const overlay = sv("rect", { x: x0, y: y1, width: x1 - x0, height: y0 - y1, fill: "transparent" });
  svg.appendChild(overlay);
  overlay.addEventListener("mousemove", (evt) => {
    const box = svg.getBoundingClientRect();
    const px = ((evt.clientX - box.left) / box.width) * W;
    const frac = (px - x0) / (x1 - x0);
    const xv = opts.logX
      ? Math.pow(10, lx(xLo) + frac * (lx(xHi) - lx(xLo)))
      : xLo + frac * (xHi - xLo);
    const lines = [];
    styled.forEach((s, i) => {
      const k = nearest(s.xs, xv);
      if (i === 0) {
        lines.push((opts.xTip || short)(s.xs[k]));
        cursor.setAttribute("x1", xPos(s.xs[k]));
        cursor.setAttribute("x2", xPos(s.xs[k]));
        cursor.setAttribute("visibility", "visible");
      }
      markers[i].setAttribute("cx", xPos(s.xs[k]));
      markers[i].setAttribute("cy", yPos(s.ys[k]));
      markers[i].setAttribute("visibility", "visible");
      lines.push(s.name + ": " + (opts.yTip || short)(s.ys[k]));
    });
    showTip(evt, lines);
  });
  overlay.addEventListener("mouseleave", () => {
    cursor.setAttribute("visibility", "hidden");
    markers.forEach((m) => m.setAttribute("visibility", "hidden"));
    hideTip();
  });
  return { svg, legend: legend(styled) };
}

// A grouped bar chart. opts: title, categories, series [{name, values, tips?}], yLabel,
// yFmt (ticks), yTip (hover), yMax.
function barChart(opts) {
  const svg = frame(opts);
  const x0 = M.left, x1 = W - M.right, y0 = H - M.bottom, y1 = M.top;
  let yHi = opts.yMax !== undefined ? opts.yMax : Math.max(1, ...opts.series.flatMap((s) => s.values));
  const yt = linearTicks(0, yHi, 5, true);
  yHi = Math.max(yHi, yt[yt.length - 1]);
  const yPos = (v) => y0 - (v / yHi) * (y0 - y1);
  const band = (x1 - x0) / opts.categories.length;
  const xPos = (i) => x0 + band * (i + 0.5);
  axes(svg, [], yt, () => 0, yPos, short, opts.yFmt || short, opts.xLabel || "", opts.yLabel);
  opts.categories.forEach((c, i) => {
    svg.appendChild(sv("text", { x: xPos(i), y: y0 + 19, "text-anchor": "middle" }, c));
  });
  const n = opts.series.length;
  const inner = Math.min(band * 0.8, 60 * n);
  const styled = opts.series.map((s, j) => ({ ...s, color: PALETTE[j % PALETTE.length], bar: true }));
  styled.forEach((s, j) => {
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      const x = xPos(i) - inner / 2 + (inner / n) * j;
      const r = sv("rect", {
        class: "bar",
        x: x.toFixed(1),
        y: yPos(v).toFixed(1),
        width: Math.max(1, inner / n - 2).toFixed(1),
        height: Math.max(0, y0 - yPos(v)).toFixed(1),
        fill: s.color,
        "data-value": v,
      });
      const lines = [opts.categories[i], s.name + ": " + (opts.yTip || short)(v)].concat(s.tips ? s.tips[i] || [] : []);
      r.appendChild(sv("title", {}, lines.join("\n")));
      r.addEventListener("mousemove", (evt) => showTip(evt, lines));
      r.addEventListener("mouseleave", hideTip);
      svg.appendChild(r);
    });
  });
  return { svg, legend: legend(styled) };
}

// Puts a chart, its legend and a caption into a section.
function place(id, chart, caption) {
  const fig = el("figure", {});
  if (chart) {
    fig.appendChild(chart.legend);
    fig.appendChild(chart.svg);
  }
  if (caption) fig.appendChild(el("figcaption", {}, caption));
  document.getElementById(id).appendChild(fig);
}

function note(id, text) {
  document.getElementById(id).appendChild(el("p", { class: "note" }, text));
}

// ---------- the report ----------

function summary(d) {
  const r = d.run;
  const rows = [];
  const row = (k, v) => rows.push([k, v]);
  row("Trace", r.trace);
  row("Machine", `${r.machine}, ${r.cpus.length} CPU${r.cpus.length === 1 ? "" : "s"}, page size ${r.page_size}`);
  row("Kernel model", r.kernel + (r.reclaim.policy ? ` (${r.reclaim.policy} reclaim)` : ""));
  row("Records replayed", int(r.records));
  row(
    "Accesses",
    `${int(r.accesses)} (read ${int(r.by_kind.read)}, write ${int(r.by_kind.write)}, fetch ${int(r.by_kind.fetch)})`
  );
  row("Processes", `${int(r.processes)}; ${int(r.context_switches)} context switches`);
  for (const [name, t] of Object.entries(r.tlb)) {
    row(`TLB ${name}`, `${int(t.hits)} hits, ${int(t.misses)} misses, hit ratio ${pct(t.hit_ratio)}`);
  }
  const perWalk = r.walks ? r.walk_memory_refs / r.walks : 0;
  row("Page walks", `${int(r.walks)}; ${int(r.walk_memory_refs)} memory references (${num(perWalk, 2)} per walk)`);
  row("Page-walk-cache hits", `${int(r.pwc_hits)} (walks with no hit: ${int(r.pwc_misses)})`);
  const f = r.faults;
  row(
    "Faults",
    `${int(f.total)} (minor ${int(f.minor)}, major ${int(f.major)}, copy-on-write ${int(f.cow)}, segv ${int(f.segv)}); dirty-bit assists ${int(r.dirty_assists)}`
  );
  if (r.kernel === "linux") {
    row("Swap", `${int(r.swap.ins)} pages in, ${int(r.swap.outs)} out; ${int(r.swap.used_pages)} of ${int(r.swap.total_pages)} slots used`);
    row(
      "Reclaim",
      `${int(r.reclaim.scanned)} pages scanned, ${int(r.reclaim.stolen)} reclaimed (${int(r.reclaim.direct)} direct, ${int(r.reclaim.background)} by kswapd), ${int(r.reclaim.writebacks)} written back`
    );
    row("OOM kills, TLB shootdowns", `${int(r.oom_kills)}, ${int(r.tlb_shootdowns)}`);
    row(
      "Readahead, page cache",
      `${int(r.readahead.pages)} pages read ahead (${int(r.readahead.hits)} used); ${int(r.page_cache.hits)} page-cache hits, ${int(r.page_cache.file_reads)} file reads`
    );
    row("Transparent huge pages", `${int(r.thp.allocs)} allocated, ${int(r.thp.splits)} split`);
    const t = r.thrashing;
    row(
      "Thrashing",
      t.flagged
        ? `yes: ${int(t.thrashing_windows)} of ${int(t.windows)} windows of ${int(t.window_accesses)} accesses had major faults on more than ${num(t.major_fault_rate_threshold * 100, 0)} % of accesses`
        : `no (${int(t.windows)} windows of ${int(t.window_accesses)} accesses)`
    );
  }
  const p = r.page_table_pages;
  row(
    "Page-table pages",
    `${int(p.pml5 + p.pml4 + p.pdpt + p.pd + p.pt)} (PML5 ${int(p.pml5)}, PML4 ${int(p.pml4)}, PDPT ${int(p.pdpt)}, PD ${int(p.pd)}, PT ${int(p.pt)}): ${kib(r.page_table_bytes / 1024)}`
  );
  row("Data frames", `${int(r.data_frames)}`);
  row("Average translation cost", `${num(r.avg_translation_cycles, 2)} cycles per access (${int(r.cycles)} cycles in all)`);
  const pa = d.pages;
  row(
    "Trace's pages",
    `${int(pa.references)} references to ${int(pa.footprint)} distinct ${pa.page_size} pages (${kib((pa.footprint * pageBytes(pa.page_size)) / 1024)})`
  );
  const table = document.getElementById("summary-table");
  for (const [k, v] of rows) {
    const tr = el("tr", {});
    tr.appendChild(el("th", { scope: "row" }, k));
    tr.appendChild(el("td", {}, v));
    table.appendChild(tr);
  }
  document.getElementById("summary-text").textContent = d.summary_text;
}

function tlbChart(r) {
  const levels = Object.keys(r.tlb);
  const sizes = [...new Set(levels.flatMap((l) => Object.keys(r.tlb[l].by_size)))];
  const series = [{ name: "all sizes", values: levels.map((l) => r.tlb[l].hit_ratio * 100) }];
  series[0].tips = levels.map((l) => [`${int(r.tlb[l].hits)} hits, ${int(r.tlb[l].misses)} misses`]);
  for (const s of sizes) {
    const hm = levels.map((l) => r.tlb[l].by_size[s]);
    series.push({
      name: s === "other" ? "size unknown (faulted)" : `${s} pages`,
      values: hm.map((x) => (x ? (x.hits / Math.max(1, x.hits + x.misses)) * 100 : null)),
      tips: hm.map((x) => (x ? [`${int(x.hits)} hits, ${int(x.misses)} misses`] : [])),
    });
  }
  const chart = barChart({
    title: "TLB hit ratio per level and page size",
    categories: levels.map((l) => ({ l1d: "L1 data", l1i: "L1 instruction", l2: "L2 (shared)" }[l] || l)),
    series,
    yMax: 100,
    yLabel: "hit ratio (%)",
    yFmt: (v) => short(v),
    yTip: (v) => num(v, 2) + " %",
  });
  place("tlb", chart, "Hits ÷ (hits + misses) of each TLB, for all its entries and per page size; misses whose translation faulted count under \"size unknown\".");
}

function faultChart(r) {
  const f = r.faults;
  const kinds = [
    ["not present", f.not_present],
    ["protection", f.protection],
    ["minor", f.minor],
    ["major", f.major],
    ["copy-on-write", f.cow],
    ["COW reuse", f.cow_reuse],
    ["stack growth", f.stack_growth],
    ["segv", f.segv],
  ];
  const chart = barChart({
    title: "Faults by kind",
    categories: kinds.map((k) => k[0]),
    series: [{ name: "faults", values: kinds.map((k) => k[1]) }],
    yLabel: "faults",
    yTip: int,
  });
  place(
    "faults",
    chart,
    `${int(f.total)} faults in all: "not present" and "protection" are what the MMU raised; minor, major, copy-on-write and the rest are what the ${r.kernel} kernel made of them.`
  );
}

function freeChart(r) {
  const ys = r.free_kib_over_time;
  if (ys.length === 0) {
    note("free", `No sample: the run was shorter than one window of ${int(r.thrashing.window_accesses)} accesses.`);
    return;
  }
  const spacing = (r.thrashing.windows / ys.length) * r.thrashing.window_accesses;
  const xs = ys.map((_, i) => (i + 1) * spacing);
  const top = Math.max(...ys);
  const [unit, per] = top >= 4 * 1024 * 1024 ? ["GiB", 1024 * 1024] : top >= 4 * 1024 ? ["MiB", 1024] : ["KiB", 1];
  const chart = lineChart({
    title: "Free memory over time",
    series: [{ name: "free memory", xs, ys: ys.map((k) => k / per) }],
    xLabel: "accesses replayed",
    yLabel: `free memory (${unit})`,
    yMin: 0,
    xTip: (v) => `after about ${int(v)} accesses`,
    yTip: (v) => kib(v * per),
  });
  const thinned = ys.length < r.thrashing.windows ? `, thinned evenly to ${int(ys.length)} samples of ${int(r.thrashing.windows)} windows (down-sampled)` : "";
  place(
    "free",
    chart,
    `Free physical memory at the end of each window of ${int(r.thrashing.window_accesses)} accesses${thinned}. With the Linux-like kernel, reclaim keeps it between the watermarks once memory runs short.`
  );
}

function mrcChart(p) {
  const m = p.mrc;
  const series = [{ name: "LRU (exact, whole trace)", xs: m.frames, ys: m.lru.map((v) => v * 100) }];
  const optName = m.opt_capped ? `OPT (first ${int(m.opt_references)} references)` : "OPT";
  series.push({ name: optName, xs: m.frames, ys: m.opt.map((v) => v * 100) });
  if (m.lru_prefix) {
    series.push({ name: `LRU (first ${int(m.opt_references)} references)`, xs: m.frames, ys: m.lru_prefix.map((v) => v * 100) });
  }
  const bytes = pageBytes(p.page_size);
  const chart = lineChart({
    title: "Miss-ratio curves",
    series,
    logX: m.frames[m.frames.length - 1] > 16,
    xLabel: `memory (frames of ${p.page_size}, log scale)`,
    yLabel: "miss ratio (%)",
    yMin: 0,
    yMax: 100,
    xTip: (v) => `${int(v)} frames (${kib((v * bytes) / 1024)})`,
    yTip: (v) => num(v, 2) + " %",
  });
  const cap = m.opt_capped
    ? ` OPT needs the future and costs up to the footprint per reference, so it was computed over the first ${int(m.opt_references)} of ${int(p.references)} references only; LRU over the same prefix is drawn dashed for a like-for-like comparison.`
    : "";
  place(
    "mrc",
    chart,
    `The share of the trace's ${int(p.references)} page references that miss in a memory of each size, for LRU (Mattson's stack distances) and Belady's OPT; ${int(p.footprint)} distinct pages, so every curve ends at the cold misses.${cap}`
  );
}

function wsChart(p) {
  const w = p.working_set;
  if (w.at.length === 0) {
    note("ws", "The trace holds no page references.");
    return;
  }
  const bytes = pageBytes(p.page_size);
  const chart = lineChart({
    title: "Working-set size over time",
    series: [{ name: `|W(t, ${int(w.window)})|`, xs: w.at, ys: w.size }],
    xLabel: "page references (t)",
    yLabel: `working set (${p.page_size} pages)`,
    yMin: 0,
    xTip: (v) => `reference ${int(v)}`,
    yTip: (v) => `${int(v)} pages (${kib((v * bytes) / 1024)})`,
  });
  const sampled = w.step > 1 ? ` Down-sampled: one point every ${int(w.step)} references (${int(w.at.length)} points).` : "";
  place(
    "ws",
    chart,
    `Denning's working set: the distinct pages among the last ${int(w.window)} references, at each time. Peak ${int(w.peak)} pages (${kib((w.peak * bytes) / 1024)}).${sampled}`
  );
}

function tableChart(r) {
  const p = r.page_table_pages;
  const levels = [["PML5", p.pml5], ["PML4", p.pml4], ["PDPT", p.pdpt], ["PD", p.pd], ["PT", p.pt]].filter(
    (l, i) => i > 0 || l[1] > 0
  );
  const chart = barChart({
    title: "Page-table pages per level",
    categories: levels.map((l) => l[0]),
    series: [{ name: "table pages (4 KiB each)", values: levels.map((l) => l[1]) }],
    yLabel: "table pages",
    yTip: (v) => `${int(v)} (${kib(v * 4)})`,
  });
  place("tables", chart, `${kib(r.page_table_bytes / 1024)} of page tables in all processes at the end of the run, from the root (PML4${p.pml5 ? " under PML5" : ""}) down to the page tables (PT) that map ${r.page_size} pages.`);
}

const MAX_PROCS = 20;
function procChart(r) {
  const procs = r.process_memory;
  if (procs.length === 0) {
    note("procs", `The ${r.kernel} kernel keeps no per-process memory accounting (the Linux-like kernel does).`);
    return;
  }
  const rss = (q) => q.rss_anon_kib + q.rss_file_kib + q.rss_shmem_kib;
  const shown = procs.slice().sort((a, b) => rss(b) - rss(a)).slice(0, MAX_PROCS);
  const parts = [
    ["anonymous", "rss_anon_kib"],
    ["file", "rss_file_kib"],
    ["shmem", "rss_shmem_kib"],
    ["swap", "swap_kib"],
    ["page tables", "page_table_kib"],
  ];
  const chart = barChart({
    title: "Memory of each process",
    categories: shown.map((q) => `pid ${q.pid}`),
    series: parts.map(([name, key]) => ({
      name,
      values: shown.map((q) => q[key]),
      tips: shown.map((q) => [`VSZ ${kib(q.vsz_kib)}`, `faults: minor ${int(q.stats.minor_faults)}, major ${int(q.stats.major_faults)}`]),
    })),
    yLabel: "KiB",
    yTip: (v) => kib(v),
  });
  const more = procs.length > shown.length ? ` The ${MAX_PROCS} largest of ${int(procs.length)} processes by resident memory.` : "";
  place("procs", chart, `Resident memory by kind, swap and page tables of each process at the end of the run.${more}`);
  const table = el("table", { class: "data" });
  const head = el("tr", {});
  ["process", "VSZ", "anonymous", "file", "shmem", "swap", "page tables", "minor faults", "major faults", "COW copies"].forEach((h) =>
    head.appendChild(el("th", { scope: "col" }, h))
  );
  table.appendChild(head);
  for (const q of shown) {
    const tr = el("tr", {});
    [
      `pid ${q.pid}`,
      kib(q.vsz_kib),
      kib(q.rss_anon_kib),
      kib(q.rss_file_kib),
      kib(q.rss_shmem_kib),
      kib(q.swap_kib),
      kib(q.page_table_kib),
      int(q.stats.minor_faults),
      int(q.stats.major_faults),
      int(q.stats.cow_copies),
    ].forEach((c) => tr.appendChild(el("td", {}, c)));
    table.appendChild(tr);
  }
  document.getElementById("procs").appendChild(table);
}

function draw() {
  const d = JSON.parse(document.getElementById("vmsim-data").textContent);
  const r = d.run;
  document.title = `vmsim report: ${r.trace} on ${r.machine}`;
  document.getElementById("subtitle").textContent = `${r.trace} on ${r.machine} (${r.kernel} kernel, ${r.page_size} pages)`;
  document.getElementById("generator").textContent = `Made by ${d.generator}. Every figure comes from the run's JSON embedded in this page (the same as vmsim run --json prints); the page loads nothing from the network.`;
  document.getElementById("machine-toml").textContent = d.machine_toml;
  const parts = [
    () => summary(d),
    () => tlbChart(r),
    () => faultChart(r),
    () => freeChart(r),
    () => mrcChart(d.pages),
    () => wsChart(d.pages),
    () => tableChart(r),
    () => procChart(r),
  ];
  for (const part of parts) {
    try {
      part();
    } catch (e) {
      reportError(e && e.message ? e.message : e);
    }
  }
}

window.addEventListener("beforeprint", () => {
  document.querySelectorAll("details").forEach((x) => {
    x.open = true;
  });
});

try {
  draw();
} catch (e) {
  reportError(e && e.message ? e.message : e);
}
document.body.setAttribute("data-rendered", "true");
