/**
 * The embedder for a configuration (`EMBEDDING_PROVIDER`): `openai`, `bedrock` or `hash`.
 */
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { BatchedEmbedder } from './batched.ts';
import { BedrockEmbeddingRequester } from './bedrock.ts';
import { HashEmbedder } from './hash.ts';
import { OpenAiEmbeddingRequester } from './openai.ts';
import type { Embedder } from './types.ts';

/**
 * @example
 * ```ts
 * const embedder = createEmbedder(getConfig(), logger);
 * const [vector] = await embedder.embed(['hello']);
 * ```
 */
export function createEmbedder(
  config: Pick<Config, 'embedding' | 'vector'>,
  logger?: Logger,
): Embedder {
  const { embedding, vector } = config;
  switch (embedding.provider) {
    case 'hash':
      return new HashEmbedder(vector.dimension);
    case 'openai':
      return new BatchedEmbedder(
        new OpenAiEmbeddingRequester({
          baseUrl: embedding.baseUrl,
          model: vector.model ?? '',
          apiKey: embedding.apiKey,
          apiVersion: embedding.apiVersion,
          dimensions: embedding.sendDimensions ? vector.dimension : undefined,
        }),
        vector.dimension,
        embedding,
        logger,
      );
    case 'bedrock':
      return new BatchedEmbedder(
        new BedrockEmbeddingRequester({
          model: vector.model ?? '',
          dimension: vector.dimension,
          region: embedding.bedrockRegion,
          endpoint: embedding.bedrockEndpoint,
        }),
        vector.dimension,
        embedding,
        logger,
      );
  }
}

export type { Embedder } from './types.ts';
