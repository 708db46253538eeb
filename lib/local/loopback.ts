/**
 * Keeps a server that a library starts on every interface on loopback instead. fauxqs (the local
 * stack's SQS and S3) hard-codes `0.0.0.0` in its `listen` call with no option to change it, and
 * the local stack must not let anyone on the network read uploads or inject messages.
 */
import net from 'node:net';

const ANY = new Set(['0.0.0.0', '::', '']);

/**
 * Runs `start` with every `net.Server#listen` it makes bound to 127.0.0.1 when it asked for all
 * interfaces (or none). Only the listens made while `start` runs are changed.
 *
 * @example
 * ```ts
 * const server = await onLoopback(() => startFauxqs({ port: 0, logger: false }));
 * ```
 */
export async function onLoopback<T>(start: () => Promise<T>): Promise<T> {
  const original = net.Server.prototype.listen;
  // biome-ignore lint/suspicious/noExplicitAny: listen's overloads take any argument list.
  net.Server.prototype.listen = function listen(this: net.Server, ...args: any[]) {
    const [first] = args;
    if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
      if (first.path === undefined && ANY.has(String(first.host ?? ''))) {
        args[0] = { ...first, host: '127.0.0.1' };
      }
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      if (typeof args[1] !== 'string' || ANY.has(args[1])) {
        args.splice(1, typeof args[1] === 'string' ? 1 : 0, '127.0.0.1');
      }
    }
    return original.apply(this, args as Parameters<typeof original>);
  } as typeof original;
  try {
    return await start();
  } finally {
    net.Server.prototype.listen = original;
  }
}

/** fauxqs (SQS and S3 emulator) on 127.0.0.1 only; options as `startFauxqs`'s. */
export async function startLoopbackFauxqs(
  options: Omit<NonNullable<Parameters<typeof import('fauxqs').startFauxqs>[0]>, 'host'>,
) {
  const { startFauxqs } = await import('fauxqs');
  return onLoopback(() => startFauxqs({ ...options, host: '127.0.0.1' }));
}
