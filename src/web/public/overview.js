// Overview: grid per phase against the limit and fuse, PV, battery, charging power, limit source, alarms.
import { fmt, h, reasonText, setText } from './dom.js';
import { needsText } from './needs.js';

const ALARM = { 'meter-stale': 'Meter silent', 'meter-bad': 'Meter fault', overload: 'Overload', 'fail-safe': 'Safe limit', 'not-controllable': 'Not controllable', 'csms-offline': 'CSMS offline' };
const SOURCE = { fuse: 'Main fuse', csms: 'CSMS profile', external: 'External signal', page: 'Set on this page' };

/** "80 A per phase" or "40 / 32 / 40 A". */
function limitText(limitA) {
  const r = limitA.map((v) => Math.round(v * 10) / 10);
  return r.every((v) => v === r[0]) ? `${r[0]} A per phase` : `${r.join(' / ')} A`;
}

/** Which profile or signal, in words (the fuse and the page need no name). */
function sourceName(src) {
  if (src.kind === 'csms') return `, profile ${src.id}`;
  if (src.kind === 'external') return `, ${src.id}`;
  return '';
}

/** The other limits that are in force but not the lowest, so the manager sees what would apply next. */
function otherLimits(site) {
  const rest = (site.limitSources ?? []).filter((x) => !(x.kind === site.limitSource.kind && x.id === site.limitSource.id));
  if (!rest.length) return '';
  return `Also in force: ${rest.map((x) => `${SOURCE[x.kind] ?? x.kind}${sourceName(x)} ${limitText(x.limitA)}`).join('; ')}.`;
}

