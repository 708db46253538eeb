/**
 * The enqueue client's batching and retry policy. The success path runs against the real SQS
 * emulator elsewhere (test/functions/ingest.test.ts); failed entries cannot be provoked there,
 * so this file drives the client with a recording stand-in for `SQSClient.send`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { IngestQueueClient, MAX_BATCH_ENTRIES } from '../../lib/queue/enqueue.ts';

type Entry = { Id: string; MessageBody: string };
type Reply = {
  Successful?: Array<{ Id: string; MessageId: string }>;
  Failed?: Array<{ Id: string; SenderFault: boolean; Code: string; Message?: string }>;
};

function recordingSqs(reply: (entries: Entry[], call: number) => Reply | Error) {
  const calls: Entry[][] = [];
  const sqs = {
    send: async (command: { input: { Entries: Entry[] } }) => {
      calls.push(command.input.Entries);
      const answer = reply(command.input.Entries, calls.length);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as SQSClient;
  return { sqs, calls };
}
const ok = (entries: Entry[]): Reply => ({
  Successful: entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
});
const client = (sqs: SQSClient, maxMessageBytes = 256 * 1024) =>
  new IngestQueueClient({
    sqs,
    queueUrl: 'http://sqs.local/q',
    maxMessageBytes,
    maxDocumentBytes: 1e7,
    baseDelayMs: 1,
  });
const docs = (n: number, size = 20) =>
  Array.from({ length: n }, (_, i) => ({ content: `document ${i} ${'x'.repeat(size)}` }));

describe('enqueue client', () => {
  it('sends at most 10 entries and the byte limit per call, one result per document', async () => {
    const { sqs, calls } = recordingSqs(ok);
    const results = await client(sqs).enqueue(docs(23));
    assert.deepEqual(
      calls.map((c) => c.length),
      [10, 10, 3],
    );
    assert.ok(calls.every((c) => c.length <= MAX_BATCH_ENTRIES));
    assert.equal(results.length, 23);
    assert.ok(
      results.every(
        (r, i) =>
          r.index === i &&
          r.status === 'queued' &&
          r.messageId === `m-${i}` &&
          /^doc-/.test(r.docId!),
      ),
    );
    const byBytes = recordingSqs(ok);
    await client(byBytes.sqs, 2048).enqueue(docs(6, 600));
    for (const call of byBytes.calls) {
      assert.ok(call.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody), 0) <= 2048);
    }
    assert.equal(byBytes.calls.flat().length, 6);
  });

  it('retries entries that failed on the server side, then reports them queued', async () => {
    const { sqs, calls } = recordingSqs((entries, call) =>
      call === 1
        ? {
            Successful: [{ Id: entries[0]!.Id, MessageId: 'm0' }],
            Failed: entries
              .slice(1)
              .map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError' })),
          }
        : ok(entries),
    );
    const results = await client(sqs).enqueue(docs(3));
    assert.deepEqual(
      calls.map((c) => c.length),
      [3, 2],
      'only the failed entries are sent again',
    );
    assert.deepEqual(
      results.map((r) => r.status),
      ['queued', 'queued', 'queued'],
    );
  });

  it('does not retry sender faults, and gives up after the retries with a reason', async () => {
    const sender = recordingSqs((entries) => ({
      Failed: entries.map((e) => ({
        Id: e.Id,
        SenderFault: true,
        Code: 'InvalidMessageContents',
        Message: 'bad',
      })),
    }));
    const refused = await client(sender.sqs).enqueue(docs(2));
    assert.equal(sender.calls.length, 1);
    assert.deepEqual(
      refused.map((r) => [r.status, r.error]),
      [
        ['failed', 'InvalidMessageContents: bad'],
        ['failed', 'InvalidMessageContents: bad'],
      ],
    );
    const down = recordingSqs(() =>
      Object.assign(new Error('Service Unavailable'), { $fault: 'server' }),
    );
    const failed = await new IngestQueueClient({
      sqs: down.sqs,
      queueUrl: 'q',
      maxMessageBytes: 1e5,
      maxDocumentBytes: 1e7,
      maxRetries: 2,
      baseDelayMs: 1,
    }).enqueue(docs(1));
    assert.equal(down.calls.length, 3);
    assert.equal(failed[0]!.status, 'failed');
    assert.match(failed[0]!.error!, /Service Unavailable/);
  });

  it('retries throttling, and fails invalid documents alone without sending them', async () => {
    const { sqs, calls } = recordingSqs((entries, call) =>
      call === 1
        ? Object.assign(new Error('Rate exceeded'), { $fault: 'client', name: 'RequestThrottled' })
        : ok(entries),
    );
    const results = await client(sqs).enqueue([
      { content: 'fine' },
      { content: '   ' },
      { content: 'also fine', workspace: 'bad/ws' },
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['queued', 'failed', 'failed'],
    );
    assert.match(results[1]!.error!, /empty/);
    assert.match(results[2]!.error!, /Invalid workspace/);
    assert.deepEqual(
      calls.map((c) => c.length),
      [1, 1],
    );
  });

  it('refuses a document larger than a message when no database can hold it', async () => {
    const { sqs, calls } = recordingSqs(ok);
    const [result] = await client(sqs, 1024).enqueue([{ content: 'y'.repeat(5000) }]);
    assert.equal(result!.status, 'failed');
    assert.match(result!.error!, /over the queue's 1024-byte limit, and no database is configured/);
    assert.equal(calls.length, 0);
  });
});
