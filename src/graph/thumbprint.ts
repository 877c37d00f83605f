// Entra's handle for a certificate: the SHA-1 thumbprint of its DER, uppercase hex, the form
// `preferredTokenSigningKeyThumbprint` and `selfSignedCertificate.thumbprint` carry. SHA-1 here names a
// certificate, it secures nothing. Shared by the entra source and the Graph emulator so both agree.

import { createHash } from "node:crypto";

export function certificateThumbprint(der: Uint8Array): string {
  return createHash("sha1").update(der).digest("hex").toUpperCase();
}

/** Graph accepts and may return the thumbprint in any case; compare and store it uppercase. */
export function normalizeThumbprint(thumbprint: string): string {
  return thumbprint.trim().toUpperCase();
}
