import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Config, loadConfig } from '../../lib/config.ts';
import type { Database } from '../../lib/db/database.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { FAIL_RESPONSE } from '../../lib/lightrag-constants.ts';
import { answerCacheKey, keywordsCacheKey } from '../../lib/llm/cache-keys.ts';
import { createLlm } from '../../lib/llm/index.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { QueryEngine } from '../../lib/query/engine.ts';
import { parseQueryRequest, queryDefaults } from '../../lib/query/request.ts';
import { GraphStorage } from '../../lib/storage/graph.ts';
import { createTestDatabase, quietLogger, TARGET, uniqueWorkspace } from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

const DIM = 64;

const DOCS = [
  {
    file: 'ada.md',
    text: [
      'Ada Lovelace wrote programs for the Analytical Engine designed by Charles Babbage.',
      '[[E:Ada Lovelace|Person|Ada Lovelace was a mathematician who wrote the first program.]]',
      '[[E:Analytical Engine|Artifact|The Analytical Engine was a mechanical computer.]]',
      '[[E:Charles Babbage|Person|Charles Babbage designed the Analytical Engine.]]',
      '[[R:Ada Lovelace|Analytical Engine|programming, software|Ada Lovelace programmed the Analytical Engine.]]',
      '[[R:Charles Babbage|Analytical Engine|design, invention|Charles Babbage designed the Analytical Engine.]]',
      '[[R:Ada Lovelace|Charles Babbage|collaboration|Ada Lovelace corresponded with Charles Babbage.]]',
    ].join('\n'),
  },
  {
    file: 'turing.md',
    text: [
      'Alan Turing described a universal machine and broke ciphers at Bletchley Park.',
      '[[E:Alan Turing|Person|Alan Turing was a logician and codebreaker.]]',
      '[[E:Bletchley Park|Location|Bletchley Park was the codebreaking centre.]]',
      '[[E:Universal Machine|Concept|A machine that can simulate any other machine.]]',
      '[[R:Alan Turing|Bletchley Park|codebreaking, war|Alan Turing worked at Bletchley Park.]]',
      '[[R:Alan Turing|Universal Machine|computation theory|Alan Turing described the Universal Machine.]]',
      '[[R:Universal Machine|Analytical Engine|computation theory|The Analytical Engine anticipated the Universal Machine.]]',
    ].join('\n'),
  },
  {
    file: 'gardening.md',
    text: 'Tomatoes need sun and regular watering; compost improves the soil of a vegetable garden.',
  },
];

