/**
 * How much of a request's conversation history reaches the LLM: the last `HISTORY_TURNS` turns
 * (LightRAG's `history_turns`; a turn is a user message and the answer to it), and of those no
 * more than `MAX_HISTORY_TOKENS` tokens, the oldest messages dropped first. A message that alone
 * exceeds the budget is dropped whole rather than cut mid-sentence.
 */
import type { ChatMessage } from '../llm/types.ts';

/**
 * @example
 * ```ts
 * boundHistory(history, { turns: 3, maxTokens: 4000, count: (t) => tokenizer.encode(t).length });
 * ```
 */
export function boundHistory(
  history: readonly ChatMessage[],
  limits: { turns: number; maxTokens: number; count: (text: string) => number },
): ChatMessage[] {
  const recent = limits.turns === 0 ? [] : history.slice(-2 * limits.turns);
  const kept: ChatMessage[] = [];
  let tokens = 0;
  for (let i = recent.length - 1; i >= 0; i--) {
    const cost = limits.count(recent[i]!.content);
    if (tokens + cost > limits.maxTokens) break;
    tokens += cost;
    kept.unshift(recent[i]!);
  }
  return kept;
}
