/**
 * Chat models for answers (`LLM_PROVIDER`): `openai` (any OpenAI-compatible chat completions
 * endpoint), `bedrock` (the Converse API) or `none` (context only). Requests time out, and 429,
 * 5xx and malformed answers are retried with backoff honouring `Retry-After`.
 */
import { classifyBedrockError, getBedrockClient } from '../aws/bedrock-client.ts';
import type { LlmConfig } from '../config.ts';
import { ProviderError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { callProvider, openAiAuth, postJson, providerRetry } from '../provider-http.ts';
import { withRetry } from '../retry.ts';
import { llmName } from '../settings/api.ts';
import type { ChatMessage, CompletionOptions, Llm, LlmIdentity } from './types.ts';

export type { ChatMessage, CompletionOptions, Llm } from './types.ts';

type Request = (
  messages: readonly ChatMessage[],
  signal: AbortSignal,
  options: CompletionOptions,
) => Promise<string>;

/** Wraps one provider request with timeouts and retries. */
export class RetryingLlm implements Llm {
  readonly name: string;
  readonly identity: LlmIdentity;
  readonly #request: Request;
  readonly #config: Pick<LlmConfig, 'timeoutMs' | 'maxRetries'>;
  readonly #log: Logger | undefined;

  constructor(
    name: string,
    request: Request,
    config: Pick<LlmConfig, 'timeoutMs' | 'maxRetries' | 'cacheIdentity'>,
    logger?: Logger,
  ) {
    this.name = name;
    this.identity = config.cacheIdentity;
    this.#request = request;
    this.#config = config;
    this.#log = logger;
  }

  complete(messages: readonly ChatMessage[], options: CompletionOptions = {}): Promise<string> {
    return withRetry(
      () =>
        callProvider(this.name, this.#config.timeoutMs, (signal) =>
          this.#request(messages, signal, options),
        ),
      providerRetry(this.#config.maxRetries, (err, attempt, delayMs) =>
        this.#log?.warn('LLM request failed; retrying', {
          provider: this.name,
          attempt,
          delayMs: Math.round(delayMs),
          error: (err as Error).message,
        }),
      ),
    );
  }
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
    })) as { choices?: Array<{ message?: { content?: unknown } }> };
    const content = answer?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') {
      throw new ProviderError(
        name,
        'answered without choices[0].message.content (malformed response).',
        { retryable: true },
      );
    }
    return content;
  };
}

/** Amazon Bedrock Converse API: one request shape for Claude, Llama, Mistral, Nova, … */
export function bedrockConverse(config: LlmConfig): Request {
  const name = `bedrock (${config.model})`;
  return async (messages, signal) => {
    const { ConverseCommand } = await import('@aws-sdk/client-bedrock-runtime');
    const client = await getBedrockClient(config.bedrockRegion, config.bedrockEndpoint);
    const system = messages.filter((m) => m.role === 'system').map((m) => ({ text: m.content }));
    const turns = messages
      .filter((m) => m.role !== 'system')
      .map((m) => ({ role: m.role as 'user' | 'assistant', content: [{ text: m.content }] }));
    try {
      const response = await client.send(
        new ConverseCommand({
          modelId: config.model,
          system,
          messages: turns,
          inferenceConfig: {
            temperature: config.temperature,
            ...(config.maxTokens ? { maxTokens: config.maxTokens } : {}),
          },
        }),
        { abortSignal: signal },
      );
      const text = response.output?.message?.content?.map((c) => c.text ?? '').join('');
      if (!text)
        throw new ProviderError(name, 'answered without text content (malformed response).', {
          retryable: true,
        });
      return text;
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
      return new RetryingLlm(llmName(config), openAiChat(config), config, logger);
    case 'bedrock':
      return new RetryingLlm(llmName(config), bedrockConverse(config), config, logger);
  }
}
