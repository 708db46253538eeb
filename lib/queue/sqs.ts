import type { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueConfig } from '../config.ts';

/**
 * An SQS client for the configured region, or a local emulator when `SQS_ENDPOINT` is set. The
 * SDK is imported on first use, keeping it out of module initialisation (cold start).
 */
export async function createSqsClient(
  queue: Pick<QueueConfig, 'endpoint' | 'region'>,
): Promise<SQSClient> {
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  return new SQSClient({
    region: queue.region,
    ...(queue.endpoint ? { endpoint: queue.endpoint } : {}),
    // A local emulator accepts any credentials; real AWS uses the default provider chain.
    ...(queue.endpoint && !process.env.AWS_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
}
