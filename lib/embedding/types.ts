/** What a text is embedded for; some models (Cohere) embed queries and documents differently. */
export type EmbeddingPurpose = 'document' | 'query';

/** Turns texts into vectors. Every provider implements this; storages call only this. */
export interface Embedder {
  /** Provider and model, for logs and the health check. */
  readonly name: string;
  readonly dimension: number;
  /** One vector per text, in order. */
  embed(texts: readonly string[], options?: { purpose?: EmbeddingPurpose }): Promise<number[][]>;
}

/**
 * An embedder, or a factory that makes one on first use (memoised by the caller): storages of a
 * function that never embeds (parse) never make it.
 */
export type EmbedderSource = Embedder | (() => Embedder);
