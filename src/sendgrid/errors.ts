// The SendGrid client's error (an ApiError carrying SendGrid's messages), and the reading of SendGrid's
// two error body shapes. Must never carry the API key: every string that reaches an error goes through
// the transport's redaction first, and the cause is a copy.

import { z } from "zod";
import { ApiError, type ApiErrorInit, type ApiErrorKind } from "../http/errors.js";

export { reasonForStatus } from "../http/errors.js";

export type SendGridErrorKind = ApiErrorKind;

export interface SendGridMessage {
  message: string;
  field: string | null;
  errorId: string | null;
  help: string | null;
}

export interface SendGridErrorInit extends ApiErrorInit {
  readonly messages?: readonly SendGridMessage[];
}

export class SendGridError extends ApiError {
  override readonly name = "SendGridError";
  readonly messages: readonly SendGridMessage[];

  constructor(init: SendGridErrorInit) {
    super(init, "SENDGRID");
    this.messages = init.messages ?? [];
  }
}

/** `integration not found (field: id); name is required (field: name)`, or null when there is nothing to say. */
export function describeMessages(messages: readonly SendGridMessage[]): string | null {
  if (messages.length === 0) return null;
  return messages.map((m) => (m.field ? `${m.message} (field: ${m.field})` : m.message)).join("; ");
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

/**
 * A create whose answer named no id (as the spec's example has none), and listing by name found no single
 * match: the integration may exist, so the caller must look before creating it again.
 */
export class CreatedIntegrationUnknownError extends Error {
  override readonly name = "CreatedIntegrationUnknownError";
  readonly code = "SENDGRID_CREATED_INTEGRATION_UNKNOWN";

  constructor(
    readonly integrationName: string,
    /** The ids of the integrations with that name and IdP; empty when none was found. */
    readonly candidates: readonly string[],
  ) {
    super(
      candidates.length === 0
        ? `created integration "${integrationName}" but its answer has no id and no integration of that name is listed`
        : `created integration "${integrationName}" but its answer has no id and ${candidates.length} integrations match it: ${candidates.join(", ")}`,
    );
  }
}
