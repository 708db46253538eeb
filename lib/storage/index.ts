/**
 * Opens every storage for a workspace after making sure the schema exists (once per container).
 */
import type { Config } from '../config.ts';
import type { Database, Queryable } from '../db/database.ts';
import type { EmbedderSource } from '../embedding/types.ts';
import { validateWorkspace } from '../workspace.ts';
import { DocStatusStorage } from './doc-status.ts';
import { ExtractionRunStorage } from './extraction-runs.ts';
import { GraphStorage } from './graph.ts';
import {
  EntityChunksStorage,
  FullEntitiesStorage,
  FullRelationsStorage,
  RelationChunksStorage,
} from './graph-kv.ts';
import { GraphUpkeepStorage } from './graph-upkeep.ts';
import { FullDocsStorage, LlmCacheStorage, TextChunksStorage } from './kv.ts';
import { ensureSchema } from './schema.ts';
import {
  ChunkVectorStorage,
  EntityVectorStorage,
  RelationVectorStorage,
} from './vector-namespaces.ts';

/** Every storage of one workspace, as LightRAG 1.5 names them. */
export interface Storages {
  workspace: string;
  /**
   * The same storages with every statement on `tx`, the caller's transaction: the one way to
   * write inside a transaction (a storage reached without it would use a second pooled
   * connection). Nothing in the copy opens its own transaction or calls an embedder.
   *
   * @example
   * ```ts
   * await db.withTransaction(async (tx) => {
   *   const t = s.in(tx);
   *   await t.textChunks.upsert(rows);
   *   await t.docStatus.upsert([status]);
   * });
   * ```
   */
  in(tx: Queryable): Storages;
  /** Whether these storages run in a caller's transaction. */
  inTransaction: boolean;
  fullDocs: FullDocsStorage;
  textChunks: TextChunksStorage;
  llmCache: LlmCacheStorage;
  docStatus: DocStatusStorage;
  chunksVdb: ChunkVectorStorage;
  entitiesVdb: EntityVectorStorage;
  relationshipsVdb: RelationVectorStorage;
  graph: GraphStorage;
  fullEntities: FullEntitiesStorage;
  fullRelations: FullRelationsStorage;
  entityChunks: EntityChunksStorage;
  relationChunks: RelationChunksStorage;
  /** Fan-out state of documents extracted across containers (this project's own tables). */
  extractionRuns: ExtractionRunStorage;
  /** Graph elements whose summary or vector is due (lib/graph/upkeep.ts). */
  graphUpkeep: GraphUpkeepStorage;
}

/**
 * The storages of one workspace (default: `POSTGRES_WORKSPACE`). The first call in a container
 * creates or verifies the schema; later calls cost nothing extra.
 *
 * @example
 * ```ts
 * const s = await openStorages(getDatabase(), getConfig(), embedder, 'tenant_a');
 * await s.fullDocs.upsert([{ id: 'doc-1', content: 'hello' }]);
 * ```
 */
export async function openStorages(
  db: Database,
  config: Config,
  embedder: EmbedderSource,
  workspace: string = config.workspace,
): Promise<Storages> {
  const ws = validateWorkspace(workspace);
  await ensureSchema(db, config.vector);
  return storagesOf(db, config, embedder, ws);
}

function storagesOf(
  db: Database,
  config: Config,
  embedder: EmbedderSource,
  ws: string,
  tx?: Queryable,
): Storages {
  const bind = <T extends { bindTo(tx: Queryable): T }>(storage: T): T =>
    tx ? storage.bindTo(tx) : storage;
  return {
    workspace: ws,
    in: (transaction) => storagesOf(db, config, embedder, ws, transaction),
    inTransaction: tx !== undefined,
    fullDocs: bind(new FullDocsStorage(db, ws)),
    textChunks: bind(new TextChunksStorage(db, ws)),
    llmCache: bind(new LlmCacheStorage(db, ws)),
    docStatus: bind(new DocStatusStorage(db, ws)),
    chunksVdb: bind(new ChunkVectorStorage(db, config.vector, embedder, ws)),
    entitiesVdb: bind(new EntityVectorStorage(db, config.vector, embedder, ws)),
    relationshipsVdb: bind(new RelationVectorStorage(db, config.vector, embedder, ws)),
    graph: bind(new GraphStorage(db, ws)),
    fullEntities: bind(new FullEntitiesStorage(db, ws)),
    fullRelations: bind(new FullRelationsStorage(db, ws)),
    entityChunks: bind(new EntityChunksStorage(db, ws)),
    relationChunks: bind(new RelationChunksStorage(db, ws)),
    extractionRuns: bind(new ExtractionRunStorage(db, ws)),
    graphUpkeep: bind(new GraphUpkeepStorage(db, ws)),
  };
}
