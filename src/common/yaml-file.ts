// Reading a YAML file a user wrote (the config, a scenario): every problem becomes a line naming where it is.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';

/** A user's file with problems, each named by its key path or line; the base of ConfigError and ScenarioError. */
export class FileProblemsError extends Error {
  constructor(readonly problems: string[], readonly file?: string) {
    super(`${file ? `${file}: ` : ''}${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`);
    this.name = 'FileProblemsError';
  }
}

/** The parsed document, or the problems (unreadable file, YAML syntax errors with line and column). */
export function readYamlFile(file: string): { ok: true; data: unknown } | { ok: false; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [`cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`] };
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    return {
      ok: false,
      problems: doc.errors.map((e) => `YAML line ${e.linePos?.[0]?.line ?? '?'} column ${e.linePos?.[0]?.col ?? '?'}: ${e.message.split('\n')[0]}`),
    };
  }
  return { ok: true, data: doc.toJS() };
}
