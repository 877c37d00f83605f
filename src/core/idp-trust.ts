// The lockout detector: does SendGrid trust the certificate the IdP signs with now? For okta and entra
// the management API names the signing key; SAML metadata does not, so there every published signing
// certificate that is valid now must be trusted. An IdP that could not be read is an error, never a
// silent "trusted". Pure.

import { idpView, trustedFingerprints } from "./idp-view.js";
import type { IdpSourceType, Offer } from "./offer.js";
import type { IntegrationState } from "./status.js";

export interface IdpTrust {
  readonly source: IdpSourceType;
  /** null: unknown, `error` says why. */
  readonly trusted: boolean | null;
  /** The signing certificate (okta, entra; metadata when it publishes exactly one). */
  readonly signingFingerprint: string | null;
  /** When the signing certificate ends (metadata: the earliest of those that count). */
  readonly signingNotAfter: Date | null;
  readonly error: string | null;
}

export function idpTrust(
  offer: Offer & { source: IdpSourceType },
  state: Pick<IntegrationState, "certificates">,
  now: Date,
): IdpTrust {
  const unknown = (error: string): IdpTrust => ({
    source: offer.source,
    trusted: null,
    signingFingerprint: null,
    signingNotAfter: null,
    error,
  });
  if (!offer.ok) return unknown(offer.message);
  const result = idpView(offer, state);
  if (!result.ok) return unknown(result.message);
  const { view } = result;
  const trusted = trustedFingerprints(state);
  if (view.source !== "metadata") {
    if (!view.signing) return unknown(view.problem ?? "the IdP's signing key is unknown");
    const fingerprint = view.signing.parsed.fingerprintSha256;
    return {
      source: view.source,
      trusted: trusted.has(fingerprint),
      signingFingerprint: fingerprint,
      signingNotAfter: view.signing.parsed.notAfter,
      error: null,
    };
  }
  // An expired or not yet valid certificate cannot sign a login SendGrid accepts, trusted or not.
  const current = view.certificates.filter((c) => c.parsed.notBefore <= now && now < c.parsed.notAfter);
  if (current.length === 0) return unknown("the metadata publishes no signing certificate valid now");
  const earliest = current.reduce((a, b) => (b.parsed.notAfter < a.parsed.notAfter ? b : a));
  return {
    source: "metadata",
    trusted: current.every((c) => trusted.has(c.parsed.fingerprintSha256)),
    signingFingerprint: current.length === 1 ? current[0]!.parsed.fingerprintSha256 : null,
    signingNotAfter: earliest.parsed.notAfter,
    error: null,
  };
}
