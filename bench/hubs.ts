/**
 * 11. A corpus with hub entities (issue 24): documents whose entities follow a Zipf-like
 * distribution, so a few entities (a company, a product, a person) appear in a large share of
 * chunks. Sent through a real SQS emulator (fauxqs, ingest queue with a dead-letter queue after 3
 * receives) and consumed by 1…32 simulated containers (each its own pool of 2, one message at a
 * time), with a scripted LLM answering every call after a fixed latency; plus 16 containers × 100
 * documents all naming one entity. Measured: docs/s and speed-up, LLM calls by purpose against
 * one container, elements merged again under the locks (contention), redeliveries, the DLQ, and
 * a check of the final graph against the corpus: every entity lists every chunk that named it,
 * every relation weighs its mentions, nothing is left due or above the summary threshold, and
 * every vector row matches its text.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Database } from '../lib/db/database.ts';
import { startLoopbackFauxqs } from '../lib/local/loopback.ts';
import { simulatedContainer } from '../lib/local/simulated-container.ts';
import { LocalSqsPoller } from '../lib/queue/poller.ts';
import { queueDepth } from '../test/support/queue.ts';
import { scriptedLlmEnv, startScriptedLlm } from '../test/support/scripted-llm.ts';
import { createBenchDatabase, quiet } from './lib/env.ts';

export interface HubCorpus {
  documents: Array<{ filePath: string; content: string }>;
  /** Chunk label (`i.j`) → entity names it mentions (as records or relation ends). */
  entityMentions: Map<string, Set<string>>;
  /** `a|b` (sorted) → chunk labels mentioning the relation. */
  relationMentions: Map<string, string[]>;
  chunks: number;
  /** Share of chunks naming the most frequent entity. */
  topShare: number;
}

/** A small seeded PRNG (mulberry32): the same corpus on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `documents` documents of 2 paragraphs (every tenth of 3), one chunk each; every chunk names 3
 * distinct entities drawn from a Zipf distribution (s = 1) over `vocabulary` names, related in a
 * chain (a–b, b–c).
 */
