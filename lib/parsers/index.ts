/**
 * Files to text: the type is read from the content (magic bytes, then the archive's parts), the
 * extension only has to agree with it. PDF (text layer), DOCX, PPTX, XLSX, HTML, Markdown and
 * plain text; everything else is refused with the reason. Every refusal is a
 * {@link FileRejectedError} with a stable `reason`.
 */
import { FileRejectedError } from '../errors.ts';
import { sanitizeText } from '../text.ts';
import { ParseBudget, tooMuchText } from './budget.ts';
import { BY_EXTENSION, type FileKind, UNSUPPORTED } from './file-types.ts';
import { htmlText } from './html.ts';
import { officeText } from './ooxml.ts';
import { pdfText } from './pdf.ts';

export type { FileKind } from './file-types.ts';

/** The limits every uploaded file is parsed under (from UploadConfig). */
export interface ParseLimits {
  /** Largest file accepted (MAX_UPLOAD_BYTES). */
  maxFileBytes: number;
  /** Bytes an Office archive may inflate to (MAX_INFLATED_BYTES). */
  maxInflatedBytes: number;
  /** Pages a PDF may have (MAX_PDF_PAGES). */
  maxPdfPages: number;
  /** Largest text a file may yield (MAX_DOCUMENT_BYTES, as for documents sent as text). */
  maxTextBytes: number;
  /** Elements an Office XML part may hold (MAX_XML_NODES). */
  maxXmlNodes: number;
  /** Bytes a PDF's non-image streams may decode to (MAX_PDF_DECODED_BYTES). */
  maxPdfDecodedBytes: number;
  /** Wall time for one file, in ms (PARSE_TIMEOUT_MS), checked between pages, parts, sheets. */
  timeoutMs: number;
}

/** A file's text, what it was, and what read it. */
export interface ParsedFile {
  text: string;
  kind: FileKind;
  /** What read it, for LIGHTRAG_DOC_FULL.parse_engine. */
  engine: string;
  pages?: number;
}

