/**
 * The documents routes, one function: ours (`POST /documents`, `GET /documents`,
 * `GET /documents/status-counts`, `GET|DELETE /documents/{id}`, `POST /documents/reprocess`,
 * `POST /documents/upload` with JSON, `GET /usage`) and LightRAG Server's (lib/documents/lightrag.ts
 * has their shapes; deletions run in the background, lib/documents/background.ts).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  countsWithAll,
  insertResponse,
  OUR_LIST_PARAMETERS,
  paginatedResponse,
  parseDeleteRequest,
  parsePaginatedRequest,
  parseTextRequest,
  parseTextsRequest,
  STATUSES_LIMIT,
  statusesResponse,
  trackStatusResponse,
} from '../lib/documents/lightrag.ts';
import {
  parseReprocessRequest,
  parseStatusFilter,
  parseSubmitRequest,
  parseUploadRequest,
} from '../lib/documents/requests.ts';
import { HttpError } from '../lib/errors.ts';
import { httpFunction } from '../lib/handler.ts';
import { getDocumentsRuntime } from '../lib/http/documents-runtime.ts';
import {
  header,
  intParam,
  parseJsonBody,
  pathParam,
  resolveWorkspace,
  workspaceOnlyBody,
} from '../lib/http/request.ts';
import { json } from '../lib/http/response.ts';
import { routeTable } from '../lib/http/router.ts';
import { sinceDay, usageReport } from '../lib/ops/usage-report.ts';
import { supportedFileTypes } from '../lib/parsers/file-types.ts';
import { cancelPipeline, pipelineStatus } from '../lib/pipeline/status.ts';
import { parseUploadForm } from '../lib/uploads/multipart.ts';

const workspaceOf = (event: APIGatewayProxyEventV2, body?: unknown) => {
  const { config } = getDocumentsRuntime();
  return resolveWorkspace(event, body, config.api, config.workspace);
};

const idOf = (event: APIGatewayProxyEventV2) => pathParam(event, 'id');

/** The workspace of a route that reads no body of its own (a `{"workspace"}` body is allowed). */
const bodylessWorkspace = (event: APIGatewayProxyEventV2) =>
  workspaceOf(event, workspaceOnlyBody(event, getDocumentsRuntime().config.api.maxBodyBytes));

