/**
 * 10. Time to first text of a mix-mode answer, streamed (`POST /query/stream`) vs not
 * (`POST /query`), same run, over real HTTP through the local API and the real handlers, with a
 * scripted LLM writing `tokens` words `tokenMs` apart (the non-streamed reply takes as long,
 * then arrives whole). Keywords come with the request, so the only LLM call is the answer; the
 * cache is off. Retrieval alone (`only_need_context`) is measured too, for the target: first
 * text ≤ retrieval + first-token latency + 50 ms.
 */
import { Database } from '../lib/db/database.ts';
import { HashEmbedder } from '../lib/embedding/hash.ts';
import { createLlm } from '../lib/llm/index.ts';
import { IngestPipeline } from '../lib/pipeline/ingest.ts';
import { scriptedLlmEnv, startScriptedLlm } from '../test/support/scripted-llm.ts';
import { createBenchDatabase, getBridge, quiet } from './lib/env.ts';
import { summary } from './lib/stats.ts';

export interface StreamingResult {
  tokens: number;
  tokenMs: number;
  runs: number;
  retrievalMs: ReturnType<typeof summary>;
  streamed: {
    firstByteMs: ReturnType<typeof summary>;
    firstTextMs: ReturnType<typeof summary>;
    totalMs: ReturnType<typeof summary>;
  };
  whole: { firstByteMs: ReturnType<typeof summary>; totalMs: ReturnType<typeof summary> };
}

export async function streamingLatency(
  tokens: number,
  tokenMs: number,
  runs: number,
): Promise<StreamingResult> {
  const llm = await startScriptedLlm();
  const bench = await createBenchDatabase('stream');
  const env: Record<string, string> = {
    DATABASE_URL: bench.url,
    DATABASE_DRIVER: 'neon',
    NEON_WS_PROXY: (await getBridge()).address,
    EMBEDDING_DIM: '64',
    LOG_LEVEL: 'silent',
    ...scriptedLlmEnv(llm),
  };
  // The handlers read the environment once, on first use: set it before loading them.
  Object.assign(process.env, env);
  const config = (await bench.config('neon', env)) as Awaited<ReturnType<typeof bench.config>>;
  const db = new Database(config.database, quiet);
  const pipeline = new IngestPipeline(
    db,
    config,
    new HashEmbedder(64),
    quiet,
    createLlm(config.llm),
  );
  for (let i = 0; i < 20; i++) {
    await pipeline.ingest({
      content: `Report ${i} on star ${i}. [[E:Star ${i}|Concept|Star ${i} is bright.]] [[R:Star ${i}|Galaxy|part of|Star ${i} lies in the galaxy.]]`,
      filePath: `star-${i}.md`,
    });
  }
  await db.end();
  const [{ handler: query }, { handler: stream }, { startLocalApi }] = await Promise.all([
    import('../functions/query.ts'),
    import('../functions/query-stream.ts'),
    import('../lib/local/http-server.ts'),
  ]);
  const api = await startLocalApi(
    { query: query as never, documents: query as never, health: query as never },
    { stream: stream as never },
  );
  llm.streamText = Array.from({ length: tokens }, (_, i) => `word${i}`).join(' ');
  llm.streamDelayMs = tokenMs;
  const body = (i: number, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      query: `Which stars lie in the galaxy? (${i})`,
      mode: 'mix',
      hl_keywords: ['galaxy'],
      ll_keywords: ['star'],
      enable_cache: false,
      ...extra,
    });
  const post = (path: string, payload: string) =>
    fetch(`${api.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: payload,
    });
  const retrieval: number[] = [];
  const s = { firstByte: [] as number[], firstText: [] as number[], total: [] as number[] };
  const w = { firstByte: [] as number[], total: [] as number[] };
  try {
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      await (await post('/query', body(i, { only_need_context: true }))).json();
      retrieval.push(performance.now() - t);

      t = performance.now();
      const res = await post('/query/stream', body(i));
      let firstByte = 0;
      let firstText = 0;
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) {
        const now = performance.now() - t;
        if (!firstByte) firstByte = now;
        if (
          !firstText &&
          decoder.decode(chunk as Uint8Array, { stream: true }).includes('"response"')
        )
          firstText = now;
      }
      s.firstByte.push(firstByte);
      s.firstText.push(firstText);
      s.total.push(performance.now() - t);

      llm.delayMs = tokens * tokenMs; // The whole answer at once, after as long.
      t = performance.now();
      const whole = await post('/query', body(i + runs));
      w.firstByte.push(performance.now() - t);
      await whole.json();
      w.total.push(performance.now() - t);
      llm.delayMs = 0;
    }
  } finally {
    await api.close();
    await llm.close();
  }
  return {
    tokens,
    tokenMs,
    runs,
    retrievalMs: summary(retrieval),
    streamed: {
      firstByteMs: summary(s.firstByte),
      firstTextMs: summary(s.firstText),
      totalMs: summary(s.total),
    },
    whole: { firstByteMs: summary(w.firstByte), totalMs: summary(w.total) },
  };
}