export function hubCorpus(documents: number, vocabulary = 300, singleHub = false): HubCorpus {
  const random = prng(24);
  const weights = Array.from({ length: vocabulary }, (_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const pick = () => {
    let r = random() * total;
    for (let k = 0; k < vocabulary; k++) {
      r -= weights[k]!;
      if (r <= 0) return k;
    }
    return vocabulary - 1;
  };
  const name = (k: number) => (k === 0 ? 'Acme Corporation' : `Entity ${k}`);
  const entityMentions = new Map<string, Set<string>>();
  const relationMentions = new Map<string, string[]>();
  const docs: HubCorpus['documents'] = [];
  let chunks = 0;
  for (let i = 0; i < documents; i++) {
    const paragraphs: string[] = [];
    const parts = singleHub ? 1 : i % 10 === 0 ? 3 : 2;
    for (let j = 0; j < parts; j++) {
      const label = `${i}.${j}`;
      const picked = new Set<number>(singleHub ? [0] : []);
      while (picked.size < 3)
        picked.add(singleHub && picked.size > 0 ? 1 + i * 3 + picked.size : pick());
      const [a, b, c] = [...picked].map(name) as [string, string, string];
      const lines = [`Paragraph ${label} of the archive.`];
      for (const e of [a, b, c])
        lines.push(`[[E:${e}|Concept|${e} as seen in paragraph ${label}.]]`);
      for (const [x, y] of [
        [a, b],
        [b, c],
      ] as const) {
        lines.push(`[[R:${x}|${y}|related|${x} relates to ${y} in paragraph ${label}.]]`);
        const key = [x, y].sort().join('|');
        relationMentions.set(key, [...(relationMentions.get(key) ?? []), label]);
      }
      entityMentions.set(label, new Set([a, b, c]));
      paragraphs.push(lines.join(' '));
      chunks++;
    }
    docs.push({ filePath: `archive-${i}.md`, content: paragraphs.join('\n\n') });
  }
  let top = 0;
  const counts = new Map<string, number>();
  for (const names of entityMentions.values()) {
    for (const n of names) {
      counts.set(n, (counts.get(n) ?? 0) + 1);
      top = Math.max(top, counts.get(n)!);
    }
  }
  return { documents: docs, entityMentions, relationMentions, chunks, topShare: top / chunks };
}

export interface HubRow {
  corpus: 'zipf' | 'single-hub';
  documents: number;
  chunks: number;
  containers: number;
  llmLatencyMs: number;
  seconds: number;
  docsPerSecond: number;
  calls: { extract: number; glean: number; summary: number };
  /** Graph elements another writer had changed between plan and apply (merged again, no retry). */
  contended: number;
  /** Deliveries that failed and came back (GRAPH_CONTENDED used to be one). */
  redeliveries: number;
  dlq: number;
  failed: number;
  /** Seconds from the last document processed until nothing was due. */
  settleSeconds: number;
  check: {
    nodesWithoutVector: number;
    entitiesMissingChunks: number;
    relationsWrongWeight: number;
    aboveThreshold: number;
    due: number;
    staleVectors: number;
    ok: boolean;
  };
}

const FORCE = 8;

export async function hubScaling(
  runs: ReadonlyArray<{
    corpus: 'zipf' | 'single-hub';
    documents: number;
    containers: number;
    llmMs: number;
  }>,
  log: (line: string) => void = () => {},
): Promise<HubRow[]> {
  const rows: HubRow[] = [];
  for (const run of runs) {
    const row = await oneRun(run.corpus, run.documents, run.containers, run.llmMs);
    log(
      `   ${run.corpus} ${run.documents} docs, ${run.containers} containers, LLM ${run.llmMs} ms: ${row.docsPerSecond} docs/s, summaries ${row.calls.summary}, contended ${row.contended}, DLQ ${row.dlq}, check ${row.check.ok ? 'ok' : JSON.stringify(row.check)}`,
    );
    rows.push(row);
  }
  return rows;
}

async function oneRun(
  kind: 'zipf' | 'single-hub',
  documents: number,
  containerCount: number,
  llmMs: number,
): Promise<HubRow> {
  const corpus = hubCorpus(documents, 300, kind === 'single-hub');
  const llm = await startScriptedLlm();
  llm.delayMs = llmMs;
  const server = await startLoopbackFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const sqs = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const dead = await sqs.send(new CreateQueueCommand({ QueueName: 'hubs-dlq' }));
  const deadArn = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dead.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: 'hubs',
        Attributes: {
          VisibilityTimeout: '900',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: deadArn.Attributes!.QueueArn,
            maxReceiveCount: 3,
          }),
        },
      }),
    )
  ).QueueUrl!;
  const bench = await createBenchDatabase(`hubs${containerCount}`);
  const config = await bench.config('neon', {
    ...scriptedLlmEnv(llm),
    EMBEDDING_DIM: '64',
    CHUNK_SPLIT_BY_CHARACTER: '\\n\\n',
    EXTRACTION_CONCURRENCY: '4',
    FORCE_LLM_SUMMARY_ON_MERGE: String(FORCE),
    POSTGRES_MAX_CONNECTIONS: '2',
    INGEST_CONCURRENCY: '1',
    INGEST_MAX_RECEIVE_COUNT: '3',
    ALLOWED_WORKSPACES: '*',
  });
  const containers = Array.from({ length: containerCount }, () =>
    simulatedContainer(config, { db: new Database(config.database, quiet) }),
  );
  const pollers = containers.map(
    (c) =>
      new LocalSqsPoller({
        sqs,
        queueUrl,
        handler: c.handler as never,
        batchSize: 1,
        waitTimeSeconds: 1,
        // A failed delivery comes back at once here; on SQS it waits out the visibility timeout.
        failedVisibilitySeconds: 0,
      }),
  );
  const workspace = 'bench';
  const db = containers[0]!.db;
  try {
    const s = await containers[0]!.pipeline.storages(workspace);
    for (let i = 0; i < corpus.documents.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: corpus.documents.slice(i, i + 10).map((d, k) => ({
            Id: String(k),
            MessageBody: JSON.stringify({ ...d, workspace }),
          })),
        }),
      );
    }
    const started = performance.now();
    for (const p of pollers) p.start();
    let processedAt = 0;
    for (;;) {
      const counts = await s.docStatus.getStatusCounts();
      const settled = (counts.processed ?? 0) + (counts.failed ?? 0);
      const dlq = await queueDepth(sqs, dead.QueueUrl!);
      if (!processedAt && settled + dlq >= documents) processedAt = performance.now();
      if (processedAt) {
        const busy = await db.query(
          `SELECT count(*)::int AS n FROM lightrag_serverless_graph_upkeep
            WHERE workspace = $1 AND (due_at IS NOT NULL OR lease_until > now())`,
          [workspace],
        );
        const inFlight = await queueDepth(sqs, queueUrl);
        if (Number(busy.rows[0]!.n) === 0 && inFlight === 0) break;
        if (performance.now() - processedAt > 300_000) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const done = performance.now();
    await Promise.all(pollers.map((p) => p.stop()));
    const seconds = (processedAt - started) / 1000;
    const counts = await s.docStatus.getStatusCounts();
    return {
      corpus: kind,
      documents,
      chunks: corpus.chunks,
      containers: containerCount,
      llmLatencyMs: llmMs,
      seconds: Math.round(seconds * 10) / 10,
      docsPerSecond: Math.round((documents / seconds) * 100) / 100,
      calls: {
        extract: llm.count('extract'),
        glean: llm.count('glean'),
        summary: llm.count('summary'),
      },
      contended: containers.reduce((n, c) => n + c.pipeline.graphMerger.counters.contended, 0),
      redeliveries: pollers.reduce((n, p) => n + p.stats.failed, 0),
      dlq: await queueDepth(sqs, dead.QueueUrl!),
      failed: counts.failed ?? 0,
      settleSeconds: Math.round((done - processedAt) / 100) / 10,
      check: await checkGraph(db, workspace, corpus),
    };
  } finally {
    await Promise.all(pollers.map((p) => p.stop()));
    await Promise.all(containers.map((c) => c.db.end().catch(() => undefined)));
    sqs.destroy();
    await server.stop();
    await llm.close();
  }
}

