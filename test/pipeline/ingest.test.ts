import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import type { Embedder } from '../../lib/embedding/types.ts';
import { DocumentNotFoundError, ProviderError, ValidationError } from '../../lib/errors.ts';
import { documentIdFor } from '../../lib/ids.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { contentSummary } from '../../lib/storage/status-rows.ts';
import { documentId, md5 } from '../../lib/text.ts';
import { createTestDatabase, quietLogger, TARGET, uniqueWorkspace } from '../support/database.ts';

const DIM = 32;

/** The hash embedder, with failures injected on demand. */
class FlakyEmbedder implements Embedder {
  readonly name = 'flaky';
  readonly dimension = DIM;
  failure: Error | undefined;
  readonly #inner = new HashEmbedder(DIM);
  async embed(texts: readonly string[]) {
    if (this.failure) throw this.failure;
    return this.#inner.embed(texts);
  }
}

describe(`ingest pipeline on ${TARGET}`, () => {
  let db: Database;
  let config: Config;
  const embedder = new FlakyEmbedder();
  let pipeline: IngestPipeline;
  const text = (tag: string, n = 60) =>
    Array.from({ length: n }, (_, i) => `${tag} sentence ${i} about storage.`).join(' ');

  before(async () => {
    const target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      CHUNK_SIZE: '64',
      CHUNK_OVERLAP_SIZE: '8',
    });
    config = loadConfig(target.env);
    db = target.open();
    pipeline = new IngestPipeline(db, config, embedder, quietLogger);
    // A warm container: schema ensured, tokenizer loaded.
    await pipeline.ingest({ content: 'warm-up document', workspace: uniqueWorkspace() });
  });

  it("processes a document with LightRAG's ids, fields and status", async (t) => {
    const workspace = uniqueWorkspace();
    const content = `  ${text('alpha')}\n`;
    const queriesBefore = db.stats().queries;
    const started = performance.now();
    const result = await pipeline.ingest({
      content,
      workspace,
      filePath: 'alpha.md',
      metadata: { lang: 'en' },
    });
    const elapsed = performance.now() - started;
    const roundTrips = db.stats().queries - queriesBefore;
    t.diagnostic(
      `1 document, ${result.chunks} chunks, ${roundTrips} round trips, ${(result.chunks / (elapsed / 1000)).toFixed(0)} chunks/s`,
    );
    assert.equal(result.status, 'processed');
    assert.equal(result.docId, documentIdFor(content, 'alpha.md', '1.5'));
    // 13 for the document, 3 for LightRAG's pipeline log and cancellation checks (the first
    // line and check share one; the check before the commit; the last line).
    assert.ok(roundTrips <= 16, `round trips per document: ${roundTrips}`);
    const s = await pipeline.storages(workspace);
    const status = await s.docStatus.getById(result.docId);
    assert.equal(status?.content_summary, contentSummary(content));
    assert.ok(status?.content_summary.endsWith('...'));
    assert.equal(status?.content_length, content.trim().length);
    assert.equal(status?.content_hash, md5(content.trim()));
    assert.match(status?.track_id ?? '', /^insert_\d{8}_\d{6}_[0-9a-f]{8}$/);
    assert.deepEqual(status?.metadata, { caller: { lang: 'en' } }, "the caller's, under its key");
    assert.equal(status?.file_path, 'alpha.md');
    assert.equal(status?.error_msg, null);
    const chunks = await s.textChunks.getByDocId(result.docId);
    assert.equal(chunks.length, result.chunks);
    assert.ok(chunks.every((c) => c.file_path === 'alpha.md' && c.full_doc_id === result.docId));
    assert.equal((await s.fullDocs.getById(result.docId))?.content, content.trim());
    assert.equal(
      (await s.chunksVdb.getByIds(chunks.map((c) => c.id))).filter(Boolean).length,
      chunks.length,
    );
  });

  it('skips a document already processed, without writing', async () => {
    const workspace = uniqueWorkspace();
    await pipeline.ingest({ content: text('beta'), workspace });
    const before = db.stats().queries;
    const again = await pipeline.ingest({ content: text('beta'), workspace, filePath: 'other.md' });
    assert.equal(again.duplicate, true);
    assert.ok(db.stats().queries - before <= 2, 'a status read only');
    // The same text in another workspace is another document.
    const elsewhere = await pipeline.ingest({
      content: text('beta'),
      workspace: uniqueWorkspace(),
    });
    assert.equal(elsewhere.duplicate, false);
  });

  it('removes NUL bytes before computing the id and storing', async () => {
    const workspace = uniqueWorkspace();
    const result = await pipeline.ingest({
      content: `nul\u0000 in the\u0000 middle ${text('nul', 3)}`,
      workspace,
    });
    assert.equal(result.docId, documentId(`nul in the middle ${text('nul', 3)}`));
    const s = await pipeline.storages(workspace);
    assert.ok(!(await s.fullDocs.getById(result.docId))?.content.includes('\u0000'));
  });

  it('refuses empty documents and unknown ids, storing nothing', async () => {
    const workspace = uniqueWorkspace();
    await assert.rejects(pipeline.ingest({ content: ' \u0000 \n', workspace }), ValidationError);
    await assert.rejects(
      pipeline.ingest({ docId: 'doc-missing', workspace }),
      DocumentNotFoundError,
    );
    const s = await pipeline.storages(workspace);
    assert.equal(await s.docStatus.count(), 0);
    assert.equal(await s.fullDocs.count(), 0);
  });

  it('marks a permanent provider failure failed with the reason and keeps the content', async () => {
    const workspace = uniqueWorkspace();
    embedder.failure = new ProviderError('flaky', 'HTTP 400: bad input', {
      retryable: false,
      status: 400,
    });
    try {
      const result = await pipeline.ingest({ content: text('gamma'), workspace });
      assert.equal(result.status, 'failed');
      const s = await pipeline.storages(workspace);
      const status = await s.docStatus.getById(result.docId);
      assert.equal(status?.status, 'failed');
      assert.match(status?.error_msg ?? '', /HTTP 400: bad input/);
      assert.equal(await s.textChunks.count(), 0);
      assert.equal((await s.fullDocs.getById(result.docId))?.content, text('gamma'));
    } finally {
      embedder.failure = undefined;
    }
  });

  it('rethrows a transient failure, leaving the document pending; gives up on the final attempt', async () => {
    const workspace = uniqueWorkspace();
    const s = await pipeline.storages(workspace);
    embedder.failure = new ProviderError('flaky', 'HTTP 503', { retryable: true, status: 503 });
    try {
      await assert.rejects(pipeline.ingest({ content: text('delta'), workspace }), ProviderError);
      assert.equal((await s.docStatus.getById(documentId(text('delta'))))?.status, 'pending');
      // The one failure policy: the last delivery records the failure and resolves (message deleted).
      const last = await pipeline.ingest(
        { content: text('delta'), workspace },
        { finalAttempt: true },
      );
      assert.equal(last.status, 'failed');
      assert.match(last.error ?? '', /^Gave up after the last delivery/);
      const status = await s.docStatus.getById(documentId(text('delta')));
      assert.equal(status?.status, 'failed');
      assert.match(status?.error_msg ?? '', /^Gave up after the last delivery: flaky: HTTP 503/);
    } finally {
      embedder.failure = undefined;
    }
    // Reprocessing a failed document works and clears the error.
    const again = await pipeline.ingest({ content: text('delta'), workspace });
    assert.equal(again.status, 'processed');
    assert.equal((await s.docStatus.getById(again.docId))?.error_msg, null);
  });

  it('writes one set of chunks when the same document is ingested concurrently', async () => {
    const workspace = uniqueWorkspace();
    const other = new IngestPipeline(db, config, new HashEmbedder(DIM), quietLogger);
    const [a, b] = await Promise.all([
      pipeline.ingest({ content: text('epsilon'), workspace }),
      other.ingest({ content: text('epsilon'), workspace }),
    ]);
    assert.equal(a.docId, b.docId);
    const s = await pipeline.storages(workspace);
    const status = await s.docStatus.getById(a.docId);
    assert.equal(status?.status, 'processed');
    assert.equal(await s.textChunks.count(), status?.chunks_count);
    assert.equal(await s.chunksVdb.count(), status?.chunks_count);
  });

  it('stores a document as pending for processing by reference', async () => {
    const workspace = uniqueWorkspace();
    const stored = await pipeline.store({ content: text('zeta'), workspace, filePath: 'z.md' });
    const s = await pipeline.storages(workspace);
    assert.equal((await s.docStatus.getById(stored.docId))?.status, 'pending');
    const result = await pipeline.ingest({ docId: stored.docId, workspace });
    assert.equal(result.status, 'processed');
    assert.equal((await s.docStatus.getById(stored.docId))?.file_path, 'z.md');
    assert.equal((await pipeline.store({ content: text('zeta'), workspace })).duplicate, true);
  });
});
