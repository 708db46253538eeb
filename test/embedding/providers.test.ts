import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { BatchedEmbedder } from '../../lib/embedding/batched.ts';
import { BedrockEmbeddingRequester } from '../../lib/embedding/bedrock.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { createEmbedder } from '../../lib/embedding/index.ts';
import { OpenAiEmbeddingRequester } from '../../lib/embedding/openai.ts';
import { ProviderError } from '../../lib/errors.ts';
import { parseRetryAfter, withRetry } from '../../lib/retry.ts';
import { type FakeBedrock, startFakeBedrock } from '../support/bedrock-server.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../support/openai-server.ts';

const DIM = 8;
const fast = { batchSize: 2, concurrency: 2, maxRetries: 2, timeoutMs: 2000 };

describe('OpenAI-compatible embeddings against a local server', () => {
  let server: FakeOpenAi;
  before(async () => {
    server = await startFakeOpenAi(DIM);
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.faults = [];
    server.outage = undefined;
  });

  const embedder = (
    options: Partial<ConstructorParameters<typeof OpenAiEmbeddingRequester>[0]> = {},
    config = fast,
  ) =>
    new BatchedEmbedder(
      new OpenAiEmbeddingRequester({
        baseUrl: server.baseUrl,
        model: 'text-embedding-3-small',
        apiKey: 'sk-1',
        ...options,
      }),
      DIM,
      config,
    );

  it('embeds in batches, in order, with the bearer key', async () => {
    const texts = ['one', 'two', 'three', 'four', 'five'];
    const vectors = await embedder().embed(texts);
    assert.equal(vectors.length, 5);
    assert.deepEqual(vectors[2], new HashEmbedder(DIM).embedOne('three'));
    assert.equal(server.requests.length, 3, 'batches of 2');
    assert.deepEqual(server.requests.map((r) => r.body.input.length).sort(), [1, 2, 2]);
    assert.equal(server.requests[0]!.headers.authorization, 'Bearer sk-1');
    assert.equal(server.requests[0]!.body.model, 'text-embedding-3-small');
    assert.equal(server.requests[0]!.body.dimensions, undefined);
  });

  it('puts out-of-order items back by index and sends dimensions when asked', async () => {
    server.faults = [{ kind: 'shuffled' }];
    const vectors = await embedder({ dimensions: DIM }).embed(['a', 'b']);
    assert.deepEqual(vectors[0], new HashEmbedder(DIM).embedOne('a'));
    assert.equal(server.requests[0]!.body.dimensions, DIM);
  });

  it('uses api-key and api-version for Azure OpenAI', async () => {
    await embedder({ apiVersion: '2024-10-21' }).embed(['x']);
    assert.equal(server.requests[0]!.headers['api-key'], 'sk-1');
    assert.equal(server.requests[0]!.headers.authorization, undefined);
    assert.match(server.requests[0]!.url, /api-version=2024-10-21/);
  });

  it('retries 429 honouring Retry-After, and 500, then succeeds', async () => {
    server.faults = [
      { kind: 'status', status: 429, retryAfter: '1' },
      { kind: 'status', status: 500 },
    ];
    const started = Date.now();
    const [vector] = await embedder({}, { ...fast, batchSize: 10 }).embed(['hello']);
    assert.equal(vector!.length, DIM);
    assert.equal(server.requests.length, 3);
    assert.ok(Date.now() - started >= 900, 'waited for Retry-After: 1');
  });

  it('gives up after the retries with a retryable error', async () => {
    server.outage = { kind: 'status', status: 503 };
    await assert.rejects(embedder().embed(['x']), (err: Error) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.retryable, true);
      assert.equal(err.status, 503);
      return true;
    });
    assert.equal(server.requests.length, 3, 'first attempt + 2 retries');
  });

  it('does not retry a refusal (400/401) and says why, without the key', async () => {
    server.outage = {
      kind: 'status',
      status: 401,
      body: JSON.stringify({ error: { message: 'Incorrect API key provided' } }),
    };
    await assert.rejects(embedder().embed(['x']), (err: Error) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.retryable, false);
      assert.match(err.message, /HTTP 401: Incorrect API key provided/);
      assert.doesNotMatch(err.message, /sk-1/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });

  it('treats a malformed body as retryable and wrong dimensions as final', async () => {
    server.faults = [{ kind: 'malformed' }];
    assert.equal((await embedder().embed(['x'])).length, 1, 'retried after the malformed body');
    server.outage = { kind: 'dimensions', dimension: DIM * 2 };
    await assert.rejects(embedder().embed(['x']), (err: Error) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.retryable, false);
      assert.match(err.message, /returned 16-dimension vectors but EMBEDDING_DIM is 8/);
      return true;
    });
  });

  it('times out a silent server instead of hanging', async () => {
    server.outage = { kind: 'slow', ms: 1500 };
    await assert.rejects(
      embedder({}, { ...fast, timeoutMs: 200, maxRetries: 0 }).embed(['x']),
      /no answer within 200 ms/,
    );
  });

  it('is built from configuration', async () => {
    const config = loadConfig({
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_MODEL: 'm',
      EMBEDDING_DIM: String(DIM),
      EMBEDDING_BASE_URL: `${server.baseUrl}/`,
      OPENAI_API_KEY: 'sk-env',
    });
    const e = createEmbedder(config);
    assert.equal(e.dimension, DIM);
    await e.embed(['x']);
    assert.equal(server.requests[0]!.headers.authorization, 'Bearer sk-env');
    assert.ok(createEmbedder(loadConfig({ EMBEDDING_DIM: '12' })) instanceof HashEmbedder);
  });
});

