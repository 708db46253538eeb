/**
 * Real files made here for the tests: PDFs with a text layer (or none), and DOCX, PPTX and XLSX
 * archives with the parts Office writes. Built byte by byte so no office suite is needed.
 */
import { zipSync } from 'fflate';

const enc = (s: string) => Buffer.from(s, 'latin1');

/** A PDF whose pages carry the given lines as text (Helvetica); `[]` pages have no text layer. */
export function makePdf(pages: string[][]): Buffer {
  const objects: string[] = [];
  const add = (body: string) => {
    objects.push(body);
    return objects.length;
  };
  const catalog = add('');
  const pagesObj = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const kids: number[] = [];
  for (const lines of pages) {
    const ops =
      lines.length === 0
        ? '0.5 g 72 72 200 200 re f' // A drawn shape only: a page with no text.
        : `BT /F1 12 Tf 72 720 Td 14 TL ${lines
            .map((l) => `(${l.replace(/[\\()]/g, (c) => `\\${c}`)}) Tj T*`)
            .join(' ')} ET`;
    const content = add(`<< /Length ${ops.length} >>\nstream\n${ops}\nendstream`);
    kids.push(
      add(
        `<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`,
      ),
    );
  }
  objects[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objects[pagesObj - 1] =
    `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root ${catalog} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return enc(out);
}

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const CONTENT_TYPES = (overrides: string) =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>${overrides}</Types>`;

function zip(files: Record<string, string | Uint8Array>): Buffer {
  const entries: Record<string, Uint8Array> = {};
  for (const [name, body] of Object.entries(files)) {
    entries[name] = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  }
  return Buffer.from(zipSync(entries, { level: 6 }));
}

/** A Word document with one paragraph per string. */
export function makeDocx(
  paragraphs: string[],
  extra: Record<string, string | Uint8Array> = {},
): Buffer {
  const body = paragraphs
    .map((p) => `<w:p><w:r><w:t xml:space="preserve">${xmlEscape(p)}</w:t></w:r></w:p>`)
    .join('');
  return zip({
    '[Content_Types].xml': CONTENT_TYPES(
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>',
    ),
    '_rels/.rels':
      '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    'word/document.xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
    ...extra,
  });
}

/** A PowerPoint deck: one slide per array, one text paragraph per string. */
export function makePptx(slides: string[][]): Buffer {
  const files: Record<string, string> = {
    '[Content_Types].xml': CONTENT_TYPES(
      '<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>',
    ),
    'ppt/presentation.xml':
      '<?xml version="1.0"?><p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>',
  };
  slides.forEach((paras, i) => {
    const body = paras.map((p) => `<a:p><a:r><a:t>${xmlEscape(p)}</a:t></a:r></a:p>`).join('');
    files[`ppt/slides/slide${i + 1}.xml`] =
      `<?xml version="1.0"?><p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody>${body}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>`;
  });
  return zip(files);
}

/** An Excel workbook with one sheet of string rows (shared strings, as Excel writes them). */
export function makeXlsx(sheetName: string, rows: string[][]): Buffer {
  const shared = [...new Set(rows.flat())];
  const cells = rows
    .map(
      (row, r) =>
        `<row r="${r + 1}">${row.map((v, c) => `<c r="${String.fromCharCode(65 + c)}${r + 1}" t="s"><v>${shared.indexOf(v)}</v></c>`).join('')}</row>`,
    )
    .join('');
  return zip({
    '[Content_Types].xml': CONTENT_TYPES(''),
    'xl/workbook.xml': `<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets><sheet name="${xmlEscape(sheetName)}" sheetId="1"/></sheets></workbook>`,
    'xl/sharedStrings.xml': `<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${shared.map((s) => `<si><t>${xmlEscape(s)}</t></si>`).join('')}</sst>`,
    'xl/worksheets/sheet1.xml': `<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${cells}</sheetData></worksheet>`,
  });
}

/** A DOCX whose document part inflates to `bytes` bytes of spaces (a zip bomb, scaled down). */
export function makeDocxBomb(bytes: number): Buffer {
  const filler = Buffer.alloc(bytes, 0x20);
  return makeDocx(['bomb'], { 'word/document.xml': filler });
}
