// The Graph client's error (an ApiError carrying Graph's or the token endpoint's own words), and the
// reading of both error bodies: Graph's {error:{code, message, innerError:{date, request-id}}} ("Microsoft
// Graph error responses and resource types") and the identity platform's {error, error_description,
// error_codes, trace_id} (client credentials flow). Must never carry the client secret or an access
// token: every text it holds went through the transport's redaction first.

import { z } from "zod";
import { ApiError, type ApiErrorInit } from "../http/errors.js";
import type { ErrorAnswer } from "../http/transport.js";

/** Least-privileged application permissions, as "Get servicePrincipal" and "Update servicePrincipal" list them. */
export const READ_PERMISSION = "Application.Read.All";
export const WRITE_PERMISSION = "Application.ReadWrite.OwnedBy or Application.ReadWrite.All";

export interface GraphErrorBody {
  /** Graph's `error.code` (e.g. Authorization_RequestDenied), or the token endpoint's `error` (invalid_client). */
  readonly errorCode: string | null;
  /** Graph's `error.message`, or the first line of `error_description` (it starts with the AADSTS code). */
  readonly errorMessage: string | null;
  /** `innerError["request-id"]`, the token endpoint's `trace_id`, or the `request-id` header. */
  readonly requestId: string | null;
  /** `innerError.date` as sent. */
  readonly date: string | null;
  /** For a 403: the application permission the refused call needs. */
  readonly permissionNeeded: string | null;
}

export class GraphError extends ApiError {
  override readonly name = "GraphError";
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly requestId: string | null;
  readonly date: string | null;

  constructor(init: ApiErrorInit, body: GraphErrorBody | null) {
    super(init, "GRAPH");
    this.errorCode = body?.errorCode ?? null;
    this.errorMessage = body?.errorMessage ?? null;
    this.requestId = body?.requestId ?? null;
    this.date = body?.date ?? null;
  }
}

// Error bodies are read leniently: a malformed field is lost, not the whole error.
const MAX_TEXT = 300;
const text = z
  .union([z.string(), z.number()])
  .transform((value) => clean(String(value)))
  .nullish()
  .catch(null);
const graphShape = z.object({
  error: z.object({
    code: text,
    message: text,
    innerError: z.object({ date: text, "request-id": text }).nullish().catch(null),
  }),
});
const stsShape = z.object({ error: z.string(), error_description: text, trace_id: text });

function clean(value: string): string {
  const flat = value.replace(/\s+/g, " ").trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}…` : flat;
}

function header(answer: ErrorAnswer, name: string): string | null {
  const value = answer.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first ? clean(first) : null;
}

/** Reads either error shape; anything else yields nulls. Never throws. */
export function parseGraphError(answer: ErrorAnswer): GraphErrorBody {
  const permissionNeeded =
    answer.status === 403 ? (answer.method === "GET" ? READ_PERMISSION : WRITE_PERMISSION) : null;
  const headerId = header(answer, "request-id") ?? header(answer, "x-ms-request-id");
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    json = null;
  }
  const graph = graphShape.safeParse(json);
  if (graph.success) {
    const error = graph.data.error;
    return {
      errorCode: error.code ?? null,
      errorMessage: error.message ?? null,
      requestId: error.innerError?.["request-id"] ?? headerId,
      date: error.innerError?.date ?? null,
      permissionNeeded,
    };
  }
  const sts = stsShape.safeParse(json);
  if (sts.success) {
    // The description's later lines (flattened by clean) repeat the trace id, correlation id and timestamp.
    const description = sts.data.error_description ?? null;
    return {
      errorCode: clean(sts.data.error),
      errorMessage: description === null ? null : (description.split(" Trace ID:")[0] ?? description),
      requestId: sts.data.trace_id ?? headerId,
      date: null,
      permissionNeeded,
    };
  }
  return { errorCode: null, errorMessage: null, requestId: headerId, date: null, permissionNeeded };
}

/** `Authorization_RequestDenied: Insufficient privileges ...; needs ... (request-id ...)`, or null. */
export function describeGraphError(body: GraphErrorBody): string | null {
  const said = [body.errorCode, body.errorMessage].filter((part) => part).join(": ");
  const permission = body.permissionNeeded
    ? `the app registration needs the Microsoft Graph application permission ${body.permissionNeeded}, with admin consent`
    : "";
  const main = [said, permission].filter((part) => part).join("; ");
  if (!main) return null;
  return body.requestId ? `${main} (request-id ${body.requestId})` : main;
}
