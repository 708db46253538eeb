/**
 * The token counter shared by ingestion (chunking, gleaning budget), queries (context budgets)
 * and deletion (summary lengths): OpenAI's byte-pair encodings `o200k_base` and `cl100k_base`,
 * producing exactly the tokens js-tiktoken (and Python's tiktoken) produce for ordinary text.
 *
 * Why not js-tiktoken's `Tiktoken` class: it turns the 200,000 ranks into a `Map` keyed by
 * comma-joined byte strings, which costs ~1.2 s and ~150 MB on every cold start (measured;
 * gpt-tokenizer: ~0.3 s and ~70 MB). Here the same rank data (js-tiktoken's rank modules) is
 * unpacked into one byte array, an offset array and an open-addressing hash table: tens of
 * milliseconds and a few megabytes, so the query path can afford it (README "Decisions"; docs/architecture.md "Tokenizer").
 * Merging uses a heap, so a pathological piece (a megabyte without a word break) costs
 * n log n instead of js-tiktoken's n².
 *
 * Special-token text (`<|endoftext|>`) is encoded as ordinary text, where js-tiktoken's
 * `encode` throws: a document may quote it.
 */
import type { TokenEncoding } from './config.ts';
import { ConfigError } from './errors.ts';

/** Encodes and decodes one encoding; loaded once per container by {@link getTokenizer}. */
export interface Tokenizer {
  readonly encoding: TokenEncoding;
  /** Token ids of `text` (special-token text counts as ordinary text). */
  encode(text: string): number[];
  /** Text of `tokens`; a window cut inside a UTF-8 sequence decodes to U+FFFD there. */
  decode(tokens: readonly number[]): string;
  /** `encode(text).length`. */
  count(text: string): number;
}

/** js-tiktoken's rank module shape: `bpe_ranks` lines are `! <first rank> <base64 token>…`. */
interface RankModule {
  pat_str: string;
  special_tokens: Record<string, number>;
  bpe_ranks: string;
}

/**
 * Where the rank modules are found. They are megabytes, so Lambda bundles leave them out and
 * the functions that count tokens get them from the tokenizer layer at
 * `/opt/nodejs/node_modules` (which ES modules do not search on their own); everywhere else
 * they come from the project's node_modules.
 */
const RANK_LOCATIONS = [
  (e: TokenEncoding) => `js-tiktoken/ranks/${e}`,
  (e: TokenEncoding) => `/opt/nodejs/node_modules/js-tiktoken/dist/ranks/${e}.js`,
];

const loaded = new Map<TokenEncoding, Promise<Tokenizer>>();

/**
 * The tokenizer for `encoding`, loaded on first use and shared by the container.
 *
 * @example
 * ```ts
 * const tokenizer = await getTokenizer('o200k_base');
 * tokenizer.count('Hello world'); // 2
 * ```
 */
export function getTokenizer(encoding: TokenEncoding): Promise<Tokenizer> {
  let pending = loaded.get(encoding);
  if (!pending) {
    pending = loadRanks(encoding).then((ranks) => new BytePairTokenizer(encoding, ranks));
    pending.catch(() => loaded.delete(encoding));
    loaded.set(encoding, pending);
  }
  return pending;
}

async function loadRanks(encoding: TokenEncoding): Promise<RankModule> {
  const tried: string[] = [];
  let lastError: unknown;
  for (const location of RANK_LOCATIONS) {
    const specifier = location(encoding);
    tried.push(specifier);
    try {
      return ((await import(specifier)) as { default: RankModule }).default;
    } catch (err) {
      lastError = err;
    }
  }
  const error = new ConfigError([
    {
      variable: 'TIKTOKEN_ENCODING',
      problem:
        `the ${encoding} token ranks were not found (tried ${tried.join(', ')}). Locally, run npm ci; ` +
        'in Lambda, attach the tokenizer layer (infra/layers, npm run deploy:layers) to this function.',
    },
  ]);
  error.cause = lastError;
  throw error;
}

const BASE64 = new Int8Array(128).fill(-1);
for (const [i, c] of [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/',
].entries())
  BASE64[c.charCodeAt(0)] = i;

