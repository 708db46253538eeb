/**
 * Turns a provider's single request into LightRAG-style batched embedding: texts split into
 * batches of `EMBEDDING_BATCH_SIZE`, at most `EMBEDDING_CONCURRENCY` requests in flight, each
 * retried with backoff on 429/5xx/timeouts (honouring `Retry-After`), every response checked.
 */

import { mapWithConcurrency } from '../concurrency.ts';
import type { EmbeddingConfig } from '../config.ts';
import { ProviderError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { metricCount, metricDuration } from '../ops/metrics.ts';
import { recordUsage } from '../ops/usage.ts';
import { callProvider, providerRetry } from '../provider-http.ts';
import { withRetry } from '../retry.ts';
import type { Embedder, EmbeddingPurpose } from './types.ts';

/** One provider request: a batch of texts in, one vector per text out. */
export interface EmbeddingRequester {
  readonly name: string;
  /** The provider's own per-request limit (Titan: 1, Cohere: 96). */
  readonly maxBatchSize: number;
  /** The vectors, in order; with the tokens the provider billed when it says (`tokens`). */
  request(
    texts: readonly string[],
    purpose: EmbeddingPurpose,
    signal: AbortSignal,
  ): Promise<unknown[] | { vectors: unknown[]; tokens?: number }>;
}

export class BatchedEmbedder implements Embedder {
  readonly name: string;
  readonly dimension: number;
  readonly #requester: EmbeddingRequester;
  readonly #config: Pick<EmbeddingConfig, 'batchSize' | 'concurrency' | 'maxRetries' | 'timeoutMs'>;
  readonly #log: Logger | undefined;
  /** Requests sent, including retries: for measurements and tests. */
  requests = 0;

  constructor(
    requester: EmbeddingRequester,
    dimension: number,
    config: Pick<EmbeddingConfig, 'batchSize' | 'concurrency' | 'maxRetries' | 'timeoutMs'>,
    logger?: Logger,
  ) {
    this.#requester = requester;
    this.name = requester.name;
    this.dimension = dimension;
    this.#config = config;
    this.#log = logger;
  }

  async embed(
    texts: readonly string[],
    options: { purpose?: EmbeddingPurpose } = {},
  ): Promise<number[][]> {
    const size = Math.min(this.#config.batchSize, this.#requester.maxBatchSize);
    const batches: string[][] = [];
    for (let i = 0; i < texts.length; i += size) batches.push(texts.slice(i, i + size));
    const results = await mapWithConcurrency(batches, this.#config.concurrency, (batch) =>
      withRetry(
        () => this.#requestOnce(batch, options.purpose ?? 'document'),
        providerRetry(this.#config.maxRetries, (err, attempt, delayMs) =>
          this.#log?.warn('embedding request failed; retrying', {
            provider: this.name,
            attempt,
            delayMs: Math.round(delayMs),
            error: err instanceof Error ? err.message : String(err),
          }),
        ),
      ),
    );
    return results.flat();
  }

  async #requestOnce(batch: readonly string[], purpose: EmbeddingPurpose): Promise<number[][]> {
    this.requests += 1;
    const started = performance.now();
    const answer = await callProvider(this.name, this.#config.timeoutMs, (signal) =>
      this.#requester.request(batch, purpose, signal),
    );
    const vectors = Array.isArray(answer) ? answer : answer.vectors;
    const checked = checkVectors(this.name, vectors, batch.length, this.dimension);
    const tokens = Array.isArray(answer) ? 0 : (answer.tokens ?? 0);
    recordUsage({ purpose: 'embedding', model: this.name, promptTokens: tokens });
    metricDuration('EmbeddingLatency', performance.now() - started);
    metricCount('EmbeddingTokens', tokens);
    return checked;
  }
}

/** Checks a provider's answer: one finite vector of the configured dimension per text. */
export function checkVectors(
  provider: string,
  vectors: unknown,
  expected: number,
  dimension: number,
): number[][] {
  if (!Array.isArray(vectors) || vectors.length !== expected) {
    throw new ProviderError(
      provider,
      `returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${expected} texts (malformed response).`,
      { retryable: true },
    );
  }
  for (const vector of vectors) {
    if (
      !Array.isArray(vector) ||
      !vector.every((v) => typeof v === 'number' && Number.isFinite(v))
    ) {
      throw new ProviderError(
        provider,
        'returned a vector that is not an array of finite numbers (malformed response).',
        {
          retryable: true,
        },
      );
    }
    if (vector.length !== dimension) {
      throw new ProviderError(
        provider,
        `returned ${vector.length}-dimension vectors but EMBEDDING_DIM is ${dimension}; set EMBEDDING_DIM=${vector.length} ` +
          '(with EMBEDDING_MODEL for separate tables) or ask the model for the configured size (EMBEDDING_SEND_DIMENSIONS).',
        { retryable: false },
      );
    }
  }
  return vectors as number[][];
}
