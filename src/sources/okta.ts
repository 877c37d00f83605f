// The `okta` source: one Okta app's signing keys as an IdpPort, over OktaClient. Maps Okta's keys to
// IdpKeys (id = kid, pem = x5c[0]) and `credentials.signing.kid` to the active key. Decides nothing about
// the keys; errors are OktaErrors and never carry the API token.

import type { OktaSource } from "../config/types.js";
import type { IdpKey, IdpKeySet } from "../core/idp.js";
import type { RequestObserver } from "../http/transport.js";
import { OktaClient, type OktaKey } from "../okta/client.js";
import type { GenerateKeyRequest, IdpHttpOptions, IdpPort } from "./types.js";

/** Observer events and metrics of this port carry `account` (the `source` label) "okta". */
export const OKTA_LABEL = "okta";

function idpKey(key: OktaKey): IdpKey {
  return { id: key.kid, pem: key.pem, createdAt: key.createdAt, expiresAt: key.expiresAt };
}

export function oktaPort(source: OktaSource, http: IdpHttpOptions, observer?: RequestObserver): IdpPort {
  const client = new OktaClient({
    label: OKTA_LABEL,
    orgUrl: source.orgUrl,
    appId: source.appId,
    apiToken: () => source.apiToken.read(),
    timeoutMs: http.timeoutMs,
    maxRetries: http.maxRetries,
    maxConcurrency: http.maxConcurrency,
    ...(observer && { observer }),
  });
  return {
    kind: "okta",
    describe: () => `Okta app ${source.appId} at ${source.orgUrl}`,
    async read(): Promise<IdpKeySet> {
      const [app, keys] = await Promise.all([client.getApp(), client.listKeys()]);
      return { keys: keys.map(idpKey), activeKeyId: app.activeKid };
    },
    // Okta names its own subject; only the validity is the caller's.
    async generate(request: GenerateKeyRequest): Promise<IdpKey> {
      return idpKey(await client.generateKey(request.validityYears));
    },
    async activate(keyId: string): Promise<void> {
      await client.activateKey(keyId);
    },
    close: () => client.close(),
  };
}
