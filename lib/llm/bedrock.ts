/**
 * Amazon Bedrock's Converse API (`LLM_PROVIDER=bedrock`): one request shape for Claude, Llama,
 * Mistral, Nova, …, one-shot (Converse, authorised as `bedrock:InvokeModel`) and streamed
 * (ConverseStream, authorised as `bedrock:InvokeModelWithResponseStream`).
 */
import { classifyBedrockError, getBedrockClient } from '../aws/bedrock-client.ts';
import type { LlmConfig } from '../config.ts';
import { ProviderError } from '../errors.ts';
import type { ProviderRequest, StreamRequest } from './retrying.ts';
import type { ChatMessage } from './types.ts';

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

/** Amazon Bedrock Converse API: one request shape for Claude, Llama, Mistral, Nova, … */
export function bedrockConverse(config: LlmConfig): ProviderRequest {
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
