// What a rotation rule's source offers this cycle, in one shape for every source type: the certificates
// it holds, which of them the IdP signs with now, and what the tool may do at the IdP. Each source module
// (src/sources/) turns its own input into an Offer; the pure planner and the lockout detector see only
// Offers, so a fifth source is one new file there. Plain data; nothing here reads anything.

/** One certificate-bearing text (a chain counts as one) and where it came from, for messages. */
export interface SourceInput {
  readonly origin: string;
  readonly text: string;
}

/** Something a source could not read or chose to skip, named by where it happened. */
export interface SourceNote {
  readonly origin: string;
  readonly message: string;
}

export type SourceType = "file" | "metadata" | "okta" | "entra";
export type IdpSourceType = Exclude<SourceType, "file">;

/** One certificate a source holds, as text (validate.ts judges it), with the IdP's key id when it has one. */
export interface OfferedCertificate extends SourceInput {
  /** The IdP's handle for the key (Okta kid, Entra thumbprint); null for files and metadata. */
  readonly keyId: string | null;
}

/**
 * Which offered certificate the IdP signs with now.
 * - `key`: the management API names it (okta, entra); `keyId` may match no offered certificate.
 * - `any`: SAML metadata does not say which key signs, so any published one may (metadata).
 * - `none`: the source is not an IdP (file): there is nothing to detect.
 */
export type SigningKey =
  | { readonly kind: "key"; readonly keyId: string | null }
  | { readonly kind: "any" }
  | { readonly kind: "none" };

/** The signer of a signed metadata document, verified cryptographically by the source. */
export interface MetadataSigner {
  /** SHA-256 of the certificate whose key verified the signature, lowercase hex. */
  readonly fingerprint: string;
  /** true: the operator pinned it (signing_certificate_file); false: taken from the document's KeyInfo. */
  readonly pinned: boolean;
}

export interface ReadOffer {
  readonly ok: true;
  readonly source: SourceType;
  /**
   * pick: when rotation is due the newest acceptable certificate replaces the best one (file).
   * mirror: SendGrid holds what the IdP signs with or will sign with next (metadata, okta, entra).
   */
  readonly mode: "pick" | "mirror";
  readonly certificates: readonly OfferedCertificate[];
  readonly signing: SigningKey;
  /** Signed metadata: who signed it. null: unsigned, or not metadata. */
  readonly signer: MetadataSigner | null;
  /** `manage_keys`: the tool may generate and activate keys at the IdP. */
  readonly manage: { readonly validityYears: number } | null;
  readonly problems: readonly SourceNote[];
}

export interface FailedOffer {
  readonly ok: false;
  readonly source: SourceType;
  /** What went wrong, for logs, `check` and the inventory; never a secret. */
  readonly message: string;
  /** HTTP status of the IdP's answer when there was one: 401/403 name a credential or permission problem. */
  readonly status: number | null;
  /**
   * A stable code for metrics: the API's reason (http_403, timeout, rate_limited, ...) for okta and
   * entra; the metadata source's (fetch_failed, signature_invalid, entity_not_found, ...) for metadata.
   */
  readonly reason: string;
}

export type Offer = ReadOffer | FailedOffer;

/** Is this source an IdP (or its metadata), whose signing key the lockout detector watches? */
export function watchesIdp(source: SourceType): source is IdpSourceType {
  return source !== "file";
}
