/**
 * A scripted LLM on loopback speaking the OpenAI chat-completions wire format, for the graph
 * tests. It recognises LightRAG's four prompt kinds and answers each from a script:
 * - extraction: the chunk (inside the code fence) is scanned for markers written in the test
 *   documents, `[[E:name|type|description]]` and `[[R:source|target|keywords|description]]`,
 *   returned as `<|#|>` records (or JSON when the request asks for json_object);
 *   markers `[[G:…]]` (same fields as E) are only "found" by the gleaning pass;
 * - summaries: `SUMMARY of <name> (<n> fragments)`;
 * - keywords: a JSON object from `keywords`, keyed by question (default: empty lists);
 * - answers: an echo naming the mode's context sizes.
 * Faults can be queued, and every request is recorded with its kind.
 */
import { createServer, type Server } from 'node:http';

export type PromptKind = 'extract' | 'glean' | 'summary' | 'keywords' | 'answer';

export interface ScriptedLlm {
  baseUrl: string;
  requests: Array<{ kind: PromptKind; body: Record<string, unknown> }>;
  /** Keyword replies by question. */
  keywords: Map<string, { high_level_keywords: string[]; low_level_keywords: string[] }>;
  /** HTTP statuses for the next requests of a kind (e.g. 400 for an extraction). */
  faults: Array<{ kind: PromptKind; status: number }>;
  /** Extractions answered without the completion marker (a cut-off reply). */
  truncate: boolean;
  /** Runs before each reply (e.g. to inspect the database while a caller waits on the LLM). */
  beforeReply?: (kind: PromptKind) => Promise<void>;
  /** Latency of every reply, in milliseconds. */
  delayMs: number;
  /** Streamed answers (`stream: true`): the text to stream instead of the scripted answer. */
  streamText?: string;
  /** Milliseconds between streamed pieces (one piece per word). */
  streamDelayMs: number;
  /** Cut the connection after this many streamed pieces (a provider failing mid-stream). */
  streamFailAfter?: number;
  /** Streamed requests whose client went away before the stream ended. */
  streamsAborted: number;
  /** Streamed requests that ran to [DONE]. */
  streamsCompleted: number;
  count(kind: PromptKind): number;
  close(): Promise<void>;
}

const MARKER = /\[\[([ERG]):([^\]]*)\]\]/g;

function fence(text: string): string {
  const match = /```\n([\s\S]*?)\n```/.exec(text);
  return match?.[1] ?? '';
}

function extractionReply(chunk: string, pass: 'E' | 'G', json: boolean, truncate: boolean) {
  const entities: string[][] = [];
  const relations: string[][] = [];
  for (const [, kind, body] of chunk.matchAll(MARKER)) {
    const fields = body!.split('|');
    if (kind === 'R' && pass === 'E') relations.push(fields);
    if (kind === pass) entities.push(fields);
  }
  if (json) {
    return JSON.stringify({
      entities: entities.map(([name, type, description]) => ({ name, type, description })),
      relationships: relations.map(([source, target, keywords, description]) => ({
        source,
        target,
        keywords,
        description,
      })),
    });
  }
  const lines = [
    ...entities.map((f) => ['entity', ...f].join('<|#|>')),
    ...relations.map((f) => ['relation', ...f].join('<|#|>')),
  ];
  if (!truncate) lines.push('<|COMPLETE|>');
  return lines.join('\n');
}

export async function startScriptedLlm(): Promise<ScriptedLlm> {
  const state = {
    requests: [] as ScriptedLlm['requests'],
    keywords: new Map() as ScriptedLlm['keywords'],
    faults: [] as ScriptedLlm['faults'],
    truncate: false,
    beforeReply: undefined as ScriptedLlm['beforeReply'],
    delayMs: 0,
    streamText: undefined as string | undefined,
    streamDelayMs: 0,
    streamFailAfter: undefined as number | undefined,
    streamsAborted: 0,
    streamsCompleted: 0,
  };
  const server: Server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw || '{}') as {
      messages: Array<{ role: string; content: string }>;
      response_format?: { type: string };
      stream?: boolean;
    };
    const system = body.messages.find((m) => m.role === 'system')?.content ?? '';
    const last = body.messages.at(-1)?.content ?? '';
    const kind: PromptKind = system.includes('knowledge-graph specialist')
      ? last.includes('missed or incorrectly formatted')
        ? 'glean'
        : 'extract'
      : system.includes('merge descriptions')
        ? 'summary'
        : system.includes('extract search keywords')
          ? 'keywords'
          : 'answer';
    state.requests.push({ kind, body });
    await state.beforeReply?.(kind);
    if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
    const faultAt = state.faults.findIndex((f) => f.kind === kind);
    if (faultAt >= 0) {
      const [fault] = state.faults.splice(faultAt, 1);
      res.writeHead(fault!.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `scripted ${fault!.status} for ${kind}` } }));
      return;
    }
    const json = body.response_format?.type === 'json_object';
    const user = body.messages.find((m) => m.role === 'user')?.content ?? '';
    let content: string;
    if (kind === 'extract' || kind === 'glean') {
      content = extractionReply(fence(user), kind === 'extract' ? 'E' : 'G', json, state.truncate);
    } else if (kind === 'summary') {
      const name = /^(?:Entity|Relation): (.*)$/m.exec(last)?.[1] ?? '?';
      const fragments = last.split('\n').filter((l) => l.startsWith('"')).length;
      content = `SUMMARY of ${name} (${fragments} fragments)`;
    } else if (kind === 'keywords') {
      const question = last.split('Question:\n')[1] ?? '';
      content = JSON.stringify(
        state.keywords.get(question) ?? { high_level_keywords: [], low_level_keywords: [] },
      );
    } else {
      const entities = (system.match(/"entity":/g) ?? []).length;
      const relations = (system.match(/"entity1":/g) ?? []).length;
      const chunks = (system.match(/"reference_id":/g) ?? []).length;
      content = `ANSWER with ${entities} entities, ${relations} relations, ${chunks} chunks.`;
    }
    if (body.stream) {
      // Server-sent events as OpenAI streams them: one delta per word, then [DONE].
      const pieces = (state.streamText ?? content).match(/\S+\s*/g) ?? [];
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let closed = false;
      res.on('close', () => {
        closed = true;
      });
      for (const [i, piece] of pieces.entries()) {
        if (state.streamFailAfter !== undefined && i === state.streamFailAfter) {
          // Let what was written reach the client, then cut the connection.
          await new Promise((r) => setTimeout(r, 100));
          res.destroy();
          return;
        }
        if (state.streamDelayMs > 0) await new Promise((r) => setTimeout(r, state.streamDelayMs));
        if (closed) {
          state.streamsAborted += 1;
          return;
        }
        res.write(
          `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: piece } }] })}\n\n`,
        );
      }
      res.end('data: [DONE]\n\n');
      state.streamsCompleted += 1;
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'scripted',
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        // Fixed usage per call, so usage aggregates can be checked exactly.
        usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(state, {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    count: (kind: PromptKind) => state.requests.filter((r) => r.kind === kind).length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as ScriptedLlm;
}

/** The environment that points the LLM provider at the scripted server. */
export function scriptedLlmEnv(llm: ScriptedLlm): Record<string, string> {
  return {
    LLM_PROVIDER: 'openai',
    LLM_MODEL: 'scripted-model',
    LLM_BASE_URL: llm.baseUrl,
    LLM_API_KEY: 'test-key',
    LLM_MAX_RETRIES: '0',
  };
}
