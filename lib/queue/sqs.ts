import { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueConfig } from '../config.ts';

/** An SQS client for the configured region, or a local emulator when `SQS_ENDPOINT` is set. */
export function createSqsClient(queue: Pick<QueueConfig, 'endpoint' | 'region'>): SQSClient {
  return new SQSClient({
    region: queue.region,
    ...(queue.endpoint ? { endpoint: queue.endpoint } : {}),
    // A local emulator accepts any credentials; real AWS uses the default provider chain.
    ...(queue.endpoint && !process.env.AWS_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
}