export const documentsRoute = routeTable('documents', {
  'POST /documents': async (event) => {
    const { config, documents } = getDocumentsRuntime();
    const body = parseJsonBody(event, config.api.maxBodyBytes);
    const items = parseSubmitRequest(body);
    return json(202, await documents.submit(items, workspaceOf(event, body)));
  },
  'GET /documents': async (event) => {
    const q = event.queryStringParameters ?? {};
    // LightRAG's (deprecated) form takes no parameters: its shape, `{statuses: {…}}`.
    if (!OUR_LIST_PARAMETERS.some((name) => q[name] !== undefined)) {
      const newest = await getDocumentsRuntime().documents.newest(
        STATUSES_LIMIT,
        bodylessWorkspace(event),
      );
      return json(200, statusesResponse(newest));
    }
    const status = parseStatusFilter(event.queryStringParameters?.status);
    const workspace = bodylessWorkspace(event);
    const page = await getDocumentsRuntime().documents.list(
      {
        status,
        page: intParam(event, 'page'),
        pageSize: intParam(event, 'page_size'),
        sortField: event.queryStringParameters?.sort_field,
        sortDirection: event.queryStringParameters?.sort_direction,
      },
      workspace,
    );
    return json(200, page);
  },
  'GET /documents/status-counts': async (event) =>
    json(200, {
      status_counts: await getDocumentsRuntime().documents.statusCounts(bodylessWorkspace(event)),
    }),
  // LightRAG Server's document routes (lib/documents/lightrag.ts has its shapes).
  'POST /documents/paginated': async (event) => {
    const { config, documents } = getDocumentsRuntime();
    const body = event.body ? parseJsonBody(event, config.api.maxBodyBytes) : {};
    const workspace = workspaceOf(event, body);
    const request = parsePaginatedRequest(lightragBody(body));
    const [page, counts] = await Promise.all([
      documents.list(request, workspace),
      documents.statusCounts(workspace),
    ]);
    return json(200, paginatedResponse(page, counts));
  },
  'GET /documents/status_counts': async (event) =>
    json(200, {
      status_counts: countsWithAll(
        await getDocumentsRuntime().documents.statusCounts(bodylessWorkspace(event)),
      ),
    }),
  'GET /documents/supported_file_types': async () => json(200, supportedFileTypes()),
  'GET /documents/track_status/{track_id}': async (event) => {
    const trackId = pathParam(event, 'track_id');
    const docs = await getDocumentsRuntime().documents.byTrackId(trackId, bodylessWorkspace(event));
    return json(200, trackStatusResponse(trackId, docs));
  },
  'POST /documents/text': async (event) => submitTexts(event, parseTextRequest),
  // LightRAG's scan (new files in its input folder, then failed ones) and reprocess_failed are
  // one thing here: files arrive by upload, so both retry failed and stuck documents.
  'POST /documents/reprocess_failed': (event) => retryFailed(event, 'reprocessing_started'),
  'POST /documents/scan': (event) => retryFailed(event, 'scanning_started'),
  'POST /documents/clear_cache': async (event) => {
    const cleared = await getDocumentsRuntime().documents.clearCache(bodylessWorkspace(event));
    return json(200, {
      status: 'success',
      message: `Cleared ${cleared} cached LLM response${cleared === 1 ? '' : 's'}.`,
    });
  },
  'POST /documents/texts': async (event) => submitTexts(event, parseTextsRequest),
  'GET /documents/pipeline_status': async (event) =>
    json(200, await pipelineStatus(getDocumentsRuntime().db, bodylessWorkspace(event))),
  'POST /documents/cancel_pipeline': async (event) => {
    const { db, pipelineLog } = getDocumentsRuntime();
    return json(200, await cancelPipeline(db, pipelineLog, bodylessWorkspace(event)));
  },
  // LightRAG sends this DELETE with a JSON body; the deletion runs in the background.
  'DELETE /documents/delete_document': async (event) => {
    const { config, background } = getDocumentsRuntime();
    const body = parseJsonBody(event, config.api.maxBodyBytes);
    const request = parseDeleteRequest(lightragBody(body));
    return json(
      200,
      await background.requestDeletion(request.docIds, workspaceOf(event, body), request),
    );
  },
  'DELETE /documents': async (event) =>
    json(200, await getDocumentsRuntime().background.requestClear(bodylessWorkspace(event))),
  'GET /documents/{id}': async (event) =>
    json(200, await getDocumentsRuntime().documents.get(idOf(event), bodylessWorkspace(event))),
  'DELETE /documents/{id}': async (event) =>
    json(200, await getDocumentsRuntime().documents.delete(idOf(event), bodylessWorkspace(event))),
  'POST /documents/reprocess': async (event) => {
    const { config, documents } = getDocumentsRuntime();
    const body = event.body ? parseJsonBody(event, config.api.maxBodyBytes) : {};
    const ids = parseReprocessRequest(body);
    return json(202, await documents.reprocess(ids, workspaceOf(event, body)));
  },
  'GET /usage': async (event) => {
    const { db } = getDocumentsRuntime();
    const workspace = bodylessWorkspace(event);
    await getDocumentsRuntime().storages(workspace); // The schema, usage table included.
    return json(
      200,
      await usageReport(db, workspace, sinceDay(event.queryStringParameters?.since)),
    );
  },
  'POST /documents/upload': async (event) => {
    const { config, uploads, storages } = getDocumentsRuntime();
    // LightRAG's form (the file inside the request) by its content type; JSON asks for a ticket.
    const contentType = header(event, 'content-type') ?? '';
    if (/^multipart\/form-data/i.test(contentType)) {
      const body = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
      const file = await parseUploadForm(contentType, body);
      const ticket = await uploads.uploadFile(await storages(workspaceOf(event)), file);
      if (ticket.status === 'duplicated') {
        // LightRAG's WebUI recognises "already contains" in a 409's detail.
        throw new HttpError(
          409,
          'DUPLICATE_FILE_NAME',
          `The workspace already contains a document named ${ticket.fileName} (${ticket.docId}); delete it first to replace it.`,
          { docId: ticket.docId },
        );
      }
      return json(200, {
        status: 'success',
        message: `File ${ticket.fileName} uploaded; parsing and processing continue in the background.`,
        track_id: ticket.trackId,
      });
    }
    const body = parseJsonBody(event, config.api.maxBodyBytes);
    const request = parseUploadRequest(body);
    const ticket = await uploads.requestUpload(await storages(workspaceOf(event, body)), request);
    return json(ticket.status === 'pending' ? 201 : 200, ticket);
  },
});

/** LightRAG's text routes: the documents submitted, answered with its `InsertResponse`. */
async function submitTexts(
  event: APIGatewayProxyEventV2,
  parse: (body: unknown) => Array<Record<string, unknown>>,
) {
  const { config, documents } = getDocumentsRuntime();
  const body = parseJsonBody(event, config.api.maxBodyBytes);
  const items = parse(lightragBody(body));
  const { trackId, documents: results } = await documents.submit(items, workspaceOf(event, body));
  return json(200, insertResponse(trackId, results));
}

/** LightRAG's reprocess_failed and scan: failed and stuck documents queued again. */
async function retryFailed(event: APIGatewayProxyEventV2, status: string) {
  const { trackId, documents } = await getDocumentsRuntime().documents.reprocess(
    undefined,
    bodylessWorkspace(event),
  );
  const queued = documents.filter((d) => d.status === 'queued').length;
  return json(200, {
    status,
    message: `${queued} document${queued === 1 ? '' : 's'} queued again.`,
    track_id: trackId,
  });
}

/** A LightRAG request body without our `workspace` field (read by workspaceOf). */
function lightragBody(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const { workspace: _workspace, ...rest } = body as Record<string, unknown>;
  return rest;
}

export const handler = httpFunction(getDocumentsRuntime, documentsRoute);
