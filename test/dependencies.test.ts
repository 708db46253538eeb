/** The dependency rule (scripts/check-dependencies.ts) as part of the suite, so CI runs it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkDependencies, importsOf } from '../scripts/check-dependencies.ts';

describe('dependency rule', () => {
  it('has no cycles, and production code reaches no developer tool', () => {
    assert.deepEqual(checkDependencies(), []);
  });

  it('sees the imports it judges (static, re-exports, dynamic)', () => {
    assert.ok(importsOf('lib/db/driver.ts').includes('lib/db/pglite-pool.ts'), 'dynamic import');
    assert.ok(importsOf('lib/ids.ts').includes('lib/lightrag-constants.ts'), 're-export');
    assert.ok(importsOf('functions/query.ts').some((f) => f.startsWith('lib/')));
  });
});
