/**
 * A local server speaking the Bedrock runtime API over HTTP/2 (cleartext for an http://
 * endpoint), as the AWS SDK's Bedrock client talks to the service; faults are scriptable.
 */
import { createServer, type Http2Server } from 'node:http2';
import { crc32 } from 'node:zlib';

export interface FakeBedrock {
  endpoint: string;
  calls: Array<{ path: string; body: Record<string, any> }>;
  /** Errors for the next requests, one each: HTTP status and the `x-amzn-errortype` name. */
  faults: Array<{ status: number; type: string }>;
  /** Milliseconds between streamed events (ConverseStream). */
  streamDelayMs: number;
  close(): Promise<void>;
}

/**
 * `respond` answers each request from its path and JSON body; for ConverseStream it returns the
 * text pieces (an array, or an async iterable relayed as it yields).
 */
export async function startFakeBedrock(
  respond: (path: string, body: Record<string, any>) => unknown,
): Promise<FakeBedrock> {
  const state = {
    calls: [] as FakeBedrock['calls'],
    faults: [] as FakeBedrock['faults'],
    streamDelayMs: 0,
  };
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
    const answer = await respond(path, body);
    if (path.endsWith('/converse-stream')) {
      // ConverseStream: AWS event-stream messages, one contentBlockDelta per piece.
      const pieces =
        typeof answer === 'object' && answer !== null && Symbol.asyncIterator in answer
          ? (answer as AsyncIterable<string>)
          : Array.isArray(answer)
            ? (answer as string[])
            : [String(answer)];
      res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
      res.write(eventMessage('messageStart', { role: 'assistant' }));
      for await (const text of pieces) {
        await new Promise((r) => setTimeout(r, state.streamDelayMs));
        res.write(eventMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { text } }));
      }
      res.write(eventMessage('contentBlockStop', { contentBlockIndex: 0 }));
      res.end(eventMessage('messageStop', { stopReason: 'end_turn' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer));
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

/**
 * One message of the AWS event-stream encoding: total length, headers length, prelude CRC32,
 * headers (name, type 7 = string, value), the JSON payload, message CRC32.
 */
function eventMessage(eventType: string, payload: unknown): Buffer {
  const headers = Buffer.concat(
    Object.entries({
      ':event-type': eventType,
      ':content-type': 'application/json',
      ':message-type': 'event',
    }).map(([name, value]) => {
      const n = Buffer.from(name);
      const v = Buffer.from(value);
      const h = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
      h.writeUInt8(n.length, 0);
      n.copy(h, 1);
      h.writeUInt8(7, 1 + n.length);
      h.writeUInt16BE(v.length, 2 + n.length);
      v.copy(h, 4 + n.length);
      return h;
    }),
  );
  const body = Buffer.from(JSON.stringify(payload));
  const total = 12 + headers.length + body.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headers.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(crc32(prelude), 0);
  const withoutCrc = Buffer.concat([prelude, preludeCrc, headers, body]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(withoutCrc), 0);
  return Buffer.concat([withoutCrc, crc]);
}
