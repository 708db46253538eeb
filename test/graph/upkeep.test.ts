/**
 * The graph upkeep's ways out (lib/graph/upkeep.ts): an element left due by a holder that crashed
 * is taken once its lease lapses; a failing summary leaves the element due and the document
 * processed; `lightrag-serverless upkeep` brings everything due up to date; doctor says when
 * elements have waited too long.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../lib/cli/main.ts';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { entityVectorId, groupExtractions } from '../../lib/graph/merge.ts';
import { createLlm } from '../../lib/llm/index.ts';
import { upkeepFinding } from '../../lib/ops/doctor.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { dueByWorkspace } from '../../lib/storage/graph-upkeep.ts';
import { openStorages, type Storages } from '../../lib/storage/index.ts';
import {
  createTestDatabase,
  NEEDS_SERVER,
  quietLogger,
  TARGET,
  type TestDatabase,
  uniqueWorkspace,
} from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

const DIM = 32;
const HOT = { kind: 'entity' as const, source: 'Hot', target: '' };

const extraction = (i: number) => ({
  chunkId: `chunk-${i}`,
  filePath: `f${i}.md`,
  cacheKeys: [],
  entities: [{ name: 'Hot', type: 'concept', description: `Hot fragment ${i}.` }],
  relations: [],
});

describe(`graph upkeep: crashed holders, failures, the upkeep command on ${TARGET}`, () => {
  let llm: ScriptedLlm;
  let target: TestDatabase;
  let config: Config;
  let db: Database;
  let pipeline: IngestPipeline;

  before(async () => {
    llm = await startScriptedLlm();
    target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      EMBEDDING_PROVIDER: 'hash',
      ...scriptedLlmEnv(llm),
      FORCE_LLM_SUMMARY_ON_MERGE: '3',
      LOG_LEVEL: 'silent',
    });
    config = loadConfig(target.env);
    db = target.open();
    pipeline = new IngestPipeline(
      db,
      config,
      new HashEmbedder(DIM),
      quietLogger,
      createLlm(config.llm),
    );
  });
  after(() => llm.close());

  /** `n` plans of the hot entity made before any is applied: all but the first contend. */
  async function contend(s: Storages, from: number, n: number) {
    const merger = pipeline.graphMerger;
    const plans = [];
    for (let i = from; i < from + n; i++) {
      plans.push(await merger.plan(s, groupExtractions([extraction(i)])));
    }
    const due = [];
    for (const p of plans)
      due.push(...(await db.withTransaction((tx) => merger.apply(tx, s, p))).due);
    return due;
  }

  it('takes an element a crashed holder left due once its lease lapses', async () => {
    const ws = uniqueWorkspace();
    const s = await openStorages(db, config, new HashEmbedder(DIM), ws);
    const due = await contend(s, 0, 3);
    assert.ok(due.length > 0);
    // A holder claims the element and dies before finishing.
    assert.equal(await s.graphUpkeep.claim(HOT, 'crashed-holder', 120), true);
    const blocked = await pipeline.graphUpkeep.sweep(s);
    assert.equal(blocked.settled, 0, 'a live lease is respected');
    assert.equal(await s.graphUpkeep.countDue(), 1);
    await db.query(
      `UPDATE lightrag_serverless_graph_upkeep SET lease_until = now() - interval '1 second'
        WHERE workspace = $1`,
      [ws],
    );
    const taken = await pipeline.graphUpkeep.sweep(s);
    assert.equal(taken.settled, 1);
    assert.equal(await s.graphUpkeep.countDue(), 0);
    const node = await s.graph.getNode('Hot');
    assert.equal(node?.description, 'SUMMARY of Hot (3 fragments)');
    const [row] = await s.entitiesVdb.getByIds([entityVectorId('Hot')]);
    assert.equal(row?.content, `Hot\n${node?.description}`);
  });

  it('leaves the element due when its summary fails, and the next sweep finishes it', async () => {
    const ws = uniqueWorkspace();
    const s = await openStorages(db, config, new HashEmbedder(DIM), ws);
    const due = await contend(s, 0, 3);
    llm.faults.push({ kind: 'summary', status: 400 });
    const failed = await pipeline.graphUpkeep.refresh(s, due);
    assert.equal(failed.failed, 1);
    assert.equal(await s.graphUpkeep.countDue(), 1, 'still due, lease freed');
    const fragments = String((await s.graph.getNode('Hot'))?.description).split('<SEP>');
    assert.equal(fragments.length, 3, 'nothing lost while the summary failed');
    const retried = await pipeline.graphUpkeep.sweep(s);
    assert.equal(retried.settled, 1);
    assert.equal(await s.graphUpkeep.countDue(), 0);
  });

  // The command opens its own pool: PGlite's one embedded instance cannot be opened twice.
  it('brings everything due up to date with `lightrag-serverless upkeep`', {
    skip: NEEDS_SERVER,
  }, async () => {
    const ws = uniqueWorkspace();
    const s = await openStorages(db, config, new HashEmbedder(DIM), ws);
    await contend(s, 0, 4);
    assert.equal(await s.graphUpkeep.countDue(), 1);
    // Nobody came back for it: it has waited an hour.
    await db.query(
      `UPDATE lightrag_serverless_graph_upkeep SET due_at = now() - interval '1 hour' WHERE workspace = $1`,
      [ws],
    );
    const finding = upkeepFinding(await dueByWorkspace(db));
    assert.equal(finding.verdict, 'warn');
    assert.match(finding.fix ?? '', /lightrag-serverless upkeep/);
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['upkeep', '--workspace', ws, '--json'], {
      env: target.env,
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    assert.equal(code, 0, err.join('\n'));
    const [report] = JSON.parse(out.join('\n'));
    assert.equal(report.workspace, ws);
    assert.equal(report.settled, 1);
    assert.equal(report.stillDue, 0);
    assert.match(String((await s.graph.getNode('Hot'))?.description), /^SUMMARY of Hot/);
    assert.equal(upkeepFinding([]).verdict, 'ok');
  });
});
