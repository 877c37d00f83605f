// "Usable": what SendGrid will accept a login signed with now. Its own module because the status, the
// IdP view and the planner all ask it, and the status module in turn needs the IdP view.

import type { ParsedCertificate } from "./model.js";
import type { CertificateState } from "./status.js";

/** A certificate logins can rely on now: enabled, parsed, inside its validity window. */
export type UsableCertificate = CertificateState & {
  readonly parsed: ParsedCertificate;
  readonly notAfter: Date;
  readonly expiresInMs: number;
};

export function isUsable(state: CertificateState): state is UsableCertificate {
  return state.enabled && state.parsed !== null && (state.status === "valid" || state.status === "expiring");
}
