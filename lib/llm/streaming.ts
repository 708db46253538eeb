/**
 * Streaming answers from the providers: OpenAI-compatible server-sent events (`stream: true`,
 * `choices[0].delta.content` pieces until `data: [DONE]`) and Bedrock's ConverseStream
 * (`contentBlockDelta.delta.text` events). Each yields text pieces as they arrive; errors are
 * {@link ProviderError}s with the same retry classification as the one-shot requests.
 */
import { classifyBedrockError, getBedrockClient } from '../aws/bedrock-client.ts';
import type { LlmConfig } from '../config.ts';
import { ProviderError } from '../errors.ts';
import { checkedResponse, openAiAuth } from '../provider-http.ts';
import type { ChatMessage } from './types.ts';

export type StreamRequest = (
  messages: readonly ChatMessage[],
  signal: AbortSignal,
) => AsyncIterable<string>;

/**
 * Text pieces from an OpenAI-compatible `POST /chat/completions` with `stream: true`.
 *
 * @example
 * ```ts
 * for await (const piece of openAiChatStream(config)(messages, signal)) process.stdout.write(piece);
 * ```
 */
export function openAiChatStream(config: LlmConfig, fetchImpl?: typeof fetch): StreamRequest {
  const name = `openai-compatible (${config.model})`;
  return async function* (messages, signal) {
    const url = new URL(`${config.baseUrl}/chat/completions`);
    const response = await checkedResponse(
      name,
      await (fetchImpl ?? fetch)(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...openAiAuth(url, config.apiKey, config.apiVersion),
        },
        body: JSON.stringify({
          model: config.model,
          messages,
          temperature: config.temperature,
          stream: true,
          ...(config.maxTokens ? { max_tokens: config.maxTokens } : {}),
        }),
        signal,
        redirect: 'manual',
      }),
    );
    if (!response.body)
      throw new ProviderError(name, 'answered without a body.', { retryable: true });
    let done = false;
    for await (const data of serverSentEvents(response.body)) {
      if (data === '[DONE]') {
        done = true;
        break;
      }
      let event: {
        choices?: Array<{ delta?: { content?: unknown } }>;
        error?: { message?: string };
      };
      try {
        event = JSON.parse(data);
      } catch {
        throw new ProviderError(name, 'streamed an event that is not JSON.', { retryable: true });
      }
      if (event.error) {
        throw new ProviderError(name, `stream error: ${String(event.error.message ?? 'unknown')}`, {
          retryable: true,
        });
      }
      const piece = event.choices?.[0]?.delta?.content;
      if (typeof piece === 'string' && piece !== '') yield piece;
    }
    if (!done) {
      throw new ProviderError(name, 'the stream ended before [DONE] (connection cut).', {
        retryable: true,
      });
    }
  };
}

/** The `data:` payloads of a server-sent-events body, one per event. */
export async function* serverSentEvents(body: ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (data.length > 0) yield data.join('\n');
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''));
      }
      newline = buffer.indexOf('\n');
    }
  }
  if (data.length > 0) yield data.join('\n');
}

/** The Converse request for `messages`: system prompts apart from the turns (both APIs). */
export function converseInput(config: LlmConfig, messages: readonly ChatMessage[]) {
  return {
    modelId: config.model,
    system: messages.filter((m) => m.role === 'system').map((m) => ({ text: m.content })),
    messages: messages
      .filter((m) => m.role !== 'system')
      .map((m) => ({ role: m.role as 'user' | 'assistant', content: [{ text: m.content }] })),
    inferenceConfig: {
      temperature: config.temperature,
      ...(config.maxTokens ? { maxTokens: config.maxTokens } : {}),
    },
  };
}

/** Text pieces from Amazon Bedrock's ConverseStream. */
export function bedrockConverseStream(config: LlmConfig): StreamRequest {
  const name = `bedrock (${config.model})`;
  return async function* (messages, signal) {
    const { ConverseStreamCommand } = await import('@aws-sdk/client-bedrock-runtime');
    const client = await getBedrockClient(config.bedrockRegion, config.bedrockEndpoint);
    try {
      const response = await client.send(
        new ConverseStreamCommand(converseInput(config, messages)),
        { abortSignal: signal },
      );
      for await (const event of response.stream ?? []) {
        const piece = event.contentBlockDelta?.delta?.text;
        if (piece) yield piece;
        const failure =
          event.internalServerException ??
          event.modelStreamErrorException ??
          event.throttlingException ??
          event.serviceUnavailableException ??
          event.validationException;
        if (failure) throw failure;
      }
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      const { retryable, status, message } = classifyBedrockError(err);
      throw new ProviderError(name, message, { retryable, status, cause: err });
    }
  };
}
