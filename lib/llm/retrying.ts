/**
 * One provider's requests (one-shot and streamed) made dependable: timeouts, retries with backoff
 * honouring `Retry-After`, and every call counted in one place (usage aggregates and metrics).
 */
import type { LlmConfig } from '../config.ts';
import { ProviderError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { metricCount, metricDuration } from '../ops/metrics.ts';
import { recordUsage } from '../ops/usage.ts';
import { callProvider, providerRetry } from '../provider-http.ts';
import { withRetry } from '../retry.ts';
import type { ChatMessage, CompletionOptions, Llm, LlmIdentity, TokenUsage } from './types.ts';

/** One request to a provider for a whole answer. */
export type ProviderRequest = (
  messages: readonly ChatMessage[],
  signal: AbortSignal,
  options: CompletionOptions,
) => Promise<{ text: string; usage?: TokenUsage }>;

/** One request to a provider for an answer streamed as text pieces. */
export type StreamRequest = (
  messages: readonly ChatMessage[],
  signal: AbortSignal,
) => AsyncIterable<string>;

/** Wraps one provider request with timeouts and retries. */
export class RetryingLlm implements Llm {
  readonly name: string;
  readonly identity: LlmIdentity;
  readonly #request: ProviderRequest;
  readonly #streamRequest: StreamRequest;
  readonly #config: Pick<LlmConfig, 'timeoutMs' | 'maxRetries'>;
  readonly #log: Logger | undefined;

  constructor(
    name: string,
    request: ProviderRequest,
    streamRequest: StreamRequest,
    config: Pick<LlmConfig, 'timeoutMs' | 'maxRetries' | 'cacheIdentity'>,
    logger?: Logger,
  ) {
    this.name = name;
    this.identity = config.cacheIdentity;
    this.#request = request;
    this.#streamRequest = streamRequest;
    this.#config = config;
    this.#log = logger;
  }

  async complete(
    messages: readonly ChatMessage[],
    options: CompletionOptions = {},
  ): Promise<string> {
    const started = performance.now();
    const { text, usage } = await withRetry(
      () =>
        callProvider(
          this.name,
          this.#config.timeoutMs,
          (signal) => this.#request(messages, signal, options),
          options.signal,
        ),
      this.#retryPolicy(),
    );
    this.#record(options, performance.now() - started, usage);
    return text;
  }

  /**
   * Streams the answer. Opening the stream and its first piece are retried like `complete`;
   * after the first piece a failure ends the stream (the caller has shown text already). Each
   * piece must come within `LLM_TIMEOUT_MS` of the previous one. Stopping the iteration early or
   * aborting `options.signal` aborts the provider request.
   */
  async *stream(
    messages: readonly ChatMessage[],
    options: CompletionOptions = {},
  ): AsyncIterable<string> {
    const timeoutMs = this.#config.timeoutMs;
    const started = performance.now();
    const { iterator, first, controller, idle } = await withRetry(async () => {
      const controller = new AbortController();
      const cancel = () => controller.abort(options.signal?.reason);
      if (options.signal?.aborted) cancel();
      options.signal?.addEventListener('abort', cancel, { once: true });
      let timer: NodeJS.Timeout | undefined;
      const idle = () => {
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(new StreamTimeout()), timeoutMs);
        return () => clearTimeout(timer);
      };
      idle();
      const iterator = this.#streamRequest(messages, controller.signal)[Symbol.asyncIterator]();
      try {
        return { iterator, first: await iterator.next(), controller, idle };
      } catch (err) {
        clearTimeout(timer);
        controller.abort();
        throw asProviderError(this.name, err, controller.signal, timeoutMs);
      }
    }, this.#retryPolicy());
    let finished = false;
    let stopTimer = idle();
    const streamed: string[] = [];
    try {
      if (!first.done) {
        streamed.push(first.value);
        yield first.value;
      }
      for (;;) {
        stopTimer = idle();
        let next: IteratorResult<string>;
        try {
          next = await iterator.next();
        } catch (err) {
          throw asProviderError(this.name, err, controller.signal, timeoutMs);
        }
        if (next.done) break;
        streamed.push(next.value);
        yield next.value;
      }
      finished = true;
    } finally {
      stopTimer();
      if (!finished) {
        controller.abort();
        await iterator.return?.().catch(() => undefined);
      }
      // Counted here like every one-shot call, finished or stopped early (the provider bills both).
      this.#record(options, performance.now() - started, {
        promptTokens: options.countTokens?.(messages.map((m) => m.content).join('\n')) ?? 0,
        completionTokens: options.countTokens?.(streamed.join('')) ?? 0,
      });
    }
  }

  /** The one place a model call is counted: usage aggregates and metrics. */
  #record(options: CompletionOptions, ms: number, usage: TokenUsage | undefined): void {
    recordUsage({
      purpose: options.purpose ?? 'answer',
      model: this.identity.model ?? this.name,
      promptTokens: usage?.promptTokens ?? 0,
      completionTokens: usage?.completionTokens ?? 0,
    });
    metricCount('LlmCalls');
    metricDuration('LlmLatency', ms);
    metricCount('LlmPromptTokens', usage?.promptTokens ?? 0);
    metricCount('LlmCompletionTokens', usage?.completionTokens ?? 0);
  }

  #retryPolicy() {
    return providerRetry(this.#config.maxRetries, (err, attempt, delayMs) =>
      this.#log?.warn('LLM request failed; retrying', {
        provider: this.name,
        attempt,
        delayMs: Math.round(delayMs),
        error: (err as Error).message,
      }),
    );
  }
}

class StreamTimeout extends Error {
  override name = 'TimeoutError';
}

/** A stream failure as a ProviderError: a timeout or network error is retryable. */
function asProviderError(
  provider: string,
  err: unknown,
  signal: AbortSignal,
  timeoutMs: number,
): ProviderError {
  if (err instanceof ProviderError) return err;
  const timedOut = signal.reason instanceof StreamTimeout;
  return new ProviderError(
    provider,
    timedOut
      ? `no streamed text within ${timeoutMs} ms`
      : `stream failed: ${(err as Error)?.message ?? err}`,
    { retryable: !signal.aborted || timedOut, cause: err },
  );
}
