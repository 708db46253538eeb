/**
 * Descriptions of merged entities and relations: fragments joined with `<SEP>`, or summarised by
 * the LLM once there are FORCE_LLM_SUMMARY_ON_MERGE fragments or SUMMARY_MAX_TOKENS tokens
 * (map-reduce above 12,000 tokens). Summaries are cached (cache_type `summary`) on a pooled
 * connection, never inside a write transaction, so they commit at once and a retry reuses them;
 * a rebuild after a deletion uses the cache only and never calls the LLM.
 */
import type { GraphConfig, TokenEncoding } from '../config.ts';
import { GRAPH_FIELD_SEP } from '../lightrag-constants.ts';
import type { Llm } from '../llm/types.ts';
import type { Logger } from '../logger.ts';
import { splitBatches } from '../storage/batch.ts';
import type { LlmCacheStorage } from '../storage/kv.ts';
import { getTokenizer } from '../tokenizer.ts';
import { completeWithCache, llmCacheKey } from './cached-llm.ts';
import { summaryMessages } from './prompts.ts';

/** LightRAG's context size for one summary call; larger inputs are summarised in groups first. */
export const SUMMARY_CONTEXT_TOKENS = 12_000;

export class Summarizer {
  readonly #llm: Llm | undefined;
  readonly #config: GraphConfig;
  readonly #encoding: TokenEncoding;
  readonly #log: Logger | undefined;

  constructor(llm: Llm | undefined, config: GraphConfig, encoding: TokenEncoding, logger?: Logger) {
    this.#llm = llm;
    this.#config = config;
    this.#encoding = encoding;
    this.#log = logger;
  }

  /**
   * Whether LightRAG would summarise `fragments` on a merge: FORCE_LLM_SUMMARY_ON_MERGE fragments
   * or SUMMARY_MAX_TOKENS tokens, and an LLM to do it. One fragment never is.
   */
  async needsSummary(fragments: readonly string[]): Promise<boolean> {
    if (fragments.length <= 1 || !this.#llm) return false;
    if (fragments.length >= this.#config.forceSummaryOnMerge) return true;
    return (await this.#count(fragments.join(GRAPH_FIELD_SEP))) >= this.#config.summaryMaxTokens;
  }

  /**
   * The description to store for `fragments`. With `cacheOnly` (rebuilds) a summary comes from
   * the cache or not at all, in which case the fragments are joined.
   */
  async describe(
    cache: LlmCacheStorage,
    kind: 'entity' | 'relation',
    name: string,
    fragments: readonly string[],
    options: { cacheOnly?: boolean } = {},
  ): Promise<string> {
    if (!(await this.needsSummary(fragments))) return fragments.join(GRAPH_FIELD_SEP);
    return this.summarize(cache, kind, name, fragments, options);
  }

  /** The LLM summary of `fragments` (map-reduce above one call's context), through the cache. */
  async summarize(
    cache: LlmCacheStorage,
    kind: 'entity' | 'relation',
    name: string,
    fragments: readonly string[],
    options: { cacheOnly?: boolean } = {},
  ): Promise<string> {
    const tokenizer = await getTokenizer(this.#encoding);
    const count = (text: string) => tokenizer.encode(text).length;
    let parts = [...fragments];
    // Map: summarise groups that fit one call until everything fits one call.
    while (count(parts.join('\n')) > SUMMARY_CONTEXT_TOKENS && parts.length > 2) {
      // The same greedy split as statement batches, measured in tokens instead of bytes.
      const groups = splitBatches(
        parts,
        { parametersPerRecord: 1, parametersGrowWithRows: false, maxBytes: SUMMARY_CONTEXT_TOKENS },
        count,
      );
      if (groups.length === parts.length) break; // each fragment alone is too large: summarise as is
      parts = [];
      for (const group of groups) {
        parts.push(
          group.length === 1 ? group[0]! : await this.#summary(cache, kind, name, group, options),
        );
      }
    }
    return this.#summary(cache, kind, name, parts, options);
  }

  async #summary(
    cache: LlmCacheStorage,
    kind: 'entity' | 'relation',
    name: string,
    fragments: readonly string[],
    options: { cacheOnly?: boolean },
  ): Promise<string> {
    const llm = this.#llm!;
    const call = {
      cacheType: 'summary' as const,
      messages: summaryMessages(kind, name, fragments, {
        language: this.#config.language,
        lengthTokens: this.#config.summaryLengthRecommended,
      }),
    };
    if (options.cacheOnly) {
      const hit = await cache.getById(llmCacheKey(call, llm));
      return hit?.return ?? fragments.join(GRAPH_FIELD_SEP);
    }
    const { reply } = await completeWithCache(llm, cache, call, this.#log);
    return reply.trim() || fragments.join(GRAPH_FIELD_SEP);
  }

  async #count(text: string): Promise<number> {
    return (await getTokenizer(this.#encoding)).encode(text).length;
  }
}
