/**
 * One JSON POST to an AI provider, with the error policy every provider shares: 408/409/425/429
 * and 5xx are retryable (with the server's Retry-After), other statuses are refusals, and a body
 * that is not JSON is a retryable malformed answer. Messages never include the request.
 */
import { ProviderError } from './errors.ts';
import { parseRetryAfter, type RetryOptions } from './retry.ts';

/** HTTP statuses worth retrying: throttling, timeouts and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** One JSON POST to a model provider. */
export interface JsonPost {
  provider: string;
  url: URL;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal;
  fetch?: typeof fetch;
}

/** POSTs `body` as JSON and returns the parsed answer, or throws a {@link ProviderError}. */
export async function postJson(request: JsonPost): Promise<unknown> {
  const response = await checkedResponse(
    request.provider,
    await (request.fetch ?? fetch)(request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...request.headers },
      body: JSON.stringify(request.body),
      signal: request.signal,
      // A redirect would carry the key (Azure's api-key header) to wherever it points: never follow.
      redirect: 'manual',
    }),
  );
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError(
      request.provider,
      `answered HTTP ${response.status} with a body that is not JSON.`,
      {
        retryable: true,
        status: response.status,
      },
    );
  }
}

/**
 * The response when it is a success; a redirect (never followed) or an error status becomes a
 * {@link ProviderError} with the retry classification and the server's Retry-After.
 */
export async function checkedResponse(provider: string, response: Response): Promise<Response> {
  if (response.status >= 300 && response.status < 400) {
    throw new ProviderError(
      provider,
      `answered HTTP ${response.status} (a redirect), which is not followed so the API key stays with this endpoint; set the base URL to the final address.`,
      { retryable: false, status: response.status },
    );
  }
  if (!response.ok) {
    const text = await response.text();
    throw new ProviderError(provider, `HTTP ${response.status}: ${summarise(text)}`, {
      retryable: isRetryableStatus(response.status),
      status: response.status,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
    });
  }
  return response;
}

/** OpenAI-style auth: Bearer key, or Azure's `api-key` header with `api-version`. */
export function openAiAuth(url: URL, apiKey?: string, apiVersion?: string): Record<string, string> {
  if (apiVersion) url.searchParams.set('api-version', apiVersion);
  if (!apiKey) return {};
  return apiVersion ? { 'api-key': apiKey } : { authorization: `Bearer ${apiKey}` };
}

/** The provider's error text, shortened. */
export function summarise(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    const message =
      typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (message) return String(message).slice(0, 300);
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return body.slice(0, 300) || '(empty body)';
}

/**
 * Runs one provider request under a timeout; any failure that is not already a
 * {@link ProviderError} (a network error, the timeout) becomes a retryable one.
 */
export async function callProvider<T>(
  provider: string,
  timeoutMs: number,
  request: (signal: AbortSignal) => Promise<T>,
  callerSignal?: AbortSignal,
): Promise<T> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = callerSignal ? AbortSignal.any([timeout, callerSignal]) : timeout;
  try {
    return await request(signal);
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    // The caller gave up (a deadline, a client gone): not the provider's failure, not retried.
    if (callerSignal?.aborted) throw callerSignal.reason ?? err;
    const timedOut = timeout.aborted || (err as Error)?.name === 'TimeoutError';
    throw new ProviderError(
      provider,
      timedOut
        ? `no answer within ${timeoutMs} ms`
        : `request failed: ${(err as Error)?.message ?? err}`,
      { retryable: true, cause: err },
    );
  }
}

/** The retry policy every provider shares: retryable ProviderErrors, their Retry-After honoured. */
export function providerRetry(
  maxRetries: number,
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void,
): RetryOptions {
  return {
    maxRetries,
    isRetryable: (err) => err instanceof ProviderError && err.retryable,
    retryAfterMs: (err) => (err instanceof ProviderError ? err.retryAfterMs : undefined),
    onRetry,
  };
}
