import { AsyncLocalStorage } from 'node:async_hooks';
import type { LogLevel } from './config.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Structured logging: one JSON object per line, which CloudWatch Logs Insights can query. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * A JSON-lines logger writing to stderr (stdout stays free for CLI output).
 *
 * @example
 * ```ts
 * const log = createLogger('info');
 * log.info('pool ended', { connectionsOpened: 3 });
 * ```
 */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = defaultWrite,
): Logger {
  const threshold = RANK[level];
  const emit = (
    lvl: Exclude<LogLevel, 'silent'>,
    message: string,
    fields?: Record<string, unknown>,
  ) => {
    if (RANK[lvl] < threshold) return;
    const context = logContext.getStore();
    write(
      JSON.stringify({
        level: lvl,
        time: new Date().toISOString(),
        message,
        ...context,
        ...fields,
      }),
    );
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** Fields every log line of the current invocation carries (request id, workspace, document). */
const logContext = new AsyncLocalStorage<Record<string, unknown>>();

/**
 * Runs `fn` with `fields` on every log line written inside it (and in what it awaits), on top of
 * the enclosing context: one document's life can be followed by its id across invocations.
 *
 * @example
 * ```ts
 * await withLogContext({ requestId: context.awsRequestId, messageId }, () => handle(record));
 * ```
 */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, fn);
}

/** Starts a context for the rest of the current invocation (a middleware's `before`). */
export function enterLogContext(fields: Record<string, unknown>): void {
  logContext.enterWith({ ...fields });
}

/** The current invocation's context (request id, workspace, document), if any. */
export function invocationContext(): Readonly<Record<string, unknown>> | undefined {
  return logContext.getStore();
}

/** Adds fields to the current context (e.g. the document id once it is known). */
export function addLogContext(fields: Record<string, unknown>): void {
  const store = logContext.getStore();
  if (store) Object.assign(store, fields);
}

function defaultWrite(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Describes an error for a log line without its stack or any bound parameters. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const { code } = err as { code?: unknown };
  return {
    error: err.message,
    errorName: err.name,
    ...(code === undefined ? {} : { errorCode: code }),
  };
}
