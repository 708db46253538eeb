/**
 * The query request body (`POST /query`, the `query` CLI): LightRAG's parameter names, checked
 * strictly so a typo is an error instead of a silently ignored option.
 */
import type { GraphQueryConfig, QueryConfig } from '../config.ts';
import { ValidationError } from '../errors.ts';
import { requireJsonObject } from '../json-fields.ts';
import type { ChatMessage } from '../llm/types.ts';

/** LightRAG's modes; `mix` (graph and chunk vectors) is the default. */
export const QUERY_MODES = ['mix', 'local', 'global', 'hybrid', 'naive', 'bypass'] as const;
/** LightRAG's query modes. */
export type QueryMode = (typeof QUERY_MODES)[number];
/** The modes that read the knowledge graph. */
export const GRAPH_MODES: readonly QueryMode[] = ['local', 'global', 'hybrid', 'mix'];
export const MAX_KEYWORDS = 50;

export const MAX_QUERY_LENGTH = 10_000;
export const MAX_HISTORY_MESSAGES = 50;

/** A query as LightRAG's `QueryParam` has it, defaults applied and limits checked. */
export interface QueryRequest {
  query: string;
  mode: QueryMode;
  /** Entities (local) or relations (global) taken from their vector search. */
  top_k: number;
  /** Chunks in the context at most, in every mode (`naive` and `mix` search this many vectors). */
  chunk_top_k: number;
  max_entity_tokens: number;
  max_relation_tokens: number;
  max_total_tokens: number;
  /** Keywords given by the caller; when both are empty the LLM extracts them. */
  hl_keywords: string[];
  ll_keywords: string[];
  only_need_context: boolean;
  response_type: string;
  conversation_history: ChatMessage[];
  /** Per-request switch for the answer cache (default: on when configured). */
  enable_cache: boolean;
  /**
   * LightRAG's rerank switch (default true). No reranker runs here; like LightRAG without a
   * rerank model, the value only partitions the answer cache.
   */
  enable_rerank: boolean;
  /** LightRAG's `include_references`: the streaming route sends the references line first (default true). */
  include_references: boolean;
  /** LightRAG's `user_prompt`: added to the answer instructions (and to the answer's cache key). */
  user_prompt: string;
  /** LightRAG's `only_need_prompt`: the full prompt is the answer; no LLM is called. */
  only_need_prompt: boolean;
  /** LightRAG's `include_chunk_content`: references carry their chunks' text (default false). */
  include_chunk_content: boolean;
  /** LightRAG's `include_progress`: the streaming route sends `{"progress": …}` lines (default false). */
  include_progress: boolean;
}

/** The most characters a `user_prompt` may have. */
export const MAX_USER_PROMPT_LENGTH = 4_000;

const FIELDS = new Set([
  'query',
  'mode',
  'top_k',
  'only_need_context',
  'response_type',
  'conversation_history',
  'enable_cache',
  'workspace',
  'chunk_top_k',
  'max_entity_tokens',
  'max_relation_tokens',
  'max_total_tokens',
  'hl_keywords',
  'll_keywords',
  'enable_rerank',
  'include_references',
  'user_prompt',
  'only_need_prompt',
  'include_chunk_content',
  'include_progress',
]);

/** The parts of the configuration that give the request defaults. */
export type QueryDefaults = QueryConfig & GraphQueryConfig;

/** Request defaults from the configuration (`TOP_K`, `CHUNK_TOP_K`, the token budgets). */
export function queryDefaults(config: {
  query: QueryConfig;
  graphQuery: GraphQueryConfig;
}): QueryDefaults {
  return { ...config.query, ...config.graphQuery };
}

