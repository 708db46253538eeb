/**
 * Which files the parse function reads, by extension: a leaf module (no parser behind it), so the
 * documents function can answer LightRAG's `GET /documents/supported_file_types` without carrying
 * the parsers. The content decides in the end (lib/parsers/index.ts): a file's bytes must agree
 * with its extension, and any UTF-8 text file is read as text whatever its name.
 */
/** The kinds of file the parse function reads. */
export type FileKind = 'pdf' | 'docx' | 'pptx' | 'xlsx' | 'html' | 'markdown' | 'text';

/** The extensions whose kind is known, and the kind each claims. */
export const BY_EXTENSION: Readonly<Record<string, FileKind>> = {
  pdf: 'pdf',
  docx: 'docx',
  pptx: 'pptx',
  xlsx: 'xlsx',
  html: 'html',
  htm: 'html',
  xhtml: 'html',
  md: 'markdown',
  markdown: 'markdown',
  txt: 'text',
  text: 'text',
};

/** Formats LightRAG reads that this parser does not: named in the refusal. */
export const UNSUPPORTED = new Set(['doc', 'ppt', 'xls', 'odt', 'odp', 'ods', 'rtf', 'epub']);

/** Common text formats, read as text like any UTF-8 file. */
const TEXT_EXTENSIONS = ['csv', 'json', 'jsonl', 'xml', 'yaml', 'yml', 'log', 'rst', 'tex'];

/** The engine that reads each kind (LIGHTRAG_DOC_FULL.parse_engine). */
const ENGINES: Record<FileKind, string> = {
  pdf: 'unpdf',
  docx: 'ooxml',
  pptx: 'ooxml',
  xlsx: 'ooxml',
  html: 'html-to-text',
  markdown: 'text',
  text: 'text',
};

/**
 * LightRAG's `GET /documents/supported_file_types`: every extension read, and the engine of each.
 *
 * @example
 * ```ts
 * supportedFileTypes().engines.unpdf; // ['.pdf']
 * ```
 */
export function supportedFileTypes(): {
  supported_extensions: string[];
  engines: Record<string, string[]>;
} {
  const engines: Record<string, string[]> = {};
  const add = (engine: string, ext: string) => {
    engines[engine] ??= [];
    engines[engine].push(`.${ext}`);
  };
  for (const [ext, kind] of Object.entries(BY_EXTENSION)) add(ENGINES[kind], ext);
  for (const ext of TEXT_EXTENSIONS) add('text', ext);
  return {
    supported_extensions: Object.values(engines).flat().sort(),
    engines,
  };
}