/** FNV-1a over `bytes[start, end)`. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

class BytePairTokenizer implements Tokenizer {
  readonly encoding: TokenEncoding;
  readonly #pattern: RegExp;
  /** Every token's bytes, back to back; token `slot` spans `offsets[slot]..offsets[slot + 1]`. */
  #bytes: Uint8Array;
  readonly #offsets: Uint32Array;
  readonly #slotRank: Int32Array;
  readonly #rankSlot: Int32Array;
  /** Open addressing: slot + 1, or 0 for empty. */
  readonly #table: Int32Array;
  readonly #mask: number;
  readonly #special = new Map<number, Uint8Array>();
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder('utf-8');

  constructor(encoding: TokenEncoding, ranks: RankModule) {
    this.encoding = encoding;
    this.#pattern = new RegExp(ranks.pat_str, 'gu');
    const table = unpackRanks(ranks.bpe_ranks);
    this.#bytes = table.bytes;
    this.#offsets = table.offsets;
    this.#slotRank = table.slotRank;
    this.#rankSlot = table.rankSlot;
    this.#table = table.table;
    this.#mask = table.table.length - 1;
    for (const [text, rank] of Object.entries(ranks.special_tokens))
      this.#special.set(rank, this.#encoder.encode(text));
  }

  encode(text: string): number[] {
    const out: number[] = [];
    let scratch = new Uint8Array(256);
    for (const match of text.matchAll(this.#pattern)) {
      const piece = match[0];
      // UTF-8 takes at most 3 bytes per UTF-16 unit.
      if (piece.length * 3 > scratch.length) scratch = new Uint8Array(piece.length * 3);
      const { written } = this.#encoder.encodeInto(piece, scratch);
      const whole = this.#rank(scratch, 0, written);
      if (whole >= 0) out.push(whole);
      else this.#merge(scratch, written, out);
    }
    return out;
  }

  count(text: string): number {
    return this.encode(text).length;
  }

  decode(tokens: readonly number[]): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const token of tokens) {
      const slot = token >= 0 && token < this.#rankSlot.length ? this.#rankSlot[token]! : -1;
      const bytes =
        slot >= 0
          ? this.#bytes.subarray(this.#offsets[slot]!, this.#offsets[slot + 1]!)
          : this.#special.get(token);
      if (bytes) {
        parts.push(bytes);
        length += bytes.length;
      }
    }
    const joined = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    return this.#decoder.decode(joined);
  }

  /** The rank of the token spelled by `bytes[start, end)`, or -1. */
  #rank(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    let i = hashBytes(bytes, start, end) & this.#mask;
    for (let entry = this.#table[i]!; entry !== 0; entry = this.#table[i]!) {
      const slot = entry - 1;
      const from = this.#offsets[slot]!;
      if (this.#offsets[slot + 1]! - from === length) {
        let same = true;
        for (let k = 0; k < length; k++) {
          if (this.#bytes[from + k] !== bytes[start + k]) {
            same = false;
            break;
          }
        }
        if (same) return this.#slotRank[slot]!;
      }
      i = (i + 1) & this.#mask;
    }
    return -1;
  }

  /**
   * Byte-pair merging of one piece: repeatedly merge the adjacent pair whose union has the lowest
   * rank (the leftmost on ties) — tiktoken's rule — with a heap of candidate pairs so a long piece
   * costs n log n. Parts are kept as a linked list indexed by their first byte.
   */
  #merge(bytes: Uint8Array, length: number, out: number[]): void {
    // Heap keys pack (rank, start) into one double: rank * 2^26 + start.
    if (length >= 2 ** 26) throw new RangeError(`A ${length}-byte piece is too long to tokenize.`);
    const next = new Int32Array(length); // first byte of the following part, or length
    const prev = new Int32Array(length); // first byte of the preceding part, or -1
    const pairRank = new Int32Array(length).fill(-1); // rank of (part, following part) or -1
    for (let i = 0; i < length; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap();
    const consider = (start: number) => {
      const end = start >= 0 && start < length && next[start]! < length ? next[next[start]!]! : -1;
      const rank = end >= 0 ? this.#rank(bytes, start, end) : -1;
      if (start >= 0 && start < length) pairRank[start] = rank;
      if (rank >= 0) heap.push(rank * 2 ** 26 + start);
    };
    for (let i = 0; i < length - 1; i++) consider(i);
    for (let key = heap.pop(); key !== undefined; key = heap.pop()) {
      const start = key % 2 ** 26;
      const rank = (key - start) / 2 ** 26;
      if (pairRank[start] !== rank) continue; // stale: this part changed since
      const absorbed = next[start]!;
      next[start] = next[absorbed]!;
      if (next[start]! < length) prev[next[start]!] = start;
      pairRank[absorbed] = -1;
      consider(start);
      if (prev[start]! >= 0) consider(prev[start]!);
    }
    for (let start = 0; start < length; start = next[start]!) {
      const rank = this.#rank(bytes, start, next[start]!);
      if (rank >= 0) out.push(rank);
    }
  }
}

