// The SendGrid SSO wire format: zod schemas of every response, mapped to domain types, and the request
// bodies built from domain inputs. Every wire quirk (numeric ids, `intergration_id`, missing `enabled`,
// three timestamp spellings) stops here; nothing outside this file sees a snake_case key.
// Never does I/O; unknown response fields are dropped, request bodies carry only the fields given.

import { z } from "zod";
import type { ApiCertificate, Integration } from "../core/model.js";

export { describeIssues } from "../http/zod-issues.js";

// ---- shared field schemas -------------------------------------------------------------------

const id = z.union([z.number(), z.string()], { error: "expected number or string" }).transform(String);

const optionalString = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

const optionalBoolean = z
  .boolean()
  .nullish()
  .transform((v) => v ?? null);

const NUMERIC = /^-?\d+(\.\d+)?$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function dateFrom(value: number | string): Date | null {
  const s = typeof value === "string" ? value.trim() : value;
  if (typeof s === "number" || NUMERIC.test(s)) {
    const seconds = Number(s);
    const date = new Date(seconds * 1000);
    return Number.isFinite(seconds) && !Number.isNaN(date.getTime()) ? date : null;
  }
  if (!ISO_8601.test(s)) return null;
  const date = new Date(s);
  return Number.isNaN(date.getTime()) ? null : date;
}

const TIMESTAMP_EXPECTED = "expected unix seconds, a numeric string or an ISO-8601 date";

/** Unix seconds, a numeric string or ISO-8601; null, absent or "" mean "not said". */
const timestamp = z
  .union([z.number(), z.string(), z.null()], { error: TIMESTAMP_EXPECTED })
  .optional()
  .transform((value, ctx) => {
    if (value === undefined || value === null || value === "") return null;
    const date = dateFrom(value);
    if (date !== null) return date;
    ctx.issues.push({ code: "custom", message: TIMESTAMP_EXPECTED, input: value });
    return z.NEVER;
  });

// ---- integrations ---------------------------------------------------------------------------

export const integrationSchema = z
  .object({
    id,
    name: z.string(),
    enabled: z.boolean(),
    completed_integration: optionalBoolean,
    entity_id: optionalString,
    signin_url: optionalString,
    signout_url: optionalString,
    single_signon_url: optionalString,
    audience_url: optionalString,
    last_updated: timestamp,
  })
  .transform((w): Integration => ({
    id: w.id,
    name: w.name,
    enabled: w.enabled,
    completed: w.completed_integration,
    entityId: w.entity_id,
    signinUrl: w.signin_url,
    signoutUrl: w.signout_url,
    singleSignonUrl: w.single_signon_url,
    audienceUrl: w.audience_url,
    lastUpdated: w.last_updated,
  }));

export const integrationListSchema = z.array(integrationSchema);

/**
 * The answer of a create or update: the spec's create example (tsg_sso_v3.yaml, CreateSsoIntegration) has
 * no `id`, so an answer without one is not an error; it is null, and the caller reads the integration.
 */
export const integrationAnswerSchema = z.unknown().transform((body) => {
  const parsed = integrationSchema.safeParse(body);
  return parsed.success ? parsed.data : null;
});

export interface IntegrationInput {
  readonly name: string;
  readonly enabled: boolean;
  readonly signinUrl: string;
  readonly signoutUrl: string;
  readonly entityId: string;
  readonly completedIntegration?: boolean;
}

export function integrationBody(input: Partial<IntegrationInput>): Record<string, unknown> {
  return definedOnly({
    name: input.name,
    enabled: input.enabled,
    signin_url: input.signinUrl,
    signout_url: input.signoutUrl,
    entity_id: input.entityId,
    completed_integration: input.completedIntegration,
  });
}

// ---- certificates ---------------------------------------------------------------------------

const INTEGRATION_ID_MISSING = "expected number or string (intergration_id or integration_id)";

export const certificateSchema = z
  .object({
    id,
    public_certificate: z.string(),
    // The real service spells it `intergration_id`; the documented spelling is accepted as well.
    intergration_id: id.optional(),
    integration_id: id.optional(),
    enabled: optionalBoolean,
    not_before: timestamp,
    not_after: timestamp,
  })
  .transform((w, ctx): ApiCertificate => {
    const integrationId = w.intergration_id ?? w.integration_id;
    if (integrationId === undefined) {
      ctx.issues.push({
        code: "custom",
        message: INTEGRATION_ID_MISSING,
        path: ["intergration_id"],
        input: w,
      });
      return z.NEVER;
    }
    return {
      id: w.id,
      integrationId,
      pem: w.public_certificate,
      enabled: w.enabled,
      notBefore: w.not_before,
      notAfter: w.not_after,
    };
  });

export const certificateListSchema = z.array(certificateSchema);

/**
 * The answer of a PATCH: the current spec returns the certificate, the older one had no 200 body. Any 2xx
 * means the change was applied; a body that is empty or partial is null, and the caller reads back.
 */
