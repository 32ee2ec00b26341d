// History: uPlot charts of grid current per phase vs limit, site powers and per-station power, over an hour, a day
// or a week (the server downsamples).
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { api } from './api.js';
import { h, setText } from './dom.js';

const PHASE_COLORS = ['#c0392b', '#d68910', '#2471a3'];
const STATION_COLORS = ['#1abc9c', '#8e44ad', '#e67e22', '#34495e', '#e84393', '#27ae60', '#2980b9', '#7f8c8d'];

export function mount(root) {
  const range = h('select', { id: 'history-range', 'aria-label': 'Range' },
    h('option', { value: 'hour' }, 'Last hour'), h('option', { value: 'day' }, 'Last day'), h('option', { value: 'week' }, 'Last week'));
  const note = h('p', { class: 'muted', id: 'history-note' });
  const gridBox = h('div', { class: 'chart', id: 'chart-grid' });
  const powerBox = h('div', { class: 'chart', id: 'chart-power' });
  const stationBox = h('div', { class: 'chart', id: 'chart-stations' });
  root.append(
    h('h1', { class: 'page-title' }, 'History'),
    h('section', { class: 'card' }, h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); load(); } },
      h('label', { for: 'history-range' }, 'Range'), range, h('button', { type: 'submit', id: 'history-refresh' }, 'Refresh')), note),
    h('section', { class: 'card' }, h('h2', {}, 'Grid current per phase vs limit'), gridBox),
    h('section', { class: 'card' }, h('h2', {}, 'Site power'), powerBox),
    h('section', { class: 'card' }, h('h2', {}, 'Charging power per station'), stationBox),
  );
  range.addEventListener('change', () => load());
  let charts = [];
  const width = () => Math.max(280, root.clientWidth - 48);

  const chart = (box, title, unit, series, data, span, empty) => {
    box.replaceChildren();
    // Nothing to draw (no samples, or no station ever charged): say so instead of an empty frame.
    if (!data[0].length || series.length === 0) {
      box.append(h('p', { class: 'chart-empty muted' }, empty));
      return;
    }
    const opts = {
      width: width(), height: 240, title: undefined,
      // y from zero (or below, for export / battery charging) so a small swing does not look like a big one.
      scales: { x: { time: true, range: () => span }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 0) * 1.05)] } },
      axes: [{}, { label: unit, size: 60 }],
      series: [{}, ...series.map((x) => ({ points: { show: false }, ...x }))],
      legend: { live: true },
    };
    charts.push(new uPlot(opts, data, box));
  };

  async function load() {
    try {
      const r = await api('GET', `/api/history?range=${range.value}`);
      for (const c of charts) c.destroy();
      charts = [];
      const bucket = r.bucketMs >= 60_000 ? `${Math.round(r.bucketMs / 60_000)} min` : `${Math.round(r.bucketMs / 1000)} s`;
      setText(note, r.t.length ? `${r.t.length} points, one per ${bucket}` : 'No data recorded in this range yet: the controller samples the site every 10 s.');
      // The range asked for, but starting no earlier than 5 minutes before the first sample: a recording younger
      // than the range is not squeezed into a sliver at the right edge.
      const to = Math.ceil(r.to / 1000);
      const span = [Math.max(Math.floor(r.from / 1000), Math.min(r.t[0] ?? to, to - 300)), to];
      const none = 'Nothing recorded in this range yet.';
      chart(gridBox, 'Grid', 'A', [
        ...[1, 2, 3].map((i) => ({ label: `L${i}`, stroke: PHASE_COLORS[i - 1], width: 2 })),
        ...[1, 2, 3].map((i) => ({ label: `Limit L${i}`, stroke: PHASE_COLORS[i - 1], dash: [6, 4], width: 1 })),
      ], [r.t, r.gridL1, r.gridL2, r.gridL3, r.limitL1, r.limitL2, r.limitL3], span, none);
      const kw = (xs) => xs.map((v) => (v === null ? null : v / 1000));
      chart(powerBox, 'Power', 'kW', [
        { label: 'Grid', stroke: '#34495e', width: 2 },
        { label: 'Solar', stroke: '#f1c40f', width: 2, fill: 'rgba(241,196,15,0.12)' },
        { label: 'Battery', stroke: '#8e44ad', width: 2 },
        { label: 'Charging', stroke: '#16a085', width: 2 },
      ], [r.t, kw(r.gridW), kw(r.pvW), kw(r.batteryW), kw(r.chargingW)], span, none);
      const ids = Object.keys(r.stations).sort();
      chart(stationBox, 'Stations', 'kW', ids.map((id, i) => ({ label: id, stroke: STATION_COLORS[i % STATION_COLORS.length], width: 2 })),
        [r.t, ...ids.map((id) => kw(r.stations[id]))], span, r.t.length ? 'No station was connected in this range.' : none);
    } catch (e) {
      setText(note, e.message);
    }
  }
  load();
  const onResize = () => { for (const c of charts) c.setSize({ width: width(), height: 240 }); };
  window.addEventListener('resize', onResize);
  return { unmount() { window.removeEventListener('resize', onResize); for (const c of charts) c.destroy(); } };
}
