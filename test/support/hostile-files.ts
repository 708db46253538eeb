/**
 * Hostile files, generated (never committed as binaries): each family a crafted file used to
 * exhaust a parser — small on disk, enormous once read. Scaled by their arguments, so tests run
 * them small against low limits and the bench runs them at the size an attacker would.
 */
import { Zlib } from 'fflate';
import { makeDocx, makeXlsx } from './files.ts';

const enc = (s: string) => Buffer.from(s, 'latin1');

/** Deflates `total` bytes of `unit` repeated, streaming (never holding the whole input). */
function deflateRepeated(unit: Uint8Array, total: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  const deflate = new Zlib({ level: 9 }, (chunk) => chunks.push(chunk));
  const block = Buffer.alloc(
    Math.max(unit.length, Math.floor((1 << 20) / unit.length) * unit.length),
  );
  for (let at = 0; at < block.length; at += unit.length) block.set(unit, at);
  let left = total;
  while (left > 0) {
    const n = Math.min(left, block.length);
    left -= n;
    deflate.push(block.subarray(0, n), left === 0);
  }
  return Buffer.concat(chunks);
}

function deflateOnce(data: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  const deflate = new Zlib({ level: 9 }, (chunk) => chunks.push(chunk));
  deflate.push(data, true);
  return Buffer.concat(chunks);
}

/** A PDF of the given objects (bodies may carry binary stream data). */
function pdfOf(objects: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [enc('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n')];
  let length = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(length);
    const chunk = Buffer.concat([
      enc(`${i + 1} 0 obj\n`),
      typeof body === 'string' ? enc(body) : body,
      enc('\nendobj\n'),
    ]);
    parts.push(chunk);
    length += chunk.length;
  });
  let tail = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) tail += `${String(o).padStart(10, '0')} 00000 n \n`;
  tail += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${length}\n%%EOF\n`;
  parts.push(enc(tail));
  return Buffer.concat(parts);
}

/** One page whose content stream unpacks to `bytes` of spaces through `layers` FlateDecode filters. */
export function pdfDoubleDeflated(bytes: number, layers: 1 | 2 = 2): Buffer {
  const once = deflateRepeated(enc(' '), bytes);
  const twice = layers === 2 ? deflateOnce(once) : once;
  const filter = layers === 2 ? '[/FlateDecode /FlateDecode]' : '/FlateDecode';
  return pdfOf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>',
    Buffer.concat([
      enc(`<< /Length ${twice.length} /Filter ${filter} >>\nstream\n`),
      Buffer.from(twice),
      enc('\nendstream'),
    ]),
  ]);
}

/** `pages` pages sharing one deflated content stream of `operators` text-showing operators. */
export function pdfSharedHeavyStream(pages: number, operators: number): Buffer {
  const ops = Buffer.concat([
    enc('BT /F1 1 Tf '),
    Buffer.alloc(operators * 7, '(x) Tj '),
    enc('ET'),
  ]);
  const deflated = Buffer.from(deflateOnce(ops));
  const kids = Array.from({ length: pages }, (_, i) => `${i + 5} 0 R`).join(' ');
  return pdfOf([
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    Buffer.concat([
      enc(`<< /Length ${deflated.length} /Filter /FlateDecode >>\nstream\n`),
      deflated,
      enc('\nendstream'),
    ]),
    ...Array.from(
      { length: pages },
      () =>
        '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>',
    ),
  ]);
}

/** An XLSX whose one shared string of `chars` characters is referenced by `cells` cells. */
export function xlsxSharedStringBomb(chars: number, cells: number): Buffer {
  const long = 'a'.repeat(chars); // One string: every cell refers to it.
  const rows = Array.from({ length: cells }, () => [long]);
  // makeXlsx de-duplicates the shared strings: one string, `cells` references.
  return makeXlsx('Sheet1', rows);
}

/** A DOCX whose document part is `bytes` bytes of empty paragraphs (`<w:p/>`). */
export function docxEmptyParagraphs(bytes: number): Buffer {
  const count = Math.floor(bytes / 6);
  const body = Buffer.alloc(count * 6, '<w:p/>');
  const xml = Buffer.concat([
    enc(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>',
    ),
    body,
    enc('</w:body></w:document>'),
  ]);
  return makeDocx(['x'], { 'word/document.xml': xml });
}

/** An HTML table whose cells span `colspan` × `rowspan` (a grid html-to-text would lay out). */
export function htmlSpanBomb(cells: number, colspan = 1_000_000, rowspan = 65_534): Buffer {
  const td = `<td colspan="${colspan}" rowspan="${rowspan}">x</td>`;
  return Buffer.from(
    `<!doctype html><html><body><table><tr>${td.repeat(cells)}</tr></table></body></html>`,
  );
}

/** HTML elements nested `depth` deep. */
export function htmlDeeplyNested(depth: number): Buffer {
  return Buffer.from(
    `<!doctype html><html><body>${'<div>'.repeat(depth)}deep${'</div>'.repeat(depth)}</body></html>`,
  );
}
