/**
 * Which document an incoming text is, by LightRAG 1.5's rules (LIGHTRAG-1.5.md §4): its id,
 * its stored file path, and whether it duplicates a document already there — the same file name
 * with other content, or the same content under another name. A duplicate is recorded as LightRAG
 * records it, a `failed` `dup-…` marker row pointing at the original, and is not processed; the
 * original is untouched. A redelivery of the same text (same id, same content) is not a duplicate:
 * the queue's retries must finish it.
 */
import {
  documentIdFor,
  duplicateId,
  hasFileName,
  type IdRules,
  storedFilePath,
  UNKNOWN_SOURCE,
} from '../ids.ts';
import type { DocStatusRecord, StoredDocStatus } from '../storage/doc-status.ts';
import type { Storages } from '../storage/index.ts';
import { contentFields, newStatus } from '../storage/status-rows.ts';
import { md5 } from '../text.ts';

/** Why LightRAG 1.5 calls a document a duplicate: the same file name, or the same content. */
export type DuplicateKind = 'filename' | 'content_hash';

/** A document's id and stored file path by LightRAG's rules, and the document it duplicates if any. */
export interface Identity {
  docId: string;
  /** What `file_path` stores (1.5: the canonical basename or `unknown_source`). */
  filePath: string | null;
  existing: StoredDocStatus | null;
  duplicate?: { kind: DuplicateKind; original: StoredDocStatus };
}

/** Identifies a text about to be stored or processed. */
export async function identify(
  s: Storages,
  content: string,
  givenPath: string | null | undefined,
  rules: IdRules,
): Promise<Identity> {
  const docId = documentIdFor(content, givenPath, rules);
  const filePath = storedFilePath(givenPath, rules);
  if (rules === '1.4') return { docId, filePath, existing: await s.docStatus.getById(docId) };
  const hash = md5(content);
  const named = hasFileName(givenPath);
  const found = await s.docStatus.findIdentity(docId, named ? filePath : null, hash);
  const identity: Identity = { docId, filePath, existing: found.self };
  if (found.self) {
    // Same name, other content: LightRAG keeps the first and records the second as a duplicate.
    const { content_hash: stored } = found.self;
    if (named && stored && stored !== hash)
      return { ...identity, duplicate: { kind: 'filename', original: found.self } };
    return identity;
  }
  // Another row holds this name (e.g. under LightRAG ≤ 1.4's content id), or this content.
  if (found.other)
    return {
      ...identity,
      duplicate: { kind: found.sameName ? 'filename' : 'content_hash', original: found.other },
    };
  return identity;
}

/** LightRAG's marker row for a duplicate (status `failed`, metadata naming the original). */
export function duplicateRecord(
  identity: Identity & { duplicate: NonNullable<Identity['duplicate']> },
  content: string,
  trackId: string,
  index = 0,
): DocStatusRecord {
  const { kind, original } = identity.duplicate;
  const filePath = identity.filePath ?? UNKNOWN_SOURCE;
  return newStatus(duplicateId(identity.docId, trackId, index, filePath), {
    status: 'failed',
    ...contentFields(content),
    content_summary: `[DUPLICATE:${kind}] Original document: ${original.id}`,
    file_path: filePath,
    chunks_count: 0,
    chunks_list: [],
    track_id: trackId,
    metadata: {
      is_duplicate: true,
      duplicate_kind: kind,
      original_doc_id: original.id,
      original_track_id: original.track_id,
    },
    error_msg:
      kind === 'content_hash'
        ? `Identical content already exists under another filename: ${original.file_path ?? UNKNOWN_SOURCE} (${original.id}).`
        : // An upload is refused by its name before its content is known ('').
          `A document named ${filePath} already exists (${original.id})${content === '' ? '' : ' with other content'}; delete it first to replace it.`,
  });
}

/**
 * Why a failed document cannot succeed by running it again, if it cannot: a duplicate marker
 * records an attempt (its content is the original's, stored under the original's id), and a
 * file that could not be turned into text has no text to process.
 */
export function notReprocessable(d: Pick<StoredDocStatus, 'id' | 'metadata'>): string | undefined {
  const meta = (d.metadata ?? {}) as Record<string, unknown>;
  if (meta.is_duplicate === true || d.id.startsWith('dup-')) {
    return `a duplicate marker of ${String(meta.original_doc_id ?? 'another document')}, not a document: nothing to process`;
  }
  // A file of ours whose parse gave up on S3 or the database (no rejection) is parsed again.
  const retryableParse = meta.upload !== undefined && meta.file_rejection === undefined;
  if (meta.error_type === 'file_extraction_error' && !retryableParse) {
    const why = meta.file_rejection ? ` (${String(meta.file_rejection)})` : '';
    return `the uploaded file could not be turned into text${why}: upload a readable file again`;
  }
  return undefined;
}
