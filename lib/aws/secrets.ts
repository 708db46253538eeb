/**
 * One Secrets Manager read, as every secret of this backend is read at cold start (the database
 * URL, LightRAG's login settings): the SDK's own endpoint variable
 * (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, pointed at a double in tests), three attempts, our request
 * timeouts; failures sorted into retryable (throttling, 5xx, network) and refusals.
 */
import { AWS_REQUEST_TIMEOUTS } from '../queue/sqs.ts';

/** A failed read: whether trying again may help, and the SDK's own words (no secret in them). */
export interface SecretReadFailure {
  retryable: boolean;
  reason: string;
  cause: unknown;
}

/** The secret's string value, or a {@link SecretReadFailure}. */
export async function readSecretString(
  secretId: string,
  region: string | undefined,
): Promise<{ value: string } | { failure: SecretReadFailure }> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import(
    '@aws-sdk/client-secrets-manager'
  );
  const client = new SecretsManagerClient({
    region,
    maxAttempts: 3,
    requestHandler: AWS_REQUEST_TIMEOUTS,
  });
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    return { value: out.SecretString ?? '' };
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    return {
      failure: {
        retryable: status === undefined || status === 429 || status >= 500,
        reason: `${e.name ?? 'Error'}: ${e.message ?? ''}`.slice(0, 300),
        cause: err,
      },
    };
  } finally {
    client.destroy();
  }
}
