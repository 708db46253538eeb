/**
 * Amazon Bedrock embeddings through `@aws-sdk/client-bedrock-runtime` (shipped by the Lambda
 * runtime): Titan Text Embeddings v2 (one text per request) and Cohere Embed (up to 96).
 */
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { classifyBedrockError, getBedrockClient } from '../aws/bedrock-client.ts';
import { ProviderError } from '../errors.ts';
import type { EmbeddingRequester } from './batched.ts';
import type { EmbeddingPurpose } from './types.ts';

/** A Bedrock embedding model (Titan v2 or Cohere) and where to call it. */
export interface BedrockEmbeddingOptions {
  model: string;
  dimension: number;
  region?: string;
  endpoint?: string;
  /** Injected in tests; otherwise created from region/endpoint. */
  client?: BedrockRuntimeClient;
}

/** Titan v2 accepts these output sizes. */
const TITAN_V2_DIMENSIONS = new Set([256, 512, 1024]);

export class BedrockEmbeddingRequester implements EmbeddingRequester {
  readonly name: string;
  readonly maxBatchSize: number;
  readonly #options: BedrockEmbeddingOptions;
  readonly #family: 'titan' | 'cohere';
  #client: Promise<BedrockRuntimeClient> | undefined;

  constructor(options: BedrockEmbeddingOptions) {
    this.#options = options;
    this.name = `bedrock (${options.model})`;
    if (/^([a-z]{2}\.)?amazon\.titan-embed/.test(options.model)) this.#family = 'titan';
    else if (/^([a-z]{2}\.)?cohere\.embed/.test(options.model)) this.#family = 'cohere';
    else {
      throw new ProviderError(
        this.name,
        'unsupported model: use amazon.titan-embed-text-v2:0 or a cohere.embed-* model.',
        {
          retryable: false,
        },
      );
    }
    if (
      this.#family === 'titan' &&
      /v2/.test(options.model) &&
      !TITAN_V2_DIMENSIONS.has(options.dimension)
    ) {
      throw new ProviderError(
        this.name,
        `Titan v2 produces 256, 512 or 1024 dimensions, not EMBEDDING_DIM=${options.dimension}.`,
        {
          retryable: false,
        },
      );
    }
    this.maxBatchSize = this.#family === 'titan' ? 1 : 96;
    if (options.client) this.#client = Promise.resolve(options.client);
  }

  async request(
    texts: readonly string[],
    purpose: EmbeddingPurpose,
    signal: AbortSignal,
  ): Promise<unknown[] | { vectors: unknown[]; tokens?: number }> {
    const { InvokeModelCommand } = await import('@aws-sdk/client-bedrock-runtime');
    const client = await this.#getClient();
    const body =
      this.#family === 'titan'
        ? { inputText: texts[0], dimensions: this.#options.dimension, normalize: true }
        : {
            texts,
            input_type: purpose === 'query' ? 'search_query' : 'search_document',
            truncate: 'END',
          };
    let payload: unknown;
    try {
      const response = await client.send(
        new InvokeModelCommand({
          modelId: this.#options.model,
          contentType: 'application/json',
          accept: 'application/json',
          body: JSON.stringify(body),
        }),
        { abortSignal: signal },
      );
      payload = JSON.parse(new TextDecoder().decode(response.body));
    } catch (err) {
      if (err instanceof SyntaxError) {
        throw new ProviderError(this.name, 'answered with a body that is not JSON.', {
          retryable: true,
        });
      }
      const { retryable, status, message } = classifyBedrockError(err);
      throw new ProviderError(this.name, message, { retryable, status, cause: err });
    }
    if (this.#family === 'titan') {
      const titan = payload as { embedding?: unknown; inputTextTokenCount?: number };
      return { vectors: [titan?.embedding], tokens: Number(titan?.inputTextTokenCount ?? 0) };
    }
    const embeddings = (payload as { embeddings?: unknown })?.embeddings;
    // Cohere answers `embeddings: [[...]]`, or `{ float: [[...]] }` when embedding types were asked.
    return (
      (Array.isArray(embeddings)
        ? embeddings
        : (embeddings as { float?: unknown[] } | undefined)?.float) ?? []
    );
  }

  #getClient(): Promise<BedrockRuntimeClient> {
    this.#client ??= getBedrockClient(this.#options.region, this.#options.endpoint);
    return this.#client;
  }
}
