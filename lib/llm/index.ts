/**
 * Chat models for answers (`LLM_PROVIDER`): `openai` (any OpenAI-compatible chat completions
 * endpoint), `bedrock` (the Converse API) or `none` (context only). Requests time out, and 429,
 * 5xx and malformed answers are retried with backoff honouring `Retry-After`.
 */
import { classifyBedrockError, getBedrockClient } from '../aws/bedrock-client.ts';
import type { LlmConfig } from '../config.ts';
import { ProviderError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { metricCount, metricDuration } from '../ops/metrics.ts';
import { recordUsage } from '../ops/usage.ts';
import { callProvider, openAiAuth, postJson, providerRetry } from '../provider-http.ts';
import { withRetry } from '../retry.ts';
import { llmName } from '../settings/api.ts';
import {
  bedrockConverseStream,
  converseInput,
  openAiChatStream,
  type StreamRequest,
} from './streaming.ts';
import type { ChatMessage, CompletionOptions, Llm, LlmIdentity, TokenUsage } from './types.ts';

export type { ChatMessage, CompletionOptions, Llm } from './types.ts';

type Request = (
  messages: readonly ChatMessage[],
  signal: AbortSignal,
  options: CompletionOptions,
) => Promise<{ text: string; usage?: TokenUsage }>;

/** Wraps one provider request with timeouts and retries. */
export class RetryingLlm implements Llm {
  readonly name: string;
  readonly identity: LlmIdentity;
  readonly #request: Request;
  readonly #streamRequest: StreamRequest;
  readonly #config: Pick<LlmConfig, 'timeoutMs' | 'maxRetries'>;
  readonly #log: Logger | undefined;

  constructor(
    name: string,
    request: Request,
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

/** OpenAI-compatible `POST /chat/completions`. */
export function openAiChat(config: LlmConfig, fetchImpl?: typeof fetch): Request {
  const name = `openai-compatible (${config.model})`;
  return async (messages, signal, options) => {
    const url = new URL(`${config.baseUrl}/chat/completions`);
    const answer = (await postJson({
      provider: name,
      url,
      headers: openAiAuth(url, config.apiKey, config.apiVersion),
      body: {
        model: config.model,
        messages,
        temperature: config.temperature,
        ...(config.maxTokens ? { max_tokens: config.maxTokens } : {}),
        ...(options.json ? { response_format: { type: 'json_object' } } : {}),
      },
      signal,
      fetch: fetchImpl,
    })) as {
      choices?: Array<{ message?: { content?: unknown } }>;
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    };
    const content = answer?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') {
      throw new ProviderError(
        name,
        'answered without choices[0].message.content (malformed response).',
        { retryable: true },
      );
    }
    return {
      text: content,
      usage: {
        promptTokens: Number(answer.usage?.prompt_tokens ?? 0),
        completionTokens: Number(answer.usage?.completion_tokens ?? 0),
      },
    };
  };
}

/** Amazon Bedrock Converse API: one request shape for Claude, Llama, Mistral, Nova, … */
export function bedrockConverse(config: LlmConfig): Request {
  const name = `bedrock (${config.model})`;
  return async (messages, signal) => {
    const { ConverseCommand } = await import('@aws-sdk/client-bedrock-runtime');
    const client = await getBedrockClient(config.bedrockRegion, config.bedrockEndpoint);
    try {
      const response = await client.send(new ConverseCommand(converseInput(config, messages)), {
        abortSignal: signal,
      });
      const text = response.output?.message?.content?.map((c) => c.text ?? '').join('');
      if (!text)
        throw new ProviderError(name, 'answered without text content (malformed response).', {
          retryable: true,
        });
      return {
        text,
        usage: {
          promptTokens: Number(response.usage?.inputTokens ?? 0),
          completionTokens: Number(response.usage?.outputTokens ?? 0),
        },
      };
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      const { retryable, status, message } = classifyBedrockError(err);
      throw new ProviderError(name, message, { retryable, status, cause: err });
    }
  };
}

/** The configured chat model, or undefined for `LLM_PROVIDER=none`. */
export function createLlm(config: LlmConfig, logger?: Logger): Llm | undefined {
  switch (config.provider) {
    case 'none':
      return undefined;
    case 'openai':
      return new RetryingLlm(
        llmName(config),
        openAiChat(config),
        openAiChatStream(config),
        config,
        logger,
      );
    case 'bedrock':
      return new RetryingLlm(
        llmName(config),
        bedrockConverse(config),
        bedrockConverseStream(config),
        config,
        logger,
      );
  }
}
