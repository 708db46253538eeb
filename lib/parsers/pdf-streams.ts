/**
 * A PDF's streams decoded before pdf.js sees them, to bound what they unpack to: pdf.js decodes a
 * content stream whole, so a few KB deflated twice can become gigabytes. Every stream except
 * images (which text extraction never decodes) is inflated through its leading FlateDecode
 * filters with fflate's streaming `Decompress` (zlib or raw), counting output, and is refused as
 * `too_complex` once the total passes MAX_PDF_DECODED_BYTES. Nothing is kept.
 */
import { Decompress } from 'fflate';
import { type ParseBudget, tooComplex } from './budget.ts';

const STREAM = Buffer.from('stream');
const END_STREAM = Buffer.from('endstream');

/** Stops inflation as soon as the budget is spent. */
class Spent extends Error {}

/**
 * Throws `too_complex` when the PDF's non-image streams decode to more than the budget allows.
 *
 * @example
 * ```ts
 * checkPdfStreams(bytes, budget); // before getDocumentProxy(bytes)
 * ```
 */
export function checkPdfStreams(bytes: Uint8Array, budget: ParseBudget): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = budget.limits.maxPdfDecodedBytes;
  let total = 0;
  let streams = 0;
  for (let at = buf.indexOf(STREAM); at !== -1; at = buf.indexOf(STREAM, at + STREAM.length)) {
    // "endstream" contains "stream": only a keyword that opens a stream counts.
    if (at >= 3 && buf.toString('latin1', at - 3, at) === 'end') continue;
    let start = at + STREAM.length;
    if (buf[start] === 0x0d) start += 1;
    if (buf[start] !== 0x0a) continue;
    start += 1;
    const end = buf.indexOf(END_STREAM, start);
    if (end === -1) break;
    if (++streams % 64 === 0) budget.checkTime(`stream ${streams}`);
    const dict = buf.toString('latin1', Math.max(0, at - 2048), at);
    const head = dict.slice(dict.lastIndexOf(' obj') + 1);
    if (/\/Subtype\s*\/Image\b/.test(head)) {
      at = end;
      continue;
    }
    const flates = leadingFlates(head);
    total +=
      flates === 0 ? end - start : inflatedSize(buf.subarray(start, end), flates, limit - total);
    if (total > limit) {
      throw tooComplex(`its streams unpack to over ${limit} bytes (MAX_PDF_DECODED_BYTES)`, {
        limit,
      });
    }
    at = end;
  }
}

/** How many FlateDecode filters the stream's /Filter starts with. */
function leadingFlates(dict: string): number {
  const filter = /\/Filter\s*(\[[^\]]*\]|\/[A-Za-z0-9]+)/.exec(dict)?.[1];
  if (!filter) return 0;
  const names = filter.match(/\/[A-Za-z0-9]+/g) ?? [];
  let n = 0;
  while (n < names.length && (names[n] === '/FlateDecode' || names[n] === '/Fl')) n += 1;
  return n;
}

/**
 * Bytes the data unpacks to through `depth` chained inflaters, stopping once over `room` (a
 * corrupt stream counts what came out before the error: pdf.js will judge it).
 */
function inflatedSize(data: Uint8Array, depth: number, room: number): number {
  let size = 0;
  const chain: Decompress[] = [];
  for (let i = depth - 1; i >= 0; i -= 1) {
    const next = chain[0];
    chain.unshift(
      new Decompress((chunk, final) => {
        if (next) feed(next, chunk, final);
        else {
          size += chunk.length;
          if (size > room) throw new Spent();
        }
      }),
    );
  }
  try {
    feed(chain[0]!, data, true);
  } catch {
    // Spent, or a corrupt stream: what came out so far is what counts.
  }
  return size;
}

/**
 * Pushes data into an inflater in slices of 1 KiB: one push inflates its whole input before
 * handing anything on, and deflate expands up to ~1,000×, so a slice yields at most about a
 * megabyte — the chain stops within a slice of the budget, whatever the layers.
 */
function feed(inflater: Decompress, data: Uint8Array, final: boolean): void {
  if (data.length === 0) {
    if (final) inflater.push(data, true);
    return;
  }
  for (let at = 0; at < data.length; at += SLICE) {
    inflater.push(data.subarray(at, at + SLICE), final && at + SLICE >= data.length);
  }
}

const SLICE = 1024;