describe(`graph query modes on ${TARGET}`, () => {
  let db: Database;
  let llm: ScriptedLlm;
  let config: Config;
  let engine: QueryEngine;
  const ws = uniqueWorkspace();

  before(async () => {
    llm = await startScriptedLlm();
    const target = await createTestDatabase({ EMBEDDING_DIM: String(DIM), ...scriptedLlmEnv(llm) });
    config = loadConfig(target.env);
    db = target.open();
    const chat = createLlm(config.llm);
    const pipeline = new IngestPipeline(db, config, new HashEmbedder(DIM), quietLogger, chat);
    for (const doc of DOCS) {
      const r = await pipeline.ingest({ content: doc.text, filePath: doc.file, workspace: ws });
      assert.equal(r.status, 'processed', r.error);
    }
    engine = new QueryEngine(db, config, new HashEmbedder(DIM), chat, quietLogger);
  });
  after(() => llm.close());

  const ask = (body: Record<string, unknown>) =>
    engine.query(parseQueryRequest(body, queryDefaults(config)), ws);

  it('local: entities by the low-level keywords, their relations by edge degree then weight', async () => {
    const res = await ask({
      query: 'Who was Ada Lovelace?',
      mode: 'local',
      ll_keywords: ['Ada Lovelace'],
      top_k: 1,
      only_need_context: true,
    });
    assert.deepEqual(
      res.context.entities.map((e) => [e.entity, e.type, e.rank]),
      [['Ada Lovelace', 'person', 2]],
    );
    const relations = res.context.relationships.map((r) => [r.entity1, r.entity2, r.rank]);
    // Edge degrees: Ada(2) + Engine(3) = 5, Ada(2) + Babbage(2) = 4.
    assert.deepEqual(relations, [
      ['Ada Lovelace', 'Analytical Engine', 5],
      ['Ada Lovelace', 'Charles Babbage', 4],
    ]);
    assert.equal(res.context.chunks.length, 1, 'the one chunk behind them');
    assert.equal(res.context.chunks[0]?.file_path, 'ada.md');
    assert.deepEqual(res.references, [{ reference_id: 1, file_path: 'ada.md' }]);
    assert.deepEqual(res.keywords?.source, 'request');
  });

  it('global: relations by the high-level keywords, their ends as entities', async () => {
    const res = await ask({
      query: 'What was done in codebreaking?',
      mode: 'global',
      hl_keywords: ['codebreaking, war'],
      top_k: 1,
      only_need_context: true,
    });
    assert.deepEqual(
      res.context.relationships.map((r) => [r.entity1, r.entity2]),
      [['Alan Turing', 'Bletchley Park']],
    );
    assert.deepEqual(
      res.context.entities.map((e) => e.entity),
      ['Alan Turing', 'Bletchley Park'],
    );
    assert.equal(res.context.chunks[0]?.file_path, 'turing.md');
  });

  it('hybrid merges both round-robin; mix adds the chunk vectors of the raw query', async () => {
    const body = {
      query: 'tomatoes compost garden',
      ll_keywords: ['Ada Lovelace'],
      hl_keywords: ['codebreaking, war'],
      top_k: 1,
      only_need_context: true,
    };
    const hybrid = await ask({ ...body, mode: 'hybrid' });
    assert.deepEqual(
      hybrid.context.entities.map((e) => e.entity),
      ['Ada Lovelace', 'Alan Turing', 'Bletchley Park'],
    );
    assert.deepEqual(
      hybrid.context.relationships.map((r) => `${r.entity1}|${r.entity2}`),
      [
        'Ada Lovelace|Analytical Engine',
        'Alan Turing|Bletchley Park',
        'Ada Lovelace|Charles Babbage',
      ],
    );
    assert.ok(!hybrid.context.chunks.some((c) => c.file_path === 'gardening.md'));
    // chunk_top_k caps the merged chunks in every mode, as in LightRAG.
    const capped = await ask({ ...body, mode: 'mix', chunk_top_k: 1 });
    assert.deepEqual(
      capped.context.chunks.map((c) => c.file_path),
      ['gardening.md'],
      'vector chunks come first, then the cap',
    );
    const mix = await ask({ ...body, mode: 'mix', chunk_top_k: 3 });
    assert.equal(mix.context.chunks[0]?.file_path, 'gardening.md');
    assert.deepEqual(mix.context.chunks.map((c) => c.file_path).sort(), [
      'ada.md',
      'gardening.md',
      'turing.md',
    ]);
    assert.deepEqual(
      mix.references.map((r) => r.reference_id),
      [1, 2, 3],
    );
  });

  it('extracts keywords with the LLM once, then from the cache', async () => {
    const question = 'Which machine did Charles Babbage design?';
    llm.keywords.set(question, {
      high_level_keywords: ['design, invention'],
      low_level_keywords: ['Charles Babbage'],
    });
    const before = llm.count('keywords');
    const first = await ask({ query: question, mode: 'hybrid', only_need_context: true });
    assert.deepEqual(first.keywords, {
      high_level: ['design, invention'],
      low_level: ['Charles Babbage'],
      source: 'llm',
    });
    assert.ok(first.context.entities.some((e) => e.entity === 'Charles Babbage'));
    const second = await ask({ query: question, mode: 'hybrid', only_need_context: true });
    assert.equal(second.keywords?.source, 'cache');
    assert.equal(llm.count('keywords'), before + 1);
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM lightrag_llm_cache WHERE workspace = $1 AND cache_type = 'keywords'`,
      [ws],
    );
    assert.ok(rows.some((r) => /^hybrid:keywords:[0-9a-f]{32}$/.test(r.id)));
    const keywordsRequest = llm.requests.filter((r) => r.kind === 'keywords').at(-1)!;
    assert.deepEqual(keywordsRequest.body.response_format, { type: 'json_object' });

    // No keywords and a short question: the question is the low-level keyword.
    const short = await ask({ query: 'Alan Turing', mode: 'local', only_need_context: true });
    assert.deepEqual(short.keywords?.low_level, ['Alan Turing']);
    assert.equal(short.context.entities[0]?.entity, 'Alan Turing');
  });

  it("answers LightRAG's fixed failure response without an LLM call when nothing is retrieved", async () => {
    const empty = uniqueWorkspace();
    const before = llm.count('answer');
    for (const mode of ['local', 'global', 'hybrid', 'mix', 'naive'] as const) {
      const request = parseQueryRequest(
        { query: 'Anything at all?', mode, ll_keywords: ['Nobody'], hl_keywords: ['nothing'] },
        queryDefaults(config),
      );
      const res = await engine.query(request, empty);
      assert.equal(res.answer, FAIL_RESPONSE, mode);
      const streamed = await engine.stream(request, empty);
      let text = '';
      for await (const piece of streamed.pieces) text += piece;
      assert.equal(text, FAIL_RESPONSE, `${mode} streamed`);
    }
    assert.equal(llm.count('answer'), before, 'the LLM was not asked');
  });

  it('answers from the graph context and caches the answer under {mode}:query', async () => {
    const body = {
      query: 'How did Ada Lovelace work with the Analytical Engine?',
      mode: 'local',
      ll_keywords: ['Ada Lovelace'],
      top_k: 2,
    };
    const before = llm.count('answer');
    const first = await ask(body);
    assert.match(first.answer ?? '', /^ANSWER with 2 entities, \d+ relations, \d+ chunks\.$/);
    const prompt = llm.requests.at(-1)!.body.messages as Array<{ role: string; content: string }>;
    assert.match(
      prompt[0]!.content,
      /Knowledge Graph Data \(Entity\):[\s\S]*"entity":"Ada Lovelace"/,
    );
    assert.match(prompt[0]!.content, /Reference Document List[\s\S]*\[1\] ada\.md/);
    assert.match(prompt[0]!.content, /### References/);
    assert.equal(prompt.at(-1)!.content, body.query);
    const second = await ask(body);
    assert.equal(second.cached, true);
    assert.equal(llm.count('answer'), before + 1);
    const { rows } = await db.query<{ id: string }>(
      `SELECT id FROM lightrag_llm_cache WHERE workspace = $1 AND cache_type = 'query'`,
      [ws],
    );
    assert.ok(rows.some((r) => /^local:query:[0-9a-f]{32}$/.test(r.id)));
    // An edited description is another context: the answer cached for the old one is not served.
    const graph = new GraphStorage(db, ws);
    const ada = (await graph.getNode('Ada Lovelace'))!;
    await graph.upsertNodes([
      {
        id: 'Ada Lovelace',
        properties: { ...ada, description: 'Ada Lovelace, as a curator rewrote her.' },
      },
    ]);
    const edited = await ask(body);
    assert.equal(edited.cached, false, 'the edit changed the context');
    assert.equal(llm.count('answer'), before + 2);
    assert.equal((await ask(body)).cached, true, 'and the new answer is cached');
  });

  it('uses keywords and answers LightRAG 1.5 cached under its keys, and never a stale one of ours', async () => {
    const identity = config.llm.cacheIdentity;
    assert.deepEqual(identity, { binding: 'openai', model: 'scripted-model', host: llm.baseUrl });
    const question = 'What did Alan Turing describe?';
    // As LightRAG's extract_keywords_only and kg_query write them (LIGHTRAG-1.5.md §7).
    await db.query(
      `INSERT INTO lightrag_llm_cache (workspace, id, original_prompt, return_value, cache_type, queryparam)
       VALUES ($1, $2, $3, $4, 'keywords', $5::jsonb)`,
      [
        ws,
        keywordsCacheKey('mix', question, 'English', identity),
        question,
        JSON.stringify({
          high_level_keywords: ['computation theory'],
          low_level_keywords: ['Alan Turing'],
        }),
        JSON.stringify({ mode: 'mix', response_type: 'Multiple Paragraphs', top_k: 40 }),
      ],
    );
    const keywordCalls = llm.count('keywords');
    const ctx = await ask({ query: question, mode: 'mix', only_need_context: true });
    assert.deepEqual(ctx.keywords, {
      high_level: ['computation theory'],
      low_level: ['Alan Turing'],
      source: 'cache',
    });
    assert.equal(llm.count('keywords'), keywordCalls, 'no keyword call: LightRAG paid for it');

    const body = { query: question, mode: 'naive', top_k: 3 } as const;
    const defaults = parseQueryRequest(body, queryDefaults(config));
    const answerKey = answerCacheKey(defaults, identity);
    await db.query(
      `INSERT INTO lightrag_llm_cache (workspace, id, original_prompt, return_value, cache_type, queryparam)
       VALUES ($1, $2, $3, 'The answer LightRAG cached.', 'query', $4::jsonb)`,
      [ws, answerKey, question, JSON.stringify({ mode: 'naive', top_k: 3 })],
    );
    const answers = llm.count('answer');
    const fromLightRag = await ask(body);
    assert.equal(fromLightRag.answer, 'The answer LightRAG cached.');
    assert.equal(fromLightRag.cached, true);
    assert.equal(llm.count('answer'), answers);

    // A row of ours records what it was answered from; retrieved context changed → asked again.
    await db.query(
      `UPDATE lightrag_llm_cache SET queryparam = '{"context_fingerprint": "0"}' WHERE workspace = $1 AND id = $2`,
      [ws, answerKey],
    );
    const fresh = await ask(body);
    assert.equal(fresh.cached, false);
    assert.match(fresh.answer ?? '', /^ANSWER/);
    assert.equal(llm.count('answer'), answers + 1);
    const again = await ask(body);
    assert.equal(again.cached, true, 'the rewritten row carries the current fingerprint');
    assert.equal(again.answer, fresh.answer);
  });

  it("takes the WebUI's query body as LightRAG does: its fields read, the rest ignored", async () => {
    // What LightRAG's WebUI sends on every query (docs/http-api.md, the fact sheet's §5).
    const webui = {
      mode: 'mix',
      top_k: 40,
      chunk_top_k: 20,
      max_entity_tokens: 6000,
      max_relation_tokens: 8000,
      max_total_tokens: 30000,
      only_need_context: false,
      only_need_prompt: false,
      stream: true,
      history_turns: 0,
      user_prompt: '',
      enable_rerank: true,
      query: 'Who programmed the Analytical Engine?',
      response_type: 'Multiple Paragraphs',
      include_progress: true,
      conversation_history: [],
      some_future_field: { anything: 1 },
    };
    const request = parseQueryRequest(webui, queryDefaults(config));
    assert.equal(request.mode, 'mix');
    assert.equal('stream' in request || 'some_future_field' in request, false);
    // Known fields are still checked.
    assert.throws(
      () => parseQueryRequest({ ...webui, user_prompt: 42 }, queryDefaults(config)),
      /"user_prompt" must be a string/,
    );
    assert.throws(
      () => parseQueryRequest({ ...webui, only_need_prompt: 'yes' }, queryDefaults(config)),
      /"only_need_prompt" must be true or false/,
    );
  });

  it('only_need_prompt answers with the full prompt and calls no LLM; user_prompt joins it', async () => {
    const before = llm.requests.length;
    const res = await ask({
      query: 'Who programmed the Analytical Engine?',
      mode: 'local',
      ll_keywords: ['Ada Lovelace'],
      only_need_prompt: true,
      user_prompt: 'Answer in one sentence.',
    });
    assert.equal(llm.requests.length, before, 'no LLM call');
    assert.match(res.answer ?? '', /^---Role---/);
    assert.match(res.answer ?? '', /- Additional instructions: Answer in one sentence\./);
    assert.match(res.answer ?? '', /Ada Lovelace/);
    assert.match(res.answer ?? '', /---User---\nWho programmed the Analytical Engine\?$/);
    // With an answer: the user prompt reaches the LLM, and keys its own cache row.
    const answered = await ask({
      query: 'Who designed the Analytical Engine?',
      mode: 'local',
      ll_keywords: ['Charles Babbage'],
      user_prompt: 'Answer in one sentence.',
    });
    assert.match(answered.answer ?? '', /^ANSWER/);
    const system = (llm.requests.at(-1)!.body.messages as Array<{ content: string }>)[0]!.content;
    assert.match(system, /Additional instructions: Answer in one sentence\./);
    const plain = await ask({
      query: 'Who designed the Analytical Engine?',
      mode: 'local',
      ll_keywords: ['Charles Babbage'],
    });
    assert.equal(plain.cached, false, 'another user prompt, another cache row');
  });

  it("include_chunk_content puts each reference's chunk text in it", async () => {
    const body = {
      query: 'Who was Ada Lovelace?',
      mode: 'local',
      ll_keywords: ['Ada Lovelace'],
      only_need_context: true,
    };
    const without = await ask(body);
    assert.equal(without.references[0]!.content, undefined);
    const withContent = await ask({ ...body, include_chunk_content: true });
    const [ref] = withContent.references;
    assert.ok(ref!.content!.length >= 1);
    assert.match(ref!.content![0]!, /Ada Lovelace wrote programs/);
  });

  it('bounds the history sent to the LLM and every per-request budget', async () => {
    const long = (i: number) => `message ${i} ${'word '.repeat(1500)}`;
    const history = Array.from({ length: 20 }, (_, i) => ({
      role: i % 2 ? 'assistant' : 'user',
      content: long(i),
    }));
    await ask({ query: 'Who was Ada?', mode: 'bypass', conversation_history: history });
    const sent = llm.requests.at(-1)!.body.messages as Array<{ role: string; content: string }>;
    const kept = sent.filter((m) => m.content.startsWith('message '));
    // HISTORY_TURNS 3 allows 6 messages; MAX_HISTORY_TOKENS 4000 allows two of ~1500 tokens.
    assert.deepEqual(
      kept.map((m) => m.content.slice(0, 11).trim()),
      ['message 18', 'message 19'],
    );
    assert.throws(
      () => parseQueryRequest({ query: 'x', max_total_tokens: 1_000_000 }, queryDefaults(config)),
      /"max_total_tokens" must be an integer from 100 to 120000/,
    );
    assert.throws(
      () => parseQueryRequest({ query: 'x', max_entity_tokens: 500_000 }, queryDefaults(config)),
      /"max_entity_tokens" must be an integer from 0 to 120000/,
    );
  });

  it('keeps each context section within its token budget', async () => {
    const body = {
      query: 'everything',
      mode: 'hybrid',
      ll_keywords: ['Ada Lovelace', 'Alan Turing'],
      hl_keywords: ['computation theory'],
      top_k: 10,
      only_need_context: true,
    };
    const full = await ask(body);
    assert.ok(full.context.entities.length >= 4 && full.context.relationships.length >= 4);
    const tight = await ask({ ...body, max_entity_tokens: 30, max_relation_tokens: 40 });
    assert.equal(tight.context.entities.length, 1);
    assert.equal(tight.context.relationships.length, 1);
    const noChunks = await ask({ ...body, max_total_tokens: 100 });
    assert.deepEqual(noChunks.context.chunks, [], 'the prompt and graph use the whole budget');
  });
});
