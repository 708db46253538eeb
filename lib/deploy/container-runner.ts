/**
 * Runs inside a Lambda-like sandbox (lib/deploy/lambda-sandbox.ts): plays the Node.js runtime's
 * part for one container. Imports the handler from the function's folder (the working directory,
 * as /var/task is in Lambda), then invokes it once per event read from stdin, in order, like warm
 * invocations of one container. Results go to file descriptor 3 as JSON lines, so whatever the
 * handler logs on stdout/stderr stays apart. Node built-ins only: nothing may resolve from the
 * project's node_modules.
 *
 * Usage: node container-runner.ts functions/query.handler   (cwd: the unzipped function)
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

const spec = process.argv[2] ?? '';
const dot = spec.lastIndexOf('.');
const file = spec.slice(0, dot);
const exportName = spec.slice(dot + 1);
const results = createWriteStream('', { fd: 3 });
const send = (message: Record<string, unknown>) =>
  results.write(`${JSON.stringify({ ...message, rss: process.memoryUsage().rss })}\n`);

function describe(err: unknown) {
  const e = err as { name?: string; message?: string; code?: string; stack?: string };
  return { name: e?.name, message: e?.message ?? String(err), code: e?.code, stack: e?.stack };
}

// What the Node.js runtime gives every function for response streaming (the
// aws-lambda-nodejs-runtime-interface-client contract): streamifyResponse marks a handler,
// HttpResponseStream.from writes the HTTP prelude (JSON, then 8 NUL bytes) before the body.
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
(globalThis as Record<string, unknown>).awslambda = {
  streamifyResponse(handler: Record<symbol, unknown>) {
    handler[STREAMING] = 'response';
    return handler;
  },
  HttpResponseStream: {
    from(stream: Writable & { setContentType?(t: string): void }, prelude: unknown) {
      stream.setContentType?.('application/vnd.awslambda.http-integration-response');
      stream.write(JSON.stringify(prelude));
      stream.write(new Uint8Array(8));
      return stream;
    },
  },
};

// With AWS_CALLS_RECORDED=1 every AWS SDK command the function sends or presigns is reported
// (client, command, the resource it names), so the packaging test can derive the IAM actions
// each function needs. Every SDK v3 command passes Command.resolveMiddlewareWithContext in
// @smithy/core, resolved here from the runtime's SDK exactly as the bundle resolves it.
if (process.env.AWS_CALLS_RECORDED === '1') {
  const fromTask = createRequire(`${process.cwd()}/`);
  const smithy = createRequire(fromTask.resolve('@aws-sdk/client-sqs'))('@smithy/core/client') as {
    Command: { prototype: Record<string, (...args: unknown[]) => unknown> };
  };
  const original = smithy.Command.prototype.resolveMiddlewareWithContext!;
  smithy.Command.prototype.resolveMiddlewareWithContext = function (
    this: { input?: Record<string, unknown> },
    ...args: unknown[]
  ) {
    const { clientName, commandName } = (args[3] ?? {}) as Record<string, string>;
    const input = this.input ?? {};
    const named: Record<string, unknown> = {};
    for (const key of ['QueueUrl', 'Bucket', 'Key', 'modelId', 'SecretId'])
      if (typeof input[key] === 'string') named[key] = input[key];
    send({ type: 'aws-call', client: clientName, command: commandName, resource: named });
    return original.apply(this, args);
  };
}

// The runtime's own lookup order for a handler module.
const path = ['.mjs', '.js', '.cjs']
  .map((ext) => `${process.cwd()}/${file}${ext}`)
  .find((p) => existsSync(p));
const started = performance.now();
let handler: (event: unknown, context: unknown) => Promise<unknown>;
try {
  if (!path) throw new Error(`Cannot find the handler module ${file} in ${process.cwd()}`);
  const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  if (typeof module[exportName] !== 'function')
    throw new Error(`${file} does not export a function ${exportName}`);
  handler = module[exportName] as typeof handler;
  send({ type: 'init', ms: performance.now() - started });
} catch (err) {
  send({ type: 'init', ms: performance.now() - started, error: describe(err) });
  process.exit(1);
}

for await (const line of createInterface({ input: process.stdin })) {
  const { event, remainingMs } = JSON.parse(line) as { event: unknown; remainingMs: number };
  const deadline = Date.now() + remainingMs;
  const context = {
    awsRequestId: randomUUID(),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const begun = performance.now();
  try {
    if ((handler as unknown as Record<symbol, unknown>)[STREAMING] === 'response') {
      // Each write reaches the caller as it happens, as Lambda relays a streamed response.
      const stream = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          send({
            type: 'chunk',
            data: Buffer.from(chunk).toString('base64'),
            ms: performance.now() - begun,
          });
          callback();
        },
      });
      Object.assign(stream, { setContentType: () => undefined });
      const finished = new Promise<void>((resolve) => stream.on('finish', resolve));
      await (handler as unknown as (e: unknown, s: Writable, c: unknown) => Promise<void>)(
        event,
        stream,
        context,
      );
      await finished;
      send({ type: 'result', ok: true, streamed: true, ms: performance.now() - begun });
      continue;
    }
    const result = await handler(event, context);
    send({ type: 'result', ok: true, result, ms: performance.now() - begun });
  } catch (err) {
    send({ type: 'result', ok: false, error: describe(err), ms: performance.now() - begun });
  }
}
results.end();
