/**
 * Query keywords, as LightRAG's `get_keywords_from_query`: the caller's `hl_keywords` /
 * `ll_keywords` when given, else the LLM's JSON reply (cached under LightRAG 1.5's `{mode}:keywords:{hash}`).
 * When both lists come back empty and the question is short (< 50 characters), the question
 * itself is the low-level keyword. Without an LLM the question is used for both levels.
 */
import { completeWithCache } from '../graph/cached-llm.ts';
import { keywordsMessages } from '../graph/prompts.ts';
import { parseJsonObjectLoosely } from '../json-fields.ts';
import type { Llm } from '../llm/types.ts';
import type { Logger } from '../logger.ts';
import type { LlmCacheStorage } from '../storage/kv.ts';
import type { QueryRequest } from './request.ts';

/** The high- and low-level keywords a graph query searches with. */
export interface QueryKeywords {
  high_level: string[];
  low_level: string[];
  /** Where they came from. */
  source: 'request' | 'llm' | 'cache' | 'query';
}

/** Parses `{"high_level_keywords": [...], "low_level_keywords": [...]}` tolerantly. */
export function parseKeywordsReply(reply: string): { high: string[]; low: string[] } {
  const parsed = parseJsonObjectLoosely(reply) ?? {};
  const list = (v: unknown) =>
    Array.isArray(v)
      ? v.filter((k): k is string => typeof k === 'string' && k.trim() !== '').map((k) => k.trim())
      : [];
  return { high: list(parsed.high_level_keywords), low: list(parsed.low_level_keywords) };
}

export async function queryKeywords(
  request: QueryRequest,
  llm: Llm | undefined,
  cache: LlmCacheStorage,
  options: { useCache: boolean; language: string; logger?: Logger },
): Promise<QueryKeywords> {
  if (request.hl_keywords.length > 0 || request.ll_keywords.length > 0) {
    return { high_level: request.hl_keywords, low_level: request.ll_keywords, source: 'request' };
  }
  if (!llm) return { high_level: [request.query], low_level: [request.query], source: 'query' };
  const { reply, cached } = await completeWithCache(
    llm,
    cache,
    {
      cacheType: 'keywords',
      keywords: { mode: request.mode, query: request.query, language: options.language },
      messages: keywordsMessages(request.query, request.conversation_history),
      options: { json: true },
      bypassCache: !options.useCache,
      cacheable: (r) => r.includes('{'),
    },
    options.logger,
  );
  const { high, low } = parseKeywordsReply(reply);
  if (high.length === 0 && low.length === 0 && request.query.length < 50) {
    return { high_level: [], low_level: [request.query], source: 'query' };
  }
  return { high_level: high, low_level: low, source: cached ? 'cache' : 'llm' };
}
