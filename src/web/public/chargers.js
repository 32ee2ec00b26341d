// Chargers: one row per EVSE of every station (connection to controller and CSMS, status, transaction, allocated
// limit and why, measured current, controllable), and a station's OCPP journal on demand.
import { api } from './api.js';
import { fmt, h, reasonText, setText, syncRows } from './dom.js';
import { needsText, openNeedsForm } from './needs.js';

const DIRECTIONS = {
  'station->csms': 'station → CSMS', 'csms->station': 'CSMS → station', 'controller->station': 'controller → station',
  'station->controller': 'station → controller', 'controller->csms': 'controller → CSMS',
};
const COLUMNS = ['Station', 'Connection', 'Status', 'Allocated limit', 'Measured', 'Controllable', ''];
const KINDS = { 0: 'unreadable', 2: 'CALL', 3: 'RESULT', 4: 'ERROR' };

export function mount(root) {
  const tbody = h('tbody', { id: 'chargers-body' });
  const journalCard = h('section', { class: 'card', id: 'journal', hidden: true, 'aria-labelledby': 'h-journal' });
  const needsCard = h('section', { class: 'card', id: 'needs', hidden: true, 'aria-labelledby': 'h-needs' });
  root.append(
    h('h1', { class: 'page-title' }, 'Chargers'),
    h('section', { class: 'card' },
      h('div', { class: 'table-wrap' },
        h('table', { class: 'chargers' },
          h('thead', {}, h('tr', {},
            ...COLUMNS.map((t) => h('th', { scope: 'col' }, t)))),
          tbody))),
    needsCard,
    journalCard,
  );
  // Each EVSE as the latest state has it, for the needs form.
  let lastEvses = new Map();

  async function openJournal(stationId) {
    const action = h('input', { id: 'journal-action', placeholder: 'Action, e.g. TransactionEvent', 'aria-label': 'Action' });
    const direction = h('select', { id: 'journal-direction', 'aria-label': 'Direction' },
      h('option', { value: '' }, 'all directions'), ...Object.entries(DIRECTIONS).map(([v, t]) => h('option', { value: v }, t)));
    const body = h('tbody');
    const note = h('p', { class: 'muted' });
    const load = async () => {
      const q = new URLSearchParams({ limit: '200' });
      if (action.value.trim()) q.set('action', action.value.trim());
      if (direction.value) q.set('direction', direction.value);
      try {
        const r = await api('GET', `/api/stations/${encodeURIComponent(stationId)}/journal?${q}`);
        setText(note, r.available ? `${r.entries.length} message${r.entries.length === 1 ? '' : 's'} (newest first, at most 200)` : 'The journal is not available.');
        body.replaceChildren(...r.entries.map((e) => h('tr', {},
          h('td', { class: 'nowrap' }, fmt.time(e.at)), h('td', { class: 'nowrap' }, DIRECTIONS[e.direction] ?? e.direction),
          h('td', {}, KINDS[e.kind] ?? String(e.kind)), h('td', {}, e.action ?? ''), h('td', { class: 'mono small' }, e.messageId ?? ''),
          h('td', { class: 'num' }, `${e.size} B`), h('td', { class: 'muted small' }, e.note ?? ''))));
      } catch (e) {
        setText(note, e.message);
      }
    };
    const form = h('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); load(); } },
      action, direction, h('button', { type: 'submit' }, 'Filter'),
      h('button', { type: 'button', class: 'ghost', onclick: () => { journalCard.hidden = true; } }, 'Close'));
    journalCard.replaceChildren(h('h2', { id: 'h-journal' }, `OCPP messages of ${stationId}`), form, note,
      h('div', { class: 'table-wrap' }, h('table', { class: 'journal' },
        h('thead', {}, h('tr', {}, ...['Time', 'Direction', 'Type', 'Action', 'Message id', 'Size', 'Note'].map((t) => h('th', { scope: 'col' }, t)))), body)));
    journalCard.hidden = false;
    await load();
    journalCard.scrollIntoView({ block: 'nearest' });
    action.focus();
  }

  /** Created once per EVSE row (focus stays on it across live updates); shown while a session runs there. */
  function needsButton(stationId, evseId) {
    const b = h('button', { type: 'button', class: 'ghost small needs-button', hidden: true, onclick: () => {
      const e = lastEvses.get(`${stationId}/${evseId}`);
      if (e?.transactionId) openNeedsForm(needsCard, stationId, e);
    } }, 'Enter needs');
    b.setAttribute('aria-label', `Needs of the session on ${stationId}${evseId > 1 ? ` EVSE ${evseId}` : ''}`);
    return b;
  }

  const emptyRow = h('tr', { class: 'empty' }, h('td', { colspan: COLUMNS.length },
    'No stations yet. A station shows up here once it connects to the controller or is listed under stations.list in the configuration.'));

  return {
    update(s) {
      lastEvses = new Map(s.stations.flatMap((st) => st.evses.map((e) => [`${st.id}/${e.id}`, e])));
      const rows = [];
      for (const st of s.stations) {
        const evses = st.evses.length ? st.evses : [null];
        evses.forEach((e, i) => rows.push({ st, e, first: i === 0, many: evses.length > 1 }));
      }
      if (!rows.length) {
        tbody.replaceChildren(emptyRow);
        return;
      }
      emptyRow.remove();
      syncRows(tbody, rows, (r) => `${r.st.id}/${r.e?.id ?? 0}`, (r) => {
        const cells = Array.from({ length: COLUMNS.length - 1 }, () => h('td'));
        const btn = h('button', { type: 'button', class: 'ghost small', onclick: () => openJournal(r.st.id) }, 'Messages');
        btn.setAttribute('aria-label', `OCPP messages of ${r.st.id}`);
        return h('tr', { class: 'charger-row', 'data-station': r.st.id }, ...cells,
          h('td', { class: 'right stack-buttons' }, r.first ? btn : '', needsButton(r.st.id, r.e?.id ?? 0)));
      }, (tr, { st, e, first, many }) => {
        const c = tr.cells;
        tr.classList.toggle('offline', !st.connected);
        // Station id once per station; the EVSE number only where a station has several.
        c[0].replaceChildren(first ? h('div', { class: 'station-id' }, st.id) : '',
          first ? h('div', { class: 'muted small protocol', title: 'OCPP version the station speaks' }, protocolText(st.protocol)) : '',
          first && clockText(st.clockOffsetS) ? h('div', { class: 'muted small station-clock', title: "The station's clock against the controller's, from its own timestamps; its limits are sent on its clock" }, clockText(st.clockOffsetS)) : '',
          ...(first ? controlLines(st.control) : []),
          many && e ? h('div', { class: 'muted small' }, `EVSE ${e.id}`) : '');
        c[1].replaceChildren(first ? h('div', { class: 'stack' },
          badge(st.connected, 'controller ✓', 'offline'),
          st.connected || st.upstreamConnected ? badge(st.upstreamConnected, 'CSMS ✓', st.queueLength ? `CSMS ✗ · ${st.queueLength} queued` : 'CSMS ✗') : null) : '');
        const needs = needsText(e?.needs);
        c[2].replaceChildren(h('div', {}, e?.status ?? (st.connected ? 'unknown' : '—')),
          e?.transactionId ? h('div', { class: 'mono small', title: 'Transaction' }, e.transactionId) : '',
          needs ? h('div', { class: 'small session-needs' }, needs) : '');
        const nb = tr.querySelector('.needs-button');
        nb.hidden = !e?.transactionId;
        setText(nb, e?.needs?.source === 'page' ? 'Change needs' : 'Enter needs');
        const limit = e?.limitA === null || e?.limitA === undefined ? null : `${e.limitA.toFixed(1)} A`;
        const why = reasonText(e);
        c[3].replaceChildren(limit ? h('div', { class: 'nowrap strong' }, limit) : h('span', { class: 'muted' }, e?.transactionId ? '—' : 'no session'),
          why ? h('div', { class: 'muted small' }, why) : '');
        const power = e?.measuredPowerW;
        c[4].replaceChildren(h('div', { class: 'phases' }, e?.measuredCurrentA ? fmt.phases(e.measuredCurrentA) : '—'),
          power !== null && power !== undefined && (power > 0 || e?.transactionId) ? h('div', { class: 'muted small' }, fmt.kw(power)) : '');
        const ctl = !e || !st.connected ? h('span', { class: 'muted' }, '—') : badge(e.controllable, 'yes', 'no');
        c[5].replaceChildren(ctl, e && !e.controllable && e.controllableReason && st.connected ? h('div', { class: 'muted small' }, e.controllableReason) : '');
      });
    },
  };
}

