/**
 * A local server speaking the Bedrock runtime API over HTTP/2 (cleartext for an http://
 * endpoint), as the AWS SDK's Bedrock client talks to the service; faults are scriptable.
 */
import { createServer, type Http2Server } from 'node:http2';

export interface FakeBedrock {
  endpoint: string;
  calls: Array<{ path: string; body: Record<string, any> }>;
  /** Errors for the next requests, one each: HTTP status and the `x-amzn-errortype` name. */
  faults: Array<{ status: number; type: string }>;
  close(): Promise<void>;
}

export async function startFakeBedrock(
  respond: (path: string, body: Record<string, any>) => unknown,
): Promise<FakeBedrock> {
  const state = { calls: [] as FakeBedrock['calls'], faults: [] as FakeBedrock['faults'] };
  const server: Http2Server = createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw);
    const path = decodeURIComponent(req.url ?? '');
    state.calls.push({ path, body });
    const fault = state.faults.shift();
    if (fault) {
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        'x-amzn-errortype': fault.type,
      });
      res.end(JSON.stringify({ message: `injected ${fault.type}` }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(respond(path, body)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // The SDK signs requests; any credentials do.
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  return Object.assign(state, {
    endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
