// The one error type of the SendGrid client, and the reading of SendGrid's two error body shapes.
// Owns the stable `code`, `kind` and `reason` of every failure. Must never carry the API key: every
// string that reaches an error goes through the client's redaction first, and the cause is a copy.

import { STATUS_CODES } from "node:http";
import { z } from "zod";
import type { ReasonCode } from "../core/reasons.js";

export type SendGridErrorKind =
  "http" | "timeout" | "connection" | "invalid_response" | "outcome_unknown" | "deadline";

export interface SendGridMessage {
  message: string;
  field: string | null;
  errorId: string | null;
  help: string | null;
}

export interface SendGridErrorInit {
  readonly kind: SendGridErrorKind;
  readonly method: string;
  readonly route: string;
  readonly status: number | null;
  readonly reason: ReasonCode;
  readonly retryable: boolean;
  readonly attempts: number;
  /** What went wrong, without the method, route or status (the class adds those). */
  readonly detail: string;
  readonly messages?: readonly SendGridMessage[];
  readonly cause?: Error;
}

export class SendGridError extends Error {
  override readonly name = "SendGridError";
  readonly code: string;
  readonly kind: SendGridErrorKind;
  readonly method: string;
  readonly route: string;
  readonly status: number | null;
  readonly messages: readonly SendGridMessage[];
  readonly retryable: boolean;
  readonly reason: ReasonCode;
  readonly attempts: number;

  constructor(init: SendGridErrorInit) {
    super(formatMessage(init), init.cause ? { cause: init.cause } : undefined);
    this.code = init.kind === "http" ? `SENDGRID_HTTP_${init.status}` : `SENDGRID_${init.kind.toUpperCase()}`;
    this.kind = init.kind;
    this.method = init.method;
    this.route = init.route;
    this.status = init.status;
    this.messages = init.messages ?? [];
    this.retryable = init.retryable;
    this.reason = init.reason;
    this.attempts = init.attempts;
  }
}

function formatMessage(init: SendGridErrorInit): string {
  const status =
    init.status === null ? "" : `${init.status} ${STATUS_CODES[init.status] ?? "Unknown Status"}: `;
  const attempts = init.attempts > 1 ? ` (after ${init.attempts} attempts)` : "";
  return `${init.method} ${init.route} -> ${status}${init.detail}${attempts}`;
}

/** `integration not found (field: id); name is required (field: name)`, or null when there is nothing to say. */
export function describeMessages(messages: readonly SendGridMessage[]): string | null {
  if (messages.length === 0) return null;
  return messages.map((m) => (m.field ? `${m.message} (field: ${m.field})` : m.message)).join("; ");
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

// Error bodies are read leniently: a malformed entry loses its odd fields, not the whole error.
const MAX_TEXT = 300;
const text = z
  .union([z.string(), z.number()])
  .transform((v) => clean(String(v)))
  .nullish()
  .catch(null);
const entry = z.object({ message: text, field: text, error_id: text, help: text, id: text });
const arrayShape = z.array(z.unknown());
const objectShape = z.object({ errors: z.array(z.unknown()) });

function clean(s: string): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > MAX_TEXT ? `${flat.slice(0, MAX_TEXT)}…` : flat;
}

/** Reads `[{"message","field","error_id"}]` or `{"errors":[{"message","field","help"}]}`; anything else: []. */
export function parseErrorMessages(body: string): SendGridMessage[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return [];
  }
  const array = arrayShape.safeParse(json);
  const object = objectShape.safeParse(json);
  const items = array.success ? array.data : object.success ? object.data.errors : [];
  return items.flatMap((item) => {
    const parsed = entry.safeParse(item);
    if (!parsed.success || !parsed.data.message) return [];
    const e = parsed.data;
    return [
      {
        message: e.message ?? "",
        field: e.field || null,
        errorId: e.error_id || e.id || null,
        help: e.help || null,
      },
    ];
  });
}
