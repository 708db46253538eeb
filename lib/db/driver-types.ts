/** The node-postgres-shaped pool interface every driver is adapted to (lib/db/driver.ts). */
export interface DriverQueryResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
}

/** A connection taken from a {@link DriverPool}. */
export interface DriverClient {
  query(text: string, params?: readonly unknown[]): Promise<DriverQueryResult>;
  /** Passing an error destroys the connection instead of returning it to the pool. */
  release(destroy?: Error | boolean): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: 'error', listener: (err: Error) => void): unknown;
}

/** The pool of a driver (Neon's, node-postgres' or PGlite's adapter). */
export interface DriverPool {
  connect(): Promise<DriverClient>;
  end(): Promise<void>;
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  // biome-ignore lint/suspicious/noExplicitAny: node-postgres and EventEmitter listener signatures differ
  on(event: 'error' | 'connect' | 'remove', listener: (...args: any[]) => void): unknown;
}
