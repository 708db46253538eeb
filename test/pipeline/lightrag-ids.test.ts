/**
 * Documents ingested under LightRAG 1.5's identity rules (the default) and ≤ 1.4's
 * (`LIGHTRAG_ID_RULES=1.4`): ids, chunk ids, stored file paths, duplicate marker rows as LightRAG
 * writes them, and redeliveries that must not count as duplicates.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { computeMdhashId, documentId, md5 } from '../../lib/text.ts';
import { createTestDatabase, quietLogger, TARGET, uniqueWorkspace } from '../support/database.ts';

const DIM = 32;
const text = (tag: string, n = 40) =>
  Array.from({ length: n }, (_, i) => `${tag} line ${i} of the report.`).join(' ');

describe(`LightRAG 1.5 document identity on ${TARGET}`, () => {
  let db: Database;
  let config: Config;
  let pipeline: IngestPipeline;

  before(async () => {
    const target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      CHUNK_SIZE: '64',
      CHUNK_OVERLAP_SIZE: '8',
    });
    config = loadConfig(target.env);
    db = target.open();
    pipeline = new IngestPipeline(db, config, new HashEmbedder(DIM), quietLogger);
  });

  it('names a document by its file and its chunks by position; stores the basename', async () => {
    const workspace = uniqueWorkspace();
    const result = await pipeline.ingest({
      content: text('alpha'),
      filePath: 'reports/2026/report.[mineru-Fi].pdf',
      workspace,
    });
    assert.equal(result.status, 'processed', result.error);
    assert.equal(result.docId, 'doc-5c6813f49dfba292cc1008edce1c90e2'); // md5('report.pdf')
    const s = await pipeline.storages(workspace);
    const status = await s.docStatus.getById(result.docId);
    assert.equal(status?.file_path, 'report.pdf');
    assert.equal(status?.content_hash, md5(text('alpha')));
    const chunks = await s.textChunks.getByDocId(result.docId);
    assert.ok(chunks.length > 2);
    assert.deepEqual(
      chunks.map((c) => c.id),
      chunks.map((_, i) => `${result.docId}-chunk-${String(i).padStart(3, '0')}`),
    );
    assert.deepEqual(
      status?.chunks_list,
      chunks.map((c) => c.id),
    );
    assert.ok(chunks.every((c) => c.file_path === 'report.pdf'));
    assert.equal((await s.fullDocs.getById(result.docId))?.file_path, 'report.pdf');
    // A document without a name keeps the content rule.
    const unnamed = await pipeline.ingest({ content: text('beta'), workspace });
    assert.equal(unnamed.docId, documentId(text('beta')));
    assert.equal((await s.docStatus.getById(unnamed.docId))?.file_path, 'unknown_source');
  });

  it('records the same name with other content, or the same content under another name, as a duplicate', async () => {
    const workspace = uniqueWorkspace();
    const first = await pipeline.ingest({
      content: text('gamma'),
      filePath: 'notes.md',
      workspace,
      trackId: 'insert_20260101_000000_aaaaaaaa',
    });
    const s = await pipeline.storages(workspace);
    const chunksBefore = await s.textChunks.getByDocId(first.docId);
    // Same file name, new content: the original stays, a failed dup- row records the attempt.
    const renamed = await pipeline.ingest({
      content: text('delta'),
      filePath: 'inbox/notes.md',
      workspace,
      trackId: 'insert_20260102_000000_bbbbbbbb',
    });
    assert.deepEqual(
      { docId: renamed.docId, duplicate: renamed.duplicate, kind: renamed.duplicateKind },
      { docId: first.docId, duplicate: true, kind: 'filename' },
    );
    const markerId = computeMdhashId(
      `${first.docId}-insert_20260102_000000_bbbbbbbb-0-notes.md`,
      'dup-',
    );
    const marker = await s.docStatus.getById(markerId);
    assert.equal(marker?.status, 'failed');
    assert.equal(marker?.content_summary, `[DUPLICATE:filename] Original document: ${first.docId}`);
    assert.deepEqual(marker?.metadata, {
      is_duplicate: true,
      duplicate_kind: 'filename',
      original_doc_id: first.docId,
      original_track_id: 'insert_20260101_000000_aaaaaaaa',
    });
    assert.equal(marker?.chunks_count, 0);
    assert.deepEqual(await s.textChunks.getByDocId(first.docId), chunksBefore);
    // Same content under another name.
    const copy = await pipeline.ingest({ content: text('gamma'), filePath: 'copy.md', workspace });
    assert.equal(copy.duplicateKind, 'content_hash');
    assert.equal(copy.docId, first.docId);
    const markers = (await s.docStatus.getDocsByStatus('failed')).filter(
      (d) => d.metadata.is_duplicate,
    );
    assert.equal(markers.length, 2);
    assert.match(
      markers.find((m) => m.metadata.duplicate_kind === 'content_hash')!.error_msg!,
      /^Identical content already exists under another filename/,
    );
    // Marker rows are not primaries: they never make a later document a duplicate.
    assert.equal((await s.docStatus.getStatusCounts()).processed, 1);
  });

  it('finishes a redelivered document instead of calling it a duplicate', async () => {
    const workspace = uniqueWorkspace();
    const s = await pipeline.storages(workspace);
    // A first delivery that stopped after marking the document processing.
    const stored = await pipeline.store({ content: text('epsilon'), filePath: 'e.md', workspace });
    assert.equal(stored.duplicate, false);
    const again = await pipeline.ingest({ content: text('epsilon'), filePath: 'e.md', workspace });
    assert.equal(again.duplicate, false);
    assert.equal(again.status, 'processed');
    assert.equal(again.docId, stored.docId);
    // And once processed, the same file again is simply already there.
    const third = await pipeline.ingest({ content: text('epsilon'), filePath: 'e.md', workspace });
    assert.deepEqual([third.duplicate, third.duplicateKind], [true, undefined]);
    assert.equal((await s.docStatus.getDocsByStatus('failed')).length, 0, 'no marker row');
  });

  it('finds a name held by a row under a LightRAG 1.4 content id', async () => {
    const workspace = uniqueWorkspace();
    const s = await pipeline.storages(workspace);
    const legacyId = documentId('old body');
    await s.docStatus.upsert([
      {
        id: legacyId,
        status: 'processed',
        content_summary: 'old body',
        content_length: 8,
        file_path: 'legacy.md',
        content_hash: null,
      },
    ]);
    const result = await pipeline.ingest({
      content: text('zeta'),
      filePath: 'legacy.md',
      workspace,
    });
    assert.deepEqual(
      [result.duplicate, result.duplicateKind, result.docId],
      [true, 'filename', legacyId],
    );
  });

  it('keeps LightRAG 1.4 ids with LIGHTRAG_ID_RULES=1.4', async () => {
    assert.equal(loadConfig({ LIGHTRAG_ID_RULES: '1.4' }).ingest.idRules, '1.4');
    assert.equal(loadConfig({}).ingest.idRules, '1.5');
    assert.throws(() => loadConfig({ LIGHTRAG_ID_RULES: '2.0' }), /LIGHTRAG_ID_RULES/);
    const old = new IngestPipeline(
      db,
      { ...config, ingest: { ...config.ingest, idRules: '1.4' } },
      new HashEmbedder(DIM),
      quietLogger,
    );
    const workspace = uniqueWorkspace();
    const result = await old.ingest({ content: text('eta'), filePath: 'dir/eta.md', workspace });
    assert.equal(result.docId, documentId(text('eta')));
    const s = await old.storages(workspace);
    const chunks = await s.textChunks.getByDocId(result.docId);
    assert.ok(chunks.every((c) => c.id === computeMdhashId(c.content, 'chunk-')));
    assert.equal((await s.docStatus.getById(result.docId))?.file_path, 'dir/eta.md');
  });
});
