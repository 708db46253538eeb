/**
 * 12. Hostile files at attack size (issue 26): each family of crafted file that once exhausted the
 * parse function, generated here and parsed as the parse function parses (lib/parsers/isolated.ts:
 * a worker thread with PARSE_MAX_HEAP_MB and PARSE_TIMEOUT_MS, the default limits). Measured: the
 * outcome (the rejection reason), wall time, and the peak resident memory of the process (main
 * thread and worker) above its level before the file, sampled every 10 ms.
 */
import { loadConfig } from '../lib/config.ts';
import { FileRejectedError } from '../lib/errors.ts';
import { parseFileIsolated, parseLimits } from '../lib/parsers/isolated.ts';
import {
  docxEmptyParagraphs,
  htmlDeeplyNested,
  htmlSpanBomb,
  pdfDoubleDeflated,
  pdfSharedHeavyStream,
  xlsxSharedStringBomb,
} from '../test/support/hostile-files.ts';

export interface HostileRow {
  family: string;
  fileBytes: number;
  outcome: string;
  seconds: number;
  peakRssMb: number;
}

/** The families at the sizes the audit used (smoke: small enough to run in seconds). */
function families(smoke: boolean): Array<{ family: string; name: string; make: () => Buffer }> {
  const k = smoke ? 1 / 64 : 1;
  return [
    {
      family: 'XLSX: one 5M-char shared string in 4,000 cells',
      name: 'bomb.xlsx',
      make: () => xlsxSharedStringBomb(Math.round(5_000_000 * k), 4_000),
    },
    {
      family: 'PDF: a stream deflated twice, 4 GiB unpacked',
      name: 'twice.pdf',
      make: () => pdfDoubleDeflated(Math.round(4 * 2 ** 30 * k)),
    },
    {
      family: 'PDF: one stream deflated once, 256 MiB unpacked',
      name: 'big-stream.pdf',
      make: () => pdfDoubleDeflated(Math.round(256 * 2 ** 20 * k), 1),
    },
    {
      family: 'HTML: 800 cells of colspan 1,000,000 × rowspan 65,534',
      name: 'spans.html',
      make: () => htmlSpanBomb(800),
    },
    {
      family: 'HTML: elements nested 100,000 deep',
      name: 'deep.html',
      make: () => htmlDeeplyNested(100_000),
    },
    {
      family: 'DOCX: 250 MiB of empty paragraphs',
      name: 'empty.docx',
      make: () => docxEmptyParagraphs(Math.round(250 * 2 ** 20 * k)),
    },
    {
      family: 'PDF: 2,000 pages sharing one stream of 200,000 operators',
      name: 'slow.pdf',
      make: () => pdfSharedHeavyStream(smoke ? 50 : 2_000, smoke ? 20_000 : 200_000),
    },
  ];
}

export async function hostileFiles(smoke: boolean, log: (line: string) => void) {
  const limits = {
    ...parseLimits(loadConfig({})),
    // Smoke: the deadline scaled down with the files.
    ...(smoke ? { timeoutMs: 5_000 } : {}),
  };
  const rows: HostileRow[] = [];
  for (const f of families(smoke)) {
    const file = f.make();
    globalThis.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    const started = performance.now();
    let outcome: string;
    try {
      const parsed = await parseFileIsolated(file, f.name, limits);
      outcome = `read: ${parsed.text.length} characters`;
    } catch (err) {
      outcome = err instanceof FileRejectedError ? err.reason : `error: ${(err as Error).message}`;
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const row = {
      family: f.family,
      fileBytes: file.length,
      outcome,
      seconds: Math.round(seconds * 100) / 100,
      peakRssMb: Math.round((peak - baseline) / 2 ** 20),
    };
    log(`  ${row.family}: ${row.outcome} in ${row.seconds} s, +${row.peakRssMb} MB`);
    rows.push(row);
  }
  return { limits: { ...limits }, rows };
}
