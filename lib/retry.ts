/**
 * Retry with exponential backoff and full jitter, honouring a server's `Retry-After`.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** The retry policy: how many times, how long to wait, and which errors pass. */
export interface RetryOptions {
  /** Retries after the first attempt. */
  maxRetries: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Whether this failure may succeed on another attempt. */
  isRetryable: (err: unknown) => boolean;
  /** A delay the server asked for, which replaces the computed one (capped at maxDelayMs). */
  retryAfterMs?: (err: unknown) => number | undefined;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Injected in tests. */
  random?: () => number;
}

/**
 * Runs `fn` until it succeeds, a failure is not retryable, or retries run out (the last error
 * is thrown).
 *
 * @example
 * ```ts
 * await withRetry(() => callProvider(), { maxRetries: 4, isRetryable: (e) => e instanceof ProviderError && e.retryable });
 * ```
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const base = options.baseDelayMs ?? 250;
  const max = options.maxDelayMs ?? 20_000;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= options.maxRetries || !options.isRetryable(err)) throw err;
      const asked = options.retryAfterMs?.(err);
      const delay = Math.min(max, asked ?? random() * base * 2 ** attempt);
      options.onRetry?.(err, attempt + 1, delay);
      await sleep(delay);
    }
  }
}

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(
  header: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
