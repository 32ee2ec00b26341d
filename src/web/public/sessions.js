// Sessions: active and past charging sessions (energy, duration, average power, masked idToken), CSV export.
import { api } from './api.js';
import { fmt, h, setText } from './dom.js';

export function mount(root) {
  const stateSel = h('select', { id: 'sessions-state', 'aria-label': 'Which sessions' },
    h('option', { value: 'all' }, 'All sessions'), h('option', { value: 'active' }, 'Active'), h('option', { value: 'past' }, 'Finished'));
  const station = h('input', { id: 'sessions-station', placeholder: 'Station id', 'aria-label': 'Station' });
  const csv = h('a', { class: 'button ghost', id: 'sessions-csv', href: '/api/sessions.csv', download: 'sessions.csv' }, 'Export CSV');
  const body = h('tbody', { id: 'sessions-body' });
  const note = h('p', { class: 'muted' });
  const query = () => {
    const q = new URLSearchParams({ state: stateSel.value });
    if (station.value.trim()) q.set('station', station.value.trim());
    return q;
  };
  const load = async () => {
    csv.href = `/api/sessions.csv?${query()}`;
    try {
      const r = await api('GET', `/api/sessions?${query()}`);
      const filtered = stateSel.value !== 'all' || station.value.trim() !== '';
      setText(note, `${r.sessions.length} session${r.sessions.length === 1 ? '' : 's'}${r.sessions.length ? ', newest first' : ''}`);
      if (!r.sessions.length) {
        body.replaceChildren(h('tr', {}, h('td', { class: 'empty', colspan: 9 },
          filtered ? 'No sessions match this filter.' : 'No charging sessions yet. They appear here as soon as a station starts a transaction.')));
        return;
      }
      body.replaceChildren(...r.sessions.map((s) => h('tr', {},
        h('td', {}, s.stationId), h('td', {}, s.evseId ?? '—'), h('td', {}, s.transactionId), h('td', {}, s.idToken ?? '—'),
        h('td', { class: 'nowrap' }, fmt.time(s.startedAt)),
        h('td', { class: 'nowrap' }, s.active ? h('span', { class: 'badge ok' }, 'charging') : fmt.time(s.endedAt)),
        h('td', { class: 'num' }, fmt.duration(s.durationS)), h('td', { class: 'num' }, fmt.kwh(s.energyWh)), h('td', { class: 'num' }, fmt.kw(s.averagePowerW)))));
    } catch (e) {
      setText(note, e.message);
    }
  };
  const form = h('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); load(); } }, stateSel, station, h('button', { type: 'submit' }, 'Show'), csv);
  stateSel.addEventListener('change', load);
  root.append(h('h1', { class: 'page-title' }, 'Charging sessions'),
    h('section', { class: 'card' }, form, note, h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ...['Station', 'EVSE', 'Transaction', 'ID token', 'Start', 'End', 'Duration', 'Energy', 'Avg power'].map((t) => h('th', { scope: 'col' }, t)))),
      body))));
  load();
  // Active sessions change while the page is open: refresh the list at most every 10 s on live updates.
  let last = Date.now();
  return {
    update() {
      if (Date.now() - last > 10_000) { last = Date.now(); load(); }
    },
  };
}
