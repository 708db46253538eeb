/**
 * A function's container-scoped state, composed one way for every function: the configuration,
 * the container's pool and the logger, plus what the function adds (its services), built on the
 * first invocation and kept between warm ones. Rebuilt once its pool has ended (a rotated
 * database secret, an in-process restart of the local stack), so nothing keeps a closed pool.
 *
 * @example
 * ```ts
 * export const getQueryRuntime = containerRuntime(({ config, db, logger }) => ({
 *   engine: new QueryEngine(db, config, createEmbedder(config, logger), createLlm(config.llm, logger), logger),
 * }));
 * const { engine } = getQueryRuntime(); // the same engine on every warm invocation
 * ```
 */
import { type Config, getConfig } from './config.ts';
import { getDatabase } from './db/container.ts';
import type { Database } from './db/database.ts';
import { createLogger, type Logger } from './logger.ts';

/** What every function's container keeps. */
export interface ContainerBase {
  config: Config;
  db: Database;
  logger: Logger;
}

/** The container's configuration (read and validated once), pool and logger. */
export function containerBase(): ContainerBase {
  const config = getConfig();
  return { config, db: getDatabase(), logger: createLogger(config.logLevel) };
}

/**
 * The accessor of a function's container state: `build` runs on first use with the
 * {@link ContainerBase}, and again after the pool ended.
 */
export function containerRuntime<T extends object>(
  build: (base: ContainerBase) => T,
): () => ContainerBase & T {
  let current: (ContainerBase & T) | undefined;
  return () => {
    if (!current || current.db.ended) {
      const base = containerBase();
      current = { ...base, ...build(base) };
    }
    return current;
  };
}

/** `make` run once, on the first call (a provider a function may never need). */
export function onFirstUse<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}
