/**
 * Usage aggregates under concurrent ingests: four simulated containers (the functions' own
 * invocation wrapper) ingest documents and extract a fanned-out one at the same time; every LLM
 * call, cache hit and token the scripted LLM saw is counted once in the daily rows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateQueueCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { loadConfig } from '../../lib/config.ts';
import { simulatedContainer } from '../../lib/local/simulated-container.ts';
import { UsageRecorder } from '../../lib/ops/usage.ts';
import { sinceDay, usageReport } from '../../lib/ops/usage-report.ts';
import { LocalSqsPoller } from '../../lib/queue/poller.ts';
import { createTestDatabase, TARGET, uniqueWorkspace } from '../support/database.ts';
import { startTestQueues, type TestQueues } from '../support/queue.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

describe(`usage aggregates on ${TARGET}`, () => {
  let llm: ScriptedLlm;
  let queues: TestQueues;
  before(async () => {
    llm = await startScriptedLlm();
    queues = await startTestQueues();
  });
  after(async () => {
    await queues.stop();
    await llm.close();
  });

  it('counts every call, cache hit and token once under concurrent ingests', async () => {
    const extraction = (
      await queues.sqs.send(new CreateQueueCommand({ QueueName: 'usage-extraction' }))
    ).QueueUrl!;
    const target = await createTestDatabase({
      ...scriptedLlmEnv(llm),
      INGEST_QUEUE_URL: queues.queueUrl,
      EXTRACTION_QUEUE_URL: extraction,
      SQS_ENDPOINT: queues.endpoint,
      AWS_REGION: 'us-east-1',
      FANOUT_MIN_CHUNKS: '4',
      EXTRACTION_BATCH_CHUNKS: '2',
      CHUNK_SPLIT_BY_CHARACTER: '\\n\\n',
      MAX_GLEANING: '0',
      FORCE_LLM_SUMMARY_ON_MERGE: '3',
      ALLOWED_WORKSPACES: '*',
    });
    const config = loadConfig(target.env);
    const containers = Array.from({ length: 4 }, () =>
      simulatedContainer(config, { db: target.open() }),
    );
    const ws = uniqueWorkspace('usage');
    const docs = Array.from({ length: 12 }, (_, i) => ({
      content: `Note ${i}. [[E:Shared Hub|Concept|Fragment ${i} of the hub.]] [[E:Item ${i}|Concept|Item ${i}.]]`,
      filePath: `note-${i}.md`,
      workspace: ws,
    }));
    docs.push({
      content: Array.from(
        { length: 6 },
        (_, i) => `Part ${i}. [[E:Part ${i}|Concept|Part ${i}.]]`,
      ).join('\n\n'),
      filePath: 'parts.md',
      workspace: ws,
    });
    for (let i = 0; i < docs.length; i += 10) {
      await queues.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queues.queueUrl,
          Entries: docs
            .slice(i, i + 10)
            .map((d, j) => ({ Id: String(j), MessageBody: JSON.stringify(d) })),
        }),
      );
    }
    const before = llm.requests.length;
    const poller = (url: string, handler: (e: SQSEvent) => Promise<unknown>) =>
      new LocalSqsPoller({
        sqs: queues.sqs,
        queueUrl: url,
        handler: handler as never,
        batchSize: 2,
        waitTimeSeconds: 0,
        failedVisibilitySeconds: 0,
      });
    const pollers = containers.flatMap((c) => [
      poller(queues.queueUrl, c.handler),
      poller(extraction, c.extractHandler),
    ]);
    const busy = async () =>
      (await queues.depth(queues.queueUrl)) + (await queues.depth(extraction));
    await Promise.all(
      pollers.map(async (p) => {
        while ((await p.pollOnce()) > 0 || (await busy()) > 0) {
          // Until every queue is empty.
        }
      }),
    );
    const s = await containers[0]!.pipeline.storages(ws);
    const statuses = await s.docStatus.getStatusCounts();
    assert.equal(statuses.processed, 13);
    const calls = llm.requests.slice(before);
    const count = (kind: string) => calls.filter((r) => r.kind === kind).length;
    const report = await usageReport(containers[0]!.db, ws, sinceDay('1d'));
    const extract = report.totals.extract!;
    assert.equal(extract.calls, count('extract'), 'every extraction call counted once');
    assert.equal(extract.promptTokens, 100 * count('extract'));
    assert.equal(extract.completionTokens, 10 * count('extract'));
    assert.equal(extract.cacheHits, 6, "the fanned-out document's merge: one cache hit per chunk");
    assert.equal(report.totals.summary?.calls ?? 0, count('summary'));
    assert.ok(count('summary') > 0, 'the hub was summarised');
    assert.ok(report.rows.every((r) => r.model === 'scripted-model'));
  });

  it('keeps its counts when the database refuses them, for the next flush', async () => {
    const recorder = new UsageRecorder();
    recorder.record({ workspace: 'w', purpose: 'answer', model: 'm', promptTokens: 3 });
    const broken = { query: async () => Promise.reject(new Error('down')) };
    await assert.rejects(recorder.flush(broken as never), /down/);
    assert.equal(recorder.rows.length, 1);
  });

  it('reads periods as 7d, 30d or a day', () => {
    const now = new Date('2026-12-01T10:00:00Z');
    assert.equal(sinceDay('7d', now), '2026-11-25');
    assert.equal(sinceDay('1d', now), '2026-12-01');
    assert.equal(sinceDay('2026-11-01', now), '2026-11-01');
    assert.throws(() => sinceDay('last week', now), /like 7d or 2026-11-01/);
    assert.throws(() => sinceDay('0d', now), /1d to 3660d/);
    // Impossible days are a 400, not PostgreSQL's 500 (Date.parse rolls them over).
    assert.throws(() => sinceDay('2026-02-31', now), /like 7d or 2026-11-01/);
    assert.throws(() => sinceDay('2026-13-01', now), /like 7d or 2026-11-01/);
    assert.equal(sinceDay('2024-02-29', now), '2024-02-29');
  });
});
