/**
 * Chat models for answers (`LLM_PROVIDER`): `openai` (any OpenAI-compatible chat completions
 * endpoint, lib/llm/openai.ts), `bedrock` (the Converse API, lib/llm/bedrock.ts) or `none`
 * (context only). Each provider's one-shot and streamed requests are wrapped by one
 * {@link RetryingLlm} (lib/llm/retrying.ts): timeouts, retries, counting.
 */
import type { LlmConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { llmName } from '../settings/api.ts';
import { bedrockConverse, bedrockConverseStream } from './bedrock.ts';
import { openAiChat, openAiChatStream } from './openai.ts';
import { RetryingLlm } from './retrying.ts';
import type { Llm } from './types.ts';

export type { ChatMessage, CompletionOptions, Llm } from './types.ts';

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
