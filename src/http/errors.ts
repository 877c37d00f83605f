// The base of every API client's error (SendGridError, OktaError, GraphError): the fields the rotation
// code branches on whichever API failed, and the one message format. Owns `kind`, `reason` and `code`;
// each API's subclass adds that API's own words. Never carries a secret: every string that reaches an
// error passes through the transport's redaction first, and a cause is a sanitised copy.

import { STATUS_CODES } from "./node-http.js";
import type { ReasonCode } from "../core/reasons.js";

/**
 * http: the API answered with an error status; timeout / connection: no complete answer;
 * invalid_response: a 2xx the schema refused; outcome_unknown: a write whose answer was lost (settle it by
 * reading); deadline: the next wait would pass the call's deadline.
 */
export type ApiErrorKind =
  "http" | "timeout" | "connection" | "invalid_response" | "outcome_unknown" | "deadline";

export interface ApiErrorInit {
  readonly kind: ApiErrorKind;
  readonly method: string;
  /** Templated, never a raw id. */
  readonly route: string;
  /** null: no answer. */
  readonly status: number | null;
  readonly reason: ReasonCode;
  readonly retryable: boolean;
  readonly attempts: number;
  /** What went wrong, without the method, route or status (the class adds those). */
  readonly detail: string;
  readonly cause?: Error;
}

export class ApiError extends Error {
  override readonly name: string = "ApiError";
  /** Stable: `<PREFIX>_HTTP_<status>` for an http error, else `<PREFIX>_<KIND>`. */
  readonly code: string;
  readonly kind: ApiErrorKind;
  readonly method: string;
  readonly route: string;
  readonly status: number | null;
  readonly reason: ReasonCode;
  readonly retryable: boolean;
  readonly attempts: number;

  /** `codePrefix`: the API's, e.g. "SENDGRID". */
  constructor(init: ApiErrorInit, codePrefix: string) {
    super(formatMessage(init), init.cause ? { cause: init.cause } : undefined);
    this.code =
      init.kind === "http" ? `${codePrefix}_HTTP_${init.status}` : `${codePrefix}_${init.kind.toUpperCase()}`;
    this.kind = init.kind;
    this.method = init.method;
    this.route = init.route;
    this.status = init.status;
    this.reason = init.reason;
    this.retryable = init.retryable;
    this.attempts = init.attempts;
  }
}

function formatMessage(init: ApiErrorInit): string {
  const status =
    init.status === null ? "" : `${init.status} ${STATUS_CODES[init.status] ?? "Unknown Status"}: `;
  const attempts = init.attempts > 1 ? ` (after ${init.attempts} attempts)` : "";
  return `${init.method} ${init.route} -> ${status}${init.detail}${attempts}`;
}

export function reasonForStatus(status: number): ReasonCode {
  if (status === 401) return "http_401";
  if (status === 403) return "http_403";
  if (status === 404) return "http_404";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "http_5xx";
  if (status >= 400) return "http_4xx";
  return "invalid_response";
}