/** The final graph against the corpus. */
async function checkGraph(db: Database, workspace: string, corpus: HubCorpus) {
  const chunkRows = await db.query<{ id: string; content: string }>(
    'SELECT id, content FROM lightrag_doc_chunks WHERE workspace = $1',
    [workspace],
  );
  const labelOf = new Map<string, string>();
  for (const r of chunkRows.rows) {
    const m = /Paragraph (\d+\.\d+) of the archive/.exec(r.content);
    if (m) labelOf.set(r.id, m[1]!);
  }
  const expected = new Map<string, Set<string>>();
  for (const [label, names] of corpus.entityMentions) {
    for (const n of names) expected.set(n, (expected.get(n) ?? new Set()).add(label));
  }
  const tracked = await db.query<{ id: string; chunk_ids: string[] | string }>(
    'SELECT id, chunk_ids FROM lightrag_entity_chunks WHERE workspace = $1',
    [workspace],
  );
  const trackedOf = new Map(
    tracked.rows.map((r) => [
      r.id,
      new Set(
        (typeof r.chunk_ids === 'string' ? JSON.parse(r.chunk_ids) : r.chunk_ids).map(
          (id: string) => labelOf.get(id),
        ),
      ),
    ]),
  );
  let entitiesMissingChunks = 0;
  for (const [name, labels] of expected) {
    const have = trackedOf.get(name);
    if (!have || have.size !== labels.size || [...labels].some((l) => !have.has(l)))
      entitiesMissingChunks++;
  }
  const edges = await db.query<{ src_id: string; tgt_id: string; properties: unknown }>(
    `SELECT src_id, tgt_id, properties FROM lightrag_graph_edges WHERE workspace = $1`,
    [workspace],
  );
  const weightOf = new Map(
    edges.rows.map((r) => {
      const p = (typeof r.properties === 'string' ? JSON.parse(r.properties) : r.properties) as {
        weight: number;
        description: string;
      };
      return [[r.src_id, r.tgt_id].sort().join('|'), p];
    }),
  );
  let relationsWrongWeight = 0;
  for (const [key, labels] of corpus.relationMentions) {
    if (Number(weightOf.get(key)?.weight) !== labels.length) relationsWrongWeight++;
  }
  const nodes = await db.query<{ id: string; properties: unknown }>(
    'SELECT id, properties FROM lightrag_graph_nodes WHERE workspace = $1',
    [workspace],
  );
  const descriptions = [
    ...nodes.rows.map((r) => {
      const p = (typeof r.properties === 'string' ? JSON.parse(r.properties) : r.properties) as {
        description: string;
      };
      return p.description;
    }),
    ...[...weightOf.values()].map((p) => p.description),
  ];
  const aboveThreshold = descriptions.filter((d) => d.split('<SEP>').length >= FORCE).length;
  const due = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM lightrag_serverless_graph_upkeep WHERE workspace = $1 AND due_at IS NOT NULL`,
    [workspace],
  );
  const stale = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM lightrag_graph_nodes n
       JOIN lightrag_vdb_entity v ON v.workspace = n.workspace AND v.entity_name = n.id
      WHERE n.workspace = $1 AND v.content <> n.id || E'\\n' || (n.properties->>'description')`,
    [workspace],
  );
  // Every node has its vector row (the join above compared them all).
  const vectorRows = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM lightrag_graph_nodes n
       JOIN lightrag_vdb_entity v ON v.workspace = n.workspace AND v.entity_name = n.id
      WHERE n.workspace = $1`,
    [workspace],
  );
  const check = {
    nodesWithoutVector: nodes.rows.length - Number(vectorRows.rows[0]!.n),
    entitiesMissingChunks,
    relationsWrongWeight,
    aboveThreshold,
    due: Number(due.rows[0]!.n),
    staleVectors: Number(stale.rows[0]!.n),
  };
  return {
    ...check,
    ok: Object.values(check).every((v) => v === 0),
  };
}