describe('Bedrock embeddings against a local server speaking the runtime API', () => {
  let server: FakeBedrock;
  before(async () => {
    server = await startFakeBedrock((path, body) => {
      const embed = (t: string, d: number) => new HashEmbedder(d).embedOne(t);
      return path.includes('titan')
        ? { embedding: embed(body.inputText, body.dimensions), inputTextTokenCount: 1 }
        : {
            id: 'x',
            embeddings: (body.texts as string[]).map((t) => embed(t, 1024)),
            texts: body.texts,
          };
    });
  });
  after(() => server.close());
  beforeEach(() => {
    server.calls.length = 0;
    server.faults.length = 0;
  });
  const calls = () => server.calls;

  const bedrock = (model: string, dimension: number) =>
    new BatchedEmbedder(
      new BedrockEmbeddingRequester({
        model,
        dimension,
        region: 'us-east-1',
        endpoint: server.endpoint,
      }),
      dimension,
      {
        ...fast,
        batchSize: 100,
      },
    );

  it('embeds with Titan v2, one text per request', async () => {
    const vectors = await bedrock('amazon.titan-embed-text-v2:0', 256).embed([
      'alpha',
      'beta',
      'gamma',
    ]);
    assert.equal(vectors.length, 3);
    assert.deepEqual(vectors[1], new HashEmbedder(256).embedOne('beta'));
    assert.equal(calls().length, 3);
    assert.equal(calls()[0]!.path, '/model/amazon.titan-embed-text-v2:0/invoke');
    const alpha = calls().find((c) => c.body.inputText === 'alpha');
    assert.deepEqual(alpha?.body, { inputText: 'alpha', dimensions: 256, normalize: true });
  });

  it('embeds with Cohere in batches, documents and queries apart', async () => {
    const e = bedrock('cohere.embed-multilingual-v3', 1024);
    assert.equal((await e.embed(['a', 'b'])).length, 2);
    await e.embed(['question?'], { purpose: 'query' });
    assert.equal(calls()[0]!.body.input_type, 'search_document');
    assert.deepEqual(calls()[0]!.body.texts, ['a', 'b']);
    assert.equal(calls()[1]!.body.input_type, 'search_query');
  });

  it('retries throttling and refuses validation errors', async () => {
    server.faults.push({ status: 429, type: 'ThrottlingException' });
    assert.equal((await bedrock('amazon.titan-embed-text-v2:0', 512).embed(['x'])).length, 1);
    assert.equal(calls().length, 2);
    server.faults.push({ status: 400, type: 'ValidationException' });
    await assert.rejects(
      bedrock('amazon.titan-embed-text-v2:0', 512).embed(['x']),
      (err: Error) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.retryable, false);
        assert.match(err.message, /ValidationException/);
        return true;
      },
    );
  });

  it('refuses unsupported models and sizes up front', () => {
    assert.throws(
      () => new BedrockEmbeddingRequester({ model: 'meta.llama3', dimension: 8 }),
      /unsupported model/,
    );
    assert.throws(
      () =>
        new BedrockEmbeddingRequester({ model: 'amazon.titan-embed-text-v2:0', dimension: 1536 }),
      /256, 512 or 1024/,
    );
  });
});

describe('retry helpers', () => {
  it('parses Retry-After seconds and dates', () => {
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseRetryAfter('0.5'), 500);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });

  it('stops on a non-retryable error and caps the delay', async () => {
    let calls = 0;
    const delays: number[] = [];
    await assert.rejects(
      withRetry(
        async () => {
          calls += 1;
          throw new Error(calls < 3 ? 'transient' : 'final');
        },
        {
          maxRetries: 5,
          maxDelayMs: 5,
          isRetryable: (e) => (e as Error).message === 'transient',
          retryAfterMs: () => 60_000,
          onRetry: (_e, _a, d) => delays.push(d),
        },
      ),
      /final/,
    );
    assert.equal(calls, 3);
    assert.deepEqual(delays, [5, 5]);
  });
});
