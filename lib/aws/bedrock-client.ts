import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';

const clients = new Map<string, Promise<BedrockRuntimeClient>>();

/**
 * A Bedrock runtime client per region/endpoint, created once per container. The SDK's own
 * retries are off: callers retry with one policy for every provider (Retry-After honoured).
 */
export function getBedrockClient(
  region?: string,
  endpoint?: string,
): Promise<BedrockRuntimeClient> {
  const key = `${region ?? ''}|${endpoint ?? ''}`;
  let client = clients.get(key);
  if (!client) {
    client = import('@aws-sdk/client-bedrock-runtime').then(
      ({ BedrockRuntimeClient }) => new BedrockRuntimeClient({ region, endpoint, maxAttempts: 1 }),
    );
    clients.set(key, client);
  }
  return client;
}

/** Bedrock error names that mean "try again later". */
const RETRYABLE = new Set([
  'ThrottlingException',
  'ServiceUnavailableException',
  'InternalServerException',
  'ModelTimeoutException',
  'ModelNotReadyException',
  'TimeoutError',
]);

/** Whether an SDK error from Bedrock is worth retrying, and its HTTP status. */
export function classifyBedrockError(err: unknown): {
  retryable: boolean;
  status?: number;
  message: string;
} {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return {
    retryable:
      RETRYABLE.has(e.name ?? '') || (status !== undefined && (status === 429 || status >= 500)),
    status,
    message: `${e.name ?? 'Error'}: ${e.message ?? ''}`.slice(0, 300),
  };
}