/** A station clock offset worth showing (1 s or more): 'clock 10 min ahead', 'clock 45 s behind'. */
function clockText(offsetS) {
  if (offsetS === null || offsetS === undefined || Math.abs(offsetS) < 1) return '';
  const a = Math.abs(offsetS);
  const amount = a < 120 ? `${Math.round(a)} s` : a < 7200 ? `${Math.round(a / 60)} min` : `${Math.round(a / 360) / 10} h`;
  return `clock ${amount} ${offsetS > 0 ? 'ahead' : 'behind'}`;
}

/** How the controller limits the station: what it supports, the fallbacks it needed, its reaction time, meter notes. */
function controlLines(c) {
  if (!c) return [];
  const lines = [];
  if (c.fixedReason) lines.push(h('div', { class: 'small warn-text station-fixed' }, `fixed load: ${c.fixedReason}`));
  else {
    const parts = [`limits in ${c.rateUnits.join('/')}`];
    if (c.maxStackLevel !== null) parts.push(`stack ≤ ${c.maxStackLevel}`);
    if (c.periodsPerSchedule !== null) parts.push(`${c.periodsPerSchedule} periods`);
    if (c.phaseSwitching) parts.push('1↔3 phases');
    if (c.phaseRotation) parts.push(c.phaseRotation);
    lines.push(h('div', { class: 'muted small station-supports', title: c.source === 'station' ? 'as the station said' : 'assumed (the station did not say)' }, parts.join(' · ')));
  }
  if (c.quirks.length) {
    const learned = new Set(c.learned);
    lines.push(h('div', { class: 'muted small station-fallbacks', title: 'Fallbacks in use (learned ones are marked *)' },
      `fallbacks: ${c.quirks.map((q) => (learned.has(q) ? `${q}*` : q)).join(', ')}`));
  }
  if (c.reactionMs !== null) lines.push(h('div', { class: 'muted small station-reaction', title: 'Measured time to follow a lower limit' }, `reacts in ${Math.round(c.reactionMs / 1000)} s`));
  if (c.meter?.note) lines.push(h('div', { class: 'muted small station-meter' }, `meter: ${c.meter.note}`));
  return lines;
}

/** 'ocpp1.6' → 'OCPP 1.6' (older servers send no protocol: 2.0.1). */
function protocolText(protocol) {
  return `OCPP ${(protocol ?? 'ocpp2.0.1').replace(/^ocpp/, '')}`;
}

function badge(ok, yes, no) {
  return h('span', { class: `badge ${ok ? 'ok' : 'warn'}` }, ok ? yes : no);
}
