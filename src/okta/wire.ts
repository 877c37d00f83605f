// The Okta Apps API wire format: zod schemas of the Application object and the application Key Credential
// (a JWK whose x5c[0] is the certificate), mapped to domain types (Dates are Dates, the certificate is
// PEM). Keeps the app object as read, whole, because activation PUTs it back with only the signing kid
// changed. Never does I/O.
//
// Shapes follow the Okta Management API reference, Apps API: "Application object" (`credentials.signing.
// kid` names the active key) and "Application Key Credential object" (kid, created, lastUpdated,
// expiresAt, kty, use, x5c, x5t#S256, e, n).

import { z } from "zod";
import { certificatePem } from "../certs/validate.js";

/** An Okta app as read: the fields the tool reads, and the whole object for a PUT. */
export interface OktaApp {
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly signOnMode: string;
  readonly status: string;
  /** `credentials.signing.kid`: the key the app signs SAML responses with; null when none is named. */
  readonly activeKid: string | null;
  /** The object exactly as Okta sent it (unknown fields included). */
  readonly document: Readonly<Record<string, unknown>>;
}

export interface OktaKey {
  readonly kid: string;
  /** The certificate (x5c[0]) as PEM. */
  readonly pem: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** base64url SHA-256 of the certificate, as Okta computed it; null when absent. */
  readonly x5tS256: string | null;
}

const isoDate = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
const base64 = z.string().regex(/^[A-Za-z0-9+/\s]+={0,2}$/, "expected base64");

export const appSchema = z
  .looseObject({
    id: z.string().min(1),
    name: z.string().min(1),
    label: z.string(),
    signOnMode: z.string().min(1),
    status: z.string(),
    credentials: z
      .looseObject({ signing: z.looseObject({ kid: z.string().min(1).nullish() }).nullish() })
      .nullish(),
  })
  .transform((app): OktaApp => ({
    id: app.id,
    name: app.name,
    label: app.label,
    signOnMode: app.signOnMode,
    status: app.status,
    activeKid: app.credentials?.signing?.kid ?? null,
    document: app,
  }));

export const keySchema = z
  .object({
    kid: z.string().min(1),
    created: isoDate,
    expiresAt: isoDate,
    x5c: z.array(base64).min(1),
    "x5t#S256": z.string().nullish(),
  })
  .transform((key): OktaKey => ({
    kid: key.kid,
    pem: certificatePem(key.x5c[0] ?? ""),
    createdAt: key.created,
    expiresAt: key.expiresAt,
    x5tS256: key["x5t#S256"] ?? null,
  }));

export const keyListSchema = z.array(keySchema);

/** The app object to PUT: the one read, with only `credentials.signing.kid` replaced. */
export function withSigningKid(app: OktaApp, kid: string): Record<string, unknown> {
  const credentials = app.document["credentials"];
  const currentCredentials =
    typeof credentials === "object" && credentials !== null ? (credentials as Record<string, unknown>) : {};
  const signing = currentCredentials["signing"];
  const currentSigning =
    typeof signing === "object" && signing !== null ? (signing as Record<string, unknown>) : {};
  return {
    ...app.document,
    credentials: { ...currentCredentials, signing: { ...currentSigning, kid } },
  };
}
