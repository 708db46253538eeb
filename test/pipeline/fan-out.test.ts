import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { simulatedContainer } from '../../lib/local/simulated-container.ts';
import { LocalSqsPoller } from '../../lib/queue/poller.ts';
import { createTestDatabase, TARGET, uniqueWorkspace } from '../support/database.ts';
import { startTestQueues, type TestQueues } from '../support/queue.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

/** One paragraph per chunk (split on blank lines), each naming its own entity and a hub. */
function bigDocument(chunks: number, tag: string): string {
  return Array.from(
    { length: chunks },
    (_, i) =>
      `Section ${i} of ${tag}. [[E:${tag} Part ${i}|Concept|Part ${i} of the ${tag} report.]] [[R:${tag} Part ${i}|${tag} Hub|part of|Part ${i} belongs to the hub.]]`,
  ).join('\n\n');
}

describe(`extraction fanned out across containers on ${TARGET}`, () => {
  let llm: ScriptedLlm;
  let queues: TestQueues;
  let extractionUrl: string;
  let extractionDlqUrl: string;
  let env: Record<string, string>;
  let config: Config;
  let containers: ReturnType<typeof simulatedContainer>[];
  let open: () => Database;

  before(async () => {
    llm = await startScriptedLlm();
    queues = await startTestQueues({ maxReceiveCount: 3 });
    extractionDlqUrl = (
      await queues.sqs.send(new CreateQueueCommand({ QueueName: 'extraction-dlq' }))
    ).QueueUrl!;
    const created = await queues.sqs.send(
      new CreateQueueCommand({
        QueueName: 'extraction',
        Attributes: {
          VisibilityTimeout: '30',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:extraction-dlq',
            maxReceiveCount: 3,
          }),
        },
      }),
    );
    extractionUrl = created.QueueUrl!;
    const target = await createTestDatabase({
      ...scriptedLlmEnv(llm),
      INGEST_QUEUE_URL: queues.queueUrl,
      EXTRACTION_QUEUE_URL: extractionUrl,
      SQS_ENDPOINT: queues.endpoint,
      AWS_REGION: 'us-east-1',
      FANOUT_MIN_CHUNKS: '4',
      EXTRACTION_BATCH_CHUNKS: '3',
      CHUNK_SPLIT_BY_CHARACTER: '\\n\\n',
      MAX_GLEANING: '0',
      ALLOWED_WORKSPACES: '*',
    });
    env = target.env;
    config = loadConfig(env);
    open = () => target.open();
    containers = Array.from({ length: 4 }, () => simulatedContainer(config, { db: open() }));
  });
  after(async () => {
    await queues.stop();
    await llm.close();
  });

  const poller = (url: string, handler: (e: SQSEvent) => Promise<unknown>, batchSize = 1) =>
    new LocalSqsPoller({
      sqs: queues.sqs,
      queueUrl: url,
      handler: handler as never,
      batchSize,
      waitTimeSeconds: 0,
      failedVisibilitySeconds: 0,
    });

  /** Every container takes extraction messages until the queue is empty (none in flight). */
  async function drainExtraction(): Promise<number> {
    const pollers = containers.map((c) => poller(extractionUrl, c.extractHandler));
    await Promise.all(
      pollers.map(async (p) => {
        while ((await p.pollOnce()) > 0 || (await queues.depth(extractionUrl)) > 0) {
          // Until every message is settled or dead-lettered.
        }
      }),
    );
    return pollers.reduce((n, p) => n + p.stats.failed, 0);
  }

  async function drainIngest(container = containers[0]!): Promise<number> {
    const p = poller(queues.queueUrl, container.handler, 10);
    let total = 0;
    for (let n = await p.pollOnce(); n > 0; n = await p.pollOnce()) total += n;
    return total;
  }

  const storages = (ws: string) => containers[0]!.pipeline.storages(ws);

  it('extracts batches in parallel, counts a redelivered batch once, merges exactly once, and builds the graph one container would', async () => {
    const ws = uniqueWorkspace('fan');
    const content = bigDocument(20, 'Atlas');
    const first = await containers[0]!.pipeline.ingest({
      content,
      workspace: ws,
      filePath: 'atlas.md',
    });
    assert.equal(first.status, 'processing');
    assert.deepEqual(first.fanOut?.batches, 7);
    const s = await storages(ws);
    const started = await s.docStatus.getById(first.docId);
    assert.equal(started?.status, 'processing');
    assert.equal(started?.chunks_count, 20);
    assert.deepEqual(
      { ...(started?.metadata.extraction as object), run_id: undefined },
      {
        run_id: undefined,
        chunks_total: 20,
        chunks_extracted: 0,
        batches_total: 7,
        batches_extracted: 0,
        batches_failed: 0,
      },
    );
    assert.equal(await queues.depth(extractionUrl), 7);

    // Duplicate deliveries of two batch messages (SQS is at-least-once).
    const runId = first.fanOut!.runId;
    for (const batch of [0, 5]) {
      await queues.sqs.send(
        new SendMessageCommand({
          QueueUrl: extractionUrl,
          MessageBody: JSON.stringify({ docId: first.docId, workspace: ws, runId, batch }),
        }),
      );
    }
    const extractsBefore = llm.count('extract');
    await drainExtraction();
    assert.equal(
      llm.count('extract') - extractsBefore,
      20,
      'one extraction call per chunk: duplicates hit the cache or are settled',
    );
    const progressed = await s.docStatus.getById(first.docId);
    assert.equal(progressed?.status, 'processing');
    assert.deepEqual(progressed?.metadata.extraction, {
      run_id: runId,
      chunks_total: 20,
      chunks_extracted: 20,
      batches_total: 7,
      batches_extracted: 7,
      batches_failed: 0,
    });
    // Concurrent completions queued exactly one merge.
    assert.equal(await queues.depth(queues.queueUrl), 1);
    const merged = await drainIngest();
    assert.equal(merged, 1);
    assert.equal(llm.count('extract') - extractsBefore, 20, 'the merge made no extraction call');
    const done = await s.docStatus.getById(first.docId);
    assert.equal(done?.status, 'processed', done?.error_msg ?? '');
    assert.equal(done?.chunks_count, 20);
    assert.equal((await s.extractionRuns.getRun(first.docId))?.mergeState, 'done');

    // The same document through one container, without fan-out, gives the same graph.
    const single = loadConfig({ ...env, FANOUT_MIN_CHUNKS: '100000' });
    const alone = simulatedContainer(single, { db: open() });
    const ws2 = uniqueWorkspace('alone');
    {
      const r = await alone.pipeline.ingest({ content, workspace: ws2, filePath: 'atlas.md' });
      assert.equal(r.status, 'processed');
      const s2 = await alone.pipeline.storages(ws2);
      const graph = async (st: typeof s) => {
        const labels = (await st.graph.getAllLabels()).sort();
        const hub = await st.graph.getNode('Atlas Hub');
        return {
          labels,
          hubDescription: hub?.description,
          hubSources: hub?.source_id?.split('<SEP>').sort(),
        };
      };
      assert.deepEqual(await graph(s), await graph(s2));
      assert.equal((await graph(s)).labels.length, 21);
    }
  });

  it('a second merge request is refused; a stale run is ignored', async () => {
    const ws = uniqueWorkspace('fan');
    const p = containers[1]!.pipeline;
    const first = await p.ingest({ content: bigDocument(6, 'Borealis'), workspace: ws });
    const stale = first.fanOut!.runId;
    // The ingest message delivered again starts a new run; the first run's messages go stale.
    const second = await p.ingest({ content: bigDocument(6, 'Borealis'), workspace: ws });
    assert.notEqual(second.fanOut!.runId, stale);
    const outcome = await p.extractBatch({
      docId: first.docId,
      workspace: ws,
      runId: stale,
      batch: 0,
    });
    assert.equal(outcome.outcome, 'stale');
    await drainExtraction();
    const s = await storages(ws);
    assert.equal((await s.extractionRuns.getRun(first.docId))?.mergeState, 'queued');
    // Two merge messages: one claims, the other does nothing; a redelivery of the claimer resumes.
    const merge = { docId: first.docId, workspace: ws, merge: second.fanOut!.runId };
    const a = await p.ingest(merge, { messageId: 'm-a' });
    assert.equal(a.status, 'processed');
    const b = await p.ingest(merge, { messageId: 'm-b' });
    assert.equal(b.duplicate, true, 'already processed');
    const staleMerge = await p.ingest({ ...merge, merge: stale }, { messageId: 'm-c' });
    assert.equal(staleMerge.duplicate, true);
    await drainIngest();
  });

  it('claims the merge for one message id only', async () => {
    const ws = uniqueWorkspace('fan');
    const p = containers[2]!.pipeline;
    const first = await p.ingest({ content: bigDocument(5, 'Cirrus'), workspace: ws });
    await drainExtraction();
    const s = await storages(ws);
    const runId = first.fanOut!.runId;
    assert.equal(await s.extractionRuns.claimMerge(first.docId, runId, 'msg-1', 1200), true);
    assert.equal(await s.extractionRuns.claimMerge(first.docId, runId, 'msg-2', 1200), false);
    const skipped = await p.ingest(
      { docId: first.docId, workspace: ws, merge: runId },
      { messageId: 'msg-2' },
    );
    assert.equal(skipped.skipped, 'merge-claimed');
    // SQS delivering msg-1 again (the first attempt crashed) resumes the merge.
    const resumed = await p.ingest(
      { docId: first.docId, workspace: ws, merge: runId },
      { messageId: 'msg-1' },
    );
    assert.equal(resumed.status, 'processed');
    await drainIngest();
  });

  it('a merge killed on every delivery, redriven from the DLQ under a new id, completes', async () => {
    const ws = uniqueWorkspace('fan');
    const p = containers[2]!.pipeline;
    const first = await p.ingest({ content: bigDocument(5, 'Nimbus'), workspace: ws });
    await drainExtraction();
    const s = await storages(ws);
    const runId = first.fanOut!.runId;
    // The merge message msg-1 claimed it; its invocation was killed each time, then the DLQ.
    assert.equal(await s.extractionRuns.claimMerge(first.docId, runId, 'msg-1', 1200), true);
    const held = await p.ingest(
      { docId: first.docId, workspace: ws, merge: runId },
      {
        messageId: 'redriven-1',
      },
    );
    assert.equal(held.skipped, 'merge-claimed', 'while the lease runs, the claim holds');
    // The lease runs out; the redriven message (a new id) takes the merge over, once.
    await containers[2]!.db.query(
      `UPDATE lightrag_serverless_extraction_runs SET updated_at = now() - interval '1 hour'
        WHERE workspace = $1 AND doc_id = $2`,
      [ws, first.docId],
    );
    const redriven = await p.ingest(
      { docId: first.docId, workspace: ws, merge: runId },
      {
        messageId: 'redriven-2',
      },
    );
    assert.equal(redriven.status, 'processed');
    assert.equal((await s.docStatus.getById(first.docId))?.status, 'processed');
    await drainIngest();
  });

  it('gives up a batch on its last delivery as every consumer does: batch and document failed, no DLQ', async () => {
    const ws = uniqueWorkspace('fan');
    const p = containers[3]!.pipeline;
    const first = await p.ingest({ content: bigDocument(5, 'Gale'), workspace: ws });
    const message = { docId: first.docId, workspace: ws, runId: first.fanOut!.runId, batch: 0 };
    // A provider failing with 503 on every call (the client's own retries included).
    for (let i = 0; i < 20; i++) llm.faults.push({ kind: 'extract', status: 503 });
    try {
      await assert.rejects(p.extractBatch(message), /503/, 'not the last delivery: comes back');
      const last = await p.extractBatch(message, { finalAttempt: true });
      assert.equal(last.outcome, 'failed', 'the last delivery settles it (lib/errors.ts givesUp)');
      assert.match(
        last.error ?? '',
        /^Extraction of batch 1 of \d+ failed: Gave up after the last delivery/,
      );
    } finally {
      llm.faults.length = 0;
    }
    const s = await storages(ws);
    assert.equal((await s.docStatus.getById(first.docId))?.status, 'failed');
    assert.equal(
      (await s.extractionRuns.getBatch(first.docId, first.fanOut!.runId, 0))?.status,
      'failed',
    );
    await drainExtraction();
  });

  it('a batch failing for good fails the document with the reason; accounting holds', async () => {
    const ws = uniqueWorkspace('fan');
    const p = containers[3]!.pipeline;
    const first = await p.ingest({ content: bigDocument(9, 'Dune'), workspace: ws });
    assert.equal(first.fanOut?.batches, 3);
    llm.faults.push({ kind: 'extract', status: 400 });
    await drainExtraction();
    const s = await storages(ws);
    const status = await s.docStatus.getById(first.docId);
    assert.equal(status?.status, 'failed');
    assert.match(status?.error_msg ?? '', /^Extraction of batch \d of 3 failed: .*400/);
    const progress = await s.extractionRuns.progress(first.docId, first.fanOut!.runId);
    const dlq = (await queues.dlqBodies()).filter((b) => b.includes(first.docId)).length;
    assert.ok(progress.batchesFailed >= 1, 'the failing batch, and any taken after it (skipped)');
    assert.equal(progress.batches, progress.batchesExtracted + progress.batchesFailed + dlq);
    // No merge for a failed run; reprocessing the document starts a new run and succeeds.
    assert.equal(await queues.depth(queues.queueUrl), 0);
    const again = await p.ingest({ docId: first.docId, workspace: ws });
    assert.equal(again.status, 'processing');
    await drainExtraction();
    await drainIngest();
    assert.equal((await s.docStatus.getById(first.docId))?.status, 'processed');
  });

  it('a batch of a document that already failed is skipped without LLM calls', async () => {
    const ws = uniqueWorkspace('fan');
    const p = containers[0]!.pipeline;
    const first = await p.ingest({ content: bigDocument(4, 'Eos'), workspace: ws });
    const s = await storages(ws);
    const row = await s.docStatus.getById(first.docId);
    const { created_at: _c, updated_at: _u, ...rest } = row!;
    await s.docStatus.upsert([{ ...rest, status: 'failed', error_msg: 'another batch failed' }]);
    const before = llm.count('extract');
    const outcome = await p.extractBatch({
      docId: first.docId,
      workspace: ws,
      runId: first.fanOut!.runId,
      batch: 0,
    });
    assert.equal(outcome.outcome, 'failed');
    assert.match(outcome.error ?? '', /Skipped: the document is failed/);
    assert.equal(llm.count('extract'), before);
    assert.equal(
      (await s.docStatus.getById(first.docId))?.error_msg,
      'another batch failed',
      'the first reason is kept',
    );
    await queues.purge();
    await queues.sqs.send(new PurgeQueueCommand({ QueueUrl: extractionUrl }));
  });

  it('a batch whose invocation crashes on every delivery ends in the DLQ; redriven, it resumes', async () => {
    const ws = uniqueWorkspace('fan');
    const p = containers[0]!.pipeline;
    const first = await p.ingest({ content: bigDocument(6, 'Fornax'), workspace: ws });
    assert.equal(first.fanOut?.batches, 2);
    // Container 0 crashes (the whole invocation fails, as a timeout would) on batch 1.
    const crashing = poller(extractionUrl, async (event: SQSEvent) => {
      if (event.Records.some((r) => JSON.parse(r.body).batch === 1))
        throw new Error('Task timed out');
      return containers[0]!.extractHandler(event);
    });
    while ((await crashing.pollOnce()) > 0 || (await queues.depth(extractionUrl)) > 0) {
      // Until both messages are settled or dead-lettered.
    }
    const s = await storages(ws);
    const progress = await s.extractionRuns.progress(first.docId, first.fanOut!.runId);
    const { Messages = [] } = await queues.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: extractionDlqUrl, MaxNumberOfMessages: 10 }),
    );
    const dead = Messages.filter((m) => m.Body?.includes(first.docId));
    assert.equal(dead.length, 1);
    assert.deepEqual(
      [progress.batchesExtracted, progress.batchesFailed, dead.length],
      [1, 0, 1],
      'batches = extracted + failed + dead-lettered',
    );
    assert.equal((await s.docStatus.getById(first.docId))?.status, 'processing');
    // Redrive: the message goes back to the extraction queue and resumes.
    for (const m of dead) {
      await queues.sqs.send(
        new SendMessageCommand({ QueueUrl: extractionUrl, MessageBody: m.Body! }),
      );
      await queues.sqs.send(
        new DeleteMessageCommand({ QueueUrl: extractionDlqUrl, ReceiptHandle: m.ReceiptHandle! }),
      );
    }
    await drainExtraction();
    await drainIngest();
    assert.equal((await s.docStatus.getById(first.docId))?.status, 'processed');
  });

  it('refuses malformed extraction messages', async () => {
    const { decodeExtractionMessage: parseExtractionMessage } = await import(
      '../../lib/queue/messages.ts'
    );
    for (const body of [
      '{',
      '[]',
      '{"docId":"d","workspace":"w","runId":"r","batch":-1}',
      '{"docId":"d","workspace":"../x","runId":"r","batch":0}',
      '{"docId":"d","workspace":"w","runId":"r","batch":0,"x":1}',
    ]) {
      assert.throws(() => parseExtractionMessage(body), /Extraction message|workspace|Unknown/);
    }
  });
});
