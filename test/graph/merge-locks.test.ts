/**
 * No network call under a lock (issue 15): the scripted LLM and the embedder look at pg_locks and
 * pg_stat_activity on every call and record any advisory lock or open write transaction of the
 * test's database; a transaction that fails after the summaries were made is retried (or the
 * message redelivered) without a single new LLM call; elements changed between plan and apply
 * are merged again under the locks, never overwritten, and summarised once by the lease holder.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { lockEntities } from '../../lib/db/locks.ts';
import { DocumentService } from '../../lib/documents/service.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import type { Embedder, EmbeddingPurpose } from '../../lib/embedding/types.ts';
import { entityVectorId, groupExtractions } from '../../lib/graph/merge.ts';
import { createLlm } from '../../lib/llm/index.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { QueryEngine } from '../../lib/query/engine.ts';
import { parseQueryRequest, queryDefaults } from '../../lib/query/request.ts';
import { openStorages } from '../../lib/storage/index.ts';
import {
  adminDatabase,
  createTestDatabase,
  NEEDS_SERVER,
  quietLogger,
  TARGET,
  type TestDatabase,
  uniqueWorkspace,
} from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

const DIM = 32;

/** Advisory locks and writing transactions in one database, seen from another connection. */
async function heldInDatabase(name: string) {
  const { rows } = await adminDatabase().query<{ advisory: number; writing: number }>(
    `SELECT (SELECT count(*)::int FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
               AND l.database = d.oid) AS advisory,
            (SELECT count(*)::int FROM pg_stat_activity a WHERE a.datname = d.datname
               AND a.backend_xid IS NOT NULL) AS writing
       FROM pg_database d WHERE d.datname = $1`,
    [name],
  );
  return rows[0]!;
}

class CheckingEmbedder implements Embedder {
  readonly name = 'checking-hash';
  readonly dimension = DIM;
  readonly #inner = new HashEmbedder(DIM);
  readonly #check: (what: string) => Promise<void>;
  constructor(check: (what: string) => Promise<void>) {
    this.#check = check;
  }
  async embed(texts: readonly string[], _options?: { purpose?: EmbeddingPurpose }) {
    await this.#check('embed');
    return this.#inner.embed(texts);
  }
}

const doc = (i: number, extra = '') =>
  [
    `Lock probe document ${i}. ${extra}`,
    `[[E:Shared Hub|Concept|Hub fragment ${i}.]]`,
    `[[E:Own ${i}|Concept|Own entity ${i}.]]`,
    `[[R:Shared Hub|Own ${i}|link|Hub links to own ${i}.]]`,
    `[[R:Shared Hub|Second Hub|pair|Hubs meet in document ${i}.]]`,
  ].join('\n');

