// The IdP's side of the two-party model, as plain data: the signing keys an identity provider holds and
// the one it signs SAML responses with now. Produced by the okta and entra sources from their
// management APIs; read by the pure planner and status code. No I/O, no wire format.

export type IdpKind = "okta" | "entra";

/** One signing key the IdP holds. */
export interface IdpKey {
  /**
   * The IdP's own handle, the one its API activates: Okta's `kid`; for Entra the certificate's SHA-1
   * thumbprint, uppercase hex, as `preferredTokenSigningKeyThumbprint` carries it.
   */
  readonly id: string;
  /** The key's X.509 certificate as PEM (Okta `x5c[0]`, Entra `key`). */
  readonly pem: string;
  /** When the IdP created it, when the API says (Okta `created`, Entra `startDateTime`). */
  readonly createdAt: Date | null;
  /** The API's expiry (Okta `expiresAt`, Entra `endDateTime`); the PEM's notAfter is the authority. */
  readonly expiresAt: Date | null;
}

/** What the IdP's management API says now. */
export interface IdpKeySet {
  readonly keys: readonly IdpKey[];
  /** `id` of the key the IdP signs with now; null when the API names none. */
  readonly activeKeyId: string | null;
}
