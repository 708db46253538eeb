/**
 * `ingest FILE... --upload`: sends files through the uploads bucket as an API client would:
 * `POST /documents/upload` for a presigned URL, a PUT of the file's bytes, then (with `--wait`)
 * `GET /documents/{id}` until the parse, ingest (and fan-out) functions are done with it.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { CliIo } from './context.ts';
import { apiClient } from './target.ts';

export interface UploadOptions {
  apiUrl: string;
  /** Bearer token for a JWT-authorised deployment. */
  token?: string;
  workspace?: string;
  wait: boolean;
  timeoutSeconds: number;
  json: boolean;
}

interface Uploaded {
  file: string;
  docId?: string;
  status: string;
  error?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html',
  htm: 'text/html',
  md: 'text/markdown',
  txt: 'text/plain',
};

/** Uploads each file; resolves to the exit code (1 when any failed). */
export async function uploadFiles(paths: readonly string[], options: UploadOptions, io: CliIo) {
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, as docs/http-api.md documents it.
  const api = apiClient(options.apiUrl, options) as (
    m: string,
    p: string,
    b?: unknown,
  ) => Promise<any>;
  const results: Uploaded[] = [];
  for (const file of paths) {
    try {
      const name = basename(file);
      const ext = name.split('.').pop()?.toLowerCase() ?? '';
      const bytes = await readFile(file);
      const ticket = await api('POST', '/documents/upload', {
        fileName: name,
        size: bytes.length,
        contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
      });
      if (ticket.status !== 'pending') {
        results.push({ file, docId: ticket.docId, status: ticket.status, error: ticket.message });
        continue;
      }
      const put = await fetch(ticket.upload.url, {
        method: 'PUT',
        headers: ticket.upload.headers,
        body: bytes,
      });
      if (!put.ok) throw new Error(`upload PUT answered ${put.status}: ${await put.text()}`);
      results.push({ file, docId: ticket.docId, status: 'uploaded' });
    } catch (err) {
      results.push({ file, status: 'failed', error: (err as Error).message });
    }
  }
  if (options.wait) {
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    for (const r of results.filter((x) => x.status === 'uploaded')) {
      for (;;) {
        const doc = await api('GET', `/documents/${r.docId}`);
        if (doc.status === 'processed' || doc.status === 'failed') {
          r.status = doc.status;
          if (doc.error_msg) r.error = doc.error_msg;
          break;
        }
        if (Date.now() > deadline) {
          r.status = `${doc.status} (timed out waiting)`;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
  if (options.json) io.out(JSON.stringify(results, null, 2));
  else {
    for (const r of results) {
      io.out(`${r.docId ?? '-'}  ${r.status}  ${r.file}${r.error ? ` — ${r.error}` : ''}`);
    }
  }
  return results.some((r) => r.status === 'failed' || r.status.includes('timed out')) ? 1 : 0;
}
