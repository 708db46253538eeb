/**
 * Work bounded by the invocation's remaining time: the work gets an abort signal, and when
 * `margin` ms are left the signal fires and the call rejects with `timeout()`, leaving time to
 * answer before the function (and API Gateway) is cut off.
 */
import type { Context } from 'aws-lambda';

/**
 * @example
 * ```ts
 * await withDeadline(context, 1500, () => new HttpError(504, …), (signal) => llm.complete(m, { signal }));
 * ```
 */
export async function withDeadline<T>(
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  marginMs: number,
  timeout: () => Error,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (remaining === undefined) return work(new AbortController().signal);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const err = timeout();
        controller.abort(err);
        reject(err);
      },
      Math.max(0, remaining - marginMs),
    );
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
