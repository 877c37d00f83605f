// Shapes emulator records into SendGrid's JSON, misspellings and quirks included, and caches the text per
// immutable record so listing thousands of certificates costs a string join. Never touches state.
// The defaults follow the published OpenAPI spec (twilio/sendgrid-oai, spec/yaml/tsg_sso_v3.yaml) where it
// is strictest: its certificate examples carry no `enabled`, and its POST /v3/sso/integrations example no
// `id`. The lenient variants are options, and the tests run both.

import type { CertificateRecord, IntegrationRecord, TeammateRecord } from "./state.js";

export interface Quirks {
  /** Leave `enabled` out of certificates, as every example of the spec does (default true). */
  readonly omitEnabled: boolean;
  /** The POST /v3/sso/integrations answer carries the new `id` (the spec's example has none; default false). */
  readonly createdIntegrationId: boolean;
  /**
   * The answer of PATCH /v3/sso/certificates/{id}: "certificate" (the current spec) or "empty" (a 200 with
   * no body, as the older spec documented it).
   */
  readonly certificatePatchAnswer: "certificate" | "empty";
  readonly timestamps: "number" | "numeric-string" | "iso";
  /** "bare": base64 body only, no BEGIN/END lines; "crlf": CRLF line ends. */
  readonly pem: "full" | "bare" | "crlf";
  readonly errorShape: "array" | "object";
}

export const DEFAULT_QUIRKS: Quirks = {
  omitEnabled: true,
  createdIntegrationId: false,
  certificatePatchAnswer: "certificate",
  timestamps: "number",
  pem: "full",
  errorShape: "array",
};

export interface ApiError {
  readonly message: string;
  readonly field: string | null;
  readonly errorId: string;
}

/** What SendGrid answers for a missing or wrong key, whatever shape its other errors take. */
export const UNAUTHORIZED_BODY = JSON.stringify({
  errors: [{ field: null, message: "authorization required" }],
});
export const FORBIDDEN_BODY = JSON.stringify({ errors: [{ field: null, message: "access forbidden" }] });
/** What SendGrid answers past a rate limit, whatever shape its other errors take. */
export const TOO_MANY_REQUESTS_BODY = JSON.stringify({
  errors: [{ field: null, message: "too many requests" }],
});

/** SendGrid generates the SP URLs from the integration id; Single Sign-On and Audience URL are the same. */
export function serviceProviderUrl(integrationId: string): string {
  return `https://api.sendgrid.com/v3/public/sso/saml/response/id/${encodeURIComponent(integrationId)}`;
}

function unixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----([\s\S]*?)-----END [A-Z0-9 ]+-----/;

export class WireRenderer {
  readonly #quirks: Quirks;
  readonly #certificates = new WeakMap<CertificateRecord, string>();
  readonly #integrations = new WeakMap<IntegrationRecord, { plain?: string; withCompleted?: string }>();

  constructor(quirks: Quirks) {
    this.#quirks = quirks;
  }

  integration(record: IntegrationRecord, withCompleted: boolean): string {
    let cached = this.#integrations.get(record);
    if (!cached) {
      cached = {};
      this.#integrations.set(record, cached);
    }
    const key = withCompleted ? "withCompleted" : "plain";
    return (cached[key] ??= JSON.stringify(this.#integrationObject(record, withCompleted)));
  }

  /** The answer of a create: as `integration`, without the id unless `createdIntegrationId`. */
  createdIntegration(record: IntegrationRecord, withCompleted: boolean): string {
    if (this.#quirks.createdIntegrationId) return this.integration(record, withCompleted);
    const {
      id: _id,
      single_signon_url: _sso,
      audience_url: _audience,
      ...rest
    } = this.#integrationObject(record, withCompleted);
    return JSON.stringify(rest);
  }

  integrations(records: readonly IntegrationRecord[], withCompleted: boolean): string {
    return `[${records.map((record) => this.integration(record, withCompleted)).join(",")}]`;
  }

  certificate(record: CertificateRecord): string {
    let text = this.#certificates.get(record);
    if (text === undefined) {
      text = JSON.stringify(this.#certificateObject(record));
      this.#certificates.set(record, text);
    }
    return text;
  }

  /** The answer of a certificate PATCH: the certificate, or null for the older spec's empty 200. */
  patchedCertificate(record: CertificateRecord): string | null {
    return this.#quirks.certificatePatchAnswer === "empty" ? null : this.certificate(record);
  }

  certificates(records: readonly CertificateRecord[]): string {
    return `[${records.map((record) => this.certificate(record)).join(",")}]`;
  }

  /** The body of the PATCH answer carries the full user profile; the POST answer only the SSO fields. */
  teammate(record: TeammateRecord, profile: boolean): string {
    const sso = {
      first_name: record.firstName,
      last_name: record.lastName,
      email: record.email,
      is_admin: record.isAdmin,
      is_sso: true,
      scopes: record.scopes,
      has_restricted_subuser_access: record.hasRestrictedSubuserAccess,
      subuser_access: record.subuserAccess.map((access) => ({
        id: access.id,
        username: `subuser-${access.id}`,
        email: `subuser-${access.id}@example.test`,
        disabled: false,
        permission_type: access.permissionType,
        scopes: access.scopes,
      })),
    };
    if (!profile) return JSON.stringify(sso);
    const blankProfile = {
      address: "",
      address2: "",
      city: "",
      company: "",
      country: "",
      phone: "",
      state: "",
    };
    return JSON.stringify({
      ...blankProfile,
      username: record.email,
      user_type: record.isAdmin ? "admin" : "teammate",
      website: "",
      zip: "",
      ...sso,
    });
  }

  errors(errors: readonly ApiError[]): string {
    return this.#quirks.errorShape === "array"
      ? JSON.stringify(errors.map((e) => ({ message: e.message, field: e.field, error_id: e.errorId })))
      : JSON.stringify({ errors: errors.map((e) => ({ message: e.message, field: e.field, help: null })) });
  }

  #integrationObject(record: IntegrationRecord, withCompleted: boolean): Record<string, unknown> {
    const url = serviceProviderUrl(record.id);
    return {
      id: record.id,
      name: record.name,
      enabled: record.enabled,
      entity_id: record.entityId,
      signin_url: record.signinUrl,
      signout_url: record.signoutUrl,
      single_signon_url: url,
      audience_url: url,
      last_updated: unixSeconds(record.lastUpdated),
      ...(withCompleted ? { completed_integration: record.completedIntegration } : {}),
    };
  }

  #certificateObject(record: CertificateRecord): Record<string, unknown> {
    return {
      public_certificate: this.#pem(record.pem),
      id: record.id,
      not_before: this.#timestamp(record.notBefore),
      not_after: this.#timestamp(record.notAfter),
      intergration_id: record.integrationId,
      ...(this.#quirks.omitEnabled ? {} : { enabled: record.enabled }),
    };
  }

  #timestamp(date: Date | null): number | string | null {
    if (date === null) return null;
    switch (this.#quirks.timestamps) {
      case "number":
        return unixSeconds(date);
      case "numeric-string":
        return String(unixSeconds(date));
      case "iso":
        return date.toISOString();
    }
  }

  #pem(pem: string): string {
    switch (this.#quirks.pem) {
      case "full":
        return pem;
      case "crlf":
        return pem.replace(/\r?\n/g, "\r\n");
      case "bare": {
        const body = PEM_BLOCK.exec(pem)?.[1] ?? pem;
        return body.replace(/\s+/g, "");
      }
    }
  }
}