describe(`graph writes hold no lock across LLM or embedding calls on ${TARGET}`, {
  skip: NEEDS_SERVER,
}, () => {
  let llm: ScriptedLlm;
  let target: TestDatabase;
  let config: Config;
  let db: Database;
  const checks: string[] = [];
  const violations: string[] = [];

  before(async () => {
    llm = await startScriptedLlm();
    target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      ...scriptedLlmEnv(llm),
      // Summaries on every merge of two fragments or more: the LLM is called during merges.
      FORCE_LLM_SUMMARY_ON_MERGE: '2',
    });
    config = loadConfig(target.env);
    db = target.open();
  });
  after(() => llm.close());

  /** A pipeline with the scripted LLM and no probes. */
  const plainPipeline = () =>
    new IngestPipeline(db, config, new HashEmbedder(DIM), quietLogger, createLlm(config.llm));

  const check = async (what: string) => {
    checks.push(what);
    const held = await heldInDatabase(target.name!);
    if (held.advisory > 0 || held.writing > 0) {
      violations.push(`${what}: ${held.advisory} advisory lock(s), ${held.writing} writing`);
    }
  };

  it('sees a lock or a writing transaction when there is one (the probe works)', async () => {
    await db.withTransaction(async (tx) => {
      await lockEntities(tx, 'probe', ['Someone']);
      assert.equal((await heldInDatabase(target.name!)).advisory, 1);
      await tx.query('CREATE TEMP TABLE probe_write (x int) ON COMMIT DROP');
      assert.equal((await heldInDatabase(target.name!)).writing, 1);
    });
    assert.deepEqual(await heldInDatabase(target.name!), { advisory: 0, writing: 0 });
  });

  it('ingests, summarises, queries and deletes with nothing held during any call', async () => {
    const ws = uniqueWorkspace();
    const embedder = new CheckingEmbedder(check);
    const chat = createLlm(config.llm);
    const pipeline = new IngestPipeline(db, config, embedder, quietLogger, chat);
    llm.beforeReply = (kind) => check(`llm ${kind}`);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const r = await pipeline.ingest({ content: doc(i), filePath: `p${i}.md`, workspace: ws });
        assert.equal(r.status, 'processed', r.error);
        ids.push(r.docId);
      }
      assert.ok(llm.count('summary') > 0, 'merges called the LLM for summaries');
      const engine = new QueryEngine(db, config, embedder, chat, quietLogger);
      const answer = await engine.query(
        parseQueryRequest({ query: 'What links to the Shared Hub?' }, queryDefaults(config)),
        ws,
      );
      assert.ok(answer.answer);
      const documents = new DocumentService(db, config, pipeline, undefined);
      const removed = await documents.delete(ids[0]!, ws);
      assert.ok(removed.graph.entitiesRebuilt > 0, 'the deletion rebuilt shared entities');
    } finally {
      llm.beforeReply = undefined;
    }
    assert.ok(checks.filter((c) => c === 'embed').length >= 6, `embeddings checked: ${checks}`);
    assert.ok(checks.some((c) => c === 'llm summary'));
    assert.deepEqual(violations, []);
  });

  it('retries a failed write transaction, and a redelivery, without a new LLM call', async () => {
    const ws = uniqueWorkspace();
    const pipeline = plainPipeline();
    assert.equal(
      (await pipeline.ingest({ content: doc(10), filePath: 'first.md', workspace: ws })).status,
      'processed',
    );
    // The next two writes of a document status fail inside the apply transaction: first as a
    // serialization failure (retried in place), then as an unknown error (the message returns
    // to the queue and is delivered again).
    // A sequence counts outside transactions: a rolled-back attempt still counts.
    await db.query(`CREATE SEQUENCE fail_status_writes`);
    await db.query(`CREATE FUNCTION fail_status_write() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE k bigint;
      BEGIN
        IF NEW.status <> 'processed' THEN RETURN NEW; END IF;
        k := nextval('fail_status_writes');
        IF k = 1 THEN RAISE EXCEPTION 'injected conflict' USING ERRCODE = 'serialization_failure'; END IF;
        IF k = 2 THEN RAISE EXCEPTION 'injected failure' USING ERRCODE = 'XX000'; END IF;
        RETURN NEW;
      END $$`);
    await db.query(`CREATE TRIGGER fail_status_write BEFORE INSERT OR UPDATE ON lightrag_doc_status
      FOR EACH ROW EXECUTE FUNCTION fail_status_write()`);
    try {
      const calls = llm.requests.length;
      const input = { content: doc(11), filePath: 'second.md', workspace: ws };
      await assert.rejects(pipeline.ingest(input), /injected failure/);
      const paid = llm.requests.length - calls;
      assert.ok(
        llm.requests.slice(calls).some((r) => r.kind === 'summary'),
        'the merge made summaries',
      );
      const redelivered = await pipeline.ingest(input);
      assert.equal(redelivered.status, 'processed', redelivered.error);
      assert.equal(llm.requests.length - calls, paid, 'the redelivery made no LLM call');
    } finally {
      await db.query(`DROP TRIGGER fail_status_write ON lightrag_doc_status`);
    }
  });

  it('merges again under the locks what another writer changed between plan and apply', async () => {
    const ws = uniqueWorkspace();
    const pipeline = plainPipeline();
    const s = await openStorages(db, config, new HashEmbedder(DIM), ws);
    const merger = pipeline.graphMerger;
    const extraction = (i: number) => ({
      chunkId: `chunk-${i}`,
      filePath: `f${i}.md`,
      cacheKeys: [],
      entities: [{ name: 'Contested', type: 'concept', description: `Fragment ${i}.` }],
      relations: [],
    });
    const stale = await merger.plan(s, groupExtractions([extraction(1)]));
    // Another container merges into the same entity after the plan was made.
    const other = await merger.plan(s, groupExtractions([extraction(2)]));
    await db.withTransaction((tx) => merger.apply(tx, s, other));
    const summaries = llm.count('summary');
    const applied = await db.withTransaction((tx) => merger.apply(tx, s, stale));
    assert.equal(applied.contended, 1, 'the element had changed');
    assert.deepEqual(applied.due, [{ kind: 'entity', source: 'Contested', target: '' }]);
    // Nothing was overwritten, and the apply called no LLM: both fragments are there, joined.
    assert.equal((await s.graph.getNode('Contested'))?.description, 'Fragment 2.<SEP>Fragment 1.');
    assert.equal(llm.count('summary'), summaries);
    assert.equal(await s.graphUpkeep.countDue(), 1);
    // The upkeep summarises both fragments (FORCE_LLM_SUMMARY_ON_MERGE=2) and embeds the text.
    const stats = await pipeline.graphUpkeep.refresh(s, applied.due);
    assert.equal(stats.settled, 1);
    assert.equal(llm.count('summary'), summaries + 1);
    assert.equal(
      (await s.graph.getNode('Contested'))?.description,
      'SUMMARY of Contested (2 fragments)',
    );
    assert.equal(await s.graphUpkeep.countDue(), 0);
    const [row] = await s.entitiesVdb.getByIds([entityVectorId('Contested')]);
    assert.equal(row?.content, 'Contested\nSUMMARY of Contested (2 fragments)');
    assert.deepEqual((await s.entityChunks.getById('Contested'))?.chunk_ids.sort(), [
      'chunk-1',
      'chunk-2',
    ]);
  });

  it('summarises an element once however many plans want it at the same time', async () => {
    const ws = uniqueWorkspace();
    const pipeline = plainPipeline();
    const s = await openStorages(db, config, new HashEmbedder(DIM), ws);
    const merger = pipeline.graphMerger;
    const extraction = (i: number) => ({
      chunkId: `chunk-${i}`,
      filePath: `f${i}.md`,
      cacheKeys: [],
      entities: [{ name: 'Hot', type: 'concept', description: `Hot fragment ${i}.` }],
      relations: [],
    });
    const first = await merger.plan(s, groupExtractions([extraction(0)]));
    await db.withTransaction((tx) => merger.apply(tx, s, first));
    const before = llm.count('summary');
    // Three plans at once, each of which alone would summarise (2 fragments): one holds the lease.
    const plans = [];
    for (let i = 1; i <= 3; i++)
      plans.push(await merger.plan(s, groupExtractions([extraction(i)])));
    assert.equal(llm.count('summary') - before, 1, 'one summary while planning, not three');
    assert.deepEqual(
      plans.map((p) => p.leased.length),
      [1, 0, 0],
    );
    const due = [];
    for (const p of plans)
      due.push(...(await db.withTransaction((tx) => merger.apply(tx, s, p))).due);
    const stats = await pipeline.graphUpkeep.refresh(s, due);
    assert.ok(stats.summaries <= 1, `upkeep summaries: ${stats.summaries}`);
    const node = await s.graph.getNode('Hot');
    assert.match(node?.description ?? '', /^SUMMARY of Hot/);
    assert.equal(await s.graphUpkeep.countDue(), 0);
    assert.deepEqual((await s.entityChunks.getById('Hot'))?.chunk_ids.sort(), [
      'chunk-0',
      'chunk-1',
      'chunk-2',
      'chunk-3',
    ]);
  });
});
