import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Database } from '../../lib/db/database.ts';
import { ValidationError } from '../../lib/errors.ts';
import {
  canonicalEdge,
  compareCodePoints,
  edgeKey,
  GraphStorage,
} from '../../lib/storage/graph.ts';
import { EntityChunksStorage, relationChunkKey } from '../../lib/storage/graph-kv.ts';
import { ensureSchema } from '../../lib/storage/schema.ts';
import { createTestDatabase, TARGET, uniqueWorkspace } from '../support/database.ts';

describe('code-point order', () => {
  it('orders astral characters after U+E000-U+FFFF, unlike UTF-16 comparison', () => {
    const astral = '\u{1F600}'; // 😀, U+1F600
    const privateUse = '\uFF21'; // Ａ, U+FF21
    assert.ok(astral < privateUse, 'UTF-16 puts the astral character first');
    assert.ok(compareCodePoints(astral, privateUse) > 0);
    assert.deepEqual(canonicalEdge(astral, privateUse), [privateUse, astral]);
    assert.deepEqual(canonicalEdge('b', 'a'), ['a', 'b']);
    assert.equal(edgeKey('x', 'y'), edgeKey('y', 'x'));
    assert.equal(relationChunkKey('Zeta', 'Alpha'), 'Alpha<SEP>Zeta');
    // Case is significant and upper-case sorts first, as in the "C" collation.
    assert.deepEqual(canonicalEdge('alice', 'Bob'), ['Bob', 'alice']);
  });
});

