// What sources hand on and what the IdP sources can do. Sources never decide whether a certificate is
// acceptable (src/certs/validate.ts does) nor what to do with it (src/core/plan.ts does).

import type { IdpKey, IdpKeySet, IdpKind } from "../core/idp.js";

export type { SourceInput, SourceNote } from "../core/offer.js";

/** The `http:` settings an IdP source's client runs with. */
export interface IdpHttpOptions {
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly maxConcurrency: number;
}

/** What a managed IdP source asks of the IdP when it generates a key. */
export interface GenerateKeyRequest {
  readonly validityYears: number;
  /** Subject for IdPs that let the caller name it (Entra `displayName`, "CN=…"); Okta names its own. */
  readonly subject: string;
}

/**
 * One IdP application's signing keys through its management API (src/sources/okta.ts, entra.ts): the
 * read side every `okta`/`entra` source has, and the write side `manage_keys` uses. Errors are the API's
 * typed errors (OktaError, GraphError), never carrying a secret.
 */
export interface IdpPort {
  readonly kind: IdpKind;
  /** For messages and logs, never a secret: "Okta app 0oa1… at https://example.okta.com". */
  describe(): string;
  read(): Promise<IdpKeySet>;
  /** Creates a new signing key; the IdP does not sign with it until activate(). */
  generate(request: GenerateKeyRequest): Promise<IdpKey>;
  /** Makes the key with this `IdpKey.id` the one the IdP signs with, changing nothing else. */
  activate(keyId: string): Promise<void>;
  close(): Promise<void>;
}
