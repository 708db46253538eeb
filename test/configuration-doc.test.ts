/**
 * docs/configuration.md stays current: every variable the settings modules read is in its tables,
 * and every variable its tables list is read. (Names are found in the source, so a setting added
 * without a line in the reference fails here.)
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** Set by the Lambda runtime, not by an operator. */
const RUNTIME = new Set(['AWS_LAMBDA_FUNCTION_NAME']);

function variablesRead(): Set<string> {
  const files = [
    'lib/config.ts',
    ...readdirSync(new URL('lib/settings/', root)).map((f) => `lib/settings/${f}`),
  ];
  const names = new Set<string>();
  for (const file of files) {
    const text = read(file);
    for (const m of text.matchAll(
      /\.\s*(?:string|integer|number|boolean|oneOf|raw|rawUntrimmed|list|has)\(\s*['"]([A-Z][A-Z0-9_]+)['"]/g,
    ))
      names.add(m[1]!);
    for (const m of text.matchAll(/const name = ['"]([A-Z][A-Z0-9_]+)['"]/g)) names.add(m[1]!);
  }
  for (const name of RUNTIME) names.delete(name);
  return names;
}

function variablesDocumented(): Set<string> {
  const names = new Set<string>();
  for (const line of read('docs/configuration.md').split('\n')) {
    if (!line.startsWith('| `')) continue;
    const first = line.split('|')[1]!;
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]!);
  }
  return names;
}

describe('docs/configuration.md', () => {
  it('lists exactly the variables the settings read', () => {
    const read = variablesRead();
    const documented = variablesDocumented();
    assert.ok(read.size > 50, `found ${read.size} variables in the settings modules`);
    assert.deepEqual(
      [...read].filter((n) => !documented.has(n)).sort(),
      [],
      'read but not documented',
    );
    assert.deepEqual(
      [...documented].filter((n) => !read.has(n)).sort(),
      [],
      'documented but never read',
    );
  });
});
