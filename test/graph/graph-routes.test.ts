import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { handler as documentsHandler } from '../../functions/documents.ts';
import { handler as queryHandler } from '../../functions/query.ts';
import { getDatabase } from '../../lib/db/container.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { matchRoute } from '../../lib/http/routes.ts';
import { getApiBase } from '../../lib/http/runtime.ts';
import { createLlm } from '../../lib/llm/index.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { call, type EventOptions, type Handler } from '../support/api-event.ts';
import { createTestDatabase, quietLogger, TARGET } from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

const DIM = 32;
const get = (routeKey: string, options?: EventOptions) =>
  call(queryHandler as Handler, routeKey, options);

describe(`graph HTTP routes on ${TARGET}`, () => {
  let llm: ScriptedLlm;
  const savedEnv = { ...process.env };
  let docId = '';

  before(async () => {
    llm = await startScriptedLlm();
    const target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      ...scriptedLlmEnv(llm),
      ALLOWED_WORKSPACES: 'default,tenant_a',
    });
    Object.assign(process.env, target.env);
    const { config } = getApiBase();
    const pipeline = new IngestPipeline(
      getDatabase(),
      config,
      new HashEmbedder(DIM),
      quietLogger,
      createLlm(config.llm),
    );
    const edges = ['Beta', 'Gamma', 'Delta', 'Epsilon'].map(
      (n) => `[[R:Alpha Hub|${n} Node|link|Alpha Hub links ${n}.]]`,
    );
    const result = await pipeline.ingest({
      content: [
        '[[E:Alpha Hub|Concept|The hub of the test graph.]]',
        ...edges,
        '[[R:Beta Node|Gamma Node|pair|Beta meets Gamma.]]',
      ].join('\n'),
      filePath: 'graph.md',
    });
    assert.equal(result.status, 'processed', result.error);
    docId = result.docId;
    await pipeline.ingest({
      content: '[[E:Tenant Only|Concept|Lives in tenant_a.]]',
      workspace: 'tenant_a',
    });
  });

  after(async () => {
    await getDatabase().end();
    await llm.close();
    process.env = savedEnv;
  });

  it('routes the graph reads to the query function', () => {
    assert.equal(matchRoute('GET', '/graph')?.fn, 'query');
    assert.equal(matchRoute('GET', '/graph/labels/popular')?.fn, 'query');
    assert.equal(matchRoute('GET', '/graph/labels/search')?.fn, 'query');
  });

  it('GET /graph returns the subgraph around a label, or the top nodes for "*"', async () => {
    const res = await get('GET /graph', { query: { label: 'Alpha Hub', max_depth: '1' } });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json.is_truncated, false);
    assert.equal(res.json.nodes[0].id, 'Alpha Hub');
    assert.equal(res.json.nodes.length, 5);
    assert.equal(res.json.edges.length, 5, 'the Beta-Gamma edge is among the returned nodes');
    assert.deepEqual(Object.keys(res.json.edges[0]).sort(), [
      'id',
      'properties',
      'source',
      'target',
      'type',
    ]);
    const small = await get('GET /graph', { query: { label: '*', max_nodes: '2' } });
    assert.equal(small.json.nodes.length, 2);
    assert.equal(small.json.is_truncated, true);
    const missing = await get('GET /graph', { query: { label: 'Nobody' } });
    assert.deepEqual(missing.json, { nodes: [], edges: [], is_truncated: false });
  });

  it('GET /graph/labels/popular and /graph/labels/search', async () => {
    const popular = await get('GET /graph/labels/popular', { query: { limit: '2' } });
    assert.equal(popular.statusCode, 200, popular.body);
    assert.deepEqual(popular.json, ['Alpha Hub', 'Beta Node']);
    const search = await get('GET /graph/labels/search', { query: { q: 'node' } });
    assert.deepEqual(search.json, ['Beta Node', 'Delta Node', 'Gamma Node', 'Epsilon Node']);
  });

  it('applies the workspace rules and refuses bad parameters with specific errors', async () => {
    const tenant = await get('GET /graph/labels/popular', {
      headers: { 'x-workspace': 'tenant_a' },
    });
    assert.deepEqual(tenant.json, ['Tenant Only']);
    const foreign = await get('GET /graph', {
      query: { label: '*' },
      headers: { 'x-workspace': 'tenant_b' },
    });
    assert.equal(foreign.statusCode, 403);
    // A name LightRAG's rule accepts is judged by the allow-list (403); one it refuses is a 400.
    const hostile = await get('GET /graph', {
      query: { label: '*', workspace: "x'; DROP TABLE lightrag_graph_nodes;--" },
    });
    assert.equal(hostile.statusCode, 403);
    const invalid = await get('GET /graph', { query: { label: '*', workspace: '../default' } });
    assert.equal(invalid.statusCode, 400);
    assert.equal(invalid.json.error.code, 'INVALID_WORKSPACE');
    const cases: Array<[string, Record<string, string>, string]> = [
      ['GET /graph', {}, 'label'],
      ['GET /graph', { label: '*', max_nodes: '5000' }, 'max_nodes'],
      ['GET /graph', { label: '*', max_depth: 'deep' }, 'max_depth'],
      ['GET /graph', { label: 'x'.repeat(600) }, 'id'],
      ['GET /graph/labels/search', {}, 'q'],
      ['GET /graph/labels/search', { q: 'a', limit: '0' }, 'limit'],
      ['GET /graph/labels/popular', { limit: '-1' }, 'limit'],
    ];
    for (const [route, query, field] of cases) {
      const res = await get(route, { query });
      assert.equal(res.statusCode, 400, `${route} ${JSON.stringify(query)}: ${res.body}`);
      assert.equal(res.json.error.code, 'VALIDATION_FAILED');
      assert.match(JSON.stringify(res.json.error), new RegExp(field));
    }
    assert.equal((await get('GET /graph', { query: { label: 'Alpha Hub' } })).statusCode, 200);
  });

  describe("LightRAG Server's graph reads (its paths and shapes)", () => {
    it('routes them to the query function', () => {
      for (const path of [
        '/graphs',
        '/graph/label/list',
        '/graph/label/popular',
        '/graph/label/search',
        '/graph/entity/exists',
      ])
        assert.equal(matchRoute('GET', path)?.fn, 'query', path);
    });

    it('GET /graphs: {nodes, edges, is_truncated}, as the WebUI asks at start-up and to expand', async () => {
      const start = await get('GET /graphs', {
        query: { label: '*', max_depth: '3', max_nodes: '1000' },
      });
      assert.equal(start.statusCode, 200, start.body);
      assert.deepEqual(Object.keys(start.json).sort(), ['edges', 'is_truncated', 'nodes']);
      assert.equal(start.json.is_truncated, false);
      const node = start.json.nodes.find((n: { id: string }) => n.id === 'Alpha Hub');
      assert.deepEqual(node.labels, ['Alpha Hub']);
      for (const field of ['entity_id', 'entity_type', 'description', 'source_id', 'file_path'])
        assert.ok(field in node.properties, field);
      const edge = start.json.edges[0];
      assert.deepEqual(Object.keys(edge).sort(), ['id', 'properties', 'source', 'target', 'type']);
      for (const field of ['keywords', 'weight', 'description', 'source_id', 'file_path'])
        assert.ok(field in edge.properties, field);
      const expand = await get('GET /graphs', {
        query: { label: 'Beta Node', max_depth: '2', max_nodes: '1000' },
      });
      assert.equal(expand.json.nodes[0].id, 'Beta Node');
      // Same answer as our own path.
      const ours = await get('GET /graph', { query: { label: '*' } });
      assert.deepEqual(ours.json, start.json);
    });

    it('GET /graph/label/list: every entity name of the workspace, sorted', async () => {
      const res = await get('GET /graph/label/list');
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json, [
        'Alpha Hub',
        'Beta Node',
        'Delta Node',
        'Epsilon Node',
        'Gamma Node',
      ]);
      const tenant = await get('GET /graph/label/list', {
        headers: { 'x-workspace': 'tenant_a' },
      });
      assert.deepEqual(tenant.json, ['Tenant Only']);
    });

    it("GET /graph/label/popular and /search: label lists within LightRAG's limits", async () => {
      const popular = await get('GET /graph/label/popular', { query: { limit: '300' } });
      assert.equal(popular.statusCode, 200, popular.body);
      assert.equal(popular.json[0], 'Alpha Hub', 'most connected first');
      assert.equal((await get('GET /graph/label/popular')).json.length, 5, 'default 300');
      const search = await get('GET /graph/label/search', { query: { q: 'node', limit: '50' } });
      assert.deepEqual([...search.json].sort(), [
        'Beta Node',
        'Delta Node',
        'Epsilon Node',
        'Gamma Node',
      ]);
      // LightRAG: popular ≤ 1000, search ≤ 100; beyond, refused with its `detail`.
      for (const [route, query] of [
        ['GET /graph/label/popular', { limit: '1001' }],
        ['GET /graph/label/search', { q: 'a', limit: '101' }],
        ['GET /graph/label/search', { limit: '5' }],
      ] as const) {
        const res = await get(route, { query });
        assert.equal(res.statusCode, 400, `${route} ${JSON.stringify(query)}`);
        assert.equal(res.json.error.code, 'VALIDATION_FAILED');
        assert.equal(typeof res.json.detail, 'string');
        assert.equal(res.json.detail, res.json.error.message);
      }
    });

    it('GET /graph/entity/exists: {exists}, an exact name', async () => {
      const yes = await get('GET /graph/entity/exists', { query: { name: 'Alpha Hub' } });
      assert.equal(yes.statusCode, 200, yes.body);
      assert.deepEqual(yes.json, { exists: true });
      const no = await get('GET /graph/entity/exists', { query: { name: 'alpha hub' } });
      assert.deepEqual(no.json, { exists: false });
      const missing = await get('GET /graph/entity/exists');
      assert.equal(missing.statusCode, 400);
      assert.match(missing.json.detail, /"name" is required/);
    });
  });

  it("POST /query/data: LightRAG's retrieval shape, string reference ids, no LLM answer", async () => {
    const before = llm.requests.filter((r) => r.kind === 'answer').length;
    const res = await call(queryHandler as Handler, 'POST /query/data', {
      body: {
        query: 'What links to the hub?',
        mode: 'local',
        ll_keywords: ['Alpha Hub'],
        stream: false,
        include_chunk_content: true,
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(Object.keys(res.json).sort(), ['data', 'message', 'metadata', 'status']);
    assert.equal(res.json.status, 'success');
    assert.deepEqual(Object.keys(res.json.data).sort(), [
      'chunks',
      'entities',
      'references',
      'relationships',
    ]);
    const [entity] = res.json.data.entities;
    assert.equal(entity.entity_name, 'Alpha Hub');
    for (const field of ['entity_type', 'description', 'source_id', 'file_path'])
      assert.ok(field in entity, field);
    const [relation] = res.json.data.relationships;
    for (const field of ['src_id', 'tgt_id', 'description', 'keywords', 'weight'])
      assert.ok(field in relation, field);
    const [ref] = res.json.data.references;
    assert.equal(typeof ref.reference_id, 'string');
    assert.equal(ref.file_path, 'graph.md');
    assert.ok(Array.isArray(ref.content), 'include_chunk_content');
    assert.equal(typeof res.json.data.chunks[0].reference_id, 'string');
    assert.equal(res.json.metadata.query_mode, 'local');
    assert.deepEqual(res.json.metadata.keywords.low_level, ['Alpha Hub']);
    assert.equal(llm.requests.filter((r) => r.kind === 'answer').length, before, 'no answer');
  });

  it('POST /query answers a graph mode; DELETE /documents/{id} reports the graph removal', async () => {
    const res = await call(queryHandler as Handler, 'POST /query/detailed', {
      body: { query: 'What links to the hub?', mode: 'local', ll_keywords: ['Alpha Hub'] },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json.context.entities[0].entity, 'Alpha Hub');
    assert.match(res.json.answer, /^ANSWER with/);
    const deleted = await call(documentsHandler as Handler, 'DELETE /documents/{id}', {
      pathParameters: { id: docId },
    });
    assert.equal(deleted.statusCode, 200, deleted.body);
    assert.equal(deleted.json.graph.entitiesDeleted, 5);
    const empty = await get('GET /graph', { query: { label: '*' } });
    assert.deepEqual(empty.json.nodes, []);
  });
});
