/**
 * Text of Office Open XML files: DOCX paragraphs, PPTX slides in order, XLSX sheets as
 * tab-separated rows. The archive is read through {@link readZip} (bounded inflation) and the
 * XML through fast-xml-parser (entity expansion bounded by the library); only text is kept.
 */
import { XMLParser } from 'fast-xml-parser';
import { FileRejectedError } from '../errors.ts';
import type { ParseBudget } from './budget.ts';
import { readZip, type ZipLimits } from './zip.ts';

/** The Office formats read (Word, PowerPoint, Excel). */
export type OfficeKind = 'docx' | 'pptx' | 'xlsx';

type XmlNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  processEntities: true,
});

const MAIN_PART: Record<OfficeKind, string> = {
  docx: 'word/document.xml',
  pptx: 'ppt/presentation.xml',
  xlsx: 'xl/workbook.xml',
};

/** Which Office format a zip's entry names say it is, if any. */
export function officeKindOf(names: readonly string[]): OfficeKind | undefined {
  const set = new Set(names);
  if (!set.has('[Content_Types].xml')) return undefined;
  return (Object.keys(MAIN_PART) as OfficeKind[]).find((k) => set.has(MAIN_PART[k]));
}

/** Entry names that carry the text of an Office file (and the part that tells its kind). */
export function isOfficeTextPart(name: string): boolean {
  return (
    name === '[Content_Types].xml' ||
    name === 'word/document.xml' ||
    name === 'ppt/presentation.xml' ||
    /^ppt\/slides\/slide\d+\.xml$/.test(name) ||
    name === 'xl/workbook.xml' ||
    name === 'xl/sharedStrings.xml' ||
    /^xl\/worksheets\/sheet\d+\.xml$/.test(name)
  );
}

/**
 * Reads an Office file's text; its kind (DOCX, PPTX or XLSX) is told by the parts the zip holds.
 *
 * @example
 * ```ts
 * const text = officeText(bytes, { maxInflatedBytes: 200e6 }, budget); // { kind: 'docx', text: '…' }
 * ```
 */
export function officeText(
  bytes: Uint8Array,
  limits: ZipLimits,
  budget: ParseBudget,
): { kind: OfficeKind; text: string } {
  const { names, entries } = readZip(bytes, isOfficeTextPart, limits);
  const kind = officeKindOf(names);
  if (!kind) {
    throw new FileRejectedError(
      'unsupported_type',
      'The file is a zip archive but not a Word, PowerPoint or Excel document (DOCX, PPTX, XLSX).',
    );
  }
  const xml = (name: string): XmlNode[] => {
    const data = entries.get(name);
    if (!data) return [];
    budget.checkTime(name);
    // The parsed tree costs tens of times the XML: its elements are counted first.
    budget.checkXmlNodes(name, data);
    try {
      return parser.parse(Buffer.from(data).toString('utf8')) as XmlNode[];
    } catch (err) {
      throw new FileRejectedError(
        'corrupt',
        `The ${kind.toUpperCase()} file's part ${name} is not valid XML (${(err as Error).message.split('\n')[0]}).`,
      );
    }
  };
  const numbered = (pattern: RegExp) =>
    names
      .map((n) => ({ n, m: pattern.exec(n) }))
      .filter((e) => e.m)
      .sort((a, b) => Number(a.m![1]) - Number(b.m![1]))
      .map((e) => e.n);
  if (kind === 'docx') return { kind, text: blockText(xml('word/document.xml'), 'w', budget) };
  if (kind === 'pptx') {
    const slides = numbered(/^ppt\/slides\/slide(\d+)\.xml$/).map((n) =>
      blockText(xml(n), 'a', budget),
    );
    return { kind, text: slides.filter((s) => s !== '').join('\n\n') };
  }
  return {
    kind,
    text: workbookText(xml, numbered(/^xl\/worksheets\/sheet(\d+)\.xml$/), budget),
  };
}

function tagOf(node: XmlNode): string {
  return Object.keys(node).find((k) => k !== ':@') ?? '';
}

function childrenOf(node: XmlNode): XmlNode[] {
  const value = node[tagOf(node)];
  return Array.isArray(value) ? (value as XmlNode[]) : [];
}

/** Paragraph-structured text (`w:` in Word, `a:` in DrawingML): p → line, t → text, tab, br. */
function blockText(nodes: XmlNode[], ns: 'w' | 'a', budget: ParseBudget): string {
  const out: string[] = [];
  const push = (text: string) => {
    budget.addText(text.length);
    out.push(text);
  };
  const walk = (list: XmlNode[]) => {
    for (const node of list) {
      const tag = tagOf(node);
      if (tag === '#text') continue; // Whitespace between elements, not document text.
      if (tag === `${ns}:t`) {
        for (const c of childrenOf(node)) if (typeof c['#text'] === 'string') push(c['#text']);
        continue;
      }
      if (tag === `${ns}:tab`) push('\t');
      else if (tag === `${ns}:br` || tag === 'w:cr') push('\n');
      walk(childrenOf(node));
      if (tag === `${ns}:p`) push('\n');
    }
  };
  walk(nodes);
  return tidy(out.join(''));
}

function workbookText(
  xml: (name: string) => XmlNode[],
  sheets: string[],
  budget: ParseBudget,
): string {
  const shared: string[] = [];
  for (const si of findAll(xml('xl/sharedStrings.xml'), 'si')) shared.push(textOf(si));
  const sheetNames = findAll(xml('xl/workbook.xml'), 'sheet').map((s) =>
    String((s[':@'] as Record<string, unknown> | undefined)?.name ?? ''),
  );
  const parts = sheets.map((name, i) => {
    budget.checkTime(name);
    const rows = findAll(xml(name), 'row').map((row) =>
      findAll(childrenOf(row), 'c', false)
        .map((c) => {
          const type = (c[':@'] as Record<string, unknown> | undefined)?.t;
          if (type === 'inlineStr') {
            const inline = textOf(c);
            budget.addText(inline.length + 1);
            return inline;
          }
          const v = findAll(childrenOf(c), 'v', false)[0];
          const value = v ? textOf(v) : '';
          const text = type === 's' ? (shared[Number(value)] ?? '') : value;
          // Counted per cell: one long shared string referenced by thousands of cells is a bomb.
          budget.addText(text.length + 1);
          return text;
        })
        .join('\t')
        .trimEnd(),
    );
    const body = rows.filter((r) => r !== '').join('\n');
    return body === '' ? '' : `${sheetNames[i] ? `# ${sheetNames[i]}\n` : ''}${body}`;
  });
  return tidy(parts.filter((p) => p !== '').join('\n\n'));
}

function findAll(nodes: XmlNode[], tag: string, deep = true): XmlNode[] {
  const found: XmlNode[] = [];
  const walk = (list: XmlNode[]) => {
    for (const node of list) {
      if (tagOf(node) === tag) found.push(node);
      else if (deep) walk(childrenOf(node));
    }
  };
  walk(nodes);
  return found;
}

/** All text below a node (for `t` runs inside `si` / `is` and plain `v` values). */
function textOf(node: XmlNode): string {
  const out: string[] = [];
  const walk = (list: XmlNode[]) => {
    for (const n of list) {
      if (typeof n['#text'] === 'string') out.push(n['#text']);
      else walk(childrenOf(n));
    }
  };
  walk(childrenOf(node));
  return out.join('');
}

function tidy(text: string): string {
  return text
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
