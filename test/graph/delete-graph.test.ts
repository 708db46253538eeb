import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { DocumentService } from '../../lib/documents/service.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import type { Embedder } from '../../lib/embedding/types.ts';
import { DocumentNotFoundError } from '../../lib/errors.ts';
import { entityVectorId, relationVectorId } from '../../lib/graph/merge.ts';
import { createLlm } from '../../lib/llm/index.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { openStorages, type Storages } from '../../lib/storage/index.ts';
import { createTestDatabase, quietLogger, TARGET, uniqueWorkspace } from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

const DIM = 32;

/** The hash embedder, failing on demand (to break a deletion part-way). */
class BreakableEmbedder implements Embedder {
  readonly name = 'breakable';
  readonly dimension = DIM;
  broken = false;
  readonly #inner = new HashEmbedder(DIM);
  async embed(texts: readonly string[]) {
    if (this.broken) throw new Error('embedding service down');
    return this.#inner.embed(texts);
  }
}

describe(`document deletion with graph rebuild on ${TARGET}`, () => {
  let db: Database;
  let llm: ScriptedLlm;
  let config: Config;
  const embedder = new BreakableEmbedder();
  let pipeline: IngestPipeline;
  let documents: DocumentService;

  before(async () => {
    llm = await startScriptedLlm();
    const target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      ...scriptedLlmEnv(llm),
      FORCE_LLM_SUMMARY_ON_MERGE: '3',
    });
    config = loadConfig(target.env);
    db = target.open();
    const chat = createLlm(config.llm);
    pipeline = new IngestPipeline(db, config, embedder, quietLogger, chat);
    documents = new DocumentService(db, config, pipeline, undefined);
  });
  after(() => llm.close());

  const docA = [
    'Document A about Marie Curie.',
    '[[E:Marie Curie|Person|Fragment A about Marie Curie.]]',
    '[[E:Radium|Concept|Radium fragment A.]]',
    '[[E:Only A|Concept|An entity only document A mentions.]]',
    '[[R:Marie Curie|Radium|discovery, a|Marie discovered radium (A).]]',
    '[[R:Marie Curie|Only A|mention|Only A relation.]]',
    '[[R:Radium|Pierre Curie|research|Pierre researched radium (A).]]',
  ].join('\n');
  const docB = [
    'Document B about Marie Curie.',
    '[[E:Marie Curie|Person|Fragment B about Marie Curie.]]',
    '[[E:Radium|Concept|Radium fragment B.]]',
    '[[R:Marie Curie|Radium|discovery, b|Marie discovered radium (B).]]',
    '[[R:Radium|Pierre Curie|research|Pierre researched radium (B).]]',
  ].join('\n');
  const docC = [
    'Document C about Marie Curie.',
    '[[E:Marie Curie|Person|Fragment C about Marie Curie.]]',
  ].join('\n');

  async function setup(ws: string) {
    const a = await pipeline.ingest({ content: docA, workspace: ws, filePath: 'a.md' });
    const b = await pipeline.ingest({ content: docB, workspace: ws, filePath: 'b.md' });
    const c = await pipeline.ingest({ content: docC, workspace: ws, filePath: 'c.md' });
    for (const r of [a, b, c]) assert.equal(r.status, 'processed', r.error);
    return { a: a.docId, b: b.docId, c: c.docId, s: await openStorages(db, config, embedder, ws) };
  }

  async function snapshot(s: Storages) {
    const nodes = await db.query(
      `SELECT id, properties FROM lightrag_graph_nodes WHERE workspace = $1 ORDER BY id`,
      [s.workspace],
    );
    const edges = await db.query(
      `SELECT src_id, tgt_id, properties FROM lightrag_graph_edges WHERE workspace = $1 ORDER BY src_id, tgt_id`,
      [s.workspace],
    );
    return JSON.stringify([
      nodes.rows,
      edges.rows,
      await s.entitiesVdb.count(),
      await s.textChunks.count(),
    ]);
  }

  it('deletes what only the document supported and rebuilds the rest from the cache', async () => {
    const ws = uniqueWorkspace();
    const { a, b, s } = await setup(ws);
    assert.equal(
      (await s.graph.getNode('Marie Curie'))?.description,
      'SUMMARY of Marie Curie (3 fragments)',
      'three fragments were summarised at ingest',
    );
    const [chunkB] = await s.textChunks.getByDocId(b);
    const callsBefore = llm.requests.length;

    const result = await documents.delete(a, ws);
    assert.deepEqual(result.graph, {
      entitiesDeleted: 1,
      entitiesRebuilt: 3,
      relationsDeleted: 1,
      relationsRebuilt: 2,
    });
    assert.equal(llm.requests.length, callsBefore, 'no LLM call during the rebuild');

    // Only A's entity and relation are gone, everywhere.
    assert.equal(await s.graph.hasNode('Only A'), false);
    assert.equal(await s.graph.hasEdge('Marie Curie', 'Only A'), false);
    assert.deepEqual(await s.entitiesVdb.getByIds([entityVectorId('Only A')]), [null]);
    assert.deepEqual(
      await s.relationshipsVdb.getByIds([relationVectorId('Marie Curie', 'Only A')]),
      [null],
    );
    assert.equal(await s.entityChunks.getById('Only A'), null);
    assert.equal(await s.relationChunks.getById('Marie Curie<SEP>Only A'), null);

    // Shared ones rebuilt from B's (and C's) cached extraction: A's fragments and weight are gone.
    const marie = await s.graph.getNode('Marie Curie');
    assert.equal(
      marie?.description,
      'Fragment B about Marie Curie.<SEP>Fragment C about Marie Curie.',
    );
    assert.equal(marie?.file_path, 'b.md<SEP>c.md');
    const radium = await s.graph.getNode('Radium');
    assert.equal(radium?.description, 'Radium fragment B.');
    assert.equal(radium?.source_id, chunkB!.id);
    const edge = await s.graph.getEdge('Radium', 'Marie Curie');
    assert.equal(edge?.weight, 1);
    assert.equal(edge?.keywords, 'b,discovery');
    assert.equal(edge?.description, 'Marie discovered radium (B).');
    const pierre = await s.graph.getNode('Pierre Curie');
    assert.equal(pierre?.entity_type, 'UNKNOWN');
    assert.equal(pierre?.description, 'Pierre researched radium (B).');
    const [vector] = await s.entitiesVdb.getByIds([entityVectorId('Radium')]);
    assert.equal(vector?.content, 'Radium\nRadium fragment B.');
    assert.deepEqual((await s.entityChunks.getById('Radium'))?.chunk_ids, [chunkB!.id]);

    // The document itself: chunks, anchors, status, full text.
    assert.deepEqual(await s.textChunks.getByDocId(a), []);
    assert.equal(await s.fullEntities.getById(a), null);
    assert.equal(await s.fullRelations.getById(a), null);
    assert.equal(await s.docStatus.getById(a), null);
    assert.equal(await s.fullDocs.getById(a), null);
    await assert.rejects(documents.delete(a, ws), DocumentNotFoundError);

    // Deleting B and C leaves an empty graph.
    await documents.delete(b, ws);
    const last = await documents.delete(
      (await s.docStatus.getDocsByStatus('processed'))[0]!.id,
      ws,
    );
    assert.equal(last.graph.entitiesDeleted, 1);
    assert.deepEqual(await s.graph.counts(), { nodes: 0, edges: 0 });
    assert.equal(await s.entitiesVdb.count(), 0);
    assert.equal(await s.relationshipsVdb.count(), 0);
    assert.equal(await s.entityChunks.count(), 0);
    assert.equal(await s.relationChunks.count(), 0);
  });

  it('changes nothing when it fails part-way, and succeeds when repeated', async () => {
    const ws = uniqueWorkspace();
    const { a, s } = await setup(ws);
    const before = await snapshot(s);
    embedder.broken = true;
    try {
      await assert.rejects(documents.delete(a, ws), /embedding service down/);
    } finally {
      embedder.broken = false;
    }
    assert.equal(await snapshot(s), before, 'the failed deletion rolled back whole');
    assert.equal((await s.docStatus.getById(a))?.status, 'processed');
    const result = await documents.delete(a, ws);
    assert.equal(result.graph.entitiesDeleted, 1);
    assert.equal(await s.graph.hasNode('Only A'), false);
  });
  it('keeps an entity another document still names in a relation', async () => {
    const ws = uniqueWorkspace();
    const x = await pipeline.ingest({
      content: '[[E:Lise Meitner|Person|Lise Meitner was a physicist.]]',
      workspace: ws,
    });
    const y = await pipeline.ingest({
      content:
        '[[R:Lise Meitner|Nuclear Fission|explanation|Lise Meitner explained nuclear fission.]]',
      workspace: ws,
    });
    const s = await openStorages(db, config, embedder, ws);
    const [chunkY] = await s.textChunks.getByDocId(y.docId);
    const before = await s.graph.getNode('Lise Meitner');
    assert.equal(before?.entity_type, 'person', 'a relation mention adds no type vote');
    assert.equal(before?.description, 'Lise Meitner was a physicist.', 'nor a description');
    assert.equal((await s.entityChunks.getById('Lise Meitner'))?.count, 2, 'but it supports her');
    await documents.delete(x.docId, ws);
    const after = await s.graph.getNode('Lise Meitner');
    assert.equal(after?.entity_type, 'UNKNOWN');
    assert.equal(after?.description, 'Lise Meitner explained nuclear fission.');
    assert.equal(after?.source_id, chunkY!.id);
    assert.equal(await s.graph.hasEdge('Nuclear Fission', 'Lise Meitner'), true);
  });
  it('removes the anchors of a document whose extraction found nothing', async () => {
    const ws = uniqueWorkspace();
    const plain = await pipeline.ingest({ content: 'No entities here at all.', workspace: ws });
    assert.equal(plain.status, 'processed');
    const s = await openStorages(db, config, embedder, ws);
    assert.deepEqual((await s.fullEntities.getById(plain.docId))?.entity_names, []);
    const result = await documents.delete(plain.docId, ws);
    assert.equal(result.graph.entitiesDeleted, 0);
    assert.equal(await s.fullEntities.getById(plain.docId), null);
    assert.equal(await s.fullRelations.getById(plain.docId), null);
  });
});
