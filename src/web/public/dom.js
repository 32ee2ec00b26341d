// Tiny DOM helpers: every value from the server goes in as text, never as HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function setText(el, text) {
  const t = text === null || text === undefined ? '—' : String(text);
  if (el.textContent !== t) el.textContent = t;
}

export const fmt = {
  a: (v) => (v === null || v === undefined ? '—' : `${Number(v).toFixed(1)} A`),
  kw: (w) => (w === null || w === undefined ? '—' : `${(w / 1000).toFixed(1)} kW`),
  kwh: (wh) => (wh === null || wh === undefined ? '—' : `${(wh / 1000).toFixed(2)} kWh`),
  pct: (v) => (v === null || v === undefined ? '—' : `${Math.round(v)} %`),
  time: (t) => (t ? new Date(t).toLocaleString() : '—'),
  clock: (t) => (t ? new Date(t).toLocaleTimeString() : '—'),
  duration: (s) => {
    if (s === null || s === undefined) return '—';
    const hh = Math.floor(s / 3600);
    const mm = Math.floor((s % 3600) / 60);
    return hh ? `${hh} h ${String(mm).padStart(2, '0')} min` : `${mm} min`;
  },
  phases: (v) => (Array.isArray(v) ? v.map((x) => Number(x).toFixed(1)).join(' / ') + ' A' : '—'),
};

/** Keeps one row per key in a tbody, creating rows once and updating only what changed (focus stays put). */
export function syncRows(tbody, items, key, create, update) {
  const existing = new Map([...tbody.rows].map((r) => [r.dataset.key, r]));
  let prev = null;
  for (const item of items) {
    const k = key(item);
    let row = existing.get(k);
    if (!row) {
      row = create(item);
      row.dataset.key = k;
    }
    existing.delete(k);
    update(row, item);
    const want = prev ? prev.nextSibling : tbody.firstChild;
    if (want !== row) tbody.insertBefore(row, want);
    prev = row;
  }
  for (const r of existing.values()) r.remove();
}

/** Why the control loop gave an EVSE its limit (EvseState.reason), in the manager's words. */
export const REASONS = {
  max: 'at its maximum', 'node-limit': 'circuit limit', 'power-limit': 'power limit', 'fair-share': 'fair share',
  ramp: 'ramping up', hysteresis: 'held (hysteresis)', 'paused-rotation': 'paused (rotation)',
  'paused-no-capacity': 'paused (no capacity)', 'pv-limited': 'solar surplus', 'peak-shaving': 'peak shaving',
  'tariff-wait': 'waiting for tariff', 'not-controllable': 'not controllable',
};

/** The reason for an allocation with the node that bounds it ("site limit", "circuit limit · boardA"). */
export function reasonText(e) {
  if (!e?.reason) return '';
  if (e.reason === 'node-limit' && (e.limitedBy === 'site' || !e.limitedBy)) return 'site limit';
  return `${REASONS[e.reason] ?? e.reason}${e.limitedBy ? ` · ${e.limitedBy}` : ''}`;
}
