/**
 * LIGHTRAG_LLM_CACHE ids exactly as LightRAG 1.5 computes them (LIGHTRAG-1.5.md §4, §7), so a
 * workspace shared with LightRAG pays the LLM once for the same call: `{mode}:{cache_type}:{hash}`,
 * the hash being `compute_args_hash` — md5 of each argument as `len:str` (code points, Python
 * `str()`), joined — over the call's inputs and the LLM identity `{role, binding, model, host}`.
 *
 * Only keyword and answer keys can coincide with LightRAG's in practice: extraction and summary
 * keys hash the prompt text, and our prompts are our own (issue 19). They still use 1.5's format.
 */
import { createHash } from 'node:crypto';
import type { ChatMessage, LlmIdentity } from './types.ts';

export type { LlmIdentity } from './types.ts';

/** LightRAG's roles: `extract` (extraction and summaries), `keyword`, `query` (answers). */
export type LlmRole = 'extract' | 'keyword' | 'query';

type PyValue = string | number | boolean | null;

/** Python's `str()` of a value that LightRAG hashes. */
function pyStr(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot hash ${value}`);
    return String(value);
  }
  return value;
}

/** Python's `len()`: code points, not UTF-16 units. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * md5 of the UTF-8 text as Python encodes it with `errors="replace"`: a lone surrogate becomes
 * `?`, not U+FFFD as Node's encoder would make it.
 */
export function pythonMd5(text: string): string {
  const safe = text.isWellFormed() ? text : text.replace(/[\uD800-\uDFFF]/gu, '?');
  return createHash('md5').update(safe, 'utf8').digest('hex');
}

/**
 * LightRAG 1.5's `compute_args_hash`.
 *
 * @example
 * ```ts
 * computeArgsHash('a', 40, true); // md5('1:a2:404:True')
 * ```
 */
export function computeArgsHash(...args: PyValue[]): string {
  return pythonMd5(
    args
      .map((a) => {
        const s = pyStr(a);
        return `${codePoints(s)}:${s}`;
      })
      .join(''),
  );
}

/** `json.dumps(identity, sort_keys=True, separators=(",",":"), ensure_ascii=False)`. */
export function serializeIdentity(role: LlmRole, identity: LlmIdentity): string {
  const sorted = { binding: identity.binding, host: identity.host, model: identity.model, role };
  return JSON.stringify(sorted);
}

/** Python's default `json.dumps` (ASCII only, `", "` and `": "` separators) of chat turns. */
function pythonJsonTurns(turns: readonly ChatMessage[]): string {
  const str = (s: string) =>
    JSON.stringify(s).replace(
      /[^\x20-\x7e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  return `[${turns.map((t) => `{"role": ${str(t.role)}, "content": ${str(t.content)}}`).join(', ')}]`;
}

/**
 * The prompt LightRAG hashes for a chat call (`use_llm_func_with_cache`): the non-empty parts of
 * user prompt, system prompt and history JSON, joined by newlines.
 */
export function cachedPromptText(messages: readonly ChatMessage[]): string {
  const system = messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n');
  const turns = messages.filter((m) => m.role !== 'system');
  const user = turns.at(-1)?.content ?? '';
  const history = turns.slice(0, -1);
  return [user, system, history.length > 0 ? pythonJsonTurns(history) : '']
    .filter((p) => p !== '')
    .join('\n');
}

/**
 * The key of an extraction or summary call (mode `default`; summaries use the `extract` role).
 *
 * @example
 * ```ts
 * promptCacheKey('extract', messages, { json: false }, identity); // 'default:extract:…'
 * ```
 */
export function promptCacheKey(
  cacheType: 'extract' | 'summary',
  messages: readonly ChatMessage[],
  options: { json: boolean },
  identity: LlmIdentity,
): string {
  const hash = computeArgsHash(
    cachedPromptText(messages),
    '\n<response_format>\n',
    options.json ? '{"type":"json_object"}' : '',
    '\n<llm_identity>\n',
    serializeIdentity('extract', identity),
  );
  return `default:${cacheType}:${hash}`;
}

/** The key of a keyword extraction: the query mode, question and language. */
export function keywordsCacheKey(
  mode: string,
  query: string,
  language: string,
  identity: LlmIdentity,
): string {
  const hash = computeArgsHash(
    mode,
    query,
    language,
    '\n<llm_identity>\n',
    serializeIdentity('keyword', identity),
  );
  return `${mode}:keywords:${hash}`;
}

/** What a LightRAG answer key covers besides the identity. */
export interface AnswerKeyParams {
  mode: string;
  query: string;
  response_type: string;
  top_k: number;
  chunk_top_k: number;
  max_entity_tokens: number;
  max_relation_tokens: number;
  max_total_tokens: number;
  /** Graph modes only; naive (and bypass) leave keywords out of the hash. */
  keywords?: { high: readonly string[]; low: readonly string[] };
  user_prompt?: string;
  enable_rerank: boolean;
}

/**
 * The key of an answer (`{mode}:query:{hash}`); LightRAG skips the answer cache when the request
 * carries conversation history, and so does the caller.
 */
export function answerCacheKey(p: AnswerKeyParams, identity: LlmIdentity): string {
  const hash = computeArgsHash(
    'query-answer-cache-v2',
    p.mode,
    p.query,
    p.response_type,
    p.top_k,
    p.chunk_top_k,
    p.max_entity_tokens,
    p.max_relation_tokens,
    p.max_total_tokens,
    ...(p.keywords ? [p.keywords.high.join(', '), p.keywords.low.join(', ')] : []),
    p.user_prompt ?? '',
    p.enable_rerank,
    // enable_content_headings: LightRAG's default; this project has no content headings.
    false,
    '\n<llm_identity>\n',
    serializeIdentity('query', identity),
  );
  return `${p.mode}:query:${hash}`;
}
