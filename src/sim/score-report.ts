// Text for people: the `score` command's output and the README table of scores with the baselines beside them.
import type { Score, ScoreRow } from './score.js';

const KEYS: (keyof ScoreRow)[] = ['overload_s', 'worst_overload_a', 'energy_wh', 'energy_optimal_wh', 'energy_online_wh', 'energy_allowed_wh', 'utilization', 'utilization_online', 'jain', 'jain_optimal', 'jain_online', 'unmet_energy_wh'];

/** A few aligned lines: controller, static, fcfs. */
export function formatScore(s: Score): string {
  const rows: [string, ScoreRow][] = [['controller', s], ['static', s.baselines.static], ['fcfs', s.baselines.fcfs]];
  const head = ['', ...KEYS];
  const cells = [head, ...rows.map(([n, r]) => [n, ...KEYS.map((k) => String(r[k]))])];
  const widths = head.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  return [`scenario ${s.name}`, ...cells.map((c) => c.map((v, i) => v.padStart(widths[i])).join('  '))].join('\n');
}

/** A Markdown table: one row per scenario, controller figures with static / fcfs beside them, and the yardsticks. */
export function scoreTable(scores: Score[]): string {
  const f = (k: keyof ScoreRow, s: Score) => `${s[k]} (${s.baselines.static[k]} / ${s.baselines.fcfs[k]})`;
  const lines = [
    '| scenario | overload_s | worst_overload_a | energy_wh | energy_optimal_wh (LP) | energy_online_wh (online LP) | energy_allowed_wh | utilization | utilization_online | jain | jain_optimal | jain_online | unmet_energy_wh |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...scores.map((s) => `| ${s.name} | ${f('overload_s', s)} | ${f('worst_overload_a', s)} | ${f('energy_wh', s)} | ${s.energy_optimal_wh} | ${s.energy_online_wh} | ${s.energy_allowed_wh} | ${f('utilization', s)} | ${f('utilization_online', s)} | ${f('jain', s)} | ${s.jain_optimal} | ${s.jain_online} | ${f('unmet_energy_wh', s)} |`),
  ];
  return `${lines.join('\n')}\n\nEach cell: controller (static split / first-come-first-served), same run, same physics. utilization = energy_wh / energy_optimal_wh; utilization_online = energy_wh / energy_online_wh (the online reference: no foresight of arrivals).`;
}
