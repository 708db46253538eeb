/**
 * A local stand-in for Lambda's SQS event source mapping: receives batches, builds true SQS
 * event records, invokes the handler and deletes only the records not reported in
 * `batchItemFailures` (unlike serverless-offline-sqs, which deletes failed records too). A
 * handler that throws fails the whole batch, as in Lambda.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from '../local/lambda-context.ts';

/** The queue a local poller reads, the handler it invokes, and how it retries. */
export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** Used for `eventSourceARN`; derived from the URL when absent. */
  queueArn?: string;
  region?: string;
  handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
  batchSize?: number;
  waitTimeSeconds?: number;
  /** Make failed records visible again after this many seconds (Lambda waits the queue's visibility timeout). */
  failedVisibilitySeconds?: number;
  /**
   * The function's timeout: an invocation still running then is given up, as Lambda kills it —
   * none of its records is deleted, and they come back like failed ones. (In this process the
   * abandoned work cannot be stopped; it runs on unobserved.) Default 900 s, Lambda's longest.
   */
  timeoutMs?: number;
  /** The function's name in the context handlers are given. */
  functionName?: string;
}

/** What a local poller has done so far. */
export interface PollStats {
  received: number;
  succeeded: number;
  failed: number;
  batches: number;
}

export class LocalSqsPoller {
  readonly stats: PollStats = { received: 0, succeeded: 0, failed: 0, batches: 0 };
  readonly #options: PollerOptions;
  #running: Promise<void> | undefined;
  #stopping = false;

  constructor(options: PollerOptions) {
    this.#options = options;
  }

  /** Receives one batch and runs it; resolves to the number of messages received. */
  async pollOnce(): Promise<number> {
    const { sqs, queueUrl } = this.#options;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: this.#options.batchSize ?? 10,
        WaitTimeSeconds: this.#options.waitTimeSeconds ?? 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return 0;
    const records = messages.map((m) => this.#toRecord(m));
    let failedIds: Set<string>;
    const timeoutMs = this.#options.timeoutMs ?? 900_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const response = await Promise.race([
        this.#options.handler(
          { Records: records },
          lambdaContext(this.#options.functionName ?? 'local', timeoutMs),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('Task timed out')), timeoutMs);
        }),
      ]);
      failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      failedIds = new Set(records.map((r) => r.messageId));
    } finally {
      clearTimeout(timer);
    }
    const succeeded = records.filter((r) => !failedIds.has(r.messageId));
    const failed = records.filter((r) => failedIds.has(r.messageId));
    if (succeeded.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: succeeded.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    if (failed.length > 0 && this.#options.failedVisibilitySeconds !== undefined) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: failed.map((r, i) => ({
            Id: String(i),
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: this.#options.failedVisibilitySeconds,
          })),
        }),
      );
    }
    this.stats.batches += 1;
    this.stats.received += records.length;
    this.stats.succeeded += succeeded.length;
    this.stats.failed += failed.length;
    return records.length;
  }

  /** Polls continuously until {@link stop}. */
  start(onError: (err: unknown) => void = () => undefined): void {
    if (this.#running) return;
    this.#stopping = false;
    this.#running = (async () => {
      while (!this.#stopping) {
        try {
          await this.pollOnce();
        } catch (err) {
          onError(err);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#running;
    this.#running = undefined;
  }

  #toRecord(message: {
    MessageId?: string;
    ReceiptHandle?: string;
    Body?: string;
    Attributes?: Record<string, string>;
    MD5OfBody?: string;
  }): SQSRecord {
    const attributes = message.Attributes ?? {};
    const region = this.#options.region ?? 'us-east-1';
    const name = this.#options.queueUrl.split('/').pop() ?? 'queue';
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
        SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
        SenderId: attributes.SenderId ?? 'local',
        ApproximateFirstReceiveTimestamp:
          attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: this.#options.queueArn ?? `arn:aws:sqs:${region}:000000000000:${name}`,
      awsRegion: region,
    };
  }
}
