// The request bodies the emulated API accepts, as zod schemas, and the translation of a refused body into
// SendGrid's error list (one entry per offending field). Pure: no state, no HTTP. The strict schemas follow
// the published OpenAPI spec (twilio/sendgrid-oai, spec/yaml/tsg_sso_v3.yaml): PostPatchIntegrationRequest
// requires all five integration fields on PATCH too, SsoTeammatesBaseRequestProps requires first_name and
// last_name on PATCH, and its field descriptions give the teammate permission rules checked here.

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

/** PATCH as the spec has it: the same required fields as a create. */
export const integrationPatch = integrationCreate;

/** The lenient variant: any subset of the fields. */
export const integrationPartialPatch = z.object(integrationFields).partial();

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

/** The lenient variant: any subset of the fields. */
export const teammatePartialPatch = z.object(teammateFields).partial();

/** PATCH as the spec has it: first_name and last_name required. */
export const teammatePatch = teammatePartialPatch.extend({
  first_name: teammateFields.first_name,
  last_name: teammateFields.last_name,
});

export const teammateCreate = teammatePartialPatch.extend({
  email: z.string().regex(/^[^@\s]+@[^@\s]+$/, "must be an email address"),
  first_name: teammateFields.first_name,
  last_name: teammateFields.last_name,
});

export type TeammateBody = z.infer<typeof teammatePartialPatch>;

/**
 * The permission rules of SsoTeammatesBaseRequestProps: `is_admin: true` takes neither `scopes` nor
 * `persona`; `persona` and `scopes` exclude each other; a non-empty `subuser_access` needs
 * `has_restricted_subuser_access: true`, which in turn needs a `subuser_access` and excludes `scopes`,
 * `persona` and `is_admin: true`; an `admin` subuser grant takes no scopes.
 */
export function teammateRuleErrors(body: TeammateBody): ApiError[] {
  const errors: ApiError[] = [];
  const refuse = (field: string, message: string) => errors.push({ message, field, errorId: "invalid" });
  const restricted = body.has_restricted_subuser_access === true;
  const access = body.subuser_access ?? [];
  if (body.is_admin === true && (body.scopes !== undefined || body.persona !== undefined))
    refuse("is_admin", "an admin is given every scope: send neither scopes nor persona with is_admin true");
  if (body.persona !== undefined && body.scopes !== undefined)
    refuse("persona", "send either persona or scopes, not both");
  if (access.length > 0 && !restricted)
    refuse("has_restricted_subuser_access", "must be true when subuser_access is not empty");
  if (restricted && access.length === 0)
    refuse("subuser_access", "has_restricted_subuser_access needs at least one subuser");
  if (restricted && (body.scopes !== undefined || body.persona !== undefined || body.is_admin === true))
    refuse(
      "has_restricted_subuser_access",
      "a teammate with restricted subuser access takes no scopes, persona or is_admin for the parent account",
    );
  for (const [index, grant] of access.entries()) {
    if (grant.permission_type === "admin" && grant.scopes !== undefined && grant.scopes.length > 0)
      refuse(`subuser_access.${index}.scopes`, "an admin grant has full access: send no scopes with it");
  }
  return errors;
}

/**
 * Scopes SendGrid sets itself and refuses to take from a request (the kenzo0107/terraform-provider-sendgrid
 * documentation of `sendgrid_sso_teammate.scopes` lists them).
 */
export const AUTOMATIC_SCOPES: readonly string[] = [
  "2fa_exempt",
  "2fa_required",
  "sender_verification_exempt",
  "sender_verification_eligible",
];
/** Which of them the emulator grants an SSO teammate: the IdP does the second factor. */
const SSO_TEAMMATE_SCOPES: readonly string[] = ["2fa_exempt", "sender_verification_eligible"];

/** The scopes a teammate ends up with: the automatic ones dropped from the request, then granted. */
export function grantedScopes(requested: readonly string[]): string[] {
  return [...requested.filter((s) => !AUTOMATIC_SCOPES.includes(s)), ...SSO_TEAMMATE_SCOPES];
}

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
