/**
 * One class per vector namespace, each with the operations only that namespace has — so
 * `entitiesVdb.deleteByDocId(…)` does not compile, where a shared class could only refuse it at
 * run time.
 */
import type { VectorConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { EmbedderSource } from '../embedding/types.ts';
import { ValidationError } from '../errors.ts';
import { computeMdhashId } from '../text.ts';
import { VectorStorage } from './vector.ts';

/** LIGHTRAG_VDB_CHUNKS: chunk vectors, by document. */
export class ChunkVectorStorage extends VectorStorage<'chunks'> {
  constructor(db: Database, vector: VectorConfig, embedder: EmbedderSource, workspace: string) {
    super(db, 'chunks', vector, embedder, workspace);
  }

  /** Deletes every chunk vector of one document; returns how many went. */
  async deleteByDocId(fullDocId: string): Promise<number> {
    const { rowCount } = await this.q.query(
      `DELETE FROM ${this.table} WHERE workspace = $1 AND full_doc_id = $2`,
      [this.workspace, fullDocId],
    );
    return rowCount;
  }
}

/** LIGHTRAG_VDB_ENTITY: one row per entity, id `ent-` + md5(name). */
export class EntityVectorStorage extends VectorStorage<'entities'> {
  constructor(db: Database, vector: VectorConfig, embedder: EmbedderSource, workspace: string) {
    super(db, 'entities', vector, embedder, workspace);
  }

  /** Deletes an entity's vector by name (id `ent-` + md5(name), as LightRAG computes it). */
  async deleteEntity(entityName: string): Promise<number> {
    if (typeof entityName !== 'string' || entityName.length === 0) {
      throw new ValidationError('entityName must be a non-empty string.');
    }
    return this.delete([computeMdhashId(entityName, 'ent-')]);
  }
}

/** LIGHTRAG_VDB_RELATION: one row per relation, id `rel-` + md5(ends in code-point order). */
export class RelationVectorStorage extends VectorStorage<'relationships'> {
  constructor(db: Database, vector: VectorConfig, embedder: EmbedderSource, workspace: string) {
    super(db, 'relationships', vector, embedder, workspace);
  }

  /** Deletes every relation vector where the entity is source or target. */
  async deleteEntityRelation(entityName: string): Promise<number> {
    if (typeof entityName !== 'string' || entityName.length === 0) {
      throw new ValidationError('entityName must be a non-empty string.');
    }
    const { rowCount } = await this.q.query(
      `DELETE FROM ${this.table} WHERE workspace = $1 AND (source_id = $2 OR target_id = $2)`,
      [this.workspace, entityName],
    );
    return rowCount;
  }
}
