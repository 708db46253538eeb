/**
 * LightRAG's `chunking_by_token_size`: token windows of `CHUNK_SIZE` tokens overlapping by
 * `CHUNK_OVERLAP_SIZE` (tiktoken, `o200k_base` by default, via js-tiktoken), optionally split on a
 * character first. Chunk ids are LightRAG's: `chunk-` + md5(chunk content).
 */
import type { Tiktoken, TiktokenBPE } from 'js-tiktoken/lite';
import type { ChunkingConfig, TokenEncoding } from '../config.ts';
import { ValidationError } from '../errors.ts';
import { computeMdhashId } from '../text.ts';

export interface Chunk {
  id: string;
  content: string;
  tokens: number;
  chunk_order_index: number;
}

const encoders = new Map<TokenEncoding, Promise<Tiktoken>>();

/**
 * Where the rank tables are found. They are megabytes, so Lambda bundles leave them out and the
 * ingest function gets them from a layer (`/opt/nodejs/node_modules`, which ES modules do not
 * search on their own); everywhere else they come from the project's node_modules.
 */
const RANK_LOCATIONS = ['js-tiktoken/ranks/', '/opt/nodejs/node_modules/js-tiktoken/dist/ranks/'];

async function loadRanks(encoding: TokenEncoding): Promise<TiktokenBPE> {
  let lastError: unknown;
  for (const location of RANK_LOCATIONS) {
    const specifier = location.startsWith('/')
      ? `${location}${encoding}.js`
      : `${location}${encoding}`;
    try {
      return ((await import(specifier)) as { default: TiktokenBPE }).default;
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(
    `The ${encoding} token ranks were not found (js-tiktoken in node_modules, or the tiktoken layer in Lambda).`,
    { cause: lastError },
  );
}

/** The tokenizer, loaded once per container (the rank table is large; load it only when used). */
export function getTokenizer(encoding: TokenEncoding): Promise<Tiktoken> {
  let encoder = encoders.get(encoding);
  if (!encoder) {
    encoder = (async () => {
      const [{ Tiktoken }, ranks] = await Promise.all([
        import('js-tiktoken/lite'),
        loadRanks(encoding),
      ]);
      return new Tiktoken(ranks);
    })();
    encoder.catch(() => encoders.delete(encoding));
    encoders.set(encoding, encoder);
  }
  return encoder;
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
