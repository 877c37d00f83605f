// The request bodies the emulated API accepts, as zod schemas, and the translation of a refused body into
// SendGrid's error list (one entry per offending field). Pure: no state, no HTTP.

import { z } from "zod";
import { parseCertificate } from "../certs/parse.js";
import type { ApiError } from "./wire.js";

export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: ApiError[] };

const nonEmpty = z.string().min(1);

const pem = z.string().superRefine((text, ctx) => {
  const parsed = parseCertificate(text);
  if (!parsed.ok) {
    ctx.addIssue({
      code: "custom",
      message: `public_certificate is not a valid certificate: ${parsed.failure.message}`,
      params: { errorId: "invalid_certificate" },
    });
  }
});

const integrationFields = {
  name: nonEmpty,
  enabled: z.boolean(),
  signin_url: nonEmpty,
  signout_url: nonEmpty,
  entity_id: nonEmpty,
  completed_integration: z.boolean(),
};

export const integrationCreate = z.object({
  ...integrationFields,
  enabled: integrationFields.enabled.optional(),
  completed_integration: integrationFields.completed_integration.optional(),
});

export const integrationPatch = z.object(integrationFields).partial();

export const certificateCreate = z.object({
  public_certificate: pem,
  integration_id: nonEmpty,
  enabled: z.boolean().optional(),
});

export const certificatePatch = certificateCreate.partial();

const subuserAccess = z.object({
  id: z.number().int(),
  permission_type: z.enum(["admin", "restricted"]),
  scopes: z.array(z.string()).optional(),
});

const teammateFields = {
  first_name: nonEmpty,
  last_name: nonEmpty,
  is_admin: z.boolean(),
  persona: z.enum(["accountant", "developer", "marketer", "observer"]),
  scopes: z.array(z.string()),
  has_restricted_subuser_access: z.boolean(),
  subuser_access: z.array(subuserAccess),
};

export const teammatePatch = z.object(teammateFields).partial();

export const teammateCreate = teammatePatch.extend({
  email: z.string().regex(/^[^@\s]+@[^@\s]+$/, "must be an email address"),
  first_name: teammateFields.first_name,
  last_name: teammateFields.last_name,
});

function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let value = body;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function toApiError(issue: z.core.$ZodIssue, body: unknown): ApiError {
  const field = issue.path.length === 0 ? null : issue.path.map(String).join(".");
  const name = field ?? "body";
  if (issue.code === "invalid_type" && valueAt(body, issue.path) === undefined) {
    return { message: `${name} is required`, field, errorId: "required" };
  }
  if (issue.code === "too_small" && issue.origin === "string") {
    return { message: `${name} must not be empty`, field, errorId: "required" };
  }
  if (issue.code === "custom") {
    const errorId = (issue.params as { errorId?: string } | undefined)?.errorId ?? "invalid";
    return { message: issue.message, field, errorId };
  }
  return { message: `${name}: ${issue.message}`, field, errorId: "invalid_type" };
}

/** Bodies must be JSON objects; an array, a number or null is refused like a malformed body. */
export function checkBody<T>(schema: z.ZodType<T>, body: unknown): Checked<T> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return {
      ok: false,
      errors: [{ message: "request body must be a JSON object", field: null, errorId: "invalid_body" }],
    };
  }
  const result = schema.safeParse(body);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, errors: result.error.issues.map((issue) => toApiError(issue, body)) };
}
