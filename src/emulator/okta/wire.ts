// The Okta wire shapes the emulator answers with: the Application object, the application Key Credential
// (a JWK with `x5c`), Okta's error object, and the app's SAML metadata document. Pure: no state, no HTTP.
//
// Shapes follow the Okta Management API reference: Apps API "Application object" and "Application Key
// Credential object"; "Error object" and the error codes list (developer.okta.com/docs/reference/
// error-codes: E0000001, E0000003, E0000006, E0000007, E0000008, E0000009, E0000011, E0000022, E0000047).

import { randomBytes } from "node:crypto";
import type { OktaAppRecord, OktaKeyRecord } from "./state.js";

export interface OktaErrorInit {
  readonly errorCode: string;
  readonly errorSummary: string;
  readonly errorCauses?: readonly string[];
}

/** The documented summaries of the codes the emulator answers with. */
export const OKTA_ERRORS = {
  validation: (what: string, causes: readonly string[]): OktaErrorInit => ({
    errorCode: "E0000001",
    errorSummary: `Api validation failed: ${what}`,
    errorCauses: causes,
  }),
  malformed: { errorCode: "E0000003", errorSummary: "The request body was not well-formed." },
  forbidden: {
    errorCode: "E0000006",
    errorSummary: "You do not have permission to perform the requested action",
  },
  notFound: (what: string): OktaErrorInit => ({
    errorCode: "E0000007",
    errorSummary: `Not found: Resource not found: ${what}`,
  }),
  noPath: { errorCode: "E0000008", errorSummary: "The requested path was not found" },
  invalidToken: { errorCode: "E0000011", errorSummary: "Invalid token provided" },
  badMethod: {
    errorCode: "E0000022",
    errorSummary: "The endpoint does not support the provided HTTP method",
  },
  rateLimited: {
    errorCode: "E0000047",
    errorSummary: "API call exceeded rate limit due to too many requests.",
  },
} as const;

/** `{errorCode, errorSummary, errorLink, errorId, errorCauses}` as JSON; errorLink repeats the code. */
export function oktaError(init: OktaErrorInit): string {
  return JSON.stringify({
    errorCode: init.errorCode,
    errorSummary: init.errorSummary,
    errorLink: init.errorCode,
    errorId: `oae${randomBytes(16).toString("base64url").slice(0, 22)}`,
    errorCauses: (init.errorCauses ?? []).map((errorSummary) => ({ errorSummary })),
  });
}

/** The code an injected fault's body carries when the fault names no body. */
export function injectedError(status: number, message: string): string {
  if (status === 429) return oktaError(OKTA_ERRORS.rateLimited);
  if (status === 401) return oktaError(OKTA_ERRORS.invalidToken);
  if (status === 403) return oktaError(OKTA_ERRORS.forbidden);
  if (status >= 500) return oktaError({ errorCode: "E0000009", errorSummary: message });
  return oktaError({ errorCode: "E0000001", errorSummary: message });
}

export function metadataPath(app: OktaAppRecord): string {
  return `/app/${app.name}/${app.externalKey}/sso/saml/metadata`;
}

export function renderApp(app: OktaAppRecord, orgUrl: string): string {
  return JSON.stringify({
    id: app.id,
    name: app.name,
    label: app.label,
    status: app.status,
    lastUpdated: app.lastUpdated.toISOString(),
    created: app.created.toISOString(),
    accessibility: app.accessibility,
    visibility: app.visibility,
    features: app.features,
    signOnMode: app.signOnMode,
    credentials: {
      userNameTemplate: app.userNameTemplate,
      signing: app.activeKid === null ? {} : { kid: app.activeKid },
    },
    settings: app.settings,
    _links: {
      appLinks: [
        {
          name: app.name,
          href: `${orgUrl}/home/${app.name}/${app.id}/${app.externalKey}`,
          type: "text/html",
        },
      ],
      metadata: { href: `${orgUrl}/api/v1/apps/${app.id}/sso/saml/metadata`, type: "application/xml" },
      users: { href: `${orgUrl}/api/v1/apps/${app.id}/users` },
      deactivate: { href: `${orgUrl}/api/v1/apps/${app.id}/lifecycle/deactivate` },
      groups: { href: `${orgUrl}/api/v1/apps/${app.id}/groups` },
    },
  });
}

function keyObject(key: OktaKeyRecord) {
  return {
    created: key.created.toISOString(),
    lastUpdated: key.lastUpdated.toISOString(),
    expiresAt: key.expiresAt.toISOString(),
    x5c: [Buffer.from(key.der).toString("base64")],
    e: key.e,
    n: key.n,
    kid: key.kid,
    kty: "RSA",
    use: "sig",
    "x5t#S256": key.x5tS256,
  };
}

export function renderKey(key: OktaKeyRecord): string {
  return JSON.stringify(keyObject(key));
}

export function renderKeys(keys: readonly OktaKeyRecord[]): string {
  return JSON.stringify(keys.map(keyObject));
}

/** The IdP metadata Okta publishes for a SAML app: one signing KeyDescriptor, the key given. */
export function renderMetadata(app: OktaAppRecord, key: OktaKeyRecord, orgUrl: string): string {
  const sso = `${orgUrl}/app/${app.name}/${app.externalKey}/sso/saml`;
  const certificate = Buffer.from(key.der).toString("base64");
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="http://www.okta.com/${app.externalKey}">`,
    `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`,
    `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${certificate}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    `<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>`,
    `<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>`,
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${sso}"/>`,
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${sso}"/>`,
    `</md:IDPSSODescriptor>`,
    `</md:EntityDescriptor>`,
  ].join("");
}