export const patchedCertificateSchema = z.unknown().transform((body) => {
  const parsed = certificateSchema.safeParse(body);
  return parsed.success ? parsed.data : null;
});

export interface CertificateInput {
  readonly integrationId: string;
  readonly pem: string;
  readonly enabled: boolean;
}

export function certificateBody(input: Partial<CertificateInput>): Record<string, unknown> {
  return definedOnly({
    public_certificate: input.pem,
    integration_id: input.integrationId,
    enabled: input.enabled,
  });
}

// ---- teammates ------------------------------------------------------------------------------

export type Persona = "accountant" | "developer" | "marketer" | "observer";
export type PermissionType = "admin" | "restricted";

export interface SubuserAccessInput {
  readonly id: string;
  readonly permissionType: PermissionType;
  readonly scopes: readonly string[];
}

/** The API grants permissions through one of `isAdmin`, `persona` or `scopes`. */
export interface TeammatePatch {
  readonly firstName?: string;
  readonly lastName?: string;
  readonly isAdmin?: boolean;
  readonly persona?: Persona;
  readonly scopes?: readonly string[];
  readonly hasRestrictedSubuserAccess?: boolean;
  readonly subuserAccess?: readonly SubuserAccessInput[];
}

export interface TeammateInput extends TeammatePatch {
  /** Also the teammate's username; it cannot be changed later. */
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
}

export interface SubuserAccess {
  readonly id: string;
  readonly username: string | null;
  readonly email: string | null;
  readonly disabled: boolean | null;
  readonly permissionType: string | null;
  readonly scopes: readonly string[];
}

export interface Teammate {
  readonly username: string | null;
  readonly email: string | null;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly isAdmin: boolean | null;
  readonly isSso: boolean | null;
  readonly userType: string | null;
  readonly scopes: readonly string[];
  readonly hasRestrictedSubuserAccess: boolean | null;
  readonly subuserAccess: readonly SubuserAccess[];
  /** The profile fields the update endpoint returns (address, city, company, ...); absent ones omitted. */
  readonly profile: Readonly<Record<string, string>>;
}

const scopes = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);

const subuserAccessSchema = z
  .object({
    id,
    username: optionalString,
    email: optionalString,
    disabled: optionalBoolean,
    permission_type: optionalString,
    scopes,
  })
  .transform((w): SubuserAccess => ({
    id: w.id,
    username: w.username,
    email: w.email,
    disabled: w.disabled,
    permissionType: w.permission_type,
    scopes: w.scopes,
  }));

// The update endpoint also returns the account profile; these fields travel together as `profile`.
const profileShape = {
  address: optionalString,
  address2: optionalString,
  city: optionalString,
  company: optionalString,
  country: optionalString,
  phone: optionalString,
  state: optionalString,
  website: optionalString,
  zip: optionalString,
};
const PROFILE_FIELDS = Object.keys(profileShape) as (keyof typeof profileShape)[];

export const teammateSchema = z
  .object({
    username: optionalString,
    email: optionalString,
    first_name: optionalString,
    last_name: optionalString,
    is_admin: optionalBoolean,
    is_sso: optionalBoolean,
    user_type: optionalString,
    scopes,
    has_restricted_subuser_access: optionalBoolean,
    subuser_access: z
      .array(subuserAccessSchema)
      .nullish()
      .transform((v) => v ?? []),
    ...profileShape,
  })
  .transform((w): Teammate => ({
    username: w.username,
    email: w.email,
    firstName: w.first_name,
    lastName: w.last_name,
    isAdmin: w.is_admin,
    isSso: w.is_sso,
    userType: w.user_type,
    scopes: w.scopes,
    hasRestrictedSubuserAccess: w.has_restricted_subuser_access,
    subuserAccess: w.subuser_access,
    profile: Object.fromEntries(PROFILE_FIELDS.flatMap((f) => (w[f] === null ? [] : [[f, w[f]]]))),
  }));

export function teammateBody(input: TeammatePatch & { readonly email?: string }): Record<string, unknown> {
  return definedOnly({
    email: input.email,
    first_name: input.firstName,
    last_name: input.lastName,
    is_admin: input.isAdmin,
    persona: input.persona,
    scopes: input.scopes,
    has_restricted_subuser_access: input.hasRestrictedSubuserAccess,
    subuser_access: input.subuserAccess?.map((s) => ({
      // Subuser ids are integers on the wire; the domain keeps every id an opaque string.
      id: /^\d+$/.test(s.id) ? Number(s.id) : s.id,
      permission_type: s.permissionType,
      scopes: s.scopes,
    })),
  });
}

// ---- helpers --------------------------------------------------------------------------------

/** A PATCH that disables must send exactly `{"enabled":false}`: undefined keys are dropped, not nulled. */
function definedOnly(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
}
