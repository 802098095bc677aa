// vmsim explorer: the page's side of `vmsim serve`. Every number shown comes from the server's
// JSON API (the simulation runs in vmsim); this script only asks and draws. Text from the
// server is inserted with textContent only, never as markup.
'use strict';
window.__vmsimErrors = [];
window.addEventListener('error', (e) => window.__vmsimErrors.push(String(e.message)));
window.addEventListener('unhandledrejection', (e) => window.__vmsimErrors.push(String(e.reason)));

const $ = (id) => document.getElementById(id);
let machineId = null;
const history = [];
let shown = -1;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function status(text, isError) {
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'error' : '';
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({ error: 'the server sent no JSON' }));
  if (!res.ok) throw new Error(data.error || ('HTTP ' + res.status));
  return data;
}

const TLB_NAMES = { l1i: 'L1 instruction TLB', l1d: 'L1 data TLB', l2: 'L2 TLB' };
const LEVEL_NAMES = { pt: 'PT', pd: 'PD', pdpt: 'PDPT', pml4: 'PML4', pml5: 'PML5' };
const levelName = (l) => LEVEL_NAMES[l] || String(l).toUpperCase();

// The bits of an x86-64 paging entry, named as the SDM names them.
const PTE_BITS = [[0, 'P'], [1, 'RW'], [2, 'US'], [3, 'PWT'], [4, 'PCD'], [5, 'A'], [6, 'D'],
  [7, 'PS'], [8, 'G'], [63, 'NX']];

function bitsView(hex) {
  const span = el('span', null, 'bits');
  let v;
  try { v = BigInt(hex); } catch (_) { return span; }
  span.appendChild(document.createTextNode(' ['));
  PTE_BITS.forEach(([bit, name], i) => {
    const on = ((v >> BigInt(bit)) & 1n) === 1n;
    span.appendChild(el('span', (i ? ' ' : '') + name + '=' + (on ? 1 : 0), on ? 'bit-on' : ''));
  });
  const frame = (v >> 12n) & ((1n << 40n) - 1n);
  span.appendChild(document.createTextNode(' frame=0x' + frame.toString(16) + ']'));
  return span;
}

function hitText(hit) { return hit ? 'hit' : 'miss'; }

// One step of the access as a list item.
function stepItem(e) {
  const li = el('li');
  const say = (t, cls) => { li.textContent = t; if (cls) li.className = cls; };
  switch (e.event) {
    case 'access':
      say(e.kind + ' of ' + e.va + ' by process ' + e.pid + ' on CPU ' + e.cpu); break;
    case 'tlb_probe':
      say(TLB_NAMES[e.tlb] + ', ' + e.size + ' array ' + e.array + ': set ' + e.set + ' — ' +
        hitText(e.hit), e.hit ? 'hit' : 'miss'); break;
    case 'tlb_lookup':
      say(TLB_NAMES[e.tlb] + ': ' + hitText(e.hit), e.hit ? 'hit' : 'miss'); break;
    case 'pwc_probe':
      say('page-walk cache of ' + levelName(e.level) + ' entries: ' + hitText(e.hit),
        e.hit ? 'hit' : 'miss'); break;
    case 'walk_start':
      say('walk starts in the ' + levelName(e.level) + ' table, frame ' + e.table); break;
    case 'walk_read':
      say(levelName(e.level) + '[' + e.index + '] at ' + e.entry_addr + ' (table frame ' +
        e.table + ') = ' + e.pte);
      li.appendChild(bitsView(e.pte));
      break;
    case 'dirty_assist':
      say('the leaf entry\'s D bit is set (dirty assist)'); break;
    case 'fault': {
      const parts = ['fault: ' + e.kind.replace(/_/g, ' ')];
      if (e.walk_fault) parts.push(e.walk_fault.replace(/_/g, ' '));
      if (e.level) parts.push('at ' + levelName(e.level));
      if (e.cause) parts.push(typeof e.cause === 'string' ? e.cause : JSON.stringify(e.cause));
      say(parts.join(', '), 'fault');
      break;
    }
    case 'resolved': {
      let t = 'kernel: ' + e.kind.replace(/_/g, ' ');
      if (e.va) t += ' at ' + e.va;
      if (e.pfn) t += ', frame ' + e.pfn;
      if (e.from) t += ', copied frame ' + e.from + ' to ' + e.to;
      if (e.size) t += ' (' + e.size + ')';
      say(t, 'kernel');
      break;
    }
    case 'tlb_fill':
      say('fill ' + TLB_NAMES[e.tlb] + ' with a ' + e.size + ' entry' +
        (e.evicted ? ', evicting one' : '')); break;
    case 'done':
      say('physical address ' + e.pa + ' (' + e.size + ' page, ' + e.cycles + ' cycles)', 'done');
      break;
    default:
      say(JSON.stringify(e));
  }
  return li;
}

