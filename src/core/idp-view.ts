// The IdP's side of one integration as SendGrid must see it: the certificates SendGrid should trust
// (what the IdP signs with now and the keys it will sign with next), and which one signs now. Built from
// an Offer and the integration's SendGrid state; the planner's mirror and rollover steps and the
// lockout detector all read this one view, so they cannot disagree about what the IdP uses. Pure.

import { parseCertificate } from "../certs/parse.js";
import type { ParsedCertificate } from "./model.js";
import type { IdpSourceType, OfferedCertificate, ReadOffer } from "./offer.js";
import type { IntegrationState } from "./status.js";
import { isUsable } from "./usable.js";

export interface IdpCertificate {
  readonly offered: OfferedCertificate;
  readonly parsed: ParsedCertificate;
}

export interface IdpView {
  readonly source: IdpSourceType;
  /** Every offered certificate that parses, in the source's order. */
  readonly certificates: readonly IdpCertificate[];
  /** Fingerprints SendGrid should trust: the signing key and any newer one (okta, entra); all (metadata). */
  readonly published: ReadonlySet<string>;
  /**
   * okta/entra: the certificate the IdP signs with (null when the API names no key or a key it does not
   * list, see `problem`); metadata: null, any published certificate may sign.
   */
  readonly signing: IdpCertificate | null;
  /** Why the signing key is unknown although the API should name it. */
  readonly problem: string | null;
}

export type IdpViewResult =
  { readonly ok: true; readonly view: IdpView } | { readonly ok: false; readonly message: string };

/** Usable (enabled and valid now) in SendGrid, by fingerprint. */
export function trustedFingerprints(state: Pick<IntegrationState, "certificates">): Set<string> {
  return new Set(state.certificates.filter(isUsable).map((c) => c.parsed.fingerprintSha256));
}

export function idpView(offer: ReadOffer, state: Pick<IntegrationState, "certificates">): IdpViewResult {
  if (offer.source === "file") return { ok: false, message: "a file source is not an IdP" };
  // A signed document counts only when SendGrid already trusts its signer, or the operator pinned it:
  // otherwise anyone who can serve the URL could plant a signing certificate.
  if (offer.signer && !offer.signer.pinned && !trustedFingerprints(state).has(offer.signer.fingerprint)) {
    return {
      ok: false,
      message: `the metadata is signed by certificate ${offer.signer.fingerprint}, which SendGrid does not trust for this integration (pin a signer with signing_certificate_file)`,
    };
  }
  const certificates = offer.certificates.flatMap((offered) => {
    const parsed = parseCertificate(offered.text);
    return parsed.ok ? [{ offered, parsed: parsed.certificate }] : [];
  });
  if (offer.signing.kind !== "key") {
    return {
      ok: true,
      view: {
        source: offer.source,
        certificates,
        published: new Set(certificates.map((c) => c.parsed.fingerprintSha256)),
        signing: null,
        problem: null,
      },
    };
  }
  const { keyId } = offer.signing;
  const signing = keyId === null ? null : (certificates.find((c) => c.offered.keyId === keyId) ?? null);
  const listed = offer.certificates.some((c) => c.keyId === keyId);
  const problem =
    keyId === null
      ? "the IdP names no active signing key"
      : signing
        ? null
        : listed
          ? `the certificate of the IdP's active signing key ${keyId} cannot be read`
          : `the IdP's active signing key ${keyId} is not among the keys it lists`;
  // Without a known signing key every key may be the one: trust them all rather than guess.
  const published = certificates.filter(
    (c) => !signing || c === signing || c.parsed.notAfter > signing.parsed.notAfter,
  );
  return {
    ok: true,
    view: {
      source: offer.source,
      certificates,
      published: new Set(published.map((c) => c.parsed.fingerprintSha256)),
      signing,
      problem,
    },
  };
}
