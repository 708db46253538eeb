/**
 * What every API function keeps in its container between invocations, built on first use: the
 * configuration, the pool and the logger. Each function adds only what its routes use
 * (lib/http/query-runtime.ts, lib/http/documents-runtime.ts), so the health function's bundle
 * carries no query engine, pipeline or queue client.
 */
import { type ContainerBase, containerRuntime } from '../container.ts';
import { createLogger, type Logger } from '../logger.ts';

/** What every API function keeps: the container's configuration, pool and logger. */
export type ApiBase = ContainerBase;

export const getApiBase: () => ApiBase = containerRuntime(() => ({}));

/** The configured logger even when the configuration itself is what failed. */
export function apiLogger(): Logger {
  try {
    return getApiBase().logger;
  } catch {
    return createLogger('info');
  }
}
