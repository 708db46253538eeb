/**
 * Readable text of an HTML page through html-to-text: headings, paragraphs, lists and tables
 * kept as lines; scripts, styles, images and link targets dropped.
 */
import { convert } from 'html-to-text';

/**
 * @example
 * ```ts
 * htmlText('<h1>Title</h1><p>Body</p>'); // 'TITLE\n\nBody'
 * ```
 */
export function htmlText(html: string): string {
  return convert(html, {
    wordwrap: false,
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
