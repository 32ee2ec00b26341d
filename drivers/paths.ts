// Finding the drivers' data files (register maps, SunSpec models) both from the sources (vitest) and from the
// compiled build (dist/drivers/...), which does not copy JSON: walk up from this module until the folder appears.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function driversDataDir(sub: string, probeFile: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, sub), join(dir, 'drivers', sub)]) {
      if (existsSync(join(candidate, probeFile))) return candidate;
    }
    dir = dirname(dir);
  }
  return join(here, sub);
}
