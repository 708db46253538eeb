/**
 * POST /query/stream through the local stack over real HTTP (chunked NDJSON), with the scripted
 * LLM streaming slowly: lines arrive while the answer is written, a cached answer streams from
 * the cache, a provider failing mid-stream ends with an error line, a client that goes away
 * stops the provider request, and an answer longer than 30 s completes. POST /query answers a
 * clear 504 pointing here before its deadline.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FAIL_RESPONSE } from '../../lib/lightrag-constants.ts';
import { lambdaContext } from '../../lib/local/lambda-context.ts';
import { type LocalStack, startLocalStack } from '../../lib/local/stack.ts';
import { apiEvent } from '../support/api-event.ts';
import { createTestDatabase, TARGET } from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

interface Line {
  at: number;
  value: Record<string, unknown>;
}

describe(`POST /query/stream on ${TARGET}`, () => {
  let stack: LocalStack;
  let llm: ScriptedLlm;
  const savedEnv = { ...process.env };

  before(async () => {
    llm = await startScriptedLlm();
    const target = await createTestDatabase({ LOG_LEVEL: 'silent', ...scriptedLlmEnv(llm) });
    Object.assign(process.env, target.env);
    if (target.env.DATABASE_DRIVER === 'pglite') delete process.env.DATABASE_URL;
    stack = await startLocalStack({ dataDir: null, retryDelaySeconds: 0 });
    const submitted = await fetch(`${stack.apiUrl}/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        content: 'Comets are icy bodies. [[E:Comet|Concept|An icy body that orbits the Sun.]]',
        filePath: 'comets.md',
      }),
    });
    const { documents } = (await submitted.json()) as { documents: Array<{ docId: string }> };
    for (const deadline = Date.now() + 60_000; ; ) {
      const doc = (await (
        await fetch(`${stack.apiUrl}/documents/${documents[0]!.docId}`)
      ).json()) as {
        status: string;
      };
      if (doc.status === 'processed') break;
      assert.ok(Date.now() < deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    await stack.stop();
    await llm.close();
    process.env = savedEnv;
  });

  /** Posts and reads NDJSON lines as they arrive, with their arrival time. */
  async function stream(body: unknown, options: { abortAfterLines?: number } = {}) {
    const controller = new AbortController();
    const started = performance.now();
    const res = await fetch(`${stack.apiUrl}/query/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    const lines: Line[] = [];
    let buffer = '';
    const decoder = new TextDecoder();
    try {
      for await (const bytes of res.body!) {
        buffer += decoder.decode(bytes as Uint8Array, { stream: true });
        let nl = buffer.indexOf('\n');
        while (nl >= 0) {
          lines.push({ at: performance.now() - started, value: JSON.parse(buffer.slice(0, nl)) });
          buffer = buffer.slice(nl + 1);
          nl = buffer.indexOf('\n');
          if (options.abortAfterLines && lines.length >= options.abortAfterLines)
            controller.abort();
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    }
    return { res, lines, totalMs: performance.now() - started, rest: buffer };
  }

  const text = (lines: Line[]) =>
    lines
      .filter((l) => 'response' in l.value)
      .map((l) => l.value.response)
      .join('');

  it('sends the references first, then the answer as it is written', async () => {
    llm.streamText = Array.from({ length: 20 }, (_, i) => `word${i}`).join(' ');
    llm.streamDelayMs = 100;
    const { res, lines, totalMs } = await stream({ query: 'What are comets?', mode: 'naive' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
    assert.deepEqual(Object.keys(lines[0]!.value), ['references']);
    assert.equal(
      (lines[0]!.value.references as Array<{ file_path: string }>)[0]!.file_path,
      'comets.md',
    );
    assert.equal(text(lines), llm.streamText);
    const firstText = lines.find((l) => 'response' in l.value)!;
    assert.ok(lines[0]!.at < totalMs - 1500, `references at ${lines[0]!.at} of ${totalMs} ms`);
    assert.ok(firstText.at < totalMs - 1500, `first text at ${firstText.at} of ${totalMs} ms`);
    assert.ok(lines.length >= 21, 'one line per piece');
  });

  it('with include_progress: progress steps before the references, and response_time last', async () => {
    llm.streamDelayMs = 0;
    const body = { query: 'What are comets made of?', mode: 'naive', include_progress: true };
    const { lines } = await stream(body);
    const keys = lines.map((l) => Object.keys(l.value)[0]);
    // LightRAG's protocol: {"progress": "<step>"} lines, then the references, the text, the time.
    assert.deepEqual(keys.slice(0, 3), ['progress', 'progress', 'references'], keys.join());
    assert.deepEqual(
      lines.filter((l) => 'progress' in l.value).map((l) => l.value.progress),
      ['retrieving_context', 'generating_response'],
    );
    assert.equal(keys.at(-1), 'response_time');
    assert.equal(typeof lines.at(-1)!.value.response_time, 'number');
    assert.equal(text(lines), llm.streamText);
    const graph = await stream({ ...body, mode: 'local' });
    assert.equal(graph.lines[0]!.value.progress, 'extracting_keywords');
    // Without it: LightRAG's original protocol, references first, no progress and no time line.
    const plain = await stream({ ...body, include_progress: false });
    assert.deepEqual(Object.keys(plain.lines[0]!.value), ['references']);
    assert.ok(plain.lines.every((l) => !('progress' in l.value) && !('response_time' in l.value)));
  });

  it("POST /query answers LightRAG's shape; POST /query/detailed keeps ours", async () => {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${stack.apiUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, path);
      return (await res.json()) as any;
    };
    const body = { query: 'What are comets?', mode: 'naive' };
    const lightrag = await post('/query', body);
    assert.deepEqual(Object.keys(lightrag).sort(), ['references', 'response', 'response_time']);
    assert.ok(lightrag.response.length > 0);
    assert.deepEqual(lightrag.references, [{ reference_id: '1', file_path: 'comets.md' }]);
    assert.equal(typeof lightrag.response_time, 'number');
    const withContent = await post('/query', { ...body, include_chunk_content: true });
    assert.match(withContent.references[0].content[0], /Comets are icy bodies/);
    assert.equal(
      'references' in (await post('/query', { ...body, include_references: false })),
      false,
    );
    // only_need_context: the context text the prompt would carry, as LightRAG answers it.
    const context = await post('/query', { ...body, only_need_context: true });
    assert.match(context.response, /^---Document Chunks---\n.*Comets are icy bodies/s);
    assert.match(context.response, /\[1\] comets\.md/);
    const graph = await post('/query', { ...body, mode: 'local', only_need_context: true });
    assert.match(graph.response, /^Knowledge Graph Data \(Entity\):/);
    // The same context streamed.
    const streamed = await stream({ ...body, only_need_context: true });
    assert.equal(text(streamed.lines), context.response);
    // Ours: mode, structured context, numeric references, the answer.
    const ours = await post('/query/detailed', body);
    assert.equal(ours.mode, 'naive');
    assert.equal(ours.answer, lightrag.response, 'the same answer, from the cache');
    assert.equal(ours.context.chunks[0].file_path, 'comets.md');
    assert.equal(ours.references[0].reference_id, 1);
  });

  it('streams a cached answer from the cache, and all six modes stream', async () => {
    const before = llm.count('answer');
    const { res, lines } = await stream({ query: 'What are comets?', mode: 'naive' });
    assert.equal(res.headers.get('x-cache'), 'hit');
    assert.equal(text(lines), llm.streamText);
    assert.equal(llm.count('answer'), before, 'no LLM call');
    llm.streamDelayMs = 0;
    for (const mode of ['local', 'global', 'hybrid', 'mix', 'bypass']) {
      const r = await stream({ query: `Comets in ${mode}?`, mode });
      assert.equal(r.res.status, 200, mode);
      // A mode that retrieves nothing answers LightRAG's fixed response, without the LLM.
      assert.ok([llm.streamText, FAIL_RESPONSE].includes(text(r.lines)), mode);
    }
    const noRefs = await stream({
      query: 'Comets again?',
      mode: 'naive',
      include_references: false,
    });
    assert.ok(!('references' in noRefs.lines[0]!.value));
  });

  it('ends with an error line when the provider fails mid-stream, and caches nothing', async () => {
    llm.streamFailAfter = 3;
    const { res, lines } = await stream({ query: 'Tell me about comets, please.', mode: 'naive' });
    assert.equal(res.status, 200);
    assert.equal(lines.filter((l) => 'response' in l.value).length, 3);
    assert.deepEqual(Object.keys(lines.at(-1)!.value), ['error']);
    assert.match(String(lines.at(-1)!.value.error), /model provider/);
    llm.streamFailAfter = undefined;
    const again = await stream({ query: 'Tell me about comets, please.', mode: 'naive' });
    assert.equal(again.res.headers.get('x-cache'), null, 'the partial answer was not cached');
    assert.equal(text(again.lines), llm.streamText);
  });

  it('a provider failing before the first text is an ordinary 503, not a stream', async () => {
    llm.faults.push({ kind: 'answer', status: 503 });
    const res = await fetch(`${stack.apiUrl}/query/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'Refused before it starts?', mode: 'bypass' }),
    });
    assert.equal(res.status, 503);
    assert.equal(
      ((await res.json()) as { error: { code: string } }).error.code,
      'PROVIDER_UNAVAILABLE',
    );
  });

  it('refuses bad requests before streaming, with their status', async () => {
    const bad = await fetch(`${stack.apiUrl}/query/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query": 5}',
    });
    assert.equal(bad.status, 400);
    assert.equal(
      ((await bad.json()) as { error: { code: string } }).error.code,
      'VALIDATION_FAILED',
    );
  });

  it('stops the provider request when the client goes away', async () => {
    llm.streamText = Array.from({ length: 30 }, (_, i) => `slow${i}`).join(' ');
    llm.streamDelayMs = 100;
    const abortedBefore = llm.streamsAborted;
    const { lines } = await stream(
      { query: 'A question to abandon?', mode: 'bypass' },
      { abortAfterLines: 2 },
    );
    assert.equal(lines.length, 2);
    for (const deadline = Date.now() + 5000; llm.streamsAborted === abortedBefore; ) {
      assert.ok(Date.now() < deadline, 'the provider request was not aborted');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('completes an answer that takes longer than 30 seconds', { timeout: 60_000 }, async () => {
    llm.streamText = Array.from({ length: 32 }, (_, i) => `long${i}`).join(' ');
    llm.streamDelayMs = 1000;
    const { lines, totalMs } = await stream({ query: 'A long answer, please?', mode: 'bypass' });
    assert.ok(
      totalMs > 30_000,
      `${totalMs} ms: ${JSON.stringify(lines.slice(0, 3).map((l) => l.value))} … ${lines.length} lines`,
    );
    assert.equal(text(lines), llm.streamText);
    assert.ok(lines.find((l) => 'response' in l.value)!.at < 3000, 'first text within seconds');
    llm.streamDelayMs = 0;
  });

  it('the CLI prints the answer as it is written (query --stream)', async () => {
    const { runCli } = await import('../../lib/cli/main.ts');
    llm.streamText = 'one two three four';
    llm.streamDelayMs = 20;
    const writes: string[] = [];
    const out: string[] = [];
    const code = await runCli(
      ['query', 'Stream to the terminal?', '--mode', 'bypass', '--stream'],
      {
        env: { ...process.env, LOG_LEVEL: 'silent' },
        out: (l) => out.push(l),
        err: (l) => out.push(l),
        write: (t) => writes.push(t),
      },
    );
    assert.equal(code, 0, out.join('\n'));
    assert.deepEqual(writes, ['one ', 'two ', 'three ', 'four', '\n']);
    llm.streamDelayMs = 0;
  });

  it('counts the answers, streamed and cached, in GET /usage', async () => {
    const res = await fetch(`${stack.apiUrl}/usage?since=1d`);
    assert.equal(res.status, 200);
    const report = (await res.json()) as {
      totals: Record<
        string,
        { calls: number; cacheHits: number; promptTokens: number; completionTokens: number }
      >;
    };
    // Modes that retrieved nothing answered without the LLM (no call counted).
    assert.ok(report.totals.answer!.calls >= 4, JSON.stringify(report.totals));
    assert.ok(report.totals.answer!.cacheHits >= 1, 'the answer streamed from the cache');
    assert.ok(
      report.totals.answer!.completionTokens > 0,
      'streamed answers counted with the tokenizer',
    );
    const bad = await fetch(`${stack.apiUrl}/usage?since=yesterday`);
    assert.equal(bad.status, 400);
  });

  it('POST /query answers 504 ANSWER_TIMEOUT, pointing to the stream, before its deadline', async () => {
    const { handler } = await import('../../functions/query.ts');
    llm.delayMs = 10_000;
    try {
      const started = performance.now();
      const res = (await handler(
        apiEvent('POST /query', { body: { query: 'Slow non-streamed answer?', mode: 'bypass' } }),
        lambdaContext('query', 3000),
      )) as { statusCode: number; body: string };
      const ms = performance.now() - started;
      assert.equal(res.statusCode, 504);
      const { error } = JSON.parse(res.body);
      assert.equal(error.code, 'ANSWER_TIMEOUT');
      assert.match(error.message, /POST \/query\/stream/);
      assert.ok(ms < 2900, `answered in ${ms} ms, before the 3 s deadline`);
    } finally {
      llm.delayMs = 0;
    }
  });
});
