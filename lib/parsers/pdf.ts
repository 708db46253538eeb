/**
 * Text layer of a PDF through unpdf (Mozilla's pdf.js in its serverless build: no worker, no
 * canvas). Chosen over officeparser and pdfjs-dist by bundle size and cold start (docs/files.md).
 */
import { FileRejectedError } from '../errors.ts';
import type { ParseBudget } from './budget.ts';
import { checkPdfStreams } from './pdf-streams.ts';

/** What a PDF may have. */
export interface PdfLimits {
  /** Pages a PDF may have (MAX_PDF_PAGES). */
  maxPages: number;
}

/**
 * Extracts the text of every page, pages separated by a blank line.
 *
 * @example
 * ```ts
 * const { text, pages } = await pdfText(bytes, { maxPages: 2000 }, budget);
 * ```
 */
export async function pdfText(
  bytes: Uint8Array,
  limits: PdfLimits,
  budget: ParseBudget,
): Promise<{ text: string; pages: number }> {
  checkPdfStreams(bytes, budget);
  const { getDocumentProxy } = await import('unpdf');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js takes ownership of the buffer it is given: pass a copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 } as never);
  } catch (err) {
    throw rejection(err);
  }
  try {
    const pages = pdf.numPages;
    if (pages > limits.maxPages) {
      throw new FileRejectedError(
        'too_many_pages',
        `The PDF has ${pages} pages, over the ${limits.maxPages}-page limit (MAX_PDF_PAGES); split it.`,
        { pages, limit: limits.maxPages },
      );
    }
    const texts: string[] = [];
    for (let n = 1; n <= pages; n += 1) {
      budget.checkTime(`page ${n} of ${pages}`);
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      let line = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        line += item.str;
        if (item.hasEOL) line += '\n';
      }
      texts.push(line.trim());
      budget.addText(line.length + 2);
      page.cleanup();
    }
    const text = texts.filter((t) => t !== '').join('\n\n');
    if (text.trim() === '') {
      throw new FileRejectedError(
        'no_text_layer',
        `The PDF has ${pages} page${pages === 1 ? '' : 's'} but no text layer (scanned images?); run OCR on it first, then upload the result.`,
        { pages },
      );
    }
    return { text, pages };
  } catch (err) {
    throw err instanceof FileRejectedError ? err : rejection(err);
  } finally {
    // Frees pdf.js's per-document state.
    await Promise.resolve(pdf.cleanup()).catch(() => undefined);
  }
}

function rejection(err: unknown): FileRejectedError {
  const name = (err as { name?: string })?.name ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'PasswordException') {
    return new FileRejectedError(
      'encrypted',
      'The PDF is password-protected; remove the password and upload it again.',
    );
  }
  return new FileRejectedError(
    'corrupt',
    `The PDF cannot be read (${message}); it may be truncated or damaged.`,
  );
}
