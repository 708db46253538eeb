/**
 * Any OpenAI-compatible `/v1/embeddings` endpoint: OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio.
 */
import { ProviderError } from '../errors.ts';
import { parseRetryAfter } from '../retry.ts';
import type { EmbeddingRequester } from './batched.ts';

export interface OpenAiEmbeddingOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Azure OpenAI: `api-version` query parameter, key sent as `api-key`. */
  apiVersion?: string;
  /** Sent as `dimensions` when set (text-embedding-3 models shorten their vectors). */
  dimensions?: number;
  fetch?: typeof fetch;
}

/** HTTP statuses worth retrying: throttling, timeouts and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

export class OpenAiEmbeddingRequester implements EmbeddingRequester {
  readonly name: string;
  readonly maxBatchSize = 2048;
  readonly #options: OpenAiEmbeddingOptions;

  constructor(options: OpenAiEmbeddingOptions) {
    this.#options = options;
    this.name = `openai-compatible (${options.model})`;
  }

  async request(
    texts: readonly string[],
    _purpose: unknown,
    signal: AbortSignal,
  ): Promise<unknown[]> {
    const { baseUrl, model, apiKey, apiVersion, dimensions } = this.#options;
    const url = new URL(`${baseUrl}/embeddings`);
    if (apiVersion) url.searchParams.set('api-version', apiVersion);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (apiKey) {
      if (apiVersion) headers['api-key'] = apiKey;
      else headers.authorization = `Bearer ${apiKey}`;
    }
    const body = JSON.stringify({
      model,
      input: texts,
      encoding_format: 'float',
      ...(dimensions ? { dimensions } : {}),
    });
    const response = await (this.#options.fetch ?? fetch)(url, {
      method: 'POST',
      headers,
      body,
      signal,
    });
    const text = await response.text();
    if (!response.ok) {
      throw new ProviderError(this.name, `HTTP ${response.status}: ${summarise(text)}`, {
        retryable: isRetryableStatus(response.status),
        status: response.status,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    let parsed: { data?: Array<{ embedding?: unknown; index?: number }> };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ProviderError(
        this.name,
        `answered HTTP ${response.status} with a body that is not JSON.`,
        {
          retryable: true,
          status: response.status,
        },
      );
    }
    if (!Array.isArray(parsed?.data)) {
      throw new ProviderError(this.name, 'answered without a data array (malformed response).', {
        retryable: true,
      });
    }
    // The API may return items out of order; `index` says where each belongs.
    return [...parsed.data]
      .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      .map((item) => item.embedding);
  }
}

/** The provider's error text, shortened; never includes our request (which may hold secrets). */
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
