/**
 * The document lifecycle as a state machine (issue 25): fast-check drives random sequences of
 * what users do — add text (named, unnamed, a name taken with other content, the same content
 * under another name), ingest a JSONL file with the CLI while the stack runs, upload good, empty
 * and same-name files, reprocess (all or by id), delete (now, or in the background as LightRAG's
 * delete_document; the whole workspace as its DELETE /documents), cancel the pipeline right after a
 * submit, query, a duplicated queue delivery, a
 * message naming no stored document, a consumer killed on every delivery (its message in the
 * DLQ, then redriven or the document reprocessed once its lease ran out), a restart of the stack
 * with work still queued — through the real local stack (HTTP API, SQS emulator, S3, the ingest
 * and parse functions, the database). After every step, once the queues are idle, it
 * checks the invariants against a small model of what was accepted:
 * - every accepted input is processed, failed with a reason, or a documented duplicate;
 * - status counts equal the rows; nothing pending/processing with nothing in flight;
 * - nothing in a DLQ whose document has no status explaining it;
 * - chunks, vectors, chunk-tracking rows and anchors point only at documents that exist, and a
 *   deleted document leaves nothing behind;
 * - what the API and the CLI reported agrees with the database.
 * Runs: MODEL_RUNS (default 25 in `npm test`); `npm run test:model -- --runs N` for more. A
 * failure prints the seed and the shrunk sequence of commands.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { runCli } from '../../lib/cli/main.ts';
import { getDatabase } from '../../lib/db/container.ts';
import type { Database } from '../../lib/db/database.ts';
import { type LocalStack, startLocalStack } from '../../lib/local/stack.ts';
import { removeStackState, writeStackState } from '../../lib/local/state.ts';
import { vectorTableName } from '../../lib/storage/tables.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../support/openai-server.ts';
import { queueDepth } from '../support/queue.ts';

const RUNS = Number(
  process.argv.includes('--runs')
    ? process.argv[process.argv.indexOf('--runs') + 1]
    : (process.env.MODEL_RUNS ?? 25),
);
const SEED = process.env.MODEL_SEED ? Number(process.env.MODEL_SEED) : undefined;

/** What the model remembers: every document id an accepted input named, and those deleted. */
interface Model {
  accepted: Set<string>;
  deleted: Set<string>;
  /** Reports the API or CLI gave, to compare with the database after settling. */
  reported: Array<{ docId: string; said: string }>;
  /** Consumers killed in this sequence (each costs seconds of timeouts and a lease). */
  kills: number;
}

interface Real {
  stack: LocalStack;
  db: Database;
  sqs: SQSClient;
  dir: string;
  /** The embedding provider the stack calls: a request can be made to hang (a killed worker). */
  provider: FakeOpenAi;
}

/** The ingest function's timeout here, and the work lease (longer, as in production). */
const INGEST_TIMEOUT_MS = 3000;
const LEASE_SECONDS = 4;

function stackOptions(real?: Pick<Real, 'stack' | 'dir'>, dir?: string) {
  const port = (url: string) => Number(new URL(url).port);
  return {
    dataDir: join(real?.dir ?? dir!, 'pglite'),
    retryDelaySeconds: 0,
    functionTimeoutMs: { ingest: INGEST_TIMEOUT_MS },
    ...(real ? { port: port(real.stack.apiUrl), sqsPort: port(real.stack.sqsEndpoint) } : {}),
  };
}

