/**
 * What one file may cost to parse, checked while the work is done rather than after it: the
 * text produced so far, XML nodes, decoded PDF stream bytes and a wall-clock deadline checked
 * between units of work (pages, sheets, parts). A file past one is refused with a specific
 * {@link FileRejectedError}: `too_much_text`, `too_complex` or `too_slow`.
 */
import { FileRejectedError } from '../errors.ts';

/** What one file's parse may spend: text produced, Office elements, PDF bytes, time. */
export interface ParseBudgetLimits {
  /** UTF-8 bytes of text a file may yield (MAX_DOCUMENT_BYTES). */
  maxTextBytes: number;
  /** Elements an Office part may hold before it is parsed (MAX_XML_NODES). */
  maxXmlNodes: number;
  /** Bytes a PDF's non-image streams may decode to, all filters applied (MAX_PDF_DECODED_BYTES). */
  maxPdfDecodedBytes: number;
  /** Wall time for the whole file, in ms (PARSE_TIMEOUT_MS). */
  timeoutMs: number;
}

/**
 * A running account of one file's parse.
 *
 * @example
 * ```ts
 * const budget = new ParseBudget(limits);
 * for (const page of pages) { budget.checkTime('page 3'); budget.addText(text); }
 * ```
 */
export class ParseBudget {
  readonly limits: ParseBudgetLimits;
  readonly #deadline: number;
  /** Characters produced so far (UTF-16 units: a lower bound of the UTF-8 bytes). */
  #chars = 0;

  constructor(limits: ParseBudgetLimits, now = Date.now()) {
    this.limits = limits;
    this.#deadline = now + limits.timeoutMs;
  }

  /** Refuses the file once its deadline has passed; `where` names the unit of work reached. */
  checkTime(where: string): void {
    if (Date.now() <= this.#deadline) return;
    throw tooSlow(this.limits.timeoutMs, where);
  }

  /** Counts text as it is produced; refuses the file once it cannot fit the text limit. */
  addText(chars: number): void {
    this.#chars += chars;
    if (this.#chars > this.limits.maxTextBytes) throw tooMuchText(this.limits.maxTextBytes);
  }

  /** Refuses an XML part of more elements than the limit, counted on its bytes before parsing. */
  checkXmlNodes(part: string, bytes: Uint8Array): void {
    let nodes = 0;
    for (let at = bytes.indexOf(0x3c); at !== -1; at = bytes.indexOf(0x3c, at + 1)) {
      if (++nodes > this.limits.maxXmlNodes) {
        throw new FileRejectedError(
          'too_complex',
          `The file's part ${part} has over ${this.limits.maxXmlNodes} XML elements (MAX_XML_NODES); split the file.`,
          { part, limit: this.limits.maxXmlNodes },
        );
      }
    }
  }
}

export function tooMuchText(limit: number): FileRejectedError {
  return new FileRejectedError(
    'too_much_text',
    `The file yields more than ${limit} bytes of text (MAX_DOCUMENT_BYTES); split it.`,
    { limit },
  );
}

export function tooSlow(timeoutMs: number, where: string): FileRejectedError {
  return new FileRejectedError(
    'too_slow',
    `Reading the file's text took over ${Math.round(timeoutMs / 1000)} s (PARSE_TIMEOUT_MS, stopped at ${where}); split or simplify it.`,
    { timeoutMs, at: where },
  );
}

export function tooComplex(what: string, details: Record<string, unknown> = {}): FileRejectedError {
  return new FileRejectedError(
    'too_complex',
    `The file is too complex to read: ${what}; simplify or split it.`,
    details,
  );
}
