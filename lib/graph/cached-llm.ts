/**
 * LLM calls through LIGHTRAG_LLM_CACHE, keyed as LightRAG keys them:
 * `{mode}:{cache_type}:{md5 of the prompts, history, response format and model}`.
 * A hit costs one indexed read; a reply the caller calls incomplete is used but not cached.
 * Inside a transaction pass it as `tx`: a second pooled connection could deadlock a pool of one.
 */
import type { Queryable } from '../db/database.ts';
import type { ChatMessage, CompletionOptions, Llm } from '../llm/types.ts';
import { errorFields, type Logger } from '../logger.ts';
import type { LlmCacheStorage } from '../storage/kv.ts';
import { md5 } from '../text.ts';

export interface CachedCall {
  mode: string;
  cacheType: 'extract' | 'summary' | 'keywords';
  messages: readonly ChatMessage[];
  options?: CompletionOptions;
  chunkId?: string;
  /** Neither read nor write the cache (the request or the configuration turned it off). */
  bypassCache?: boolean;
  /** False for a reply that must not be cached (e.g. cut off before its completion marker). */
  cacheable?: (reply: string) => boolean;
}

/** The cache id of a call: identical prompts to the same model share it. */
export function llmCacheKey(call: CachedCall, llmName: string): string {
  const hash = md5(
    JSON.stringify([call.messages, call.options?.json ? 'json_object' : 'text', llmName]),
  );
  return `${call.mode}:${call.cacheType}:${hash}`;
}

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
  tx?: Queryable,
): Promise<CachedReply> {
  const key = llmCacheKey(call, llm.name);
  const hit = call.bypassCache ? null : await cache.getById(key, tx);
  if (hit) return { key, reply: hit.return, cached: true };
  const reply = await llm.complete(call.messages, call.options);
  if (!call.bypassCache && (call.cacheable?.(reply) ?? true)) {
    await cache
      .upsert(
        [
          {
            id: key,
            return: reply,
            original_prompt: call.messages.at(-1)?.content ?? '',
            cache_type: call.cacheType,
            chunk_id: call.chunkId ?? null,
          },
        ],
        tx,
      )
      .catch((err: unknown) => logger?.warn('could not cache an LLM reply', errorFields(err)));
  }
  return { key, reply, cached: false };
}
