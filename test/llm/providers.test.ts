import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { ProviderError } from '../../lib/errors.ts';
import { createLlm } from '../../lib/llm/index.ts';
import { UsageRecorder, withUsage } from '../../lib/ops/usage.ts';
import { type FakeBedrock, startFakeBedrock } from '../support/bedrock-server.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../support/openai-server.ts';

const messages = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'What is pgvector?' },
];

describe('OpenAI-compatible chat completions against a local server', () => {
  let server: FakeOpenAi;
  before(async () => {
    server = await startFakeOpenAi(8);
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.faults = [];
    server.outage = undefined;
  });

  const llm = (extra: Record<string, string> = {}) =>
    createLlm(
      loadConfig({
        LLM_PROVIDER: 'openai',
        LLM_MODEL: 'gpt-test',
        LLM_BASE_URL: server.baseUrl,
        LLM_API_KEY: 'sk-chat',
        LLM_MAX_RETRIES: '2',
        LLM_TEMPERATURE: '0.3',
        LLM_MAX_TOKENS: '256',
        ...extra,
      }).llm,
    )!;

  it('sends the messages, model, temperature and max_tokens, and returns the content', async () => {
    const answer = await llm().complete(messages);
    assert.equal(answer, 'Answer to "What is pgvector?" from 2 messages.');
    const request = server.requests[0]!;
    assert.equal(request.headers.authorization, 'Bearer sk-chat');
    assert.deepEqual(request.body.messages, messages);
    assert.equal(request.body.model, 'gpt-test');
    assert.equal((request.body as { temperature?: number }).temperature, 0.3);
    assert.equal((request.body as { max_tokens?: number }).max_tokens, 256);
  });

  it('retries 429 and malformed answers, and refuses 400 at once', async () => {
    server.faults = [{ kind: 'status', status: 429, retryAfter: '0' }, { kind: 'malformed' }];
    assert.match(await llm().complete(messages), /^Answer to/);
    assert.equal(server.requests.length, 3);
    server.outage = {
      kind: 'status',
      status: 400,
      body: JSON.stringify({ error: { message: 'context too long' } }),
    };
    await assert.rejects(llm().complete(messages), (err: Error) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.retryable, false);
      assert.match(err.message, /HTTP 400: context too long/);
      assert.doesNotMatch(err.message, /sk-chat/);
      return true;
    });
  });

  it('times out a silent server', async () => {
    server.outage = { kind: 'slow', ms: 1500 };
    await assert.rejects(
      llm({ LLM_TIMEOUT_MS: '200', LLM_MAX_RETRIES: '0' }).complete(messages),
      /no answer within 200 ms/,
    );
  });

  it('is absent with LLM_PROVIDER=none and needs a model otherwise', () => {
    assert.equal(createLlm(loadConfig({}).llm), undefined);
    assert.throws(() => loadConfig({ LLM_PROVIDER: 'openai' }), /LLM_MODEL: is required/);
  });
});