/** The chunk vectors' table, named after the embedding model as LightRAG names it. */
const CHUNK_VECTORS = vectorTableName('chunks', { model: 'fake-embedding', dimension: 32 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// biome-ignore lint/suspicious/noExplicitAny: the API's JSON, as docs/http-api.md documents it.
type Json = any;

async function api(real: Real, method: string, path: string, body?: unknown) {
  const res = await fetch(`${real.stack.apiUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Json };
}

const TRANSIENT = ['pending', 'processing', 'parsing', 'analyzing'];

/** Waits until nothing is in flight: queues empty, no document in a transient state. */
async function settle(real: Real) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await real.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM lightrag_doc_status WHERE status = ANY($1::text[])`,
      [TRANSIENT],
    );
    const inFlight = await Promise.all(
      [real.stack.queueUrl, real.stack.uploadsQueueUrl, real.stack.extractionQueueUrl].map((url) =>
        depth(real, url),
      ),
    );
    if (Number(rows[0]!.n) === 0 && inFlight.every((n) => n === 0)) return;
    if (Date.now() > deadline) {
      const stuck = await real.db.query(
        `SELECT id, status, error_msg FROM lightrag_doc_status WHERE status = ANY($1::text[])`,
        [TRANSIENT],
      );
      assert.fail(
        `not settled in 60 s: ${JSON.stringify(stuck.rows)}, queues ${JSON.stringify(inFlight)}, DLQ ${await depth(real, real.stack.dlqUrl)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function depth(real: Real, url: string): Promise<number> {
  return queueDepth(real.sqs, url);
}

/** JSONL files written so far (each gets a new name). */
let jsonlFiles = 0;

/** Commands run (each checks the invariants once). */
let executed = 0;

/** Every invariant, against the database, once nothing is in flight. */
async function checkInvariants(m: Model, real: Real) {
  executed++;
  await settle(real);
  const q = async (sql: string, params: unknown[] = []) =>
    (await real.db.query<Record<string, unknown>>(sql, params)).rows;
  const statuses = new Map(
    (await q('SELECT id, status, error_msg, metadata FROM lightrag_doc_status')).map((r) => [
      r.id as string,
      r,
    ]),
  );
  // Every accepted input: processed, failed with a reason, or (dup-…) a documented duplicate.
  for (const id of m.accepted) {
    if (m.deleted.has(id)) continue;
    const row = statuses.get(id);
    assert.ok(row, `accepted document ${id} is silently absent`);
    assert.ok(
      row.status === 'processed' || (row.status === 'failed' && String(row.error_msg ?? '') !== ''),
      `${id} is ${row.status} without a reason`,
    );
  }
  // Deleted documents leave nothing behind.
  for (const id of m.deleted) {
    if (m.accepted.has(id) && statuses.has(id)) continue; // added again after the deletion
    assert.equal(statuses.has(id), false, `deleted ${id} still has a status`);
    const left = await q(
      `SELECT (SELECT count(*) FROM lightrag_doc_chunks WHERE full_doc_id = $1)::int AS chunks,
              (SELECT count(*) FROM lightrag_doc_full WHERE id = $1)::int AS full`,
      [id],
    );
    assert.deepEqual(left[0], { chunks: 0, full: 0 }, `deleted ${id} left rows`);
  }
  // Processed means processed: text and chunks (a rejected upload once became processed, empty).
  const hollow = await q(
    `SELECT id FROM lightrag_doc_status WHERE status = 'processed'
        AND (coalesce(content_length, 0) = 0 OR coalesce(chunks_count, 0) = 0)`,
  );
  assert.deepEqual(hollow, [], 'processed documents without text or chunks');
  // Status counts equal the rows.
  const counts = await api(real, 'GET', '/documents/status-counts');
  const byStatus: Record<string, number> = {};
  for (const row of statuses.values())
    byStatus[row.status as string] = (byStatus[row.status as string] ?? 0) + 1;
  for (const [status, n] of Object.entries(counts.json.status_counts as Record<string, number>)) {
    if (status === 'all') continue;
    assert.equal(n, byStatus[status] ?? 0, `status count of ${status}`);
  }
  // Nothing points at a document that does not exist.
  const orphans = await q(
    `SELECT 'chunk' AS kind, c.id FROM lightrag_doc_chunks c
       LEFT JOIN lightrag_doc_status s ON s.workspace = c.workspace AND s.id = c.full_doc_id
      WHERE s.id IS NULL
     UNION ALL
     SELECT 'chunk vector', v.id FROM ${CHUNK_VECTORS} v
       LEFT JOIN lightrag_doc_chunks c ON c.workspace = v.workspace AND c.id = v.id
      WHERE c.id IS NULL
     UNION ALL
     SELECT 'full text', f.id FROM lightrag_doc_full f
       LEFT JOIN lightrag_doc_status s ON s.workspace = f.workspace AND s.id = f.id
      WHERE s.id IS NULL
     UNION ALL
     SELECT 'anchors', a.id FROM lightrag_full_entities a
       LEFT JOIN lightrag_doc_status s ON s.workspace = a.workspace AND s.id = a.id
      WHERE s.id IS NULL`,
  );
  assert.deepEqual(orphans, [], 'rows pointing at documents that do not exist');
  // Chunks belong to processed documents only, and a processed document lists its chunks.
  const chunkOwners = await q(
    `SELECT DISTINCT c.full_doc_id AS id, s.status FROM lightrag_doc_chunks c
       JOIN lightrag_doc_status s ON s.workspace = c.workspace AND s.id = c.full_doc_id`,
  );
  for (const r of chunkOwners)
    assert.equal(r.status, 'processed', `chunks of ${r.id} (${r.status})`);
  // What the API or CLI reported agrees with the database.
  for (const r of m.reported) {
    if (m.deleted.has(r.docId)) continue;
    const row = statuses.get(r.docId);
    if (r.said === 'processed')
      assert.equal(row?.status, 'processed', `${r.docId} reported processed`);
    if (r.said === 'failed') assert.equal(row?.status, 'failed', `${r.docId} reported failed`);
  }
  // Nothing in a DLQ whose document has no status explaining it.
  for (const url of [real.stack.dlqUrl]) {
    const { Messages } = await real.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
    );
    for (const msg of Messages ?? []) {
      const body = JSON.parse(msg.Body ?? '{}') as { docId?: string };
      if (!body.docId || !statuses.has(body.docId)) continue; // not a document at all
      assert.equal(statuses.get(body.docId)?.status, 'failed', `DLQ message of ${body.docId}`);
    }
  }
}

const names = fc.constantFrom('a.md', 'b.md', 'c.txt', 'notes/d.md', undefined);
const texts = fc.constantFrom(
  'Queues redeliver messages that fail.',
  'Vectors live in pgvector tables.',
  'Graphs link entities and relations.',
  'Lambda keeps a pool per container.',
);

class AddText implements fc.AsyncCommand<Model, Real> {
  readonly name: string | undefined;
  readonly content: string;
  constructor(name: string | undefined, content: string) {
    this.name = name;
    this.content = content;
  }
  check = () => true;
  async run(m: Model, real: Real) {
    const res = await api(real, 'POST', '/documents', {
      content: this.content,
      ...(this.name ? { filePath: this.name } : {}),
    });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    for (const d of res.json.documents) {
      assert.ok(['queued', 'duplicate'].includes(d.status), JSON.stringify(d));
      if (d.docId) m.accepted.add(d.docId);
    }
    await checkInvariants(m, real);
  }
  toString = () => `AddText(${this.name}, ${JSON.stringify(this.content.slice(0, 12))})`;
}

class CliJsonl implements fc.AsyncCommand<Model, Real> {
  readonly lines: string[];
  constructor(lines: string[]) {
    this.lines = lines;
  }
  check = () => true;
  async run(m: Model, real: Real) {
    // A file name never used before: no record of it can collide with an earlier name.
    const file = join(real.dir, `records-${++jsonlFiles}.jsonl`);
    writeFileSync(file, this.lines.map((l) => JSON.stringify({ content: l })).join('\n'));
    const out: string[] = [];
    const err: string[] = [];
    // The CLI beside the running stack works on the stack's data (issue 25 #3).
    const code = await runCli(['ingest', file, '--json'], {
      env: { PATH: process.env.PATH, LOG_LEVEL: 'silent' },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    const report = JSON.parse(out.join('\n'));
    assert.equal(report.results.length, this.lines.length, 'one document per line');
    // Each record is a document of its own (issue 25 #1: lines were dropped as name duplicates);
    // only the same text twice may be LightRAG's content duplicate.
    for (const r of report.results) {
      assert.notEqual(
        r.duplicateKind,
        'filename',
        `a record lost to a name collision: ${JSON.stringify(r)}`,
      );
    }
    for (const r of report.results) {
      if (r.docId) {
        m.accepted.add(r.docId);
        if (r.status === 'processed' || r.status === 'failed')
          m.reported.push({ docId: r.docId, said: r.status });
      }
    }
    assert.equal(code, report.summary.failed > 0 ? 1 : 0, err.join('\n'));
    await checkInvariants(m, real);
  }
  toString = () => `CliJsonl(${this.lines.length} lines)`;
}

class Upload implements fc.AsyncCommand<Model, Real> {
  readonly fileName: string;
  readonly body: string;
  constructor(fileName: string, body: string) {
    this.fileName = fileName;
    this.body = body;
  }
  check = () => true;
  async run(m: Model, real: Real) {
    const size = Buffer.byteLength(this.body);
    const ticket = await api(real, 'POST', '/documents/upload', {
      fileName: this.fileName,
      size,
      contentType: 'text/plain',
    });
    if (size === 0) {
      // An empty file is refused at the ticket: its URL could only be signed for 0 bytes.
      assert.equal(ticket.status, 400, JSON.stringify(ticket.json));
      await checkInvariants(m, real);
      return;
    }
    assert.ok([200, 201].includes(ticket.status), JSON.stringify(ticket.json));
    if (ticket.json.docId) m.accepted.add(ticket.json.docId);
    if (ticket.status === 201) {
      const { url, method, headers } = ticket.json.upload;
      const put = await fetch(url, { method, headers, body: this.body });
      assert.equal(put.status, 200);
    }
    await checkInvariants(m, real);
  }
  toString = () => `Upload(${this.fileName}, ${this.body.length} bytes)`;
}

class Reprocess implements fc.AsyncCommand<Model, Real> {
  readonly pick: number | undefined;
  constructor(pick: number | undefined) {
    this.pick = pick;
  }
  check = () => true;
  async run(m: Model, real: Real) {
    const ids = [...m.accepted].filter((id) => !m.deleted.has(id));
    const id =
      this.pick === undefined || ids.length === 0 ? undefined : ids[this.pick % ids.length];
    const res = await api(real, 'POST', '/documents/reprocess', id ? { docIds: [id] } : {});
    // 409: a duplicate marker or an unreadable file, named; never queued.
    assert.ok([202, 409].includes(res.status), JSON.stringify(res.json));
    await checkInvariants(m, real);
  }
  toString = () => `Reprocess(${this.pick ?? 'all'})`;
}

class Delete implements fc.AsyncCommand<Model, Real> {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check = (m: Readonly<Model>) => m.accepted.size > 0;
  async run(m: Model, real: Real) {
    const ids = [...m.accepted].filter((id) => !m.deleted.has(id));
    if (ids.length === 0) return;
    const id = ids[this.pick % ids.length]!;
    const res = await api(real, 'DELETE', `/documents/${encodeURIComponent(id)}`);
    assert.ok([200, 404].includes(res.status), `${id}: ${JSON.stringify(res.json)}`);
    if (res.status === 200) {
      m.deleted.add(id);
      m.accepted.delete(id);
    }
    await checkInvariants(m, real);
  }
  toString = () => `Delete(${this.pick})`;
}

class Query implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, real: Real) {
    const res = await api(real, 'POST', '/query', { query: 'What fails and redelivers?' });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    await checkInvariants(m, real);
  }
  toString = () => 'Query';
}

class Redeliver implements fc.AsyncCommand<Model, Real> {
  readonly pick: number;
  constructor(pick: number) {
    this.pick = pick;
  }
  check = (m: Readonly<Model>) => m.accepted.size > 0;
  async run(m: Model, real: Real) {
    const ids = [...m.accepted].filter((id) => !m.deleted.has(id) && !id.startsWith('dup-'));
    if (ids.length === 0) return;
    // The same message delivered twice (at-least-once), or a stale one naming a stored document.
    const id = ids[this.pick % ids.length]!;
    await real.sqs.send(
      new SendMessageCommand({
        QueueUrl: real.stack.queueUrl,
        MessageBody: JSON.stringify({ docId: id }),
      }),
    );
    await checkInvariants(m, real);
  }
  toString = () => `Redeliver(${this.pick})`;
}

class Poison implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, real: Real) {
    await real.sqs.send(
      new SendMessageCommand({
        QueueUrl: real.stack.queueUrl,
        MessageBody: JSON.stringify({ docId: 'doc-never-stored' }),
      }),
    );
    await checkInvariants(m, real);
  }
  toString = () => 'Poison';
}

/** Every message of a DLQ back onto its queue (a redrive: each gets a new message id). */
async function redrive(real: Real) {
  for (;;) {
    const { Messages } = await real.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: real.stack.dlqUrl, MaxNumberOfMessages: 10 }),
    );
    if (!Messages?.length) return;
    for (const msg of Messages) {
      await real.sqs.send(
        new SendMessageCommand({ QueueUrl: real.stack.queueUrl, MessageBody: msg.Body ?? '' }),
      );
      await real.sqs.send(
        new DeleteMessageCommand({
          QueueUrl: real.stack.dlqUrl,
          ReceiptHandle: msg.ReceiptHandle ?? '',
        }),
      );
    }
  }
}

/** Whether a message naming the document is in the ingest DLQ (peeked, left there). */
async function inDlq(real: Real, docId: string): Promise<boolean> {
  const { Messages } = await real.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: real.stack.dlqUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
    }),
  );
  return (Messages ?? []).some((msg) => (msg.Body ?? '').includes(docId));
}

let killCount = 0;

/**
 * The ingest function killed on every delivery of a document (its embedding call hangs past the
 * timeout): the message ends in the DLQ, the document held in `processing`. Once the lease runs
 * out, the operator's way out works: redrive the DLQ, or reprocess the document (then redrive,
 * a stale duplicate that must change nothing).
 */
class KilledOnEveryDelivery implements fc.AsyncCommand<Model, Real> {
  readonly way: 'redrive' | 'reprocess';
  constructor(way: 'redrive' | 'reprocess') {
    this.way = way;
  }
  check = (m: Readonly<Model>) => m.kills === 0;
  async run(m: Model, real: Real) {
    m.kills++;
    const marker = `killed-worker-${++killCount}`;
    real.provider.hangOn = marker;
    const res = await api(real, 'POST', '/documents', {
      content: `The container was killed while embedding this, ${marker}.`,
    });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    const docId = res.json.documents[0].docId as string;
    m.accepted.add(docId);
    const deadline = Date.now() + 60_000;
    while (!(await inDlq(real, docId))) {
      assert.ok(Date.now() < deadline, 'the killed message never reached the DLQ');
      await sleep(200);
    }
    real.provider.hangOn = undefined;
    const row = await api(real, 'GET', `/documents/${docId}`);
    assert.equal(row.json.status, 'processing', 'left as the killed worker left it');
    // The way out opens when the lease runs out (the worker is certainly gone by then).
    const { rows } = await real.db.query<{ age: number }>(
      `SELECT extract(epoch FROM (now() AT TIME ZONE 'UTC') - updated_at)::float AS age
         FROM lightrag_doc_status WHERE id = $1`,
      [docId],
    );
    await sleep(Math.max(0, (LEASE_SECONDS - Number(rows[0]!.age)) * 1000 + 300));
    if (this.way === 'reprocess') {
      const again = await api(real, 'POST', '/documents/reprocess', { docIds: [docId] });
      assert.equal(again.status, 202, JSON.stringify(again.json));
      assert.equal(again.json.documents[0].status, 'queued', JSON.stringify(again.json));
    }
    await redrive(real);
    m.reported.push({ docId, said: 'processed' });
    await checkInvariants(m, real);
  }
  toString = () => `KilledOnEveryDelivery(${this.way})`;
}

/** LightRAG's delete_document: the deletion queued, done by the ingest function. */
class DeleteInBackground implements fc.AsyncCommand<Model, Real> {
  readonly pick: number;
  readonly deleteLlmCache: boolean;
  constructor(pick: number, deleteLlmCache: boolean) {
    this.pick = pick;
    this.deleteLlmCache = deleteLlmCache;
  }
  check = (m: Readonly<Model>) => m.accepted.size > 0;
  async run(m: Model, real: Real) {
    const ids = [...m.accepted].filter((id) => !m.deleted.has(id));
    if (ids.length === 0) return;
    const id = ids[this.pick % ids.length]!;
    const res = await api(real, 'DELETE', '/documents/delete_document', {
      doc_ids: [id],
      delete_llm_cache: this.deleteLlmCache,
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.status, 'deletion_started');
    await settle(real);
    m.deleted.add(id);
    m.accepted.delete(id);
    await checkInvariants(m, real);
  }
  toString = () => `DeleteInBackground(${this.pick}, cache ${this.deleteLlmCache})`;
}

/**
 * LightRAG's cancel_pipeline right after a submit: the document ends processed (it ran first) or
 * failed "User cancelled", never stuck; then it is reprocessed and ends processed.
 */
class CancelThenReprocess implements fc.AsyncCommand<Model, Real> {
  readonly content: string;
  constructor(content: string) {
    this.content = content;
  }
  check = () => true;
  async run(m: Model, real: Real) {
    const res = await api(real, 'POST', '/documents', {
      content: `${this.content} Cancelled ${++cancelCount} times.`,
    });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    const docId = res.json.documents[0].docId as string;
    m.accepted.add(docId);
    // Cancellation covers what was sent before it (the messages' send times).
    await sleep(20);
    const cancel = await api(real, 'POST', '/documents/cancel_pipeline');
    assert.ok(
      ['cancellation_requested', 'not_busy'].includes(cancel.json.status),
      JSON.stringify(cancel.json),
    );
    await settle(real);
    const row = (await api(real, 'GET', `/documents/${docId}`)).json;
    if (row.status === 'failed') {
      assert.equal(row.error_msg, 'User cancelled');
      const again = await api(real, 'POST', '/documents/reprocess', { docIds: [docId] });
      assert.equal(again.status, 202, JSON.stringify(again.json));
      await settle(real);
    }
    const status = await api(real, 'GET', '/documents/pipeline_status');
    assert.equal(status.json.cancellation_requested, false, 'the cancellation ends with the run');
    m.reported.push({ docId, said: 'processed' });
    await checkInvariants(m, real);
  }
  toString = () => `CancelThenReprocess(${JSON.stringify(this.content.slice(0, 12))})`;
}

/** LightRAG's DELETE /documents: the workspace emptied in the background. */
class ClearWorkspace implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.accepted.size > 0;
  async run(m: Model, real: Real) {
    const res = await api(real, 'DELETE', '/documents');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    // Settled after every step, so nothing is waiting: never busy here.
    assert.equal(res.json.status, 'success', JSON.stringify(res.json));
    await settle(real);
    for (const id of m.accepted) m.deleted.add(id);
    m.accepted.clear();
    m.reported.length = 0;
    const counts = await api(real, 'GET', '/documents/status_counts');
    assert.equal(counts.json.status_counts.all, 0, JSON.stringify(counts.json));
    await checkInvariants(m, real);
  }
  toString = () => 'ClearWorkspace';
}

let cancelCount = 0;

/** `npm start` stopped and started again, with a document still queued. */
class Restart implements fc.AsyncCommand<Model, Real> {
  readonly content: string | undefined;
  constructor(content: string | undefined) {
    this.content = content;
  }
  check = () => true;
  async run(m: Model, real: Real) {
    if (this.content) {
      const res = await api(real, 'POST', '/documents', { content: this.content });
      for (const d of res.json.documents) if (d.docId) m.accepted.add(d.docId);
    }
    const options = stackOptions(real);
    await real.stack.stop();
    real.stack = await startLocalStack(options);
    real.db = getDatabase();
    writeStackState(real.stack); // As `npm start` records it.
    await checkInvariants(m, real);
  }
  toString = () => `Restart(${this.content ? 'with a document queued' : 'idle'})`;
}

const commands = [
  fc.tuple(names, texts).map(([n, t]) => new AddText(n, t)),
  fc.array(texts, { minLength: 1, maxLength: 3 }).map((lines) => new CliJsonl(lines)),
  fc
    .tuple(
      fc.constantFrom('up.txt', 'up2.txt', 'a.md'),
      fc.constantFrom('', 'Uploaded text about queues.'),
    )
    .map(([n, b]) => new Upload(n, b)),
  fc.option(fc.nat(20), { nil: undefined }).map((p) => new Reprocess(p)),
  fc.nat(20).map((p) => new Delete(p)),
  fc.constant(new Query()),
  fc.nat(20).map((p) => new Redeliver(p)),
  fc.constant(new Poison()),
  fc.constantFrom('redrive', 'reprocess').map((w) => new KilledOnEveryDelivery(w as 'redrive')),
  fc.option(texts, { nil: undefined }).map((t) => new Restart(t)),
  fc.tuple(fc.nat(20), fc.boolean()).map(([p, c]) => new DeleteInBackground(p, c)),
  texts.map((t) => new CancelThenReprocess(t)),
  fc.constant(new ClearWorkspace()),
];

describe(`the document lifecycle as a state machine, through the local stack on ${TARGET}`, () => {
  let real: Real;
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();

  before(async () => {
    // A project folder of its own: the CLI finds the stack through .data/local-stack.json here.
    const dir = mkdtempSync(join(tmpdir(), 'lrs-model-'));
    process.chdir(dir);
    const provider = await startFakeOpenAi(32);
    const target = await createTestDatabase({
      LOG_LEVEL: process.env.MODEL_LOG_LEVEL ?? 'silent',
      EMBEDDING_DIM: '32',
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_MODEL: 'fake-embedding',
      EMBEDDING_BASE_URL: provider.baseUrl,
      EMBEDDING_API_KEY: 'sk-model',
      EMBEDDING_MAX_RETRIES: '0',
      // A hanging call is ended by the function's timeout, as in Lambda, not by the client.
      EMBEDDING_TIMEOUT_MS: '600000',
      WORK_LEASE_SECONDS: String(LEASE_SECONDS),
    });
    Object.assign(process.env, target.env);
    if (target.env.DATABASE_DRIVER === 'pglite') delete process.env.DATABASE_URL;
    // Persisted (PGlite and queues under the folder): the stack can be restarted.
    const stack = await startLocalStack(stackOptions(undefined, dir));
    writeStackState(stack); // As `npm start` records it.
    real = {
      stack,
      provider,
      db: getDatabase(),
      dir,
      sqs: new SQSClient({
        endpoint: stack.sqsEndpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    };
  });
  after(async () => {
    removeStackState();
    real.sqs.destroy();
    await real.stack.stop();
    // Last: the killed workers' calls still hang on it.
    await real.provider.close();
    process.chdir(savedCwd);
    process.env = savedEnv;
  });

  it(`keeps every invariant over ${RUNS} random sequences of user actions`, {
    timeout: 20 * 60_000,
  }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 8 }), async (cmds) => {
        run++;

        // Each sequence starts from an empty database.
        await settle(real);
        for (const table of [
          'lightrag_doc_status',
          'lightrag_doc_full',
          'lightrag_doc_chunks',
          CHUNK_VECTORS,
          'lightrag_full_entities',
          'lightrag_full_relations',
          'lightrag_llm_cache',
        ]) {
          await real.db.query(`DELETE FROM ${table}`);
        }
        await fc.asyncModelRun(
          () => ({
            model: {
              accepted: new Set<string>(),
              deleted: new Set<string>(),
              reported: [],
              kills: 0,
            },
            real,
          }),
          cmds,
        );
      }),
      {
        numRuns: RUNS,
        ...(SEED !== undefined ? { seed: SEED } : {}),
        verbose: 1,
        includeErrorInReport: true,
      },
    );
    assert.equal(run >= RUNS, true);
    // Printed so a run shows how much it exercised (and a sequence generator gone empty shows).
    console.log(`model: ${run} sequences, ${executed} commands`);
    assert.ok(executed >= RUNS, 'the sequences ran commands');
  });
});
