// Overview: grid per phase against the limit and fuse, PV, battery, charging power, limit source, alarms.
import { fmt, h, setText } from './dom.js';

const ALARM = { 'meter-stale': 'Meter stale', 'meter-bad': 'Meter values bad', overload: 'Overload', 'fail-safe': 'Safe limit', 'not-controllable': 'Not controllable', 'csms-offline': 'CSMS offline' };
const SOURCE = { fuse: 'Main fuse', csms: 'CSMS profile', external: 'External signal', page: 'Set on this page' };

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
  const alarms = h('ul', { class: 'alarms', id: 'alarms', 'aria-live': 'polite' });
  const nodes = h('tbody');
  const nodesCard = h('section', { class: 'card', hidden: true, 'aria-labelledby': 'h-circuits' },
    h('h2', { id: 'h-circuits' }, 'Circuits'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Node'), h('th', {}, 'Current'), h('th', {}, 'Limit'), h('th', {}, 'State'))), nodes));

  root.append(
    h('h1', { class: 'page-title' }, 'Site overview'),
    h('div', { class: 'grid-2' },
      h('section', { class: 'card', 'aria-labelledby': 'h-grid' },
        h('div', { class: 'card-head' }, h('h2', { id: 'h-grid' }, 'Grid connection per phase'), quality),
        ...phases.map((p) => p.row),
        h('p', { class: 'limit-line' }, 'Limit from: ', source, ' ', sourceDetail)),
      h('section', { class: 'card', 'aria-labelledby': 'h-alarms' }, h('h2', { id: 'h-alarms' }, 'Alarms'), alarms)),
    h('div', { class: 'tiles' }, gridPower.el, pv.el, battery.el, charging.el),
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
        setText(p.value, fmt.a(cur));
        // Last good values of a stale meter are shown greyed (with the alarm), never as zero.
        p.row.classList.toggle('stale', site.quality !== 'good');
        setText(p.limit, `of ${lim.toFixed(0)} A${lim < site.fuseA[i] ? ` (fuse ${site.fuseA[i]} A)` : ''}`);
      });
      setText(quality, site.quality === 'good' ? 'Live' : site.quality === 'none' ? 'No meter' : site.quality === 'stale' ? 'Stale' : 'Bad values');
      quality.className = `badge ${site.quality === 'good' ? 'ok' : 'warn'}`;
      setText(source, SOURCE[site.limitSource.kind] ?? site.limitSource.kind);
      const phases3 = `${site.limitA.map((v) => v.toFixed(0)).join(' / ')} A`;
      setText(sourceDetail, site.limitSource.kind === 'page' ? `(${phases3})` : `(${site.limitSource.id}: ${phases3})`);
      const g = site.gridPowerW;
      setText(gridPower.v, fmt.kw(g));
      setText(gridPower.sub, g === null ? 'not metered' : site.quality !== 'good' ? 'last good value (meter not live)' : g >= 0 ? 'importing' : 'exporting');
      setText(pv.v, fmt.kw(site.pvPowerW));
      setText(pv.sub, site.pvPowerW === null ? 'no inverter' : 'producing');
      setText(battery.v, site.batterySoc === null ? '—' : fmt.pct(site.batterySoc));
      setText(battery.sub, site.batteryPowerW === null ? 'no battery' : `${fmt.kw(Math.abs(site.batteryPowerW))} ${site.batteryPowerW >= 0 ? 'discharging' : 'charging'}`);
      const active = s.stations.reduce((n, st) => n + st.evses.filter((e) => e.transactionId).length, 0);
      setText(charging.v, fmt.kw(site.chargingPowerW));
      setText(charging.sub, `${active} session${active === 1 ? '' : 's'} · ${s.stations.filter((st) => st.connected).length}/${s.stations.length} stations online`);

      alarms.replaceChildren(...(s.alarms.length
        ? s.alarms.map((a) => h('li', { class: `alarm ${a.severity}` }, h('span', { class: 'alarm-kind' }, ALARM[a.kind] ?? a.kind), a.message))
        : [h('li', { class: 'alarm none' }, 'No alarms — everything within limits.')]));

      nodesCard.hidden = s.nodes.length <= 1;
      nodes.replaceChildren(...s.nodes.map((n) => h('tr', {},
        h('td', {}, n.id), h('td', {}, fmt.phases(n.currentA)), h('td', {}, fmt.phases(n.limitA)),
        h('td', {}, n.failSafe ? h('span', { class: 'badge warn' }, 'safe limit') : h('span', { class: 'badge ok' }, 'metered')))));
    },
  };
}
