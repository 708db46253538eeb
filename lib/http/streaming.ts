/**
 * Lambda response streaming, as the Node.js runtime provides it: `awslambda.streamifyResponse`
 * marks a handler `(event, responseStream, context)`, and `awslambda.HttpResponseStream.from`
 * writes the HTTP metadata prelude (status and headers as JSON, then 8 NUL bytes) before the
 * body. Where no runtime provides `awslambda` (the local stack, tests), the same contract is
 * implemented here, so one handler serves both.
 */
import type { Writable } from 'node:stream';

/** What Lambda passes a streaming handler: a writable stream of the response body. */
export type ResponseStream = Writable & { setContentType?(type: string): void };

/** A handler of Lambda's response streaming: it writes its response to `responseStream`. */
export type StreamingHandler<E = unknown, C = unknown> = (
  event: E,
  responseStream: ResponseStream,
  context: C,
) => Promise<void>;

/** The status and headers a streamed HTTP response starts with. */
export interface HttpPrelude {
  statusCode: number;
  headers?: Record<string, string>;
}

interface LambdaGlobal {
  streamifyResponse<H>(handler: H): H;
  HttpResponseStream: { from(stream: ResponseStream, prelude: HttpPrelude): ResponseStream };
}

/** The runtime's marker for a streaming handler (aws-lambda-nodejs-runtime-interface-client). */
export const STREAMING_HANDLER = Symbol.for('aws.lambda.runtime.handler.streaming');
export const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
export const PRELUDE_DELIMITER = new Uint8Array(8);

/** The runtime's streaming API; other code (the AWS SDK's invoke store) may create an `awslambda` without it. */
const runtime = (): LambdaGlobal | undefined => {
  const lambda = (globalThis as unknown as { awslambda?: Partial<LambdaGlobal> }).awslambda;
  return typeof lambda?.streamifyResponse === 'function' &&
    typeof lambda.HttpResponseStream?.from === 'function'
    ? (lambda as LambdaGlobal)
    : undefined;
};

/** Marks `handler` as a response-streaming handler. */
export function streamifyResponse<E, C>(handler: StreamingHandler<E, C>): StreamingHandler<E, C> {
  const lambda = runtime();
  if (lambda) return lambda.streamifyResponse(handler);
  Object.assign(handler, { [STREAMING_HANDLER]: 'response' });
  return handler;
}

/** Starts the HTTP response: the prelude (status, headers), then whatever is written. */
export function httpResponseStream(stream: ResponseStream, prelude: HttpPrelude): ResponseStream {
  const lambda = runtime();
  if (lambda) return lambda.HttpResponseStream.from(stream, prelude);
  stream.setContentType?.(PRELUDE_CONTENT_TYPE);
  stream.write(JSON.stringify(prelude));
  stream.write(PRELUDE_DELIMITER);
  return stream;
}

/** Writes one NDJSON line, waiting when the stream asks for it (backpressure). */
export async function writeLine(stream: Writable, value: unknown): Promise<void> {
  if (stream.destroyed || stream.writableEnded) throw new Error('the client went away');
  if (!stream.write(`${JSON.stringify(value)}\n`)) {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        stream.off('drain', drained);
        stream.off('close', gone);
        if (err) reject(err);
        else resolve();
      };
      // The very functions registered, so `off` removes them (an arrow made inline would not be).
      const drained = () => done();
      const gone = () => done(new Error('the client went away'));
      stream.once('drain', drained);
      stream.once('close', gone);
    });
  }
}

/**
 * Splits what a streaming handler wrote into the prelude and the body, as Lambda's front end
 * does (for the local server and test harnesses).
 */
export function splitPrelude(bytes: Buffer): { prelude: HttpPrelude; body: Buffer } | undefined {
  for (let at = bytes.indexOf(0); at >= 0; at = bytes.indexOf(0, at + 1)) {
    if (bytes.subarray(at, at + 8).every((b) => b === 0) && at + 8 <= bytes.length) {
      try {
        return {
          prelude: JSON.parse(bytes.subarray(0, at).toString('utf8')) as HttpPrelude,
          body: bytes.subarray(at + 8),
        };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
