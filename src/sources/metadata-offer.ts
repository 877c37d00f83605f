// A metadata document's reading as an Offer: SendGrid mirrors every signing certificate it publishes,
// and any of them may be the one the IdP signs with.

import type { Offer } from "../core/offer.js";
import type { MetadataResult } from "./metadata.js";

export function metadataOffer(result: MetadataResult): Offer {
  if (!result.ok)
    return { ok: false, source: "metadata", message: result.message, status: null, reason: result.reason };
  return {
    ok: true,
    source: "metadata",
    mode: "mirror",
    certificates: result.signing.map((text, index) => ({
      origin: `metadata signing certificate #${index + 1}`,
      text,
      keyId: null,
    })),
    signing: { kind: "any" },
    signer:
      result.signature.kind === "valid"
        ? { fingerprint: result.signature.signerFingerprint, pinned: result.signature.pinned }
        : null,
    manage: null,
    problems: [],
  };
}
