import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeCause, isConnectionError } from '../lib/db/database.ts';
import { HashEmbedder } from '../lib/embedding/hash.ts';
import { InvalidWorkspaceError, VectorTableNameError } from '../lib/errors.ts';
import { boundHistory } from '../lib/query/history.ts';
import { dedupeLastWins, MAX_BIND_PARAMETERS, splitBatches } from '../lib/storage/batch.ts';
import { vectorTableName } from '../lib/storage/tables.ts';
import { computeMdhashId, documentId, sanitizeJson, sanitizeText } from '../lib/text.ts';
import { validateWorkspace } from '../lib/workspace.ts';

describe('text rules', () => {
  it('removes NUL and replaces lone surrogates', () => {
    assert.equal(sanitizeText('a\u0000b\u0000'), 'ab');
    assert.equal(sanitizeText('x\uD800y'), 'x\uFFFDy');
    assert.equal(sanitizeText('ok 😀'), 'ok 😀');
    assert.deepEqual(sanitizeJson({ 'k\u0000': ['v\u0000', 1, null, { n: '\uDC00' }] }), {
      k: ['v', 1, null, { n: '\uFFFD' }],
    });
  });

  it("computes LightRAG's ids", () => {
    // md5('hello') = 5d41402abc4b2a76b9719d911017c592
    assert.equal(computeMdhashId('hello', 'chunk-'), 'chunk-5d41402abc4b2a76b9719d911017c592');
    assert.equal(documentId('  hello\u0000 \n'), 'doc-5d41402abc4b2a76b9719d911017c592');
  });
});

describe('batches', () => {
  it('collapses duplicates, last wins, first position kept', () => {
    const out = dedupeLastWins(
      [
        { id: 'a', v: 1 },
        { id: 'b', v: 2 },
        { id: 'a', v: 3 },
      ],
      (r) => r.id,
    );
    assert.deepEqual(out, [
      { id: 'a', v: 3 },
      { id: 'b', v: 2 },
    ]);
  });

  it('splits by the bind-parameter limit when parameters grow with rows', () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => i);
    const batches = splitBatches(
      rows,
      { parametersPerRecord: 7, parametersGrowWithRows: true },
      () => 1,
    );
    for (const b of batches) assert.ok(b.length * 7 <= MAX_BIND_PARAMETERS);
    assert.equal(batches.flat().length, 20_000);
    assert.equal(batches[0]!.length, Math.floor(MAX_BIND_PARAMETERS / 7));
  });

  it('splits by bytes and gives an oversized record its own batch', () => {
    const batches = splitBatches(
      [5, 5, 5, 50, 5],
      { parametersPerRecord: 3, parametersGrowWithRows: false, maxBytes: 12 },
      (n) => n,
    );
    assert.deepEqual(batches, [[5, 5], [5], [50], [5]]);
    assert.deepEqual(
      splitBatches([], { parametersPerRecord: 1, parametersGrowWithRows: false }, () => 1),
      [],
    );
  });
});

describe('workspaces and identifiers', () => {
  it("accepts what LightRAG's workspace rule accepts, refuses the rest", () => {
    for (const good of [
      'tenant_42-a',
      'team.v1',
      'a b',
      'ü',
      "x'; DROP TABLE t;--",
      '...',
      'a'.repeat(255),
      '😀'.repeat(255),
    ])
      assert.equal(validateWorkspace(good), good);
    for (const bad of [
      '',
      '.',
      '..',
      '../etc',
      'a/b',
      'a\\b',
      'a'.repeat(256),
      'a\u0000',
      'a\tb',
      'a\u007f',
      '\udc00',
      42,
      null,
    ]) {
      assert.throws(() => validateWorkspace(bad), InvalidWorkspaceError, String(bad));
    }
  });

  it("derives model-suffixed vector table names by LightRAG's rule, refusing what it refuses", () => {
    assert.equal(vectorTableName('chunks', { dimension: 1536 }), 'lightrag_vdb_chunks');
    assert.equal(
      vectorTableName('chunks', { model: 'text-embedding-3-small', dimension: 1536 }),
      'lightrag_vdb_chunks_text_embedding_3_small_1536d',
    );
    // LIGHTRAG-1.5.md §2.1: every character outside [a-zA-Z0-9_] becomes one `_`.
    assert.equal(
      vectorTableName('chunks', { model: ' text-embedding-3-large (azure) ', dimension: 3072 }),
      'lightrag_vdb_chunks_text_embedding_3_large__azure__3072d',
    );
    // Names that LightRAG maps to one table map to that same table here.
    const names = [
      'text-embedding-3-small',
      'text.embedding.3.small',
      'Text_Embedding_3_Small',
    ].map((model) => vectorTableName('entities', { model, dimension: 1536 }));
    assert.deepEqual(names, [
      'lightrag_vdb_entity_text_embedding_3_small_1536d',
      'lightrag_vdb_entity_text_embedding_3_small_1536d',
      'lightrag_vdb_entity_text_embedding_3_small_1536d',
    ]);
    // An astral character is one code point, so one `_` (as in Python).
    assert.equal(
      vectorTableName('chunks', { model: 'e5-😀', dimension: 8 }),
      'lightrag_vdb_chunks_e5___8d',
    );
    assert.throws(
      () =>
        vectorTableName('relationships', {
          model: 'Org/Some-Very-Long-Model-Name-v2.5:latest',
          dimension: 4096,
        }),
      (err: Error) => err instanceof VectorTableNameError && /63/.test(err.message),
    );
  });
});

