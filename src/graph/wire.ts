// Zod schemas of the Graph v1.0 and token endpoint bodies the client reads, each mapped to a domain type
// (Dates are Dates, base64 is bytes) so no unvalidated JSON leaves src/graph/. Follows "keyCredential
// resource type", "selfSignedCertificate resource type", "servicePrincipal resource type" and the client
// credentials flow's token response. Pure.

import { z } from "zod";

const dateTime = z.string().transform((value, ctx) => {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: "custom", message: `not a date-time: ${value.slice(0, 40)}` });
    return z.NEVER;
  }
  return date;
});

const base64Bytes = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, "not base64")
  .transform((value) => new Uint8Array(Buffer.from(value, "base64")));

export interface AccessToken {
  readonly accessToken: string;
  readonly expiresInSeconds: number;
}

export const tokenSchema = z
  .object({
    token_type: z.string().regex(/^bearer$/i, "token_type must be Bearer"),
    // The v1 endpoint sent numbers as strings; accept both.
    expires_in: z
      .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
      .pipe(z.number().int().positive()),
    access_token: z.string().min(1),
  })
  .transform((body): AccessToken => ({ accessToken: body.access_token, expiresInSeconds: body.expires_in }));

export interface KeyCredential {
  readonly keyId: string;
  /** Base64 as sent; for a certificate made by addTokenSigningCertificate, its SHA-1 thumbprint bytes. */
  readonly customKeyIdentifier: string | null;
  readonly displayName: string | null;
  /** "AsymmetricX509Cert" for certificates; other types pass through. */
  readonly type: string;
  /** "Verify" (public certificate) or "Sign" (private key). */
  readonly usage: string;
  readonly startDateTime: Date | null;
  readonly endDateTime: Date | null;
  /** The certificate's DER; present only when keyCredentials was $select-ed on a single object. */
  readonly key: Uint8Array | null;
}

const keyCredentialSchema = z
  .object({
    keyId: z.string(),
    customKeyIdentifier: z.string().nullish(),
    displayName: z.string().nullish(),
    type: z.string(),
    usage: z.string(),
    startDateTime: dateTime.nullish(),
    endDateTime: dateTime.nullish(),
    key: base64Bytes.nullish(),
  })
  .transform((c): KeyCredential => ({
    keyId: c.keyId,
    customKeyIdentifier: c.customKeyIdentifier ?? null,
    displayName: c.displayName ?? null,
    type: c.type,
    usage: c.usage,
    startDateTime: c.startDateTime ?? null,
    endDateTime: c.endDateTime ?? null,
    key: c.key && c.key.length > 0 ? c.key : null,
  }));

export interface ServicePrincipal {
  readonly id: string;
  readonly appId: string;
  readonly displayName: string | null;
  readonly keyCredentials: readonly KeyCredential[];
  /** As Graph returns it, in whatever case it was written; null when none is set. */
  readonly preferredTokenSigningKeyThumbprint: string | null;
}

/** The properties the client $select-s: `key` comes back only because keyCredentials is among them. */
export const SERVICE_PRINCIPAL_SELECT =
  "id,appId,displayName,keyCredentials,preferredTokenSigningKeyThumbprint";

export const servicePrincipalSchema = z
  .object({
    id: z.string().min(1),
    appId: z.string(),
    displayName: z.string().nullish(),
    keyCredentials: z.array(keyCredentialSchema),
    preferredTokenSigningKeyThumbprint: z.string().nullish(),
  })
  .transform((sp): ServicePrincipal => ({
    id: sp.id,
    appId: sp.appId,
    displayName: sp.displayName ?? null,
    keyCredentials: sp.keyCredentials,
    preferredTokenSigningKeyThumbprint: sp.preferredTokenSigningKeyThumbprint || null,
  }));

export interface SelfSignedCertificate {
  readonly keyId: string;
  readonly customKeyIdentifier: string | null;
  readonly displayName: string;
  /** As Graph returns it; uppercase hex in the documented example. */
  readonly thumbprint: string;
  readonly startDateTime: Date;
  readonly endDateTime: Date;
  /** The certificate's DER. */
  readonly key: Uint8Array;
}

export const selfSignedCertificateSchema = z
  .object({
    keyId: z.string(),
    customKeyIdentifier: z.string().nullish(),
    displayName: z.string(),
    thumbprint: z.string().regex(/^[0-9A-Fa-f]{40}$/, "not a SHA-1 thumbprint"),
    startDateTime: dateTime,
    endDateTime: dateTime,
    key: base64Bytes.refine((bytes) => bytes.length > 0, "empty key"),
    type: z.literal("AsymmetricX509Cert"),
  })
  .transform((c): SelfSignedCertificate => ({
    keyId: c.keyId,
    customKeyIdentifier: c.customKeyIdentifier ?? null,
    displayName: c.displayName,
    thumbprint: c.thumbprint,
    startDateTime: c.startDateTime,
    endDateTime: c.endDateTime,
    key: c.key,
  }));

/** PATCH answers 204; the page also mentions a body, so whatever comes is ignored. */
export const ignoredBodySchema = z.unknown().transform((): void => undefined);
