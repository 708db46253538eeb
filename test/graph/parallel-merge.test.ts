import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Config, loadConfig } from '../../lib/config.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { createLlm } from '../../lib/llm/index.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { openStorages } from '../../lib/storage/index.ts';
import {
  createTestDatabase,
  quietLogger,
  TARGET,
  type TestDatabase,
  uniqueWorkspace,
} from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

const DIM = 32;
const CONTAINERS = 4;
const DOCS = 16;

/**
 * Many containers merging into the same entities at once: every description fragment and every
 * unit of relation weight must survive (no lost update), with no deadlock surfacing as a failure.
 */
describe(`parallel graph merges on ${TARGET}`, () => {
  let llm: ScriptedLlm;
  let target: TestDatabase;
  let config: Config;

  before(async () => {
    llm = await startScriptedLlm();
    target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      ...scriptedLlmEnv(llm),
      // Keep every fragment visible: no summaries in this test.
      FORCE_LLM_SUMMARY_ON_MERGE: '1000',
      SUMMARY_MAX_TOKENS: '100000',
      POSTGRES_MAX_CONNECTIONS: '2',
    });
    config = loadConfig(target.env);
  });
  after(() => llm.close());

  it('keeps every fragment and weight when overlapping documents merge concurrently', async () => {
    const ws = uniqueWorkspace();
    const containers = Array.from({ length: CONTAINERS }, () => {
      const db = target.open();
      return new IngestPipeline(
        db,
        config,
        new HashEmbedder(DIM),
        quietLogger,
        createLlm(config.llm),
      );
    });
    // Each document names the shared entities in a different order, so writers reach them in
    // different orders: only the sorted lock order keeps them from deadlocking.
    const doc = (i: number) => {
      const shared = [
        `[[E:Hub Entity|Concept|Hub fragment ${i}.]]`,
        `[[E:Shared Topic|Concept|Topic fragment ${i}.]]`,
        `[[E:Über Thema|Concept|Umlaut fragment ${i}.]]`,
      ];
      if (i % 2) shared.reverse();
      return [
        `Parallel document ${i}.`,
        ...shared,
        `[[E:Unique ${i}|Concept|Only in document ${i}.]]`,
        `[[R:${i % 2 ? 'Shared Topic' : 'Hub Entity'}|${i % 2 ? 'Hub Entity' : 'Shared Topic'}|k${i}|Link fragment ${i}.]]`,
        `[[R:Unique ${i}|Über Thema|own|Unique link ${i}.]]`,
      ].join('\n');
    };
    const results = await Promise.all(
      Array.from({ length: DOCS }, (_, i) =>
        containers[i % CONTAINERS]!.ingest({ content: doc(i), workspace: ws }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.status),
      Array(DOCS).fill('processed'),
      results
        .map((r) => r.error)
        .filter(Boolean)
        .join('; '),
    );
    const s = await openStorages(target.open(), config, new HashEmbedder(DIM), ws);
    for (const [name, prefix] of [
      ['Hub Entity', 'Hub fragment'],
      ['Shared Topic', 'Topic fragment'],
      ['Über Thema', 'Umlaut fragment'],
    ] as const) {
      const node = await s.graph.getNode(name);
      const fragments = String(node?.description).split('<SEP>').sort();
      assert.deepEqual(
        fragments,
        Array.from({ length: DOCS }, (_, i) => `${prefix} ${i}.`).sort(),
        `${name} lost a fragment`,
      );
      assert.equal((await s.entityChunks.getById(name))?.count, DOCS);
      assert.equal(String(node?.source_id).split('<SEP>').length, DOCS);
    }
    const edge = await s.graph.getEdge('Hub Entity', 'Shared Topic');
    assert.equal(edge?.weight, DOCS, 'one unit of weight per contributing chunk');
    assert.deepEqual(
      String(edge?.keywords).split(',').sort(),
      Array.from({ length: DOCS }, (_, i) => `k${i}`).sort(),
    );
    assert.equal(await s.graph.nodeDegree('Über Thema'), DOCS);
    assert.deepEqual(await s.graph.counts(), { nodes: 3 + DOCS, edges: 1 + DOCS });
    assert.equal(await s.entitiesVdb.count(), 3 + DOCS);
    assert.equal(await s.relationshipsVdb.count(), 1 + DOCS);
  });
});
