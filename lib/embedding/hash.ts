/**
 * A deterministic, local embedder for development and tests. It is LEXICAL, not semantic:
 * texts sharing words (and character trigrams) land close together; synonyms do not. It needs
 * no network and no model, so the whole pipeline runs on a laptop or in CI.
 */
import type { Embedder } from './types.ts';

const WORD = /[\p{L}\p{N}]+/gu;

/** FNV-1a, 32-bit: fast and stable across platforms. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Feature hashing of words (weight 1) and character trigrams (weight 0.5) into `dimension`
 * signed buckets, L2-normalised so cosine similarity is meaningful.
 *
 * @example
 * ```ts
 * const embedder = new HashEmbedder(1024);
 * const [v] = await embedder.embed(['hello world']); // v.length === 1024
 * ```
 */
export class HashEmbedder implements Embedder {
  readonly name = 'hash (lexical)';
  readonly dimension: number;

  constructor(dimension: number) {
    if (!Number.isInteger(dimension) || dimension < 1)
      throw new RangeError('dimension must be a positive integer');
    this.dimension = dimension;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    return texts.map((text) => this.embedOne(text));
  }

  embedOne(text: string): number[] {
    const vector = new Array<number>(this.dimension).fill(0);
    const add = (feature: string, weight: number) => {
      const h = fnv1a(feature);
      vector[h % this.dimension]! += h & 0x80000000 ? -weight : weight;
    };
    for (const [word] of text.toLowerCase().matchAll(WORD)) {
      add(`w:${word}`, 1);
      const padded = ` ${word} `;
      for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, 0.5);
    }
    let squares = 0;
    for (const v of vector) squares += v * v;
    const norm = Math.sqrt(squares);
    // An empty or symbol-only text still needs a valid (non-zero) vector for cosine distance.
    if (norm === 0) {
      vector[0] = 1;
      return vector;
    }
    return vector.map((v) => v / norm);
  }
}
