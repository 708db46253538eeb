/**
 * Small messages (no documents) onto a queue: `SendMessageBatch` ten at a time, entries SQS
 * failed on its side retried with backoff. Used for extraction batches and merge requests.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueConfig } from '../config.ts';
import { withRetry } from '../retry.ts';
import { createSqsClient } from './sqs.ts';

/** Sends message bodies to a queue; rejects when any could not be sent. */
export interface MessageSender {
  send(queueUrl: string, bodies: readonly string[]): Promise<void>;
}

class EntriesFailed extends Error {}

/**
 * @example
 * ```ts
 * const sender = new SqsMessageSender(config.queue);
 * await sender.send(queueUrl, [encodeExtractionMessage({ docId, workspace, runId, batch: 0 })]);
 * ```
 */
export class SqsMessageSender implements MessageSender {
  readonly #queue: Pick<QueueConfig, 'endpoint' | 'region'>;
  #client: Promise<SQSClient> | undefined;

  constructor(queue: Pick<QueueConfig, 'endpoint' | 'region'>) {
    this.#queue = queue;
  }

  async send(queueUrl: string, bodies: readonly string[]): Promise<void> {
    const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
    this.#client ??= createSqsClient(this.#queue);
    const sqs = await this.#client;
    for (let at = 0; at < bodies.length; at += 10) {
      let remaining = bodies
        .slice(at, at + 10)
        .map((body, i) => ({ Id: String(i), MessageBody: body }));
      await withRetry(
        async () => {
          const response = await sqs.send(
            new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: remaining }),
          );
          const failed = new Set((response.Failed ?? []).map((f) => f.Id));
          const sender = (response.Failed ?? []).find((f) => f.SenderFault);
          if (sender)
            throw new Error(`SQS refused a message: ${sender.Code} ${sender.Message ?? ''}`);
          remaining = remaining.filter((e) => failed.has(e.Id));
          if (remaining.length > 0) throw new EntriesFailed(`${remaining.length} entries failed`);
        },
        { maxRetries: 4, baseDelayMs: 200, isRetryable: (err) => err instanceof EntriesFailed },
      );
    }
  }
}
