/**
 * Reads documents for the CLI: .txt / .md files (one document each); PDF, DOCX, PPTX, XLSX and
 * HTML files parsed to text (lib/parsers, as the parse function does); .json (a document, or an
 * array of them) and .jsonl (one per line), a document in JSON being a string or
 * `{ "content", "filePath"?, "id"?, "metadata"? }`; a record without a file path of its own is named
 * after the file and its `id` or position (`notes.jsonl#3`). `-` reads standard input as one document. Quoted
 * globs are expanded here (`node:fs/promises` glob).
 */

import * as fsp from 'node:fs/promises';
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { loadConfig } from '../config.ts';
import { type IsolatedParseLimits, parseFileIsolated, parseLimits } from '../parsers/isolated.ts';

export interface SourceDocument {
  content: string;
  filePath?: string;
  metadata?: Record<string, unknown>;
}

export interface ReadResult {
  documents: SourceDocument[];
  /** One line per input that could not be read, saying where and why. */
  errors: string[];
}

const TEXT = new Set(['.txt', '.md', '.markdown', '.text']);
/** Files read as bytes and parsed, as uploads are. */
export const PARSED = new Set(['.pdf', '.docx', '.pptx', '.xlsx', '.html', '.htm']);

/** Parse limits when the caller gives none: the configuration's defaults. */
const defaultLimits = (): IsolatedParseLimits => parseLimits(loadConfig({}));

export async function readDocuments(
  inputs: readonly string[],
  readStdin: () => Promise<string>,
  limits: IsolatedParseLimits = defaultLimits(),
): Promise<ReadResult> {
  const documents: SourceDocument[] = [];
  const errors: string[] = [];
  for (const input of inputs) {
    if (input === '-') {
      documents.push({ content: await readStdin(), filePath: 'stdin' });
      continue;
    }
    const paths = /[*?[]/.test(input) ? await expandGlob(input) : [input];
    if (paths.length === 0) errors.push(`${input}: no file matches`);
    for (const path of paths) {
      try {
        documents.push(...(await readOne(path, limits)));
      } catch (err) {
        errors.push(`${path}: ${(err as Error).message}`);
      }
    }
  }
  return { documents, errors };
}

async function expandGlob(pattern: string): Promise<string[]> {
  const found: string[] = [];
  for await (const path of fsp.glob(pattern)) found.push(path);
  return found.sort();
}

async function readOne(path: string, limits: IsolatedParseLimits): Promise<SourceDocument[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new Error('no such file');
  if (info.isDirectory()) throw new Error('is a directory; pass a glob such as "docs/**/*.md"');
  const ext = extname(path).toLowerCase();
  if (PARSED.has(ext)) {
    const parsed = await parseFileIsolated(await readFile(path), path, limits);
    const metadata = {
      file_type: parsed.kind,
      parse_engine: parsed.engine,
      ...(parsed.pages !== undefined ? { pages: parsed.pages } : {}),
    };
    return [{ content: parsed.text, filePath: path, metadata }];
  }
  const text = await readFile(path, 'utf8');
  if (TEXT.has(ext)) {
    // Refused here, as an empty PDF is: no database is opened for nothing to ingest.
    if (text.replaceAll('\0', '').trim() === '')
      throw new Error('the file is empty (or only whitespace)');
    return [{ content: text, filePath: path }];
  }
  if (ext === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`not valid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(parsed)) return [toDocument(parsed, path, path)];
    return parsed.map((item, i) =>
      toDocument(item, `${path}[${i}]`, recordName(path, item, i + 1)),
    );
  }
  if (ext === '.jsonl' || ext === '.ndjson') {
    const docs: SourceDocument[] = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch (err) {
        throw new Error(`line ${i + 1} is not valid JSON (${(err as Error).message})`);
      }
      docs.push(toDocument(parsed, `${path}:${i + 1}`, recordName(path, parsed, i + 1)));
    }
    return docs;
  }
  throw new Error(
    `unsupported file type "${ext || '(none)'}"; use .txt, .md, .pdf, .docx, .pptx, .xlsx, .html, .json or .jsonl`,
  );
}

/**
 * The name of one record of a multi-record file that names none itself: the file name and the
 * record's own `id` (or its position, 1-based: the line of a .jsonl), so each record is its own
 * document under LightRAG's file-name ids and ingesting the file again finds the same documents.
 */
export function recordName(path: string, item: unknown, position: number): string {
  const id = item !== null && typeof item === 'object' ? (item as { id?: unknown }).id : undefined;
  const key =
    typeof id === 'string' && id.trim() !== ''
      ? id.trim()
      : typeof id === 'number'
        ? String(id)
        : String(position);
  return `${path}#${key}`;
}

function toDocument(item: unknown, where: string, path: string): SourceDocument {
  if (typeof item === 'string') return { content: item, filePath: path };
  if (
    item &&
    typeof item === 'object' &&
    typeof (item as { content?: unknown }).content === 'string'
  ) {
    const { content, filePath, file_path, metadata } = item as Record<string, unknown>;
    return {
      content: content as string,
      filePath:
        typeof filePath === 'string' ? filePath : typeof file_path === 'string' ? file_path : path,
      ...(metadata && typeof metadata === 'object' && !Array.isArray(metadata)
        ? { metadata: metadata as Record<string, unknown> }
        : {}),
    };
  }
  throw new Error(`${where}: expected a string or an object with a "content" string`);
}
