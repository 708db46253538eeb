/**
 * Readable text of an HTML page through html-to-text: headings, paragraphs, lists and tables
 * kept as lines; scripts, styles, images and link targets dropped. What a page may cost is
 * bounded first: table spans are clamped (a `colspan="1000000"` cell would make html-to-text
 * lay out a million-column grid) and nesting deeper than {@link MAX_HTML_DEPTH} is refused.
 */
import { convert } from 'html-to-text';
import { tooComplex } from './budget.ts';

/** Elements nested deeper than this are refused (a legitimate page stays far below). */
export const MAX_HTML_DEPTH = 512;
/** Columns or rows one table cell may span; more is layout, not text. */
export const MAX_TABLE_SPAN = 32;

/** Elements that never nest: void, or closed implicitly by the next of their kind (<p>, <li>). */
const NOT_NESTING = new Set(
  (
    'area base br col embed hr img input link meta param source track wbr ' +
    'p li dt dd tr td th option optgroup thead tbody tfoot colgroup caption rb rt rp html head body'
  ).split(' '),
);

/**
 * @example
 * ```ts
 * htmlText('<h1>Title</h1><p>Body</p>'); // 'Title\n\nBody'
 * ```
 */
export function htmlText(html: string): string {
  checkDepth(html);
  const clamped = html.replace(
    /\b(colspan|rowspan)\s*=\s*(["']?)\s*(\d+)\s*\2/gi,
    (_m, attr: string, quote: string, n: string) =>
      `${attr}=${quote}${Math.min(Number(n), MAX_TABLE_SPAN)}${quote}`,
  );
  return convert(clamped, {
    wordwrap: false,
    limits: { maxDepth: MAX_HTML_DEPTH, maxChildNodes: 100_000 },
    selectors: [
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'nav', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      { selector: 'h4', options: { uppercase: false } },
      { selector: 'h5', options: { uppercase: false } },
      { selector: 'h6', options: { uppercase: false } },
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ],
  }).trim();
}

/** Refuses nesting deeper than the limit, counted on the tags (open minus closed). */
function checkDepth(html: string): void {
  let depth = 0;
  for (const match of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (NOT_NESTING.has(name!.toLowerCase()) || selfClosing) continue;
    depth += closing ? -1 : 1;
    if (depth > MAX_HTML_DEPTH) {
      throw tooComplex(`elements are nested over ${MAX_HTML_DEPTH} deep`, {
        limit: MAX_HTML_DEPTH,
      });
    }
    if (depth < 0) depth = 0;
  }
}
