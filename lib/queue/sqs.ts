import type { SQSClient } from '@aws-sdk/client-sqs';
import type { QueueConfig } from '../config.ts';

/** Timeouts of every AWS SDK client here (the SDK's default is to wait for ever). */
export const AWS_REQUEST_TIMEOUTS = { connectionTimeout: 5_000, requestTimeout: 30_000 };

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
    // A stalled connection fails and is retried instead of holding the invocation to its end.
    requestHandler: AWS_REQUEST_TIMEOUTS,
    ...(queue.endpoint ? { endpoint: queue.endpoint } : {}),
    // A local emulator accepts any credentials; real AWS uses the default provider chain.
    ...(queue.endpoint && !process.env.AWS_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
}