export function mount(root) {
  const phases = [0, 1, 2].map((i) => {
    const fill = h('div', { class: 'bar-fill' });
    const mark = h('div', { class: 'bar-limit', title: 'Limit' });
    const value = h('span', { class: 'phase-value', id: `grid-L${i + 1}` });
    const limit = h('span', { class: 'muted small', id: `limit-L${i + 1}` });
    const bar = h('div', { class: 'bar', role: 'meter', 'aria-label': `Grid L${i + 1}`, 'aria-valuemin': 0 }, fill, mark);
    return { fill, mark, value, limit, bar, row: h('div', { class: 'phase' }, h('span', { class: 'phase-name' }, `L${i + 1}`), bar, value, limit) };
  });
  const tile = (id, label) => {
    const v = h('div', { class: 'tile-value', id });
    const sub = h('div', { class: 'tile-sub muted' });
    return { v, sub, el: h('div', { class: 'card tile' }, h('div', { class: 'tile-label' }, label), v, sub) };
  };
  const gridPower = tile('grid-power', 'Grid');
  const pv = tile('pv-power', 'Solar');
  const battery = tile('battery', 'Battery');
  const charging = tile('charging-power', 'Charging');
  const source = h('strong', { id: 'limit-source' });
  const sourceDetail = h('span', { class: 'muted' });
  const quality = h('span', { class: 'badge', id: 'grid-quality' });
  const others = h('p', { class: 'muted small', id: 'limit-others' });
  const gridNote = h('p', { class: 'muted small', id: 'grid-note', hidden: true });
  const alarms = h('ul', { class: 'alarms', id: 'alarms', 'aria-live': 'polite' });
  const nodes = h('tbody');
  const nodesCard = h('section', { class: 'card', hidden: true, 'aria-labelledby': 'h-circuits' },
    h('h2', { id: 'h-circuits' }, 'Circuits'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Node'), h('th', {}, 'Current'), h('th', {}, 'Limit'), h('th', {}, 'State'))), nodes));

  // The chargers at a glance: who charges now, with what limit and why; the Chargers view has the details.
  const sessionsBody = h('tbody', { id: 'overview-sessions' });
  const sessionsNote = h('p', { class: 'muted small', id: 'overview-sessions-note' });
  const sessionsCard = h('section', { class: 'card', 'aria-labelledby': 'h-now' },
    h('div', { class: 'card-head' }, h('h2', { id: 'h-now' }, 'Charging now'), h('a', { href: '#/chargers' }, 'All chargers')),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ...['Station', 'Allocated', 'Why', 'Measured', 'Power'].map((t) => h('th', { scope: 'col' }, t)))), sessionsBody)),
    sessionsNote);

  root.append(
    h('h1', { class: 'page-title' }, 'Site overview'),
    h('div', { class: 'grid-2' },
      h('section', { class: 'card', 'aria-labelledby': 'h-grid' },
        h('div', { class: 'card-head' }, h('h2', { id: 'h-grid' }, 'Grid connection per phase'), quality),
        ...phases.map((p) => p.row),
        h('p', { class: 'limit-line' }, 'Limit from: ', source, ' ', sourceDetail),
        others, gridNote),
      h('section', { class: 'card', 'aria-labelledby': 'h-alarms' }, h('h2', { id: 'h-alarms' }, 'Alarms'), alarms)),
    h('div', { class: 'tiles' }, gridPower.el, pv.el, battery.el, charging.el),
    sessionsCard,
    nodesCard,
  );

  return {
    update(s) {
      const site = s.site;
      const max = Math.max(...site.fuseA, ...(site.gridCurrentA ?? [0])) * 1.1 || 1;
      phases.forEach((p, i) => {
        const cur = site.gridCurrentA ? site.gridCurrentA[i] : null;
        const lim = site.limitA[i];
        p.fill.style.width = `${Math.max(0, Math.min(100, ((cur ?? 0) / max) * 100))}%`;
        p.fill.className = `bar-fill ${cur !== null && cur > lim ? 'over' : cur !== null && cur > lim * 0.9 ? 'near' : ''}`;
        p.mark.style.left = `${Math.min(100, (lim / max) * 100)}%`;
        p.bar.setAttribute('aria-valuenow', String(cur ?? 0));
        p.bar.setAttribute('aria-valuemax', String(lim));
        setText(p.value, `${site.quality === 'none' && cur !== null ? '≈ ' : ''}${fmt.a(cur)}`);
        // Last good values of a stale meter are shown greyed (with the alarm), never as zero. Without a grid meter
        // the values are the control loop's estimate from the chargers' own meters: marked, not greyed.
        p.row.classList.toggle('stale', site.quality === 'stale' || site.quality === 'bad');
        p.row.classList.toggle('estimate', site.quality === 'none');
        setText(p.limit, `of ${lim.toFixed(0)} A${lim < site.fuseA[i] ? ` (fuse ${site.fuseA[i]} A)` : ''}`);
      });
      setText(quality, site.quality === 'good' ? 'Live' : site.quality === 'none' ? 'No meter' : site.quality === 'stale' ? 'No answer' : 'Meter fault');
      quality.className = `badge ${site.quality === 'good' ? 'ok' : site.quality === 'none' ? 'neutral' : 'warn'}`;
      const metered = s.meters.some((m) => m.role === 'grid');
      gridNote.hidden = site.quality === 'good';
      setText(gridNote, !metered
        ? 'No grid meter configured: the currents are estimated from the chargers\' own meters, so other loads on the site are not seen.'
        : site.quality === 'none'
          ? 'Waiting for the first reading of the grid meter.'
          : `Last good reading ${site.measuredAt ? `at ${fmt.clock(site.measuredAt)}` : 'unknown'}; the controller charges on its safe limit until the meter answers again.`);
      setText(source, SOURCE[site.limitSource.kind] ?? site.limitSource.kind);
      setText(sourceDetail, `(${limitText(site.limitA)}${sourceName(site.limitSource)})`);
      setText(others, otherLimits(site));
      const g = site.gridPowerW;
      setText(gridPower.v, fmt.kw(g));
      setText(gridPower.sub, g === null ? (metered ? 'no reading yet' : 'no grid meter') : site.quality !== 'good' ? 'last good value (meter not live)' : g >= 0 ? 'importing' : 'exporting');
      gridPower.el.classList.toggle('stale', g !== null && site.quality !== 'good');
      setText(pv.v, fmt.kw(site.pvPowerW));
      const meterOf = (role) => s.meters.filter((m) => m.role === role);
      const notLive = (role) => meterOf(role).some((m) => m.quality === 'stale' || m.quality === 'bad');
      setText(pv.sub, `${site.pvPowerW === null ? (meterOf('pv').length ? 'no reading yet' : 'no PV inverter') : notLive('pv') ? 'last good value (meter not live)' : site.pvPowerW > 0 ? 'producing' : 'not producing'}${forecastText(site.pvForecast, s.at)}`);
      pv.el.classList.toggle('stale', site.pvPowerW !== null && notLive('pv'));
      setText(battery.v, site.batterySoc === null ? '—' : fmt.pct(site.batterySoc));
      const bp = site.batteryPowerW;
      setText(battery.sub, bp === null ? (meterOf('battery').length ? 'no reading yet' : 'no battery') : notLive('battery') ? 'last good value (meter not live)'
        : `${Math.abs(bp) < 50 ? 'idle' : `${fmt.kw(Math.abs(bp))} ${bp > 0 ? 'discharging' : 'charging'}`}${reserveText(site.batteryReserve)}`);
      battery.el.classList.toggle('stale', bp !== null && notLive('battery'));
      const active = s.stations.reduce((n, st) => n + st.evses.filter((e) => e.transactionId).length, 0);
      const online = s.stations.filter((st) => st.connected).length;
      setText(charging.v, fmt.kw(site.chargingPowerW));
      setText(charging.sub, s.stations.length === 0 ? 'no stations yet'
        : `${active} session${active === 1 ? '' : 's'} · ${online} of ${s.stations.length} station${s.stations.length === 1 ? '' : 's'} online`);

      alarms.replaceChildren(...(s.alarms.length
        ? s.alarms.map((a) => h('li', { class: `alarm ${a.severity}` }, h('span', { class: 'alarm-kind' }, ALARM[a.kind] ?? a.kind), a.message))
        : [h('li', { class: 'alarm none' }, 'No alarms — everything within limits.')]));

      const now = [];
      for (const st of s.stations) for (const e of st.evses) if (e.transactionId) now.push({ st, e });
      sessionsBody.replaceChildren(...(now.length ? now.map(({ st, e }) => h('tr', {},
        h('td', {}, h('div', { class: 'station-id' }, st.evses.length > 1 ? `${st.id} · ${e.id}` : st.id),
          e.needs ? h('div', { class: 'small session-needs' }, needsText(e.needs)) : ''),
        h('td', { class: 'nowrap strong' }, fmt.a(e.limitA)),
        h('td', { class: 'muted small' }, reasonText(e) || '—'),
        h('td', { class: 'nowrap' }, fmt.phases(e.measuredCurrentA)),
        h('td', { class: 'nowrap num' }, fmt.kw(e.measuredPowerW))))
        : [h('tr', {}, h('td', { class: 'empty', colspan: 5 }, s.stations.length ? 'No car is charging.' : 'No stations yet.'))]));
      const idle = s.stations.filter((st) => st.connected && !st.evses.some((e) => e.transactionId)).length;
      const offline = s.stations.filter((st) => !st.connected).length;
      setText(sessionsNote, s.stations.length ? `${idle} idle, ${offline} offline.` : '');

      nodesCard.hidden = s.nodes.length <= 1;
      nodes.replaceChildren(...s.nodes.map((n) => h('tr', {},
        h('td', {}, n.id), h('td', {}, fmt.phases(n.currentA)), h('td', {}, fmt.phases(n.limitA)),
        h('td', {}, n.failSafe ? h('span', { class: 'badge warn' }, 'safe limit') : h('span', { class: 'badge ok' }, 'metered')))));
    },
  };
}

/** The PV forecast the planner uses for a battery kept for the EVs, while it reaches ahead. */
function forecastText(f, now) {
  return f && f.to > now ? ` · forecast to ${fmt.clock(f.to)}` : '';
}

/** The battery kept for the EVs: held to what the grid cannot carry for them, refilled from PV, or released. */
function reserveText(r) {
  if (!r) return '';
  if (r.dischargeLimitW === null) return ' · kept for EVs: released';
  if (r.dischargeLimitW <= -50) return ` · kept for EVs: refilled from PV, at least ${fmt.kw(-r.dischargeLimitW)}`;
  return r.dischargeLimitW < 50 ? ' · kept for EVs: held' : ` · kept for EVs: up to ${fmt.kw(r.dischargeLimitW)}`;
}
