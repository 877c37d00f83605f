// The Okta client's error (an ApiError carrying Okta's error object), and the reading of that object:
// {errorCode, errorSummary, errorLink, errorId, errorCauses:[{errorSummary}]} (Okta "Error object",
// developer.okta.com/docs/reference/error-codes). Must never carry the API token: every text it holds went
// through the transport's redaction first.

import { z } from "zod";
import { ApiError, type ApiErrorInit } from "../http/errors.js";
import type { ErrorAnswer } from "../http/transport.js";

/** The scopes the Apps API reference names: reads need okta.apps.read, writes okta.apps.manage. */
export const READ_PERMISSION = "okta.apps.read";
export const WRITE_PERMISSION = "okta.apps.manage";

export interface OktaErrorBody {
  /** e.g. E0000006. */
  readonly errorCode: string | null;
  readonly errorSummary: string | null;
  /** Each `errorCauses[].errorSummary`, e.g. the fields a validation refused. */
  readonly errorCauses: readonly string[];
  /** Okta's id of this occurrence, for its support. */
  readonly errorId: string | null;
  /** For a 403: the permission the refused call needs. */
  readonly permissionNeeded: string | null;
}

export class OktaError extends ApiError {
  override readonly name = "OktaError";
  readonly errorCode: string | null;
  readonly errorSummary: string | null;
  readonly errorCauses: readonly string[];
  readonly errorId: string | null;

  constructor(init: ApiErrorInit, body: OktaErrorBody | null) {
    super(init, "OKTA");
    this.errorCode = body?.errorCode ?? null;
    this.errorSummary = body?.errorSummary ?? null;
    this.errorCauses = body?.errorCauses ?? [];
    this.errorId = body?.errorId ?? null;
  }
}

// Error bodies are read leniently: a malformed field is lost, not the whole error.
const MAX_TEXT = 300;
const MAX_CAUSES = 5;
const text = z
  .union([z.string(), z.number()])
  .transform((value) => clean(String(value)))
  .nullish()
  .catch(null);
const errorShape = z.object({
  errorCode: text,
  errorSummary: text,
  errorId: text,
  errorCauses: z
    .array(z.object({ errorSummary: text }).catch({ errorSummary: null }))
    .nullish()
    .catch(null),
});

function clean(value: string): string {
  const flat = value.replace(/\s+/g, " ").trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}…` : flat;
}

/** Reads Okta's error object; anything else yields nulls. Never throws. */
export function parseOktaError(answer: ErrorAnswer): OktaErrorBody {
  const permissionNeeded =
    answer.status === 403 ? (answer.method === "GET" ? READ_PERMISSION : WRITE_PERMISSION) : null;
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    json = null;
  }
  const parsed = errorShape.safeParse(json);
  if (!parsed.success)
    return { errorCode: null, errorSummary: null, errorCauses: [], errorId: null, permissionNeeded };
  const body = parsed.data;
  return {
    errorCode: body.errorCode ?? null,
    errorSummary: body.errorSummary ?? null,
    errorCauses: (body.errorCauses ?? [])
      .flatMap((cause) => (cause.errorSummary ? [cause.errorSummary] : []))
      .slice(0, MAX_CAUSES),
    errorId: body.errorId ?? null,
    permissionNeeded,
  };
}

/** `E0000001 Api validation failed: app (label: ...); the API token needs okta.apps.manage`, or null. */
export function describeOktaError(body: OktaErrorBody): string | null {
  const summary = [body.errorCode, body.errorSummary].filter((part) => part).join(" ");
  const causes = body.errorCauses.length > 0 ? `(${body.errorCauses.join("; ")})` : "";
  const said = [summary, causes].filter((part) => part).join(" ");
  const permission = body.permissionNeeded
    ? `the API token's admin needs the ${body.permissionNeeded} permission`
    : "";
  const main = [said, permission].filter((part) => part).join("; ");
  return main || null;
}
