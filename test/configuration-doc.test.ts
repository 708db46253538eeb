/**
 * docs/configuration.md stays current: its generated reference (every variable with kind,
 * default and allowed values, from the settings code) equals what `npm run docs:config` would
 * write, and its hand-written tables describe exactly the variables the settings read.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { describeVariables } from '../lib/config.ts';
import { BEGIN, configReference, documentedReference } from '../scripts/config-reference.ts';

const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');

/** Set by the Lambda runtime, not by an operator. */
const RUNTIME = new Set(['AWS_LAMBDA_FUNCTION_NAME']);

function describedByHand(): Set<string> {
  const names = new Set<string>();
  for (const line of doc.slice(0, doc.indexOf(BEGIN)).split('\n')) {
    if (!line.startsWith('| `')) continue;
    for (const m of line.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]!);
  }
  return names;
}

describe('docs/configuration.md', () => {
  it('carries the generated reference as the code describes it (npm run docs:config)', () => {
    assert.equal(documentedReference(doc), configReference());
  });

  it('describes by hand exactly the variables the settings read', () => {
    const read = new Set(
      describeVariables()
        .map((v) => v.name)
        .filter((n) => !RUNTIME.has(n)),
    );
    const described = describedByHand();
    assert.ok(read.size > 50, `found ${read.size} variables`);
    const missing = [...read].filter((n) => !described.has(n)).sort();
    const stale = [...described].filter((n) => !read.has(n)).sort();
    assert.deepEqual(missing, [], 'read but not described');
    assert.deepEqual(stale, [], 'described but never read');
  });
});
