// `site-controller score FILE [--json]` and `score --all DIR --table` as functions main.ts can call: loads the scenario,
// runs the score, prints the human table (or, with --json, one JSON line last).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadScenario } from './scenario.js';
import { formatScore, scoreTable } from './score-report.js';
import { scoreScenarioDetailed, type ControlLoopFactory, type Score } from './score.js';

export interface ScoreCommandOptions {
  controlLoopFactory?: ControlLoopFactory;
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** Runs `score` with its arguments (files and flags); returns the exit code. Throws ScenarioError for a bad file. */
export async function scoreCommand(args: string[], opts: ScoreCommandOptions = {}): Promise<number> {
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = opts.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const json = args.includes('--json');
  const table = args.includes('--table');
  let files = args.filter((a) => !a.startsWith('--'));
  if (files.length === 1 && !files[0].endsWith('.yaml') && !files[0].endsWith('.yml')) {
    try {
      files = readdirSync(files[0]).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(files[0], f));
    } catch {
      // Not a folder: loadScenario names the problem.
    }
  }
  if (!files.length) throw new Error('score needs a scenario FILE');
  const scores: Score[] = [];
  for (const file of files) {
    const scenario = loadScenario(file);
    const d = await scoreScenarioDetailed(scenario, { controlLoopFactory: opts.controlLoopFactory });
    scores.push(d.score);
    if (!json) {
      out(formatScore(d.score));
      out(`(${(d.controllerRunMs / 1000).toFixed(1)} s for the controller run, ${(d.lpMs / 1000).toFixed(1)} s for the LP optimum, ${(d.lpOnlineMs / 1000).toFixed(1)} s for the online reference, ${(d.totalMs / 1000).toFixed(1)} s in all, ${d.controllerCalls} calls to stations)`);
    } else {
      err(`${scenario.name}: ${(d.totalMs / 1000).toFixed(1)} s`);
    }
  }
  if (table) out(scoreTable(scores));
  if (json) out(JSON.stringify(scores.length === 1 ? scores[0] : scores));
  return 0;
}
