/**
 * Any OpenAI-compatible `/v1/embeddings` endpoint: OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio.
 */
import { ProviderError } from '../errors.ts';
import { openAiAuth, postJson } from '../provider-http.ts';
import type { EmbeddingRequester } from './batched.ts';

/** An OpenAI-compatible `/embeddings` endpoint and model. */
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
  ): Promise<unknown[] | { vectors: unknown[]; tokens?: number }> {
    const { baseUrl, model, apiKey, apiVersion, dimensions } = this.#options;
    const url = new URL(`${baseUrl}/embeddings`);
    const parsed = (await postJson({
      provider: this.name,
      url,
      headers: openAiAuth(url, apiKey, apiVersion),
      body: {
        model,
        input: texts,
        encoding_format: 'float',
        ...(dimensions ? { dimensions } : {}),
      },
      signal,
      fetch: this.#options.fetch,
    })) as {
      data?: Array<{ embedding?: unknown; index?: number }>;
      usage?: { prompt_tokens?: number };
    };
    if (!Array.isArray(parsed?.data)) {
      throw new ProviderError(this.name, 'answered without a data array (malformed response).', {
        retryable: true,
      });
    }
    // The API may return items out of order; `index` says where each belongs.
    const vectors = [...parsed.data]
      .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
      .map((item) => item.embedding);
    return { vectors, tokens: Number(parsed.usage?.prompt_tokens ?? 0) };
  }
}