describe(`graph storage on ${TARGET}`, () => {
  let db: Database;
  before(async () => {
    const target = await createTestDatabase();
    db = target.open();
    await ensureSchema(db, target.config.vector);
  });

  const node = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    properties: { entity_id: id, entity_type: 'person', description: `${id} desc`, ...extra },
  });

  it('stores undirected edges once, in code-point order, whatever the direction written', async () => {
    const g = new GraphStorage(db, uniqueWorkspace());
    await g.upsertNodes([node('Ｚeta'), node('😀 smile'), node('alpha'), node('Émile')]);
    await g.upsertEdges([
      { source: '😀 smile', target: 'Ｚeta', properties: { weight: 1 } },
      { source: 'Émile', target: 'alpha', properties: { weight: 2 } },
    ]);
    // Written again the other way round: the same row is updated, not a second one added.
    await g.upsertEdges([{ source: 'Ｚeta', target: '😀 smile', properties: { weight: 3 } }]);
    const { rows } = await db.query<{ src_id: string; tgt_id: string }>(
      `SELECT src_id, tgt_id FROM lightrag_graph_edges WHERE workspace = $1 ORDER BY src_id COLLATE "C"`,
      [g.workspace],
    );
    assert.deepEqual(rows, [
      { src_id: 'alpha', tgt_id: 'Émile' },
      { src_id: 'Ｚeta', tgt_id: '😀 smile' },
    ]);
    assert.deepEqual(await g.getEdge('😀 smile', 'Ｚeta'), { weight: 3 });
    assert.equal(await g.hasEdge('alpha', 'Émile'), true);
    assert.equal(await g.hasEdge('alpha', 'Ｚeta'), false);
    // The table refuses a writer that ignores the order.
    await assert.rejects(
      db.query(
        `INSERT INTO lightrag_graph_edges (workspace, namespace, src_id, tgt_id, properties)
         VALUES ($1, 'chunk_entity_relation', 'Émile', 'alpha', '{}')`,
        [g.workspace],
      ),
      /lightrag_graph_edges_canonical|check constraint/,
    );
  });

  it('implements the LightRAG graph interface with batch forms and degrees', async () => {
    const g = new GraphStorage(db, uniqueWorkspace());
    await g.upsertNodes(['A', 'B', 'C', 'D'].map((id) => node(id)));
    await g.upsertEdges([
      { source: 'A', target: 'B', properties: { weight: 1 } },
      { source: 'C', target: 'A', properties: { weight: 2 } },
      { source: 'A', target: 'D', properties: { weight: 1 } },
      { source: 'B', target: 'C', properties: { weight: 1 } },
    ]);
    assert.equal(await g.nodeDegree('A'), 3);
    assert.equal(await g.nodeDegree('missing'), 0);
    assert.equal(await g.edgeDegree('A', 'B'), 5);
    assert.deepEqual(Object.fromEntries(await g.nodeDegreesBatch(['A', 'B', 'D', 'nope'])), {
      A: 3,
      B: 2,
      D: 1,
      nope: 0,
    });
    const edgeDegrees = await g.edgeDegreesBatch([
      ['B', 'A'],
      ['C', 'B'],
    ]);
    assert.equal(edgeDegrees.get(edgeKey('A', 'B')), 5);
    assert.equal(edgeDegrees.get(edgeKey('B', 'C')), 4);
    const nodes = await g.getNodesBatch(['A', 'D', 'nope']);
    assert.deepEqual([...nodes.keys()].sort(), ['A', 'D']);
    assert.equal(nodes.get('A')?.description, 'A desc');
    const edges = await g.getEdgesBatch([
      ['C', 'A'],
      ['D', 'C'],
    ]);
    assert.deepEqual([...edges.values()], [{ weight: 2 }]);
    const nodeEdges = await g.getNodesEdgesBatch(['A', 'D']);
    assert.deepEqual(
      nodeEdges
        .get('A')
        ?.map((e) => e[1])
        .sort(),
      ['B', 'C', 'D'],
    );
    assert.deepEqual(nodeEdges.get('D'), [['D', 'A']]);
    assert.equal(await g.getNodeEdges('nope'), null);
    assert.deepEqual(await g.getAllLabels(), ['A', 'B', 'C', 'D']);

    // Upserting a node replaces its properties; an edge to an unknown node creates it bare.
    await g.upsertNodes([node('A', { description: 'new' })]);
    assert.equal((await g.getNode('A'))?.description, 'new');
    await g.upsertEdges([{ source: 'E', target: 'A', properties: { weight: 1 } }]);
    assert.deepEqual(await g.getNode('E'), { entity_id: 'E' });

    // Deleting a node deletes its edges; other workspaces are untouched.
    const other = new GraphStorage(db, uniqueWorkspace());
    await other.upsertEdges([{ source: 'A', target: 'B', properties: {} }]);
    assert.equal(await g.deleteNode('A'), true);
    assert.equal(await g.hasNode('A'), false);
    assert.deepEqual(await g.counts(), { nodes: 4, edges: 1 });
    assert.equal(await g.nodeDegree('D'), 0);
    assert.equal(await other.hasEdge('A', 'B'), true);
    assert.equal(await g.removeEdges([['C', 'B']]), 1);
    assert.equal(await g.removeNodes(['B', 'C', 'nope']), 2);
    await g.drop();
    assert.deepEqual(await g.counts(), { nodes: 0, edges: 0 });
    assert.deepEqual(await other.counts(), { nodes: 2, edges: 1 });
  });

  it('refuses self-loops, empty, oversized and NUL ids with a clear error', async () => {
    const g = new GraphStorage(db, uniqueWorkspace());
    await assert.rejects(
      g.upsertEdges([{ source: 'A', target: 'A', properties: {} }]),
      ValidationError,
    );
    await assert.rejects(g.upsertNodes([{ id: '', properties: {} }]), ValidationError);
    await assert.rejects(g.upsertNodes([{ id: 'x'.repeat(513), properties: {} }]), ValidationError);
    await assert.rejects(g.getNode('a\u0000b'), ValidationError);
    await assert.rejects(
      g.upsertNodes([{ id: 'A', properties: [] as unknown as Record<string, unknown> }]),
      ValidationError,
    );
    assert.deepEqual(await g.counts(), { nodes: 0, edges: 0 });
  });

  it('walks the graph breadth-first by degree with an honest truncation flag', async () => {
    const g = new GraphStorage(db, uniqueWorkspace());
    // hub — h1..h5 (h1 also links to x1, x2); x1 — y1 (depth 3 from hub).
    const edges: Array<[string, string]> = [
      ['hub', 'h1'],
      ['hub', 'h2'],
      ['hub', 'h3'],
      ['hub', 'h4'],
      ['hub', 'h5'],
      ['h1', 'x1'],
      ['h1', 'x2'],
      ['h2', 'x1'],
      ['x1', 'y1'],
    ];
    await g.upsertEdges(
      edges.map(([s, t]) => ({ source: s, target: t, properties: { weight: 1 } })),
    );
    const full = await g.getKnowledgeGraph('hub', { maxDepth: 3 });
    assert.equal(full.is_truncated, false);
    assert.deepEqual(
      full.nodes.map((n) => n.id),
      ['hub', 'h1', 'h2', 'h3', 'h4', 'h5', 'x1', 'x2', 'y1'],
    );
    assert.equal(full.edges.length, edges.length);
    assert.deepEqual(full.nodes[0], {
      id: 'hub',
      labels: ['hub'],
      properties: { entity_id: 'hub' },
    });

    const shallow = await g.getKnowledgeGraph('hub', { maxDepth: 1 });
    assert.equal(shallow.nodes.length, 6);
    assert.equal(shallow.edges.length, 5, 'only edges among returned nodes');

    // With room for 3 nodes: the hub, then its two highest-degree neighbours (h1: 3, h2: 2).
    const small = await g.getKnowledgeGraph('hub', { maxDepth: 3, maxNodes: 3 });
    assert.deepEqual(
      small.nodes.map((n) => n.id),
      ['hub', 'h1', 'h2'],
    );
    assert.equal(small.is_truncated, true);
    const exact = await g.getKnowledgeGraph('h1', { maxDepth: 1, maxNodes: 4 });
    assert.equal(exact.nodes.length, 4);
    assert.equal(exact.is_truncated, false, 'everything within depth fitted');

    const star = await g.getKnowledgeGraph('*', { maxNodes: 2 });
    assert.deepEqual(
      star.nodes.map((n) => n.id),
      ['hub', 'h1'],
    );
    assert.equal(star.is_truncated, true);
    assert.deepEqual(await g.getKnowledgeGraph('nobody'), {
      nodes: [],
      edges: [],
      is_truncated: false,
    });
    await assert.rejects(g.getKnowledgeGraph('hub', { maxNodes: 1001 }), ValidationError);

    assert.deepEqual(await g.getPopularLabels(3), ['hub', 'h1', 'x1']);
  });

  it('searches labels with LightRAG scoring: exact, prefix, word start, shorter first', async () => {
    const g = new GraphStorage(db, uniqueWorkspace());
    await g.upsertNodes(
      [
        'Graph',
        'Graph Theory',
        'Knowledge Graph',
        'Paragraphs',
        'Telegraph office',
        'Tree',
        '100%_graph',
      ].map((id) => node(id)),
    );
    assert.deepEqual(await g.searchLabels('graph'), [
      'Graph',
      'Graph Theory',
      '100%_graph',
      'Knowledge Graph',
      'Paragraphs',
      'Telegraph office',
    ]);
    // LIKE metacharacters in the query are literal.
    assert.deepEqual(await g.searchLabels('%_g'), ['100%_graph']);
    assert.deepEqual(await g.searchLabels('graph', 1), ['Graph']);
    await assert.rejects(g.searchLabels('  '), ValidationError);
  });

  it('keeps the chunk-tracking tables with ids up to 512 characters', async () => {
    const ws = uniqueWorkspace();
    const tracking = new EntityChunksStorage(db, ws);
    const long = 'E'.repeat(400);
    await tracking.upsert([{ id: long, chunk_ids: ['chunk-1', 'chunk-2'] }]);
    const row = await tracking.getById(long);
    assert.deepEqual(row?.chunk_ids, ['chunk-1', 'chunk-2']);
    assert.equal(row?.count, 2);
  });
});
