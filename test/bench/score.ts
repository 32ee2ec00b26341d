// `npm run bench -- score [--json] [SCENARIO]`: wall time of the site score on a 24 h scenario at 1 s steps with 20
// chargers (config/scenarios/pv-depot.yaml by default): the controller run (the product's control loop and optimizer
// on virtual time, 86 400 steps) plus both baselines, the energy bound and the LP optimum (lp_ms: its share of wall_s) and the online reference (lp_online_ms); the controller runs with its session planner. Target: under 60 s on this machine.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createControlLoop } from '../../src/control/loop.js';
import { loadLpSolver } from '../../src/control/planner.js';
import { loadScenario } from '../../src/sim/scenario.js';
import { scoreScenarioDetailed } from '../../src/sim/score.js';
import type { Bench } from './run.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const run: Bench = async (opts) => {
  const file = opts.args[0] ?? join(root, 'config', 'scenarios', 'pv-depot.yaml');
  const scenario = loadScenario(file);
  opts.log(`scoring ${scenario.name}: ${scenario.durationMs / 3_600_000} h at ${scenario.stepMs} ms steps, ${scenario.chargers.length} chargers, ${scenario.evs.length} EVs`);
  // The product as it runs (main.ts): the control loop with its session planner.
  const lpSolver = await loadLpSolver();
  const d = await scoreScenarioDetailed(scenario, {
    controlLoopFactory: (inputs) => createControlLoop({ ...inputs, lpSolver }),
    onProgress: (f) => opts.log(`  ${Math.round(f * 100)} %`),
  });
  return {
    scenario: scenario.name,
    hours: scenario.durationMs / 3_600_000,
    steps: Math.round(scenario.durationMs / scenario.stepMs),
    chargers: scenario.chargers.length,
    evs: scenario.evs.length,
    wall_s: Math.round(d.totalMs / 100) / 10,
    controller_run_s: Math.round(d.controllerRunMs / 100) / 10,
    lp_ms: Math.round(d.lpMs),
    lp_online_ms: Math.round(d.lpOnlineMs),
    lp_online_solves: d.online.solves,
    calls_to_stations: d.controllerCalls,
    score: d.score,
  };
};
