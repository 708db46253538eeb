/**
 * Hub entities under many containers (issue 24): documents that all name the same entities are
 * merged by many containers at once, and deleted while others are merged. Nothing may fail or be
 * lost, no summary is made twice for one change (no more summary calls than one container makes
 * ingesting the same documents one after another), and once ingest settles nothing is left due:
 * every description below LightRAG's summary threshold and every vector row matching its text.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Config, loadConfig } from '../../lib/config.ts';
import { DocumentService } from '../../lib/documents/service.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { entityVectorId, relationVectorId } from '../../lib/graph/merge.ts';
import { createLlm } from '../../lib/llm/index.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { openStorages, type Storages } from '../../lib/storage/index.ts';
import {
  createTestDatabase,
  quietLogger,
  TARGET,
  type TestDatabase,
  uniqueWorkspace,
} from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

const DIM = 32;
const CONTAINERS = 8;
const DOCS = 48;
const FORCE = 4;

/** Document i: the two hubs, their relation, and an entity of its own linked to the first hub. */
const doc = (i: number) =>
  [
    `Hub document ${i}.`,
    `[[E:Acme Corp|Organization|Acme fragment ${i}.]]`,
    `[[E:Widget Line|Product|Widget fragment ${i}.]]`,
    `[[E:Own ${i}|Concept|Own entity ${i}.]]`,
    `[[R:Acme Corp|Widget Line|makes|Acme makes widgets (${i}).]]`,
    `[[R:Own ${i}|Acme Corp|part of|Own ${i} belongs to Acme.]]`,
  ].join('\n');

/** Every element's description is below the threshold and its vector row matches its text. */
async function assertSettled(s: Storages, names: string[]) {
  assert.equal(await s.graphUpkeep.countDue(), 0, 'nothing left due');
  for (const name of names) {
    const node = await s.graph.getNode(name);
    const fragments = String(node?.description).split('<SEP>');
    assert.ok(fragments.length < FORCE, `${name} left with ${fragments.length} fragments`);
    const [row] = await s.entitiesVdb.getByIds([entityVectorId(name)]);
    assert.equal(row?.content, `${name}\n${node?.description}`, `${name}'s vector row is current`);
  }
  const edge = await s.graph.getEdge('Acme Corp', 'Widget Line');
  const [row] = await s.relationshipsVdb.getByIds([relationVectorId('Acme Corp', 'Widget Line')]);
  assert.equal(row?.content, `makes\tAcme Corp\nWidget Line\n${edge?.description}`);
}

