// The `entra` source: one Entra ID enterprise application's SAML signing certificates through Microsoft
// Graph, as an IdpPort. Maps Graph's keyCredentials to IdpKeys (the AsymmetricX509Cert credentials with
// usage Verify, identified by their SHA-1 thumbprint) and `preferredTokenSigningKeyThumbprint` to the
// active key. Decides nothing; errors are GraphErrors without the client secret or a token.

import { certificatePem } from "../certs/validate.js";
import type { EntraSource } from "../config/types.js";
import type { IdpKey, IdpKeySet } from "../core/idp.js";
import { GraphClient } from "../graph/client.js";
import { ServicePrincipalsApi, type KeyCredential } from "../graph/service-principals.js";
import { certificateThumbprint, normalizeThumbprint } from "../graph/thumbprint.js";
import type { Clock, RequestObserver } from "../http/transport.js";
import type { GenerateKeyRequest, IdpHttpOptions, IdpPort } from "./types.js";

/** Test seams: the clock of waits and of generated end dates, and the jitter source. */
export interface EntraPortSeams {
  readonly clock?: Clock;
  readonly random?: () => number;
}

/** Graph refuses an endDateTime more than three years after the certificate is created. */
const MAX_YEARS = 3;
/** Kept off that limit so a clock here running ahead of Graph's does not get the request refused. */
const CLOCK_SKEW_MARGIN_MS = 60 * 60_000;

function yearsAfter(ms: number, years: number): Date {
  const date = new Date(ms);
  date.setUTCFullYear(date.getUTCFullYear() + years);
  return date;
}

function idpKeyOf(der: Uint8Array, createdAt: Date | null, expiresAt: Date | null): IdpKey {
  return {
    id: certificateThumbprint(der),
    pem: certificatePem(Buffer.from(der).toString("base64")),
    createdAt,
    expiresAt,
  };
}

/** The certificates Entra can sign SAML responses with: the public (Verify) halves, with their DER. */
function signingKeys(credentials: readonly KeyCredential[]): IdpKey[] {
  const keys = new Map<string, IdpKey>();
  for (const credential of credentials) {
    // A Verify credential without `key` cannot be checked against SendGrid; Graph returns it because
    // keyCredentials is $select-ed on one object, so a missing key means an odd answer, not a key.
    if (credential.type !== "AsymmetricX509Cert" || credential.usage !== "Verify" || !credential.key)
      continue;
    const key = idpKeyOf(credential.key, credential.startDateTime, credential.endDateTime);
    if (!keys.has(key.id)) keys.set(key.id, key);
  }
  return [...keys.values()];
}

export function entraPort(
  source: EntraSource,
  http: IdpHttpOptions,
  observer?: RequestObserver,
  seams: EntraPortSeams = {},
): IdpPort {
  const client = new GraphClient({
    // Observer events and metrics carry it as the `source` label.
    label: "entra",
    tenantId: source.tenantId,
    clientId: source.clientId,
    clientSecret: () => source.clientSecret.read(),
    authorityUrl: source.authorityUrl,
    graphUrl: source.graphUrl,
    ...http,
    ...(observer && { observer }),
    ...(seams.clock && { clock: seams.clock }),
    ...(seams.random && { random: seams.random }),
  });
  const servicePrincipals = new ServicePrincipalsApi(client);
  const id = source.servicePrincipalId;
  const now = () => seams.clock?.now() ?? Date.now();

  return {
    kind: "entra",
    describe: () => `Entra service principal ${id} in tenant ${source.tenantId}`,

    async read(): Promise<IdpKeySet> {
      const sp = await servicePrincipals.get(id);
      const preferred = sp.preferredTokenSigningKeyThumbprint;
      return {
        keys: signingKeys(sp.keyCredentials),
        activeKeyId: preferred ? normalizeThumbprint(preferred) : null,
      };
    },

    async generate(request: GenerateKeyRequest): Promise<IdpKey> {
      const start = now();
      const wanted = yearsAfter(start, request.validityYears);
      const limit = yearsAfter(start, MAX_YEARS).getTime() - CLOCK_SKEW_MARGIN_MS;
      const endDateTime = new Date(Math.min(wanted.getTime(), limit));
      const displayName = request.subject.startsWith("CN=") ? request.subject : `CN=${request.subject}`;
      const created = await servicePrincipals.addTokenSigningCertificate(id, { displayName, endDateTime });
      return idpKeyOf(created.key, created.startDateTime, created.endDateTime);
    },

    activate: (keyId: string) => servicePrincipals.setPreferredThumbprint(id, normalizeThumbprint(keyId)),

    close: () => client.close(),
  };
}