/** Validates a parsed body; throws a ValidationError naming the field. */
export function parseQueryRequest(body: unknown, config: QueryDefaults): QueryRequest {
  const b = requireJsonObject(
    body,
    'The request body must be a JSON object with a "query" string.',
  );
  // Fields LightRAG does not use (the WebUI sends `stream` and `history_turns` on every query)
  // are ignored, as LightRAG Server ignores them; the known ones are checked.
  for (const name of Object.keys(b)) if (!FIELDS.has(name)) delete b[name];
  if (typeof b.query !== 'string' || b.query.trim() === '') {
    throw new ValidationError('"query" must be a non-empty string.', { field: 'query' });
  }
  if (b.query.length > MAX_QUERY_LENGTH) {
    throw new ValidationError(`"query" is limited to ${MAX_QUERY_LENGTH} characters.`, {
      field: 'query',
    });
  }
  const mode = b.mode ?? 'mix';
  if (typeof mode !== 'string' || !(QUERY_MODES as readonly string[]).includes(mode)) {
    throw new ValidationError(`"mode" must be one of ${QUERY_MODES.join(', ')}.`, {
      field: 'mode',
    });
  }
  const int = (name: string, fallback: number, max: number, min = 1) => {
    const v = b[name] ?? fallback;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
      throw new ValidationError(`"${name}" must be an integer from ${min} to ${max}.`, {
        field: name,
      });
    }
    return v as number;
  };
  const flag = (name: string, fallback: boolean) => {
    const v = b[name] ?? fallback;
    if (typeof v !== 'boolean')
      throw new ValidationError(`"${name}" must be true or false.`, { field: name });
    return v;
  };
  const responseType = b.response_type ?? 'Multiple Paragraphs';
  if (typeof responseType !== 'string' || responseType.length === 0 || responseType.length > 100) {
    throw new ValidationError('"response_type" must be a string of 1-100 characters.', {
      field: 'response_type',
    });
  }
  return {
    query: b.query,
    mode: mode as QueryMode,
    top_k: int('top_k', config.topK, config.maxTopK),
    chunk_top_k: int('chunk_top_k', config.chunkTopK, config.maxTopK),
    // Budgets are capped by the server (MAX_REQUEST_TOKENS): a request cannot buy unbounded spend.
    max_entity_tokens: int('max_entity_tokens', config.maxEntityTokens, config.maxRequestTokens, 0),
    max_relation_tokens: int(
      'max_relation_tokens',
      config.maxRelationTokens,
      config.maxRequestTokens,
      0,
    ),
    max_total_tokens: int(
      'max_total_tokens',
      config.maxContextTokens,
      config.maxRequestTokens,
      100,
    ),
    hl_keywords: parseKeywords(b.hl_keywords, 'hl_keywords'),
    ll_keywords: parseKeywords(b.ll_keywords, 'll_keywords'),
    only_need_context: flag('only_need_context', false),
    response_type: responseType,
    conversation_history: parseHistory(b.conversation_history),
    enable_cache: flag('enable_cache', true),
    enable_rerank: flag('enable_rerank', true),
    include_references: flag('include_references', true),
    user_prompt: userPrompt(b.user_prompt),
    only_need_prompt: flag('only_need_prompt', false),
    include_chunk_content: flag('include_chunk_content', false),
    include_progress: flag('include_progress', false),
  };
}

function userPrompt(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string' || value.length > MAX_USER_PROMPT_LENGTH) {
    throw new ValidationError(
      `"user_prompt" must be a string of at most ${MAX_USER_PROMPT_LENGTH} characters.`,
      { field: 'user_prompt' },
    );
  }
  return value.trim();
}

function parseKeywords(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (
    !Array.isArray(value) ||
    value.length > MAX_KEYWORDS ||
    !value.every((k) => typeof k === 'string' && k.length <= 200)
  ) {
    throw new ValidationError(
      `"${field}" must be an array of at most ${MAX_KEYWORDS} strings of at most 200 characters.`,
      { field },
    );
  }
  return value.map((k) => k.trim()).filter(Boolean);
}

function parseHistory(value: unknown): ChatMessage[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_HISTORY_MESSAGES) {
    throw new ValidationError(
      `"conversation_history" must be an array of at most ${MAX_HISTORY_MESSAGES} messages.`,
      {
        field: 'conversation_history',
      },
    );
  }
  return value.map((m, i) => {
    const message = m as { role?: unknown; content?: unknown };
    if (
      !m ||
      typeof m !== 'object' ||
      (message.role !== 'user' && message.role !== 'assistant') ||
      typeof message.content !== 'string'
    ) {
      throw new ValidationError(
        `"conversation_history[${i}]" must be {"role": "user" | "assistant", "content": string}.`,
        { field: 'conversation_history' },
      );
    }
    return { role: message.role, content: message.content };
  });
}
