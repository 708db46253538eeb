/**
 * The query request body (`POST /query`, the `query` CLI): LightRAG's parameter names, checked
 * strictly so a typo is an error instead of a silently ignored option.
 */
import type { QueryConfig } from '../config.ts';
import { UnsupportedModeError, ValidationError } from '../errors.ts';
import { refuseUnknownFields, requireJsonObject } from '../json-fields.ts';
import type { ChatMessage } from '../llm/types.ts';

/** LightRAG's modes. The graph modes arrive with the knowledge-graph work. */
export const QUERY_MODES = ['naive', 'bypass', 'local', 'global', 'hybrid', 'mix'] as const;
export const SUPPORTED_MODES = ['naive', 'bypass'] as const;
export type SupportedMode = (typeof SUPPORTED_MODES)[number];

export const MAX_QUERY_LENGTH = 10_000;
export const MAX_HISTORY_MESSAGES = 50;

export interface QueryRequest {
  query: string;
  mode: SupportedMode;
  top_k: number;
  only_need_context: boolean;
  response_type: string;
  conversation_history: ChatMessage[];
  /** Per-request switch for the answer cache (default: on when configured). */
  enable_cache: boolean;
}

const FIELDS = new Set([
  'query',
  'mode',
  'top_k',
  'only_need_context',
  'response_type',
  'conversation_history',
  'enable_cache',
  'workspace',
]);

/** Validates a parsed body; throws ValidationError / UnsupportedModeError naming the field. */
export function parseQueryRequest(body: unknown, config: QueryConfig): QueryRequest {
  const b = requireJsonObject(
    body,
    'The request body must be a JSON object with a "query" string.',
  );
  refuseUnknownFields(b, FIELDS, 'Unknown field(s)');
  if (typeof b.query !== 'string' || b.query.trim() === '') {
    throw new ValidationError('"query" must be a non-empty string.', { field: 'query' });
  }
  if (b.query.length > MAX_QUERY_LENGTH) {
    throw new ValidationError(`"query" is limited to ${MAX_QUERY_LENGTH} characters.`, {
      field: 'query',
    });
  }
  const mode = b.mode ?? 'naive';
  if (typeof mode !== 'string' || !(QUERY_MODES as readonly string[]).includes(mode)) {
    throw new ValidationError(`"mode" must be one of ${QUERY_MODES.join(', ')}.`, {
      field: 'mode',
    });
  }
  if (!(SUPPORTED_MODES as readonly string[]).includes(mode))
    throw new UnsupportedModeError(mode, SUPPORTED_MODES);
  const topK = b.top_k ?? config.topK;
  if (!Number.isInteger(topK) || (topK as number) < 1 || (topK as number) > config.maxTopK) {
    throw new ValidationError(`"top_k" must be an integer from 1 to ${config.maxTopK}.`, {
      field: 'top_k',
    });
  }
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
    mode: mode as SupportedMode,
    top_k: topK as number,
    only_need_context: flag('only_need_context', false),
    response_type: responseType,
    conversation_history: parseHistory(b.conversation_history),
    enable_cache: flag('enable_cache', true),
  };
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
