/**
 * File uploads: the bucket presigned URLs point at, and the limits every uploaded file is
 * parsed under (part of the configuration read by `loadConfig`).
 */
import type { EnvReader } from '../env.ts';

/** Uploads: the bucket, presigned URL lifetime, and the limits every uploaded file is parsed under. */
export interface UploadConfig {
  /** The uploads bucket (`UPLOAD_BUCKET`); unset: `POST /documents/upload` is off. */
  bucket?: string;
  /** S3 endpoint override (a local emulator); path-style addressing then. */
  endpoint?: string;
  region: string;
  /** Seconds a presigned upload URL stays valid. */
  urlExpiresSeconds: number;
  /** Largest file accepted. */
  maxFileBytes: number;
  /** Bytes a DOCX/PPTX/XLSX may inflate to (zip bomb bound). */
  maxInflatedBytes: number;
  /** Pages a PDF may have. */
  maxPdfPages: number;
  /** Elements one Office XML part may hold (its parsed tree costs tens of times its bytes). */
  maxXmlNodes: number;
  /** Bytes a PDF's non-image streams may decode to (a stream deflated twice is a bomb). */
  maxPdfDecodedBytes: number;
  /** Wall time to read one file's text, in ms (checked between pages and parts, then enforced). */
  parseTimeoutMs: number;
  /** Heap of the worker thread a file is parsed in, in MB; past it the file is refused. */
  parseMaxHeapMb: number;
}

/** Reads `UPLOAD_BUCKET`, `S3_ENDPOINT`, `MAX_UPLOAD_BYTES` and the parse limits. */
export function readUploads(reader: EnvReader): UploadConfig {
  return {
    bucket: reader.string('UPLOAD_BUCKET', {
      pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      hint: 'expected an S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)',
    }),
    endpoint: reader.string('S3_ENDPOINT', {
      pattern: /^https?:\/\/\S+$/,
      hint: 'expected a URL such as http://127.0.0.1:4566',
    }),
    region: reader.string('AWS_REGION', {
      default: reader.raw('AWS_DEFAULT_REGION') ?? 'us-east-1',
    }),
    urlExpiresSeconds: reader.integer('UPLOAD_URL_EXPIRES_SECONDS', {
      default: 900,
      min: 60,
      max: 7 * 24 * 3600,
    }),
    maxFileBytes: reader.integer('MAX_UPLOAD_BYTES', {
      default: 100 * 1024 * 1024,
      min: 1,
      max: 5 * 1024 * 1024 * 1024,
    }),
    maxInflatedBytes: reader.integer('MAX_INFLATED_BYTES', {
      default: 256 * 1024 * 1024,
      min: 1024,
      max: 4 * 1024 * 1024 * 1024,
    }),
    maxPdfPages: reader.integer('MAX_PDF_PAGES', { default: 2000, min: 1, max: 100_000 }),
    maxXmlNodes: reader.integer('MAX_XML_NODES', {
      default: 2_000_000,
      min: 1000,
      max: 100_000_000,
    }),
    maxPdfDecodedBytes: reader.integer('MAX_PDF_DECODED_BYTES', {
      default: 128 * 1024 * 1024,
      min: 1024 * 1024,
      max: 4 * 1024 * 1024 * 1024,
    }),
    parseTimeoutMs: reader.integer('PARSE_TIMEOUT_MS', {
      default: 120_000,
      min: 1000,
      max: 900_000,
    }),
    parseMaxHeapMb: reader.integer('PARSE_MAX_HEAP_MB', { default: 1024, min: 64, max: 8192 }),
  };
}