interface RankTable {
  bytes: Uint8Array;
  offsets: Uint32Array;
  slotRank: Int32Array;
  rankSlot: Int32Array;
  table: Int32Array;
}

/**
 * Unpacks js-tiktoken's `bpe_ranks` text (lines of `! <first rank> <base64 token> …`) into typed
 * arrays, in place (no substring per token, locals only): this runs on every cold start.
 */
function unpackRanks(data: string): RankTable {
  let count = 0;
  for (let i = data.indexOf(' '); i >= 0; i = data.indexOf(' ', i + 1)) count++;
  let bytes = new Uint8Array(data.length);
  const offsets = new Uint32Array(count + 1);
  const slotRank = new Int32Array(count);
  let slot = 0;
  let at = 0;
  let maxRank = 0;
  for (let lineStart = 0; lineStart < data.length; ) {
    let lineEnd = data.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = data.length;
    const rankStart = data.indexOf(' ', lineStart) + 1;
    let tokenStart = data.indexOf(' ', rankStart) + 1;
    if (rankStart > 0 && tokenStart > 0 && tokenStart <= lineEnd) {
      let rank = Number.parseInt(data.slice(rankStart, tokenStart - 1), 10);
      while (tokenStart < lineEnd) {
        let tokenEnd = data.indexOf(' ', tokenStart);
        if (tokenEnd < 0 || tokenEnd > lineEnd) tokenEnd = lineEnd;
        offsets[slot] = at;
        // Base64, stopping at '=' padding.
        let bits = 0;
        let value = 0;
        for (let i = tokenStart; i < tokenEnd; i++) {
          const digit = BASE64[data.charCodeAt(i)] ?? -1;
          if (digit < 0) break;
          value = ((value << 6) | digit) & 0xffff;
          bits += 6;
          if (bits >= 8) {
            bits -= 8;
            bytes[at++] = (value >> bits) & 0xff;
          }
        }
        slotRank[slot++] = rank;
        if (rank > maxRank) maxRank = rank;
        rank++;
        tokenStart = tokenEnd + 1;
      }
    }
    lineStart = lineEnd + 1;
  }
  count = slot;
  offsets[count] = at;
  bytes = bytes.slice(0, at);
  const rankSlot = new Int32Array(maxRank + 1).fill(-1);
  for (let s = 0; s < count; s++) rankSlot[slotRank[s]!] = s;
  let size = 1;
  while (size < count * 2.5) size *= 2;
  const table = new Int32Array(size);
  const mask = size - 1;
  for (let s = 0; s < count; s++) {
    let i = hashBytes(bytes, offsets[s]!, offsets[s + 1]!) & mask;
    while (table[i] !== 0) i = (i + 1) & mask;
    table[i] = s + 1;
  }
  return { bytes, offsets, slotRank: slotRank.subarray(0, count), rankSlot, table };
}

/** A binary min-heap of non-negative numbers. */
class MinHeap {
  readonly #items: number[] = [];

  push(value: number): void {
    const items = this.#items;
    let i = items.push(value) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
