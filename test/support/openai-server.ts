/**
 * A local server speaking the OpenAI `/v1/embeddings` and `/v1/chat/completions` wire formats
 * (answers echo the question), with scriptable failures:
 * 429 with Retry-After, 5xx, malformed bodies, wrong dimensions, slow answers. Its vectors come
 * from the hash embedder, so answers are deterministic.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { HashEmbedder } from '../../lib/embedding/hash.ts';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'malformed' }
  | { kind: 'dimensions'; dimension: number }
  | { kind: 'slow'; ms: number }
  | { kind: 'shuffled' };

export interface FakeOpenAi {
  baseUrl: string;
  /** Requests received, with their parsed bodies and headers. */
  requests: Array<{
    body: {
      model: string;
      input: string[];
      dimensions?: number;
      messages?: Array<{ role: string; content: string }>;
    };
    headers: IncomingMessage['headers'];
    url: string;
  }>;
  /** Faults applied to the next requests, one each, in order. */
  faults: Fault[];
  /** A fault applied to every request while set. */
  outage: Fault | undefined;
  /**
   * Requests whose body contains this text are never answered (a provider call that hangs until
   * the function is killed); they stay unanswered after it is cleared, until close().
   */
  hangOn: string | undefined;
  close(): Promise<void>;
}

export async function startFakeOpenAi(dimension: number): Promise<FakeOpenAi> {
  const state: Omit<FakeOpenAi, 'baseUrl' | 'close'> = {
    requests: [],
    faults: [],
    outage: undefined,
    hangOn: undefined,
  };
  const server: Server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw || '{}');
    state.requests.push({ body, headers: req.headers, url: req.url ?? '' });
    if (state.hangOn !== undefined && raw.includes(state.hangOn)) return;
    const fault = state.outage ?? state.faults.shift();
    const send = (status: number, payload: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(payload);
    };
    if (fault?.kind === 'status') {
      send(
        fault.status,
        fault.body ?? JSON.stringify({ error: { message: `injected ${fault.status}` } }),
        fault.retryAfter ? { 'retry-after': fault.retryAfter } : {},
      );
      return;
    }
    if (fault?.kind === 'malformed') return send(200, '{"data": [ {"embedding": [0.1,');
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    if (req.url?.startsWith('/v1/chat/completions')) {
      const messages = body.messages as Array<{ role: string; content: string }>;
      const question = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
      const content = `Answer to "${question}" from ${messages.length} messages.`;
      return send(
        200,
        JSON.stringify({
          id: 'c',
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
        }),
      );
    }
    const dim = fault?.kind === 'dimensions' ? fault.dimension : dimension;
    const vectors = (body.input as string[]).map((text) => new HashEmbedder(dim).embedOne(text));
    let data = vectors.map((embedding, index) => ({ object: 'embedding', index, embedding }));
    if (fault?.kind === 'shuffled') data = [...data].reverse();
    send(
      200,
      JSON.stringify({
        object: 'list',
        data,
        model: body.model,
        usage: { prompt_tokens: 1, total_tokens: 1 },
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(state, {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  }) as FakeOpenAi;
}
