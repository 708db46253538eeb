/**
 * What every storage of a workspace shares: its workspace (checked once), and where its
 * statements run — the pool, or the caller's transaction for a copy made by `storages.in(tx)`
 * (lib/storage/index.ts).
 */
import type { Database, Queryable } from '../db/database.ts';
import { validateWorkspace } from '../workspace.ts';

export abstract class WorkspaceBound {
  readonly db: Database;
  readonly workspace: string;
  /** Where statements run: the pool, or the caller's transaction. */
  protected q: Queryable;
  /** Whether statements run in a caller's transaction (then nothing here opens its own). */
  inTransaction = false;

  constructor(db: Database, workspace: string) {
    this.db = db;
    this.q = db;
    this.workspace = validateWorkspace(workspace);
  }

  /** Runs every statement of this (fresh) instance on `tx`; see `storages.in(tx)`. */
  bindTo(tx: Queryable): this {
    this.q = tx;
    this.inTransaction = true;
    return this;
  }
}
