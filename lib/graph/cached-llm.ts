/**
 * LLM calls through LIGHTRAG_LLM_CACHE, under LightRAG 1.5's keys (lib/llm/cache-keys.ts) so a
 * workspace shared with LightRAG answers a call either side made before. A hit costs one indexed
 * read; a reply the caller calls incomplete is used but not cached.
 */
import { cachedPromptText, keywordsCacheKey, promptCacheKey } from '../llm/cache-keys.ts';
import type { ChatMessage, CompletionOptions, Llm } from '../llm/types.ts';
import { errorFields, type Logger } from '../logger.ts';
import { metricCount } from '../ops/metrics.ts';
import { recordUsage } from '../ops/usage.ts';
import type { LlmCacheStorage } from '../storage/kv.ts';

/** One LLM call of the graph pipeline and how LightRAG keys its cache row. */
export interface CachedCall {
  cacheType: 'extract' | 'summary' | 'keywords';
  /** Keyword calls: what LightRAG hashes instead of the prompt. */
  keywords?: { mode: string; query: string; language: string };
  messages: readonly ChatMessage[];
  options?: CompletionOptions;
  chunkId?: string;
  /** Neither read nor write the cache (the request or the configuration turned it off). */
  bypassCache?: boolean;
  /** False for a reply that must not be cached (e.g. cut off before its completion marker). */
  cacheable?: (reply: string) => boolean;
}

/**
 * The cache id of a call, as LightRAG 1.5 computes it for the same call and model.
 *
 * @example
 * ```ts
 * llmCacheKey({ cacheType: 'summary', messages }, llm); // 'default:summary:…'
 * ```
 */
export function llmCacheKey(call: CachedCall, llm: Pick<Llm, 'identity'>): string {
  if (call.cacheType === 'keywords') {
    if (!call.keywords) throw new TypeError('a keywords call needs its mode, query and language');
    const { mode, query, language } = call.keywords;
    return keywordsCacheKey(mode, query, language, llm.identity);
  }
  return promptCacheKey(
    call.cacheType,
    call.messages,
    { json: call.options?.json ?? false },
    llm.identity,
  );
}

/** A reply with its cache key, and whether it came from the cache. */
export interface CachedReply {
  key: string;
  reply: string;
  cached: boolean;
}

/** Looks the call up in the cache, or asks the LLM and stores the reply. */
export async function completeWithCache(
  llm: Llm,
  cache: LlmCacheStorage,
  call: CachedCall,
  logger?: Logger,
): Promise<CachedReply> {
  // Never inside a write transaction: the LLM call would hold its locks, and the cached reply
  // would roll back with it.
  if (cache.inTransaction) throw new TypeError('completeWithCache runs outside transactions.');
  const key = llmCacheKey(call, llm);
  const hit = call.bypassCache ? null : await cache.getById(key);
  const model = llm.identity.model ?? llm.name;
  if (hit) {
    recordUsage({ workspace: cache.workspace, purpose: call.cacheType, model, cacheHit: true });
    metricCount('LlmCacheHits');
    return { key, reply: hit.return, cached: true };
  }
  const reply = await llm.complete(call.messages, { ...call.options, purpose: call.cacheType });
  if (!call.bypassCache && (call.cacheable?.(reply) ?? true)) {
    await cache
      .upsert([
        {
          id: key,
          return: reply,
          // What LightRAG records: the hashed prompt, or the question for keywords.
          original_prompt: call.keywords?.query ?? cachedPromptText(call.messages),
          cache_type: call.cacheType,
          chunk_id: call.chunkId ?? null,
          ...(call.keywords ? { queryparam: { mode: call.keywords.mode } } : {}),
        },
      ])
      .catch((err: unknown) => logger?.warn('could not cache an LLM reply', errorFields(err)));
  }
  return { key, reply, cached: false };
}