describe('Bedrock Converse against a local HTTP/2 server', () => {
  let server: FakeBedrock;
  before(async () => {
    server = await startFakeBedrock((path, body) =>
      path.endsWith('/converse-stream')
        ? ['Bedrock ', 'streams ', 'this.']
        : {
            output: {
              message: {
                role: 'assistant',
                content: [{ text: `Bedrock says: ${body.messages.at(-1).content[0].text}` }],
              },
            },
            stopReason: 'end_turn',
            usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
            metrics: { latencyMs: 1 },
          },
    );
  });
  after(() => server.close());
  beforeEach(() => {
    server.calls.length = 0;
    server.faults.length = 0;
  });
  const calls = () => server.calls;

  const bedrock = () =>
    createLlm(
      loadConfig({
        LLM_PROVIDER: 'bedrock',
        LLM_MODEL: 'anthropic.claude-3-5-haiku-20241022-v1:0',
        BEDROCK_ENDPOINT: server.endpoint,
        AWS_REGION: 'us-east-1',
        LLM_MAX_RETRIES: '1',
      }).llm,
    )!;

  it('sends system prompts apart from the turns and returns the text', async () => {
    assert.equal(await bedrock().complete(messages), 'Bedrock says: What is pgvector?');
    assert.equal(calls()[0]!.path, '/model/anthropic.claude-3-5-haiku-20241022-v1:0/converse');
    assert.deepEqual(calls()[0]!.body.system, [{ text: 'Be brief.' }]);
    assert.deepEqual(calls()[0]!.body.messages, [
      { role: 'user', content: [{ text: 'What is pgvector?' }] },
    ]);
  });

  it('streams ConverseStream events as they come, retrying throttling before the first', async () => {
    server.streamDelayMs = 100;
    server.faults.push({ status: 429, type: 'ThrottlingException' });
    const pieces: Array<{ text: string; at: number }> = [];
    const started = performance.now();
    for await (const text of bedrock().stream(messages))
      pieces.push({ text, at: performance.now() - started });
    assert.deepEqual(
      pieces.map((p) => p.text),
      ['Bedrock ', 'streams ', 'this.'],
    );
    assert.ok(pieces[2]!.at - pieces[0]!.at >= 150, 'pieces arrive apart');
    assert.equal(calls().length, 2, 'the throttled attempt, then the stream');
    assert.equal(
      calls()[1]!.path,
      '/model/anthropic.claude-3-5-haiku-20241022-v1:0/converse-stream',
    );
    server.streamDelayMs = 0;
  });

  it('counts every call in one place: one-shot, streamed to the end, and stopped early', async () => {
    const recorder = new UsageRecorder();
    const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
    await withUsage(recorder, async () => {
      await bedrock().complete(messages);
      const whole: string[] = [];
      for await (const text of bedrock().stream(messages, { countTokens: words })) whole.push(text);
      assert.equal(whole.join(''), 'Bedrock streams this.');
      // A client gone after the first piece: the provider still billed the call.
      for await (const _ of bedrock().stream(messages, { countTokens: words })) break;
    });
    const [row] = recorder.rows;
    assert.equal(recorder.rows.length, 1);
    assert.equal(row!.purpose, 'answer');
    assert.equal(row!.calls, 3, 'the one-shot call and both streams');
    assert.equal(row!.cacheHits, 0);
    // One-shot: the provider's own count (1 + 1); streams: the tokenizer's (3 and 1 words out).
    assert.equal(row!.completionTokens, 1 + 3 + 1);
  });

  it('retries throttling and refuses access errors', async () => {
    server.faults.push({ status: 429, type: 'ThrottlingException' });
    assert.match(await bedrock().complete(messages), /^Bedrock says/);
    assert.equal(calls().length, 2);
    server.faults.push({ status: 403, type: 'AccessDeniedException' });
    await assert.rejects(
      bedrock().complete(messages),
      (err: Error) => err instanceof ProviderError && !err.retryable,
    );
  });
});

describe('provider endpoints and credentials', () => {
  it('never follows a redirect, so the key stays with the configured endpoint', async () => {
    const { createServer } = await import('node:http');
    const seenElsewhere: Array<Record<string, unknown>> = [];
    const elsewhere = createServer((req, res) => {
      seenElsewhere.push(req.headers);
      res.end('{}');
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
    const target = `http://localhost:${(elsewhere.address() as { port: number }).port}`;
    const redirecting = createServer((_req, res) => {
      res.writeHead(307, { location: `${target}/v1/chat/completions` });
      res.end();
    });
    await new Promise<void>((r) => redirecting.listen(0, '127.0.0.1', r));
    try {
      const port = (redirecting.address() as { port: number }).port;
      const llm = createLlm(
        loadConfig({
          LLM_PROVIDER: 'openai',
          LLM_MODEL: 'm',
          LLM_API_KEY: 'azure-secret',
          LLM_API_VERSION: '2024-10-21',
          LLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
          LLM_MAX_RETRIES: '0',
        }).llm,
      )!;
      await assert.rejects(llm.complete([{ role: 'user', content: 'hi' }]), (err: unknown) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.retryable, false);
        assert.match(err.message, /redirect/);
        return true;
      });
      assert.equal(seenElsewhere.length, 0, 'the other origin never saw the api-key');
    } finally {
      redirecting.close();
      elsewhere.close();
    }
  });

  it('refuses plain http:// to another host unless allowed; loopback is fine', () => {
    const base = { LLM_PROVIDER: 'openai', LLM_MODEL: 'm', LLM_API_KEY: 'k' };
    assert.throws(
      () => loadConfig({ ...base, LLM_BASE_URL: 'http://models.internal/v1' }),
      /LLM_BASE_URL.*plain http:\/\/ to models\.internal/s,
    );
    assert.throws(
      () => loadConfig({ EMBEDDING_BASE_URL: 'http://10.0.0.5/v1' }),
      /EMBEDDING_BASE_URL/,
    );
    assert.equal(
      loadConfig({ ...base, LLM_BASE_URL: 'http://localhost:11434/v1' }).llm.baseUrl,
      'http://localhost:11434/v1',
    );
    assert.equal(
      loadConfig({
        ...base,
        LLM_BASE_URL: 'http://models.internal/v1/',
        ALLOW_INSECURE_PROVIDER_URLS: 'true',
      }).llm.baseUrl,
      'http://models.internal/v1',
    );
  });
});
