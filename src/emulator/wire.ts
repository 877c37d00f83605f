// Shapes emulator records into SendGrid's JSON, misspellings and quirks included, and caches the text per
// immutable record so listing thousands of certificates costs a string join. Never touches state.

import type { CertificateRecord, IntegrationRecord, TeammateRecord } from "./state.js";

export interface Quirks {
  /** Leave `enabled` out of certificates, as the real service often does. */
  readonly omitEnabled: boolean;
  readonly timestamps: "number" | "numeric-string" | "iso";
  /** "bare": base64 body only, no BEGIN/END lines; "crlf": CRLF line ends. */
  readonly pem: "full" | "bare" | "crlf";
  readonly errorShape: "array" | "object";
}

export const DEFAULT_QUIRKS: Quirks = {
  omitEnabled: false,
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
