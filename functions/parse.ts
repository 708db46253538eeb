/**
 * SQS-triggered parse function: S3 reports each upload to the uploads queue; the file is read,
 * turned into text (PDF, DOCX, PPTX, XLSX, HTML, Markdown, text) and its document sent to the
 * ingest queue. The parsers live in this function's bundle only.
 */
import { queueFunction } from '../lib/handler.ts';
import { getUploadRuntime, processUploadRecord } from '../lib/uploads/runtime.ts';

export const handler = queueFunction(
  getUploadRuntime,
  // One file at a time: a parsed PDF can take hundreds of megabytes.
  () => 1,
  (rt, record) => processUploadRecord(rt, record),
);
