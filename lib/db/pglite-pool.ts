import { EventEmitter } from 'node:events';
import type { PGlite } from '@electric-sql/pglite';
import type { DriverClient, DriverPool, DriverQueryResult } from './driver-types.ts';

/**
 * A pool over one embedded PGlite database. PGlite has a single backend, so "clients" take turns:
 * a client holds the database exclusively until released, which keeps transactions isolated.
 */
export class PglitePool extends EventEmitter implements DriverPool {
  readonly #dataDir: string | undefined;
  #db: Promise<PGlite> | undefined;
  #busy = false;
  readonly #waiters: Array<() => void> = [];
  #ended = false;

  constructor(dataDir?: string) {
    super();
    this.#dataDir = dataDir;
  }

  get totalCount(): number {
    return this.#db ? 1 : 0;
  }

  get idleCount(): number {
    return this.#db && !this.#busy ? 1 : 0;
  }

  get waitingCount(): number {
    return this.#waiters.length;
  }

  async connect(): Promise<DriverClient> {
    if (this.#ended) throw new Error('Cannot use a pool after calling end on the pool');
    const db = await this.#open();
    if (this.#busy) await new Promise<void>((resolve) => this.#waiters.push(resolve));
    this.#busy = true;
    let released = false;
    const client: DriverClient = {
      query: (text, params) => runQuery(db, text, params),
      release: () => {
        if (released) return;
        released = true;
        const next = this.#waiters.shift();
        if (next) next();
        else this.#busy = false;
      },
      on: () => client,
      removeListener: () => client,
    };
    return client;
  }

  async end(): Promise<void> {
    this.#ended = true;
    if (this.#db) await (await this.#db).close();
  }

  #open(): Promise<PGlite> {
    this.#db ??= (async () => {
      const [{ PGlite }, { vector }] = await Promise.all([
        import('@electric-sql/pglite'),
        import('@electric-sql/pglite-pgvector'),
      ]);
      const db = await PGlite.create(this.#dataDir, { extensions: { vector } });
      this.emit('connect');
      return db;
    })();
    return this.#db;
  }
}

async function runQuery(
  db: PGlite,
  text: string,
  params?: readonly unknown[],
): Promise<DriverQueryResult> {
  if (!params || params.length === 0) {
    // The simple protocol, as node-postgres uses without parameters: several statements allowed.
    const results = await db.exec(text);
    const last = results.at(-1);
    return {
      rows: (last?.rows ?? []) as Record<string, unknown>[],
      rowCount: last?.affectedRows || (last?.rows.length ?? 0),
    };
  }
  const result = await db.query<Record<string, unknown>>(text, params as unknown[]);
  return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
}
