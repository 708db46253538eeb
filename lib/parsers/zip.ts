/**
 * Reads chosen entries of a zip archive (DOCX, PPTX and XLSX are zips) with a bound on the bytes
 * inflated, so an archive bomb stops at the limit instead of filling memory. The sizes an
 * archive declares are not trusted: output is counted as it is inflated (fflate's streaming
 * `Unzip`, which never allocates from the declared size).
 */
import { Unzip, UnzipInflate } from 'fflate';
import { FileRejectedError } from '../errors.ts';

/** What a zip archive may inflate to and list (the zip bomb bounds). */
export interface ZipLimits {
  /** Total bytes all read entries may inflate to. */
  maxInflatedBytes: number;
  /** Entries the archive may list (a zip of millions of empty entries is a bomb too). */
  maxEntries?: number;
}

/** Entry names of the archive, and the bytes of the entries `want` accepted. */
export interface ZipContents {
  names: string[];
  entries: Map<string, Uint8Array>;
}

/**
 * Inflates the entries `want` accepts. Throws {@link FileRejectedError} `archive_too_large`
 * past the limits and `corrupt` when the bytes are not a readable zip.
 *
 * @example
 * ```ts
 * const { entries } = readZip(bytes, (name) => name === 'word/document.xml', { maxInflatedBytes: 50e6 });
 * ```
 */
export function readZip(
  bytes: Uint8Array,
  want: (name: string) => boolean,
  limits: ZipLimits,
): ZipContents {
  const maxEntries = limits.maxEntries ?? 10_000;
  // Every zip ends with its central directory's end record (22 bytes + a comment of at most
  // 64 KiB); a file cut short has none, even when the entries it still holds are whole.
  if (!hasEndRecord(bytes)) throw corrupt('no end-of-central-directory record: truncated');
  const names: string[] = [];
  const parts = new Map<string, Uint8Array[]>();
  let inflated = 0;
  let failure: Error | undefined;
  const complete = new Set<string>();
  const unzip = new Unzip();
  unzip.register(UnzipInflate);
  unzip.onfile = (file) => {
    if (failure) return;
    names.push(file.name);
    if (names.length > maxEntries) {
      failure = new FileRejectedError(
        'archive_too_large',
        `The archive lists more than ${maxEntries} entries; it is refused as a possible zip bomb.`,
        { limit: maxEntries },
      );
      return;
    }
    if (!want(file.name)) return;
    const chunks: Uint8Array[] = [];
    parts.set(file.name, chunks);
    file.ondata = (err, data, final) => {
      if (final) complete.add(file.name);
      if (failure) return;
      if (err) {
        failure = corrupt(`entry ${file.name}: ${err.message}`);
        return;
      }
      inflated += data.length;
      if (inflated > limits.maxInflatedBytes) {
        failure = new FileRejectedError(
          'archive_too_large',
          `The file inflates to more than ${limits.maxInflatedBytes} bytes (MAX_INFLATED_BYTES); it is refused as a possible zip bomb.`,
          { limit: limits.maxInflatedBytes },
        );
        file.terminate();
        return;
      }
      chunks.push(data);
    };
    file.start();
  };
  // Feed in slices so a bomb is stopped after at most one slice's worth of output.
  const slice = 64 * 1024;
  try {
    for (let at = 0; at < bytes.length && !failure; at += slice) {
      const end = Math.min(at + slice, bytes.length);
      unzip.push(bytes.subarray(at, end), end === bytes.length);
    }
  } catch (err) {
    failure ??= corrupt((err as Error).message);
  }
  if (failure) throw failure;
  if (names.length === 0) throw corrupt('no entries');
  const cut = [...parts.keys()].find((name) => !complete.has(name));
  if (cut) throw corrupt(`entry ${cut} ends early`);
  const entries = new Map<string, Uint8Array>();
  for (const [name, chunks] of parts) entries.set(name, concat(chunks));
  return { names, entries };
}

function hasEndRecord(bytes: Uint8Array): boolean {
  const from = Math.max(0, bytes.length - 22 - 0xffff);
  for (let at = bytes.length - 22; at >= from; at -= 1) {
    if (
      bytes[at] === 0x50 &&
      bytes[at + 1] === 0x4b &&
      bytes[at + 2] === 0x05 &&
      bytes[at + 3] === 0x06
    )
      return true;
  }
  return false;
}

function corrupt(detail: string): FileRejectedError {
  return new FileRejectedError(
    'corrupt',
    `The file is not a readable zip archive (${detail}); it may be truncated or damaged.`,
  );
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
