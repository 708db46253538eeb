/**
 * Bedrock as the deployed functions use it by default, on loopback: Titan text embeddings
 * (InvokeModel) answered with the lexical hash embedder, and Converse / ConverseStream answered by
 * the scripted LLM (test/support/scripted-llm.ts), so the graph tests' markers, counts and
 * streamed text work unchanged through the Bedrock wire format.
 */
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { type FakeBedrock, startFakeBedrock } from './bedrock-server.ts';
import type { ScriptedLlm } from './scripted-llm.ts';

type ConverseBody = {
  system?: Array<{ text: string }>;
  messages: Array<{ role: string; content: Array<{ text?: string }> }>;
};

/** The Converse request as the OpenAI chat messages the scripted LLM reads. */
function chatMessages(body: ConverseBody) {
  return [
    ...(body.system ?? []).map((s) => ({ role: 'system', content: s.text })),
    ...body.messages.map((m) => ({
      role: m.role,
      content: m.content.map((c) => c.text ?? '').join(''),
    })),
  ];
}

async function* streamedPieces(llm: ScriptedLlm, body: ConverseBody): AsyncGenerator<string> {
  const res = await fetch(`${llm.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'scripted', messages: chatMessages(body), stream: true }),
  });
  let buffered = '';
  for await (const chunk of res.body!) {
    buffered += Buffer.from(chunk).toString();
    let end = buffered.indexOf('\n\n');
    while (end >= 0) {
      const data = buffered.slice(0, end).replace(/^data: /, '');
      buffered = buffered.slice(end + 2);
      end = buffered.indexOf('\n\n');
      if (data === '[DONE]') return;
      const piece = JSON.parse(data).choices?.[0]?.delta?.content;
      if (piece) yield piece;
    }
  }
}

/** Starts the Bedrock double; `bedrockEnv` points the functions at it. */
export async function startScriptedBedrock(llm: ScriptedLlm): Promise<FakeBedrock> {
  const embedders = new Map<number, HashEmbedder>();
  return startFakeBedrock(async (path, body) => {
    if (path.endsWith('/invoke')) {
      const dimension = Number(body.dimensions ?? 1024);
      if (!embedders.has(dimension)) embedders.set(dimension, new HashEmbedder(dimension));
      const text = String(body.inputText ?? '');
      return {
        embedding: embedders.get(dimension)!.embedOne(text),
        inputTextTokenCount: text.split(/\s+/).filter(Boolean).length,
      };
    }
    if (path.endsWith('/converse-stream')) return streamedPieces(llm, body as ConverseBody);
    const res = await fetch(`${llm.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'scripted', messages: chatMessages(body as ConverseBody) }),
    });
    const reply = (await res.json()) as {
      choices: Array<{ message: { content: string } }>;
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    return {
      output: {
        message: { role: 'assistant', content: [{ text: reply.choices[0]!.message.content }] },
      },
      stopReason: 'end_turn',
      usage: {
        inputTokens: reply.usage.prompt_tokens,
        outputTokens: reply.usage.completion_tokens,
        totalTokens: reply.usage.total_tokens,
      },
    };
  });
}

/** The environment of a function using Bedrock (the deployed default) through the double. */
export function bedrockEnv(bedrock: FakeBedrock, models: { llm: string; embedding: string }) {
  return {
    LLM_PROVIDER: 'bedrock',
    LLM_MODEL: models.llm,
    EMBEDDING_PROVIDER: 'bedrock',
    EMBEDDING_MODEL: models.embedding,
    BEDROCK_ENDPOINT: bedrock.endpoint,
    LLM_MAX_RETRIES: '0',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  };
}
