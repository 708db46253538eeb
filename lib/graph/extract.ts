/**
 * Entity and relation extraction, a stage of the ingest pipeline after chunking: one LLM call
 * per chunk, then at most one gleaning pass replaying the exchange. Replies are cached in
 * LIGHTRAG_LLM_CACHE (cache_type `extract`, with the chunk id), and the keys are listed on the
 * chunk's `llm_cache_list`, which is what lets a deletion rebuild the graph without new LLM calls.
 */
import type { ChunkingConfig, GraphConfig } from '../config.ts';
import type { ChatMessage, Llm } from '../llm/types.ts';
import type { Logger } from '../logger.ts';
import type { LlmCacheStorage } from '../storage/kv.ts';
import { getTokenizer } from '../tokenizer.ts';
import { completeWithCache } from './cached-llm.ts';
import { COMPLETION_DELIMITER, extractionMessages, gleaningPrompt } from './prompts.ts';
import { type Extraction, mergeGleaning, parseJsonExtraction, parseRecords } from './records.ts';

/** A chunk to extract entities and relations from. */
export interface ChunkInput {
  id: string;
  content: string;
  file_path?: string | null;
}

/** What one chunk's extraction found, with the cache rows of its replies. */
export interface ChunkExtraction extends Extraction {
  chunkId: string;
  filePath: string | null;
  /** Cache ids of the replies, first pass then gleaning (the chunk's `llm_cache_list`). */
  cacheKeys: string[];
}

/** Parses a reply in either format: JSON mode first when asked, records otherwise. */
export function parseReply(reply: string, json: boolean): Extraction {
  if (json || reply.trimStart().startsWith('{')) {
    const parsed = parseJsonExtraction(reply);
    if (parsed) return parsed;
  }
  return parseRecords(reply);
}

/** A reply is complete when its marker arrived (records) or it parses (JSON). */
function isComplete(reply: string, json: boolean): boolean {
  return json ? parseJsonExtraction(reply) !== undefined : reply.includes(COMPLETION_DELIMITER);
}

/** Rebuilds a chunk's extraction from its cached replies (first pass, then gleaning). */
export function extractionFromCache(replies: readonly string[], json: boolean): Extraction {
  let result: Extraction = { entities: [], relations: [] };
  for (const [i, reply] of replies.entries()) {
    const parsed = parseReply(reply, json);
    result = i === 0 ? parsed : mergeGleaning(result, parsed);
  }
  return result;
}

export class GraphExtractor {
  readonly #llm: Llm;
  readonly #config: GraphConfig;
  readonly #chunking: ChunkingConfig;
  readonly #log: Logger | undefined;

  constructor(llm: Llm, config: GraphConfig, chunking: ChunkingConfig, logger?: Logger) {
    this.#llm = llm;
    this.#config = config;
    this.#chunking = chunking;
    this.#log = logger;
  }

  /**
   * Extracts one chunk.
   *
   * @example
   * ```ts
   * const result = await extractor.extract(storages.llmCache, { id: 'chunk-…', content: 'Ada met Babbage.' });
   * result.entities; // [{ name: 'Ada', type: 'person', description: '…' }, …]
   * ```
   */
  async extract(cache: LlmCacheStorage, chunk: ChunkInput): Promise<ChunkExtraction> {
    const json = this.#config.useJson;
    const settings = { entityTypes: this.#config.entityTypes, language: this.#config.language };
    const messages = extractionMessages(chunk.content, settings, { json });
    const call = (msgs: readonly ChatMessage[]) =>
      completeWithCache(
        this.#llm,
        cache,
        {
          cacheType: 'extract',
          messages: msgs,
          options: { json },
          chunkId: chunk.id,
          cacheable: (reply) => isComplete(reply, json),
        },
        this.#log,
      );
    const first = await call(messages);
    const replies = [first];
    if (this.#config.maxGleaning > 0 && (await this.#roomToGlean(messages, first.reply))) {
      const history: ChatMessage[] = [
        ...messages,
        { role: 'assistant', content: first.reply },
        { role: 'user', content: gleaningPrompt(json) },
      ];
      replies.push(await call(history));
    }
    const result = extractionFromCache(
      replies.map((r) => r.reply),
      json,
    );
    return {
      ...result,
      chunkId: chunk.id,
      filePath: chunk.file_path ?? null,
      cacheKeys: replies.map((r) => r.key),
    };
  }

  /** LightRAG skips gleaning when the exchange so far exceeds MAX_EXTRACT_INPUT_TOKENS. */
  async #roomToGlean(messages: readonly ChatMessage[], reply: string): Promise<boolean> {
    const tokenizer = await getTokenizer(this.#chunking.encoding);
    const text = messages.map((m) => m.content).join('\n') + reply;
    return tokenizer.encode(text).length <= this.#config.maxExtractInputTokens;
  }
}
