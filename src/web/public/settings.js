// Settings: the site limit (never above the fuse), circuit limits, station priorities and modes, the site mode, the
// safe fallback limit; each change applied at once, persisted and shown in the audit log below.
import { api } from './api.js';
import { fmt, h, setText } from './dom.js';

const MODE_NAMES = { fast: 'Fast', pv: 'Solar only', minpv: 'Min + solar' };
const ACTIONS = { 'site-limit': 'Site limit', 'circuit-limit': 'Circuit limit', station: 'Station', 'site-mode': 'Site mode', 'safe-limit': 'Safe limit' };
/** What a cleared (null) value meant for each setting. */
const CLEARED = { 'site-limit': 'none (fuse)', 'circuit-limit': 'none (fuse)' };

function phaseInputs(prefix, values, max) {
  return [0, 1, 2].map((i) => h('input', {
    id: `${prefix}-L${i + 1}`, type: 'number', min: 0, max: max?.[i], step: 0.5, value: values?.[i] ?? '', inputmode: 'decimal',
    'aria-label': `L${i + 1} (A)`, class: 'phase-input',
  }));
}

export function mount(root) {
  const status = h('p', { id: 'settings-status', role: 'status', class: 'status', tabindex: -1 });
  const content = h('div');
  const auditBody = h('tbody', { id: 'audit-body' });
  root.append(h('h1', { class: 'page-title' }, 'Settings'), status, content,
    h('section', { class: 'card', 'aria-labelledby': 'h-audit' }, h('h2', { id: 'h-audit' }, 'Change log'),
      h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ...['When', 'Who', 'What', 'Target', 'Old', 'New'].map((t) => h('th', { scope: 'col' }, t)))), auditBody))));

  const say = (msg, ok = true) => { status.className = `status ${ok ? 'ok' : 'error'}`; setText(status, msg); };
  const num = (inputs) => inputs.map((i) => Number(i.value));
  const valid = (inputs) => inputs.every((i) => i.value.trim() !== '' && Number.isFinite(Number(i.value)));
  const show = (v, action) => {
    if (v === null || v === undefined) return CLEARED[action] ?? '—';
    if (Array.isArray(v)) return `${v.join(' / ')} A`;
    if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k} ${x === null ? 'site default' : MODE_NAMES[x] ?? x}`).join(', ');
    return MODE_NAMES[v] ?? String(v);
  };

  const change = async (path, body, what) => {
    // The form is rebuilt with the new values; keyboard users keep their place (the same control, or the message).
    const focused = document.activeElement?.id;
    try {
      const s = await api('PUT', path, body);
      say(`${what} saved.`);
      render(s);
      const again = focused ? document.getElementById(focused) : null;
      if (again && !again.disabled) again.focus();
      else status.focus();
      loadAudit();
    } catch (e) {
      say(e.message, false);
    }
  };

  async function loadAudit() {
    const r = await api('GET', '/api/audit?limit=50');
    const changes = r.entries.filter((e) => e.action !== 'login' && e.action !== 'logout');
    auditBody.replaceChildren(...(changes.length ? changes.map((e) => h('tr', {},
      h('td', { class: 'nowrap' }, fmt.time(e.at)), h('td', {}, e.username), h('td', {}, ACTIONS[e.action] ?? e.action), h('td', {}, e.target),
      h('td', {}, show(e.oldValue, e.action)), h('td', {}, show(e.newValue, e.action))))
      : [h('tr', {}, h('td', { class: 'empty', colspan: 6 }, 'No changes yet.'))]));
  }

  function render(s) {
    const site = phaseInputs('site-limit', s.siteLimitA ?? s.fuseA, s.fuseA);
    const safe = phaseInputs('safe-limit', s.safeLimitA, s.fuseA);
    const siteMode = h('select', { id: 'site-mode', 'aria-label': 'Site charging mode' }, ...s.modes.map((m) => h('option', { value: m, selected: m === s.siteMode }, MODE_NAMES[m] ?? m)));

    const siteCard = h('section', { class: 'card', 'aria-labelledby': 'h-site' },
      h('h2', { id: 'h-site' }, 'Site limit'),
      h('p', { class: 'muted' }, `Main fuse ${s.fuseA.join(' / ')} A. A lower limit here caps what all chargers may draw together; it can never exceed the fuse.`),
      h('form', { class: 'inline', id: 'site-limit-form', novalidate: true, onsubmit: (ev) => {
        ev.preventDefault();
        if (!valid(site)) return say('Enter a current for each phase.', false);
        change('/api/settings/site-limit', { limitA: num(site) }, 'Site limit');
      } }, ...site.map((i, n) => h('label', { class: 'phase-label' }, `L${n + 1}`, i)), h('span', { class: 'unit' }, 'A'),
        h('button', { type: 'submit', id: 'site-limit-save' }, 'Apply'),
        h('button', { type: 'button', class: 'ghost', id: 'site-limit-clear', disabled: s.siteLimitA === null,
          onclick: () => change('/api/settings/site-limit', { limitA: null }, 'Site limit removed; fuse') }, 'Use fuse limit')),
      h('p', { class: 'muted small' }, s.siteLimitA ? `In force: ${s.siteLimitA.join(' / ')} A set on this page.` : 'No page limit: the fuse (or a CSMS / external limit) applies.'));

    const modeCard = h('section', { class: 'card', 'aria-labelledby': 'h-mode' },
      h('h2', { id: 'h-mode' }, 'Charging mode and fail-safe'),
      h('form', { class: 'inline', onsubmit: (ev) => { ev.preventDefault(); change('/api/settings/site-mode', { mode: siteMode.value }, 'Site mode'); } },
        h('label', { for: 'site-mode', class: 'form-label' }, 'Site mode'), siteMode, h('button', { type: 'submit', id: 'site-mode-save' }, 'Apply')),
      h('form', { class: 'inline', novalidate: true, onsubmit: (ev) => {
        ev.preventDefault();
        if (!valid(safe)) return say('Enter a safe current for each phase.', false);
        change('/api/settings/safe-limit', { limitA: num(safe) }, 'Safe limit');
      } }, h('span', { class: 'form-label' }, 'Safe limit per phase when a meter fails'), ...safe.map((i, n) => h('label', { class: 'phase-label' }, `L${n + 1}`, i)), h('span', { class: 'unit' }, 'A'),
        h('button', { type: 'submit', id: 'safe-limit-save' }, 'Apply')));

    const circuits = s.circuits.length ? h('section', { class: 'card', 'aria-labelledby': 'h-circuits' },
      h('h2', { id: 'h-circuits' }, 'Sub-circuits'),
      h('table', {}, h('thead', {}, h('tr', {}, ...['Circuit', 'Fuse', 'Limit', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...s.circuits.map((c) => {
          const inputs = phaseInputs(`circuit-${c.id}`, c.limitA ?? c.fuseA, c.fuseA);
          return h('tr', {}, h('td', {}, c.id), h('td', {}, `${c.fuseA.join(' / ')} A`),
            h('td', { class: 'nowrap' }, ...inputs),
            h('td', { class: 'nowrap' },
              h('button', { type: 'button', id: `circuit-apply-${c.id}`, onclick: () => valid(inputs) ? change(`/api/settings/circuits/${encodeURIComponent(c.id)}`, { limitA: num(inputs) }, `Limit of ${c.id}`) : say('Enter a current for each phase.', false) }, 'Apply'),
              h('button', { type: 'button', class: 'ghost', id: `circuit-reset-${c.id}`, disabled: c.limitA === null, onclick: () => change(`/api/settings/circuits/${encodeURIComponent(c.id)}`, { limitA: null }, `Limit of ${c.id} reset; fuse`) }, 'Reset')));
        })))) : null;

    const stations = h('section', { class: 'card', 'aria-labelledby': 'h-stations' },
      h('h2', { id: 'h-stations' }, 'Stations'),
      h('p', { class: 'muted' }, 'A higher priority is served first when capacity is short.'),
      h('table', {}, h('thead', {}, h('tr', {}, ...['Station', 'Circuit', 'Priority', 'Mode', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...(s.stations.length ? [] : [h('tr', {}, h('td', { class: 'empty', colspan: 5 }, 'No stations yet: they are listed here once they connect or are configured.'))]), ...s.stations.map((st) => {
          const prio = h('input', { type: 'number', step: 1, min: -1000, max: 1000, value: st.priority, id: `prio-${st.id}`, 'aria-label': `Priority of ${st.id}`, class: 'phase-input' });
          const mode = h('select', { id: `mode-${st.id}`, 'aria-label': `Mode of ${st.id}` }, h('option', { value: '' }, 'Site mode'),
            ...s.modes.map((m) => h('option', { value: m, selected: m === st.mode }, MODE_NAMES[m] ?? m)));
          return h('tr', {}, h('td', {}, st.id), h('td', {}, st.circuit ?? 'grid'), h('td', {}, prio), h('td', {}, mode),
            h('td', {}, h('button', { type: 'button', id: `station-apply-${st.id}`, 'aria-label': `Apply priority and mode of ${st.id}`, onclick: () => {
              if (!Number.isInteger(Number(prio.value)) || prio.value === '') return say('Priority must be a whole number.', false);
              change(`/api/settings/stations/${encodeURIComponent(st.id)}`, { priority: Number(prio.value), mode: mode.value || null }, `Settings of ${st.id}`);
            } }, 'Apply')));
        }))));
    content.replaceChildren(h('div', { class: 'grid-2' }, siteCard, modeCard), circuits ?? '', stations);
  }

  api('GET', '/api/settings').then(render).catch((e) => say(e.message, false));
  loadAudit().catch(() => {});
  return {};
}
