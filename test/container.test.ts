/**
 * One composition for every function's container state (lib/container.ts): built on the first
 * invocation, kept while warm, rebuilt once the pool has ended; providers a function may never
 * need are made on first use (the parse function's storages never make an embedder).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { resetConfig } from '../lib/config.ts';
import { containerRuntime, onFirstUse } from '../lib/container.ts';
import { closeDatabase } from '../lib/db/container.ts';
import { HashEmbedder } from '../lib/embedding/hash.ts';
import type { Embedder } from '../lib/embedding/types.ts';
import { DimensionMismatchError } from '../lib/errors.ts';
import { VectorStorage } from '../lib/storage/vector.ts';
import { createTestDatabase } from './support/database.ts';

describe('container state', () => {
  const saved = { ...process.env };
  after(async () => {
    await closeDatabase();
    process.env = saved;
    resetConfig();
  });

  it('builds once per container, and again after the pool ended', async () => {
    const target = await createTestDatabase();
    Object.assign(process.env, target.env);
    resetConfig();
    let builds = 0;
    const getRuntime = containerRuntime(({ config }) => ({
      build: ++builds,
      ws: config.workspace,
    }));
    const first = getRuntime();
    assert.equal(getRuntime(), first, 'warm invocations get the same state');
    assert.equal(builds, 1);
    assert.equal((await first.db.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n, 1);
    await closeDatabase();
    const second = getRuntime();
    assert.notEqual(second, first);
    assert.equal(second.build, 2);
    assert.equal(second.db.ended, false);
  });

  it('makes a provider on first use only, once', () => {
    let made = 0;
    const get = onFirstUse(() => ++made);
    assert.equal(made, 0);
    assert.equal(get(), 1);
    assert.equal(get(), 1);
    assert.equal(made, 1);
  });

  it('gives vector storages an embedder made when first asked for, checked then', async () => {
    const target = await createTestDatabase();
    const db = target.open();
    let made = 0;
    const lazy = onFirstUse((): Embedder => {
      made += 1;
      return new HashEmbedder(target.config.vector.dimension);
    });
    const store = new VectorStorage(db, 'chunks', target.config.vector, lazy, 'w');
    assert.equal(made, 0, 'opening storages makes no embedder');
    assert.equal(store.embedder.dimension, target.config.vector.dimension);
    assert.equal(made, 1);
    const wrong = new VectorStorage(
      db,
      'chunks',
      target.config.vector,
      () => new HashEmbedder(3),
      'w',
    );
    assert.throws(() => wrong.embedder, DimensionMismatchError);
    // A given embedder is still checked at once.
    assert.throws(
      () => new VectorStorage(db, 'chunks', target.config.vector, new HashEmbedder(3), 'w'),
      DimensionMismatchError,
    );
  });
});