const OLE_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/** The extension of a file name, lower-cased, without the dot ('' when none). */
export function extensionOf(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/**
 * Parses a file to text.
 *
 * @example
 * ```ts
 * const parsed = await parseFile(bytes, 'report.pdf', limits);
 * parsed.kind; // 'pdf'
 * ```
 */
export async function parseFile(
  bytes: Uint8Array,
  fileName: string,
  limits: ParseLimits,
): Promise<ParsedFile> {
  if (bytes.length === 0) {
    throw new FileRejectedError('empty', 'The file is empty (0 bytes); upload it again.');
  }
  if (bytes.length > limits.maxFileBytes) {
    throw new FileRejectedError(
      'too_large',
      `The file is ${bytes.length} bytes, over the ${limits.maxFileBytes}-byte limit (MAX_UPLOAD_BYTES).`,
      { bytes: bytes.length, limit: limits.maxFileBytes },
    );
  }
  const ext = extensionOf(fileName);
  if (UNSUPPORTED.has(ext)) {
    throw new FileRejectedError(
      'unsupported_type',
      `.${ext} files are not supported; save it as PDF, DOCX, PPTX or XLSX, or send its text.`,
      { extension: ext },
    );
  }
  const claimed = BY_EXTENSION[ext];
  const budget = new ParseBudget(limits);
  const parsed = await parseByContent(bytes, ext, claimed, limits, budget);
  const text = sanitizeText(parsed.text).trim();
  if (text === '') {
    throw new FileRejectedError('no_text', `The ${describe(parsed.kind)} contains no text.`);
  }
  if (Buffer.byteLength(text, 'utf8') > limits.maxTextBytes) throw tooMuchText(limits.maxTextBytes);
  return { ...parsed, text };
}

async function parseByContent(
  bytes: Uint8Array,
  ext: string,
  claimed: FileKind | undefined,
  limits: ParseLimits,
  budget: ParseBudget,
): Promise<ParsedFile> {
  const mismatch = (actual: string) =>
    new FileRejectedError(
      'type_mismatch',
      `The file is named .${ext} but its content is ${actual}; rename it or upload the right file.`,
      { extension: ext, content: actual },
    );
  if (isPdf(bytes)) {
    if (claimed && claimed !== 'pdf') throw mismatch('a PDF');
    const { text, pages } = await pdfText(bytes, { maxPages: limits.maxPdfPages }, budget);
    return { text, pages, kind: 'pdf', engine: 'unpdf' };
  }
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) {
    if (claimed && !['docx', 'pptx', 'xlsx'].includes(claimed)) throw mismatch('a zip archive');
    const { kind, text } = officeText(bytes, { maxInflatedBytes: limits.maxInflatedBytes }, budget);
    if (claimed && claimed !== kind) throw mismatch(`a ${kind.toUpperCase()} document`);
    return { text, kind, engine: 'ooxml' };
  }
  if (startsWith(bytes, OLE_MAGIC)) {
    // Office saves a password-protected DOCX/PPTX/XLSX inside an OLE container.
    if (claimed === 'docx' || claimed === 'pptx' || claimed === 'xlsx') {
      throw new FileRejectedError(
        'encrypted',
        `The ${claimed.toUpperCase()} file is password-protected; remove the password and upload it again.`,
      );
    }
    throw new FileRejectedError(
      'unsupported_type',
      'The file is a legacy Office document (.doc, .ppt or .xls); save it as DOCX, PPTX or XLSX.',
    );
  }
  if (claimed === 'pdf') throw mismatch(isText(bytes) ? 'text' : 'not a PDF');
  if (claimed === 'docx' || claimed === 'pptx' || claimed === 'xlsx') {
    throw mismatch(isText(bytes) ? 'text' : 'not an Office document');
  }
  // Text yields (at least) its own size: one over the text limit is refused unread.
  if (bytes.length > limits.maxTextBytes * 2) throw tooMuchText(limits.maxTextBytes);
  const text = decodeText(bytes);
  if (text === undefined) {
    throw new FileRejectedError(
      'unsupported_type',
      `The file is neither text nor a supported document type (PDF, DOCX, PPTX, XLSX, HTML, Markdown).`,
    );
  }
  if (claimed === 'html' || (!claimed && looksLikeHtml(text))) {
    return { text: htmlText(text), kind: 'html', engine: 'html-to-text' };
  }
  return { text, kind: claimed === 'markdown' ? 'markdown' : 'text', engine: 'text' };
}

function isPdf(bytes: Uint8Array): boolean {
  // The header may follow up to 1 KiB of junk (PDF 1.7, Annex H) — binary junk: a text file
  // (Markdown about PDFs) that mentions "%PDF-" in its first KiB is text.
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  const at = head.indexOf('%PDF-');
  if (at <= 0) return at === 0;
  return head.slice(0, at).trim() === '' || !isText(bytes.subarray(0, at));
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

function isText(bytes: Uint8Array): boolean {
  return decodeText(bytes.subarray(0, 4096), true) !== undefined;
}

/** UTF-8 (or UTF-16 with a byte-order mark) text without NULs; undefined for binary data. */
function decodeText(bytes: Uint8Array, prefix = false): string | undefined {
  if (startsWith(bytes, [0xff, 0xfe])) return new TextDecoder('utf-16le').decode(bytes);
  if (startsWith(bytes, [0xfe, 0xff])) return new TextDecoder('utf-16be').decode(bytes);
  if (bytes.subarray(0, 8192).includes(0)) return undefined;
  try {
    // A prefix may end inside a character: decode it leniently.
    return new TextDecoder('utf-8', { fatal: !prefix, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html[\s>])/i.test(text.slice(0, 1024));
}

function describe(kind: FileKind): string {
  return kind === 'text' || kind === 'markdown' ? `${kind} file` : `${kind.toUpperCase()} file`;
}
