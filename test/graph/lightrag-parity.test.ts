/**
 * Behaviour pinned to LightRAG 1.5's (issue 19), through the real pipeline and query engine with
 * the scripted LLM: duplicate records of one reply all count; the chunk selection and the
 * `chunk_top_k` cap; an entity created by relations takes the first relation's description;
 * relation-end support adds chunk ids but no file; relations shown with sorted ends; weights
 * stored as floats, a `truncate` property, sorted document anchors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { entityVectorId } from '../../lib/graph/merge.ts';
import { createLlm } from '../../lib/llm/index.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { pickByWeightedPolling, selectRelatedChunks } from '../../lib/query/chunk-selection.ts';
import { QueryEngine } from '../../lib/query/engine.ts';
import { parseQueryRequest, queryDefaults } from '../../lib/query/request.ts';
import { openStorages } from '../../lib/storage/index.ts';
import { createTestDatabase, quietLogger, TARGET, uniqueWorkspace } from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

const DIM = 32;

describe(`parity with LightRAG 1.5 on ${TARGET}`, () => {
  let db: Database;
  let llm: ScriptedLlm;
  let config: Config;
  let pipeline: IngestPipeline;
  let env: Record<string, string>;
  const embedder = new HashEmbedder(DIM);

  before(async () => {
    llm = await startScriptedLlm();
    const target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      ...scriptedLlmEnv(llm),
      FORCE_LLM_SUMMARY_ON_MERGE: '1000',
      SUMMARY_MAX_TOKENS: '100000',
      COSINE_THRESHOLD: '-1',
    });
    env = target.env;
    config = loadConfig(env);
    db = target.open();
    pipeline = new IngestPipeline(db, config, embedder, quietLogger, createLlm(config.llm));
  });
  after(() => llm.close());

  const ingest = async (ws: string, filePath: string, lines: string[]) => {
    const r = await pipeline.ingest({ content: lines.join('\n'), filePath, workspace: ws });
    assert.equal(r.status, 'processed', r.error);
    return r;
  };

  it('keeps every record when one reply lists an entity or a relation twice', async () => {
    const ws = uniqueWorkspace();
    await ingest(ws, 'babbage.md', [
      'Charles Babbage and Ada Lovelace.',
      '[[E:Charles Babbage|Person|Charles Babbage was an English polymath who designed the Analytical Engine.]]',
      '[[E:Charles Babbage|Inventor|Charles Babbage invented the Difference Engine.]]',
      '[[E:Ada Lovelace|Person|Ada Lovelace was a mathematician.]]',
      '[[R:Ada Lovelace|Charles Babbage|operation|Ada described how the engine operates.]]',
      '[[R:Charles Babbage|Ada Lovelace|programming|Babbage and Ada discussed programming it.]]',
    ]);
    const s = await openStorages(db, config, embedder, ws);
    const node = await s.graph.getNode('Charles Babbage');
    assert.equal(node?.entity_type, 'person', 'a tie goes to the first record, as LightRAG votes');
    assert.equal(
      node?.description,
      'Charles Babbage was an English polymath who designed the Analytical Engine.<SEP>Charles Babbage invented the Difference Engine.',
    );
    const edge = await s.graph.getEdge('Ada Lovelace', 'Charles Babbage');
    assert.equal(edge?.weight, 2);
    assert.equal(edge?.keywords, 'operation,programming');
    assert.equal(String(edge?.description).split('<SEP>').length, 2);
    const [vector] = await s.entitiesVdb.getByIds([entityVectorId('Charles Babbage')]);
    assert.match(String(vector?.content), /Difference Engine/);
    // Stored as LightRAG stores them: a float weight, a truncate property, sorted anchors.
    const { rows } = await db.query<{ p: string }>(
      `SELECT properties::text AS p FROM lightrag_graph_edges WHERE workspace = $1`,
      [ws],
    );
    assert.match(rows[0]!.p, /"weight": 2\.0/);
    assert.equal(node?.truncate, '');
    const { rows: anchors } = await db.query<{ names: string[] }>(
      `SELECT entity_names AS names FROM lightrag_full_entities WHERE workspace = $1`,
      [ws],
    );
    assert.deepEqual(anchors[0]!.names, ['Ada Lovelace', 'Charles Babbage']);
  });

  it('creates a relation-only end from the first relation, and adds no file for end-only support', async () => {
    const ws = uniqueWorkspace();
    await ingest(ws, 'first.md', [
      'Two relations reach a new end.',
      '[[E:Alpha|Concept|Alpha is a concept.]]',
      '[[E:Beta|Concept|Beta is a concept.]]',
      '[[R:Alpha|New End|k1|Alpha links to the new end first.]]',
      '[[R:Beta|New End|k2|Beta links to the new end second.]]',
    ]);
    const s = await openStorages(db, config, embedder, ws);
    const end = await s.graph.getNode('New End');
    assert.equal(end?.entity_type, 'UNKNOWN');
    assert.equal(end?.description, 'Alpha links to the new end first.');
    // A later document names Alpha only as a relation end: its chunk supports Alpha, its file does not.
    const later = await ingest(ws, 'second.md', [
      'Gamma meets Alpha.',
      '[[E:Gamma|Concept|Gamma is a concept.]]',
      '[[R:Gamma|Alpha|k3|Gamma meets Alpha.]]',
    ]);
    const alpha = await s.graph.getNode('Alpha');
    assert.equal(alpha?.file_path, 'first.md');
    assert.ok(alpha?.source_id?.includes(`${later.docId}-chunk-000`), 'the chunk id is tracked');
    assert.equal(alpha?.description, 'Alpha is a concept.');
  });

  it('caps the context at chunk_top_k in every mode (CHUNK_TOP_K=2, RELATED_CHUNK_NUMBER=1, TOP_K=3)', async () => {
    const ws = uniqueWorkspace();
    const names = ['North', 'South', 'East', 'West'];
    for (const [i, name] of names.entries()) {
      const next = names[(i + 1) % names.length]!;
      await ingest(ws, `${name}.md`, [
        `${name} lies next to ${next}.`,
        `[[E:${name}|Place|${name} is a region.]]`,
        `[[R:${name}|${next}|border|${name} borders ${next}.]]`,
      ]);
    }
    const capped = loadConfig({
      ...env,
      CHUNK_TOP_K: '2',
      RELATED_CHUNK_NUMBER: '1',
      TOP_K: '3',
    });
    const engine = new QueryEngine(db, capped, embedder, undefined, quietLogger);
    for (const mode of ['local', 'global', 'hybrid', 'mix', 'naive'] as const) {
      const res = await engine.query(
        parseQueryRequest(
          {
            query: 'Which regions border each other?',
            mode,
            ll_keywords: ['North', 'South'],
            hl_keywords: ['border'],
            only_need_context: true,
          },
          queryDefaults(capped),
        ),
        ws,
      );
      assert.equal(res.context.chunks.length, 2, `${mode}: ${res.context.chunks.length} chunks`);
    }
  });

  it('picks chunks as LightRAG does: count, order, exclusion and the weighted fallback', async () => {
    // Expected per element: 4, then 4 - 0.5 × 3 = 2.5 -> 2 by Python's round() (half to even), then 1.
    const polled = pickByWeightedPolling(
      [
        { sortedChunks: ['a1', 'a2', 'a3', 'a4'] },
        { sortedChunks: ['b1', 'b2', 'b3'] },
        { sortedChunks: ['c1'] },
      ],
      4,
    );
    assert.deepEqual(polled, ['a1', 'a2', 'a3', 'a4', 'b1', 'b2', 'c1']);
    // Quota an element cannot use (3 for the first, 1 chunk held) passes to the next with chunks left.
    assert.deepEqual(
      pickByWeightedPolling([{ sortedChunks: ['a1'] }, { sortedChunks: ['b1', 'b2', 'b3'] }], 3),
      ['a1', 'b1', 'b2', 'b3'],
    );
    const score: Record<string, number> = { c1: 0.9, c2: 0.1, c3: 0.8, c4: 0.7, c5: 0.6 };
    const similarity = async (ids: string[]) =>
      new Map(ids.filter((id) => id in score).map((id) => [id, score[id]!]));
    const vector = { relatedChunkNumber: 2, method: 'VECTOR' as const, similarity };
    // 3 elements with chunks × 2 / 2 = 3 chunks, the most similar of all candidates.
    assert.deepEqual(
      await selectRelatedChunks(['c1<SEP>c2', 'c2<SEP>c3', 'c4<SEP>c5', ''], vector),
      ['c1', 'c3', 'c4'],
    );
    // Relations: chunks chosen through entities are excluded, and counted after exclusion.
    assert.deepEqual(
      await selectRelatedChunks(['c1', 'c1<SEP>c5'], {
        ...vector,
        exclude: new Set(['c1']),
        countAfterExclusion: true,
      }),
      ['c5'],
    );
    // No chunk vector at all: weighted polling instead.
    assert.deepEqual(
      await selectRelatedChunks(['x1<SEP>x2', 'y1'], {
        ...vector,
        similarity: async () => new Map(),
      }),
      ['x1', 'x2', 'y1'],
    );
  });

  it('shows relations with their ends in sorted order in every mode', async () => {
    const ws = uniqueWorkspace();
    await ingest(ws, 'order.md', [
      'Zeta and Able.',
      '[[E:Zeta|Concept|Zeta comes last.]]',
      '[[E:Able|Concept|Able comes first.]]',
      '[[R:Zeta|Able|order|Zeta points at Able.]]',
    ]);
    const engine = new QueryEngine(db, config, embedder, undefined, quietLogger);
    const res = await engine.query(
      parseQueryRequest(
        { query: 'Zeta?', mode: 'local', ll_keywords: ['Zeta'], only_need_context: true },
        queryDefaults(config),
      ),
      ws,
    );
    assert.deepEqual(
      res.context.relationships.map((r) => [r.entity1, r.entity2]),
      [['Able', 'Zeta']],
    );
  });
});