describe('connection-class errors', () => {
  const withCode = (message: string, code?: string) =>
    Object.assign(new Error(message), code ? { code } : {});
  it('recognises killed backends, broken sockets and timeouts', () => {
    assert.ok(
      isConnectionError(withCode('terminating connection due to administrator command', '57P01')),
    );
    assert.ok(isConnectionError(withCode('connection failure', '08006')));
    assert.ok(isConnectionError(withCode('read ECONNRESET', 'ECONNRESET')));
    assert.ok(isConnectionError(withCode('Connection terminated unexpectedly')));
    assert.ok(isConnectionError(withCode('Query read timeout')));
    assert.ok(isConnectionError(withCode('timeout exceeded when trying to connect')));
  });
  it('leaves statement errors alone', () => {
    assert.ok(!isConnectionError(withCode('duplicate key value', '23505')));
    assert.ok(!isConnectionError(withCode('relation "x" does not exist', '42P01')));
    assert.ok(
      !isConnectionError(withCode('canceling statement due to statement timeout', '57014')),
    );
    assert.ok(!isConnectionError('Connection terminated'));
  });
});

describe('hash embedder', () => {
  it('is deterministic, normalised and lexical', async () => {
    const e = new HashEmbedder(64);
    const [a, b, c, empty] = await e.embed([
      'the cat sat',
      'the cat sat',
      'quantum chromodynamics',
      '',
    ]);
    assert.deepEqual(a, b);
    assert.equal(a!.length, 64);
    assert.ok(Math.abs(Math.hypot(...a!) - 1) < 1e-9);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    const [near] = await e.embed(['a cat sat down']);
    assert.ok(dot(a!, near!) > dot(a!, c!));
    assert.ok(Math.abs(Math.hypot(...empty!) - 1) < 1e-9);
  });
});

describe('vector binary format', () => {
  it("writes pgvector's header and big-endian float4 values", async () => {
    const { vectorBinary } = await import('../lib/storage/vector-codec.ts');
    const buffer = vectorBinary([0.1, -2, 1 / 3]);
    assert.equal(buffer.length, 4 + 3 * 4);
    assert.equal(buffer.readInt16BE(0), 3);
    assert.equal(buffer.readInt16BE(2), 0);
    assert.deepEqual(
      [4, 8, 12].map((o) => buffer.readFloatBE(o)),
      [0.1, -2, 1 / 3].map(Math.fround),
    );
  });
});

describe('conversation history bounds', () => {
  const count = (t: string) => t.length;
  const turn = (i: number, size = 10) => ({
    role: (i % 2 ? 'assistant' : 'user') as 'user' | 'assistant',
    content: `${i}`.padEnd(size, '.'),
  });
  it('keeps the last turns within the token budget, oldest dropped first', () => {
    const history = Array.from({ length: 10 }, (_, i) => turn(i));
    assert.deepEqual(
      boundHistory(history, { turns: 2, maxTokens: 1000, count }).map((m) => m.content[0]),
      ['6', '7', '8', '9'],
    );
    assert.deepEqual(
      boundHistory(history, { turns: 2, maxTokens: 25, count }).map((m) => m.content[0]),
      ['8', '9'],
    );
    assert.deepEqual(boundHistory(history, { turns: 0, maxTokens: 1000, count }), []);
    assert.deepEqual(boundHistory([turn(0, 50)], { turns: 3, maxTokens: 10, count }), []);
  });
});

describe('connection failure reasons', () => {
  it('reads an ErrorEvent instead of printing [object ErrorEvent]', () => {
    const event = { type: 'error', message: 'connect ECONNREFUSED', error: undefined };
    assert.equal(describeCause(event), 'connect ECONNREFUSED');
    assert.equal(
      describeCause({ type: 'error', error: new Error('socket hang up') }),
      'socket hang up',
    );
    assert.equal(describeCause({ type: 'close' }), 'WebSocket close');
    assert.equal(describeCause(new Error('x')), 'x');
  });
});
