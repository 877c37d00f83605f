// Shapes the emulated directory into Graph v1.0 and identity-platform JSON. Follows: "keyCredential
// resource type" (`key` is returned only when keyCredentials is $select-ed on a single object, else
// null), "selfSignedCertificate resource type", "Microsoft Graph error responses and resource types"
// ({error:{code,message,innerError:{date,request-id,client-request-id}}}) and "Microsoft identity platform
// and the OAuth 2.0 client credentials flow" (token and error responses). Never touches state.

import type {
  KeyCredentialRecord,
  PasswordCredentialRecord,
  ServicePrincipalRecord,
  SigningCertificateRecord,
} from "./state.js";

/** Graph's innerError date: seconds precision, no zone designator. */
function innerErrorDate(date: Date): string {
  return date.toISOString().slice(0, 19);
}

/** The token endpoint's timestamp: "YYYY-MM-DD HH:MM:SSZ". */
function stsTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace("T", " ")}Z`;
}

export interface RequestIds {
  readonly requestId: string;
  readonly clientRequestId: string;
  readonly date: Date;
}

export function graphError(code: string, message: string, ids: RequestIds): string {
  return JSON.stringify({
    error: {
      code,
      message,
      innerError: {
        date: innerErrorDate(ids.date),
        "request-id": ids.requestId,
        "client-request-id": ids.clientRequestId,
      },
    },
  });
}

export interface StsError {
  readonly error: string;
  /** The AADSTS number. */
  readonly aadsts: number;
  readonly description: string;
}

export function stsError(failure: StsError, ids: RequestIds): string {
  const timestamp = stsTimestamp(ids.date);
  return JSON.stringify({
    error: failure.error,
    error_description:
      `AADSTS${failure.aadsts}: ${failure.description}\r\nTrace ID: ${ids.requestId}\r\n` +
      `Correlation ID: ${ids.clientRequestId}\r\nTimestamp: ${timestamp}`,
    error_codes: [failure.aadsts],
    timestamp,
    trace_id: ids.requestId,
    correlation_id: ids.clientRequestId,
  });
}

export function tokenResponse(accessToken: string, expiresIn: number): string {
  return JSON.stringify({
    token_type: "Bearer",
    expires_in: expiresIn,
    ext_expires_in: expiresIn,
    access_token: accessToken,
  });
}

function keyCredential(record: KeyCredentialRecord, withKey: boolean): Record<string, unknown> {
  return {
    customKeyIdentifier: record.customKeyIdentifier,
    displayName: record.displayName,
    endDateTime: record.endDateTime.toISOString(),
    key: withKey && record.key !== null ? Buffer.from(record.key).toString("base64") : null,
    keyId: record.keyId,
    startDateTime: record.startDateTime.toISOString(),
    type: record.type,
    usage: record.usage,
  };
}

function passwordCredential(record: PasswordCredentialRecord): Record<string, unknown> {
  return {
    customKeyIdentifier: record.customKeyIdentifier,
    displayName: record.displayName,
    endDateTime: record.endDateTime.toISOString(),
    hint: null,
    keyId: record.keyId,
    secretText: null,
    startDateTime: record.startDateTime.toISOString(),
  };
}

type PropertyRenderer = (sp: ServicePrincipalRecord, withKeys: boolean) => unknown;

/** The servicePrincipal properties the emulator holds, in Graph's spelling. */
const PROPERTIES: Readonly<Record<string, PropertyRenderer>> = {
  id: (sp) => sp.id,
  accountEnabled: () => true,
  appId: (sp) => sp.appId,
  appDisplayName: (sp) => sp.displayName,
  displayName: (sp) => sp.displayName,
  keyCredentials: (sp, withKeys) =>
    sp.keyCredentials.map((credential) => keyCredential(credential, withKeys)),
  passwordCredentials: (sp) => sp.passwordCredentials.map(passwordCredential),
  preferredSingleSignOnMode: (sp) => sp.preferredSingleSignOnMode,
  preferredTokenSigningKeyThumbprint: (sp) => sp.preferredTokenSigningKeyThumbprint,
  servicePrincipalType: () => "Application",
};

export const SERVICE_PRINCIPAL_PROPERTIES: readonly string[] = Object.keys(PROPERTIES);

/**
 * `select`: the $select-ed properties (already validated), or null for all. `single`: one object was
 * addressed, so a $select of keyCredentials returns each certificate's `key`.
 */
export function servicePrincipalObject(
  sp: ServicePrincipalRecord,
  select: readonly string[] | null,
  single: boolean,
): Record<string, unknown> {
  const withKeys = single && select !== null && select.includes("keyCredentials");
  const names = select ?? SERVICE_PRINCIPAL_PROPERTIES;
  return Object.fromEntries(
    names.map((name) => [name, (PROPERTIES[name] as PropertyRenderer)(sp, withKeys)]),
  );
}

export function contextUrl(graphUrl: string, select: readonly string[] | null, single: boolean): string {
  const selected = select === null ? "" : `(${select.join(",")})`;
  return `${graphUrl}/v1.0/$metadata#servicePrincipals${selected}${single ? "/$entity" : ""}`;
}

export function selfSignedCertificate(record: SigningCertificateRecord, graphUrl: string): string {
  return JSON.stringify({
    "@odata.context": `${graphUrl}/v1.0/$metadata#microsoft.graph.selfSignedCertificate`,
    customKeyIdentifier: record.customKeyIdentifier,
    displayName: record.displayName,
    endDateTime: record.endDateTime.toISOString(),
    key: Buffer.from(record.der).toString("base64"),
    keyId: record.keyId,
    startDateTime: record.startDateTime.toISOString(),
    thumbprint: record.thumbprint,
    type: "AsymmetricX509Cert",
    usage: "Verify",
  });
}