function show(i) {
  shown = i;
  const h = history[i];
  const access = h.accesses[0];
  $('result').hidden = false;
  $('access-title').textContent = (i + 1) + ' of ' + history.length + ' (' + access.kind + ')';
  $('history-pos').textContent = (i + 1) + ' / ' + history.length;
  $('back').disabled = i === 0;
  $('forward').disabled = i === history.length - 1;
  const first = access.events.find((e) => e.event === 'access');
  $('va-out').textContent = first ? first.va : String(access.va);
  $('split').textContent = h.split;
  const done = access.events.find((e) => e.event === 'done');
  const pa = $('pa');
  if (done) {
    pa.textContent = done.pa;
    pa.className = 'addr';
    $('cycles').textContent = String(done.cycles);
  } else {
    const last = [...access.events].reverse().find((e) => e.event === 'resolved' || e.event === 'fault');
    pa.textContent = 'none: ' + (last ? (last.kind || last.event).replace(/_/g, ' ') : 'no translation');
    pa.className = 'addr fault';
    $('cycles').textContent = '—';
  }
  const steps = $('steps');
  steps.replaceChildren(...access.events.map(stepItem));
  $('narration').textContent = h.narration;
}

function table(headers, rows, highlight) {
  const t = el('table');
  const tr = el('tr');
  headers.forEach((h) => tr.appendChild(el('th', h)));
  t.appendChild(tr);
  rows.forEach((r, i) => {
    const row = el('tr', null, highlight && highlight(i) ? 'new' : '');
    r.forEach((c) => row.appendChild(el('td', c)));
    t.appendChild(row);
  });
  return t;
}

function drawState(s) {
  $('cr3').textContent = s.cr3
    ? 'CR3: root table in frame ' + s.cr3.root + ', PCID ' + s.cr3.pcid +
      ' · processes ' + s.processes + ' (pids used here: ' + s.pids.join(', ') + ')' +
      ' · frames in use ' + s.frames_in_use
    : 'CR3 not loaded yet: no access has run.';
  const pt = $('page-tables');
  pt.replaceChildren(el('h3', 'Page-table pages per level (' + s.page_tables.total + ' in all)'),
    table(['level', 'table', 'pages'],
      s.page_tables.levels.map((l) => [l.level, l.name, l.pages])));
  const last = shown >= 0 ? history[shown].accesses[0] : null;
  const done = last && last.events.find((e) => e.event === 'done');
  const tlbs = $('tlbs');
  tlbs.replaceChildren();
  s.tlbs.forEach((t) => {
    const box = el('div');
    box.className = 'tlb';
    box.id = 'tlb-' + t.level;
    box.appendChild(el('h3', TLB_NAMES[t.level] + ': ' + t.len + ' of ' + t.capacity + ' entries'));
    const rows = t.entries.map((e) => [e.page, e.frame, e.size, e.pcid, e.global ? 'G' : '',
      (e.writable ? 'W' : '-') + (e.user ? 'U' : '-') + (e.no_execute ? 'NX' : 'X') + (e.dirty ? ' D' : '')]);
    const holds = (i) => {
      if (!done) return false;
      const e = t.entries[i];
      const size = { '4K': 12n, '2M': 21n, '1G': 30n }[e.size];
      if (size === undefined) return false;
      try { return (BigInt(last.va) >> size) === (BigInt(e.page) >> size); } catch (_) { return false; }
    };
    box.appendChild(table(['page', 'frame', 'size', 'PCID', 'G', 'rights'], rows, holds));
    tlbs.appendChild(box);
  });
}

async function refreshState() {
  if (!machineId) return;
  drawState(await api('GET', '/api/machine/' + machineId + '/state'));
}

async function newMachine(body) {
  status('building the machine…');
  const m = await api('POST', '/api/machine', body);
  machineId = m.id;
  history.length = 0;
  shown = -1;
  $('result').hidden = true;
  $('machine-line').textContent = m.machine + ' — ' + m.description + ' (' + m.kernel + ' kernel)';
  await refreshState();
  status('ready: type an address and press Translate');
}

async function translate() {
  const body = { va: $('va').value.trim(), kind: $('kind').value, pid: Number($('pid').value) };
  status('translating…');
  const t0 = performance.now();
  const r = await api('POST', '/api/machine/' + machineId + '/access', body);
  history.push(r);
  show(history.length - 1);
  await refreshState();
  const ms = performance.now() - t0;
  document.body.dataset.lastMs = ms.toFixed(1);
  status('translated in ' + ms.toFixed(1) + ' ms (request to render)');
  document.body.dataset.translated = String(history.length);
}

function guard(f) {
  return (ev) => {
    if (ev) ev.preventDefault();
    f().catch((e) => status(e.message, true));
  };
}

async function init() {
  const presets = await api('GET', '/api/presets');
  const sel = $('preset');
  presets.forEach((p) => {
    const o = el('option', p.name + ' — ' + p.description);
    o.value = p.name;
    sel.appendChild(o);
  });
  $('machine-form').addEventListener('submit', guard(() => newMachine({ preset: sel.value })));
  $('use-toml').addEventListener('click', guard(() => newMachine({ toml: $('toml').value })));
  $('access-form').addEventListener('submit', guard(translate));
  $('back').addEventListener('click', () => { if (shown > 0) { show(shown - 1); } });
  $('forward').addEventListener('click', () => { if (shown < history.length - 1) { show(shown + 1); } });
  await newMachine({ preset: sel.value });
  document.body.dataset.ready = 'true';
}

document.addEventListener('DOMContentLoaded', guard(init));