describe(`hub entities merged by many containers on ${TARGET}`, () => {
  let llm: ScriptedLlm;
  let target: TestDatabase;
  let config: Config;

  before(async () => {
    llm = await startScriptedLlm();
    // Replies take a moment, so plans overlap as they do with a real provider.
    llm.delayMs = 5;
    target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      ...scriptedLlmEnv(llm),
      FORCE_LLM_SUMMARY_ON_MERGE: String(FORCE),
      POSTGRES_MAX_CONNECTIONS: '2',
    });
    config = loadConfig(target.env);
  });
  after(() => llm.close());

  /** A simulated container: its own pool and pipeline. */
  const container = () => {
    const db = target.open();
    const pipeline = new IngestPipeline(
      db,
      config,
      new HashEmbedder(DIM),
      quietLogger,
      createLlm(config.llm),
    );
    return Object.assign(pipeline, { pool: db });
  };

  it('loses nothing, fails nothing and summarises no more than one container', async () => {
    // One container, one document after another: the reference count of summaries.
    const alone = uniqueWorkspace();
    const single = container();
    let before = llm.count('summary');
    for (let i = 0; i < DOCS; i++) {
      const r = await single.ingest({ content: doc(i), filePath: `d${i}.md`, workspace: alone });
      assert.equal(r.status, 'processed', r.error);
    }
    const sequential = llm.count('summary') - before;

    const ws = uniqueWorkspace();
    const containers = Array.from({ length: CONTAINERS }, container);
    before = llm.count('summary');
    let next = 0;
    const results = await Promise.all(
      containers.map(async (c) => {
        const mine = [];
        // Each container takes the next document when it is free, as queue consumers do.
        for (let i = next++; i < DOCS; i = next++) {
          mine.push(await c.ingest({ content: doc(i), filePath: `d${i}.md`, workspace: ws }));
        }
        return mine;
      }),
    );
    const concurrent = llm.count('summary') - before;
    const flat = results.flat();
    assert.equal(flat.length, DOCS);
    assert.deepEqual(
      flat.filter((r) => r.status !== 'processed').map((r) => r.error),
      [],
    );
    assert.ok(
      concurrent <= sequential + 1,
      `${concurrent} summary calls with ${CONTAINERS} containers, ${sequential} with one`,
    );

    const s = await openStorages(target.open(), config, new HashEmbedder(DIM), ws);
    const chunks = await s.textChunks.count();
    assert.equal(chunks, DOCS);
    for (const hub of ['Acme Corp', 'Widget Line']) {
      assert.equal((await s.entityChunks.getById(hub))?.count, DOCS, `${hub} lists every chunk`);
    }
    const edge = await s.graph.getEdge('Acme Corp', 'Widget Line');
    assert.equal(edge?.weight, DOCS, 'the hub relation weighs its mentions');
    assert.equal(String(edge?.keywords), 'makes');
    assert.equal(await s.graph.nodeDegree('Acme Corp'), DOCS + 1);
    assert.deepEqual(await s.graph.counts(), { nodes: 2 + DOCS, edges: 1 + DOCS });
    await assertSettled(s, ['Acme Corp', 'Widget Line']);
  });

  it('deletes documents while others merge into the same hubs', async () => {
    const ws = uniqueWorkspace();
    const containers = Array.from({ length: CONTAINERS }, container);
    const first = 24;
    const ids: string[] = [];
    for (let i = 0; i < first; i++) {
      const r = await containers[i % CONTAINERS]!.ingest({
        content: doc(i),
        filePath: `d${i}.md`,
        workspace: ws,
      });
      ids.push(r.docId);
    }
    const documents = containers.map((c) => new DocumentService(c.pool, config, c, undefined));
    // Half the first documents deleted while as many new ones merge, spread over the containers.
    const work = [
      ...ids.slice(0, 12).map((id, k) => () => documents[k % CONTAINERS]!.delete(id, ws)),
      ...Array.from(
        { length: 12 },
        (_, k) => () =>
          containers[(k + 3) % CONTAINERS]!.ingest({
            content: doc(first + k),
            filePath: `d${first + k}.md`,
            workspace: ws,
          }),
      ),
    ];
    const settled = await Promise.allSettled(work.map((w) => w()));
    assert.deepEqual(
      settled.filter((r) => r.status === 'rejected').map((r) => String(r.reason)),
      [],
    );
    const s = await openStorages(target.open(), config, new HashEmbedder(DIM), ws);
    const tracked = (await s.entityChunks.getById('Acme Corp'))?.chunk_ids ?? [];
    const stored = await s.textChunks.count();
    assert.equal(stored, 24);
    assert.equal(tracked.length, 24, 'the hub lists exactly the remaining chunks');
    const chunkIds = new Set(
      (await s.textChunks.getByIds(tracked)).filter((c) => c !== null).map((c) => c.id),
    );
    assert.equal(chunkIds.size, 24, 'every chunk the hub lists exists');
    const edge = await s.graph.getEdge('Acme Corp', 'Widget Line');
    assert.equal(edge?.weight, 24, 'the hub relation weighs the remaining mentions');
    for (let k = 0; k < 12; k++) assert.equal(await s.graph.getNode(`Own ${k}`), null);
    await assertSettled(s, ['Acme Corp', 'Widget Line']);
  });
});
