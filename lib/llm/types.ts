/** The LLM as LightRAG's cache keys name it; `null` where LightRAG has `None`. */
export interface LlmIdentity {
  binding: string | null;
  model: string | null;
  host: string | null;
}

/** One message of a chat request. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** How one LLM call is made and counted. */
export interface CompletionOptions {
  /** Ask for a JSON object (OpenAI `response_format: json_object`; other providers follow the prompt). */
  json?: boolean;
  /** Aborts the request (the caller stopped waiting: a deadline, a client gone). */
  signal?: AbortSignal;
  /** What the call is for, in the usage aggregates (default `answer`). */
  purpose?: 'extract' | 'summary' | 'keywords' | 'answer';
  /**
   * Counts tokens for a streamed call's usage (streams report none): the configured tokenizer.
   * Without it a streamed call is counted with zero tokens.
   */
  countTokens?: (text: string) => number;
}

/** Tokens a provider billed for one completion. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** A chat model. Providers implement one request; {@link RetryingLlm} adds the retry policy. */
export interface Llm {
  /** Provider and model: part of the answer cache key, shown in the health check. */
  readonly name: string;
  /** What LightRAG's cache keys call this model (`LLM_BINDING`, `LLM_MODEL`, `LLM_BINDING_HOST`). */
  readonly identity: LlmIdentity;
  complete(messages: readonly ChatMessage[], options?: CompletionOptions): Promise<string>;
  /**
   * The answer as it is generated, piece by piece. Failures before the first piece are retried
   * as `complete` retries them; after it, they end the stream. Aborting `options.signal` stops
   * the provider request.
   */
  stream(messages: readonly ChatMessage[], options?: CompletionOptions): AsyncIterable<string>;
}
