/**
 * LightRAG's `chunking_by_token_size`: token windows of `CHUNK_SIZE` tokens overlapping by
 * `CHUNK_OVERLAP_SIZE` (tiktoken's `o200k_base` by default, lib/tokenizer.ts), optionally split on a
 * character first. Chunk ids are LightRAG's: `chunk-` + md5(chunk content).
 */
import type { ChunkingConfig } from '../config.ts';
import { ValidationError } from '../errors.ts';
import { computeMdhashId } from '../text.ts';
import { getTokenizer } from '../tokenizer.ts';

/** A chunk of a document, as LightRAG cuts and counts it. */
export interface Chunk {
  id: string;
  content: string;
  tokens: number;
  chunk_order_index: number;
}

/**
 * Splits `content` into chunks. Empty pieces (whitespace only) are dropped and the order index
 * stays contiguous.
 *
 * @example
 * ```ts
 * const chunks = await chunkDocument('long text…', { chunkTokenSize: 1200, overlapTokenSize: 100, splitByCharacterOnly: false, encoding: 'o200k_base' });
 * ```
 */
export async function chunkDocument(content: string, config: ChunkingConfig): Promise<Chunk[]> {
  const tokenizer = await getTokenizer(config.encoding);
  const { chunkTokenSize: size, overlapTokenSize: overlap } = config;
  const pieces: Array<{ tokens: number; content: string }> = [];
  const windows = (tokens: number[]) => {
    // Exactly LightRAG's loop (including its short tail window), so both produce the same chunks.
    for (let start = 0; start < tokens.length; start += size - overlap) {
      pieces.push({
        tokens: Math.min(size, tokens.length - start),
        content: tokenizer.decode(tokens.slice(start, start + size)),
      });
    }
  };
  if (config.splitByCharacter) {
    for (const part of content.split(config.splitByCharacter)) {
      const tokens = tokenizer.encode(part);
      if (tokens.length <= size) pieces.push({ tokens: tokens.length, content: part });
      else if (config.splitByCharacterOnly) {
        throw new ValidationError(
          `A piece split on the chunk separator has ${tokens.length} tokens, over CHUNK_SIZE=${size}; ` +
            'raise CHUNK_SIZE or unset CHUNK_SPLIT_BY_CHARACTER_ONLY.',
          { tokens: tokens.length, limit: size },
        );
      } else windows(tokens);
    }
  } else {
    windows(tokenizer.encode(content));
  }
  return pieces
    .map((p) => ({ ...p, content: p.content.trim() }))
    .filter((p) => p.content.length > 0)
    .map((p, index) => ({
      id: computeMdhashId(p.content, 'chunk-'),
      content: p.content,
      tokens: p.tokens,
      chunk_order_index: index,
    }));
}
