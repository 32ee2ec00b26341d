// A session's needs on the Chargers page: what the EV said or someone entered (energy, departure), and the form to
// enter them for an EV that cannot say them (most 1.6 stations). The controller then shares current by need and plans
// the session to its departure.
import { api } from './api.js';
import { h, setText } from './dom.js';

/** '16:30', or 'Tue 07:15' when not today. */
function when(t) {
  const d = new Date(t);
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString() ? hm : `${d.toLocaleDateString([], { weekday: 'short' })} ${hm}`;
}

const kwh = (wh) => `${(wh / 1000).toFixed(1)} kWh`;

/** One line about the session's needs, '' when nobody said any. */
export function needsText(n) {
  if (!n) return '';
  const by = n.departureAt !== null && n.departureAt !== undefined ? ` by ${when(n.departureAt)}` : '';
  const left = n.remainingWh !== null && n.remainingWh !== undefined ? kwh(n.remainingWh) : null;
  if (n.source === 'page') return `needs ${kwh(n.energyWh)}${by}${left !== null ? ` · ${left} to go` : ''} (entered by ${n.enteredBy})`;
  return `EV needs ${left ?? 'energy'}${left !== null ? ' more' : ''}${by}`;
}

/** 'YYYY-MM-DDTHH:MM' in local time, for a datetime-local input. */
function localInput(t) {
  const d = new Date(t - new Date(t).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

/** Fills the card with the form for one EVSE's session (the live updates then show what was saved). */
export function openNeedsForm(card, stationId, evse) {
  const n = evse.needs;
  const path = `/api/stations/${encodeURIComponent(stationId)}/evses/${evse.id}/needs`;
  const energy = h('input', {
    id: 'needs-energy', type: 'number', min: '0.1', max: '250', step: '0.1', required: true, inputmode: 'decimal',
    value: n?.source === 'page' ? (n.energyWh / 1000).toFixed(1) : '',
  });
  const departure = h('input', {
    id: 'needs-departure', type: 'datetime-local', required: true,
    value: n?.departureAt ? localInput(n.departureAt) : localInput(Date.now() + 4 * 3_600_000),
  });
  const note = h('p', { class: 'muted', id: 'needs-note', role: 'status' });
  const save = async (ev) => {
    ev.preventDefault();
    const at = new Date(departure.value);
    const wh = Math.round(Number(energy.value) * 1000);
    if (!(wh > 0) || Number.isNaN(at.getTime())) return setText(note, 'Enter the energy in kWh and the departure.');
    try {
      await api('PUT', path, { energyWh: wh, departureAt: at.toISOString() });
      setText(note, `Saved: ${kwh(wh)} by ${when(at.getTime())}. The controller plans this session with it.`);
    } catch (e) {
      setText(note, e.message);
    }
  };
  const clear = async () => {
    try {
      await api('DELETE', path);
      setText(note, 'Cleared: the session is planned with what the EV says, if anything.');
    } catch (e) {
      setText(note, e.message);
    }
  };
  const form = h('form', { class: 'inline', id: 'needs-form', onsubmit: save },
    h('label', { for: 'needs-energy' }, 'Energy for this session (kWh)'), energy,
    h('label', { for: 'needs-departure' }, 'Leaves at'), departure,
    h('button', { type: 'submit' }, 'Save'),
    n?.source === 'page' ? h('button', { type: 'button', class: 'ghost', onclick: clear }, 'Clear') : null,
    h('button', { type: 'button', class: 'ghost', onclick: () => { card.hidden = true; } }, 'Close'));
  card.replaceChildren(
    h('h2', { id: 'h-needs' }, `Needs of the session on ${stationId}${evse.id > 1 ? ` EVSE ${evse.id}` : ''}`),
    h('p', { class: 'muted small' }, n?.source === 'ev'
      ? 'The EV said its needs; what you enter here takes their place for this session.'
      : 'For an EV that cannot say its needs (most OCPP 1.6 stations): the energy counts from the start of the session.'),
    form, note);
  card.hidden = false;
  card.scrollIntoView({ block: 'nearest' });
  energy.focus();
}
