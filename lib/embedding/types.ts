/** Turns texts into vectors. Every provider implements this; storages call only this. */
export interface Embedder {
  /** Provider and model, for logs and the health check. */
  readonly name: string;
  readonly dimension: number;
  /** One vector per text, in order. */
  embed(texts: readonly string[]): Promise<number[][]>;
}
