/**
 * OpenAI-compatible chat completions (`LLM_PROVIDER=openai`: OpenAI, Azure OpenAI, vLLM, Ollama's
 * OpenAI endpoint, …), one-shot and streamed, from one request body.
 */
import type { LlmConfig } from '../config.ts';
import { ProviderError } from '../errors.ts';
import { checkedResponse, openAiAuth, postJson } from '../provider-http.ts';
import type { ProviderRequest, StreamRequest } from './retrying.ts';
import type { ChatMessage } from './types.ts';

/** The `POST /chat/completions` body, the same for both modes but `stream`. */
export function openAiChatBody(
  config: LlmConfig,
  messages: readonly ChatMessage[],
  mode: { json?: boolean; stream?: boolean } = {},
) {
  return {
    model: config.model,
    messages,
    temperature: config.temperature,
    ...(mode.stream ? { stream: true } : {}),
    ...(config.maxTokens ? { max_tokens: config.maxTokens } : {}),
    ...(mode.json ? { response_format: { type: 'json_object' } } : {}),
  };
}

/** OpenAI-compatible `POST /chat/completions`. */
export function openAiChat(config: LlmConfig, fetchImpl?: typeof fetch): ProviderRequest {
  const name = `openai-compatible (${config.model})`;
  return async (messages, signal, options) => {
    const url = new URL(`${config.baseUrl}/chat/completions`);
    const answer = (await postJson({
      provider: name,
      url,
      headers: openAiAuth(url, config.apiKey, config.apiVersion),
      body: openAiChatBody(config, messages, { json: options.json }),
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
        body: JSON.stringify(openAiChatBody(config, messages, { stream: true })),
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
