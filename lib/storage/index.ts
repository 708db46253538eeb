/**
 * Opens every storage for a workspace after making sure the schema exists (once per container).
 */
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { Embedder } from '../embedding/types.ts';
import { validateWorkspace } from '../workspace.ts';
import { DocStatusStorage } from './doc-status.ts';
import { GraphStorage } from './graph.ts';
import {
  EntityChunksStorage,
  FullEntitiesStorage,
  FullRelationsStorage,
  RelationChunksStorage,
} from './graph-kv.ts';
import { FullDocsStorage, LlmCacheStorage, TextChunksStorage } from './kv.ts';
import { ensureSchema } from './schema.ts';
import { VectorStorage } from './vector.ts';

export interface Storages {
  workspace: string;
  fullDocs: FullDocsStorage;
  textChunks: TextChunksStorage;
  llmCache: LlmCacheStorage;
  docStatus: DocStatusStorage;
  chunksVdb: VectorStorage<'chunks'>;
  entitiesVdb: VectorStorage<'entities'>;
  relationshipsVdb: VectorStorage<'relationships'>;
  graph: GraphStorage;
  fullEntities: FullEntitiesStorage;
  fullRelations: FullRelationsStorage;
  entityChunks: EntityChunksStorage;
  relationChunks: RelationChunksStorage;
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
  embedder: Embedder,
  workspace: string = config.workspace,
): Promise<Storages> {
  const ws = validateWorkspace(workspace);
  await ensureSchema(db, config.vector);
  return {
    workspace: ws,
    fullDocs: new FullDocsStorage(db, ws),
    textChunks: new TextChunksStorage(db, ws),
    llmCache: new LlmCacheStorage(db, ws),
    docStatus: new DocStatusStorage(db, ws),
    chunksVdb: new VectorStorage(db, 'chunks', config.vector, embedder, ws),
    entitiesVdb: new VectorStorage(db, 'entities', config.vector, embedder, ws),
    relationshipsVdb: new VectorStorage(db, 'relationships', config.vector, embedder, ws),
    graph: new GraphStorage(db, ws),
    fullEntities: new FullEntitiesStorage(db, ws),
    fullRelations: new FullRelationsStorage(db, ws),
    entityChunks: new EntityChunksStorage(db, ws),
    relationChunks: new RelationChunksStorage(db, ws),
  };
}
