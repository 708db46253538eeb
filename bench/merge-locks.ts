/**
 * 8. How long a document's graph merge holds its entity locks, with an LLM of 1 s latency and a
 * summary on every merge (FORCE_LLM_SUMMARY_ON_MERGE=2). Same documents, same run, two designs
 * built from the same GraphMerger parts:
 * - before (the earlier design): take the locks, then plan inside the transaction — LLM
 *   summaries and embeddings under the locks — then write and commit;
 * - after (plan / apply): plan outside any transaction, then a transaction that takes the locks,
 *   re-checks the starting points and writes.
 * Lock time is measured from the statement that takes the locks to the commit.
 */
import { Database } from '../lib/db/database.ts';
import { lockEntities } from '../lib/db/locks.ts';
import { HashEmbedder } from '../lib/embedding/hash.ts';
import type { ChunkExtraction } from '../lib/graph/extract.ts';
import { GraphMerger, groupExtractions } from '../lib/graph/merge.ts';
import { Summarizer } from '../lib/graph/summarize.ts';
import { createLlm } from '../lib/llm/index.ts';
import { openStorages } from '../lib/storage/index.ts';
import { scriptedLlmEnv, startScriptedLlm } from '../test/support/scripted-llm.ts';
import { createBenchDatabase, quiet } from './lib/env.ts';
import { summary } from './lib/stats.ts';

const DIM = 64;

/** Document i: two shared entities and their relation (summarised on every merge), one own. */
function extraction(i: number): ChunkExtraction {
  return {
    chunkId: `doc-${i}-chunk-000`,
    filePath: `doc${i}.md`,
    cacheKeys: [],
    entities: [
      { name: 'Hub Entity', type: 'concept', description: `Hub fragment ${i}.` },
      { name: 'Shared Topic', type: 'concept', description: `Topic fragment ${i}.` },
      { name: `Own ${i}`, type: 'concept', description: `Own entity ${i}.` },
    ],
    relations: [
      {
        source: 'Hub Entity',
        target: 'Shared Topic',
        keywords: `k${i}`,
        description: `Link fragment ${i}.`,
        weight: 1,
      },
    ],
  };
}

export interface MergeLockRow {
  design: 'before' | 'after';
  documents: number;
  llmLatencyMs: number;
  /** LLM summary calls the design made for all documents. */
  summaries: number;
  lockHeldMs: ReturnType<typeof summary>;
  documentMs: ReturnType<typeof summary>;
  /** The target: p95 lock time ≤ 100 ms. */
  meetsTarget: boolean;
}

export async function mergeLockTime(documents: number, llmLatencyMs: number) {
  const llm = await startScriptedLlm();
  llm.delayMs = llmLatencyMs;
  const bench = await createBenchDatabase('merge');
  const config = await bench.config('neon', {
    EMBEDDING_DIM: String(DIM),
    ...scriptedLlmEnv(llm),
    FORCE_LLM_SUMMARY_ON_MERGE: '2',
  });
  const db = new Database(config.database, quiet);
  const embedder = new HashEmbedder(DIM);
  const merger = new GraphMerger(
    new Summarizer(createLlm(config.llm), config.graph, config.chunking.encoding),
    config.graph,
  );
  const rows: MergeLockRow[] = [];
  try {
    for (const design of ['before', 'after'] as const) {
      const s = await openStorages(db, config, embedder, `merge_${design}`);
      const held: number[] = [];
      const total: number[] = [];
      const summariesBefore = llm.count('summary');
      for (let i = 0; i < documents; i++) {
        const groups = groupExtractions([extraction(i)]);
        const names = [...groups.entities.keys()];
        const started = performance.now();
        let locked = 0;
        if (design === 'before') {
          await db.withTransaction(async (tx) => {
            await lockEntities(tx, s.workspace, names);
            locked = performance.now();
            await merger.write(s.in(tx), await merger.plan(s, groups));
          });
        } else {
          const plan = await merger.plan(s, groups);
          await db.withTransaction(async (tx) => {
            locked = performance.now();
            const { contended } = await merger.apply(tx, s, plan);
            if (contended > 0) throw new Error('no other writer here: nothing may change');
          });
        }
        const done = performance.now();
        held.push(done - locked);
        total.push(done - started);
      }
      rows.push({
        design,
        documents,
        llmLatencyMs,
        summaries: llm.count('summary') - summariesBefore,
        lockHeldMs: summary(held),
        documentMs: summary(total),
        meetsTarget: summary(held).p95 <= 100,
      });
    }
  } finally {
    await db.end();
    await llm.close();
  }
  return rows;
}
