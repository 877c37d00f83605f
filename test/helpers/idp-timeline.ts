// Replays the SendGrid emulator's history beside an IdP emulator's to find lockout instants: moments at
// which the IdP signed with a certificate SendGrid did not hold enabled and valid. The emulators must
// share one strictly increasing clock (sharedClock()) so their histories interleave without ties.

import { createHash } from "node:crypto";
import { parseCertificate } from "../../src/certs/parse.js";
import type { Emulator } from "../../src/emulator/server.js";
import type { CertificateRecord } from "../../src/emulator/state.js";
import type { GraphEmulator } from "../../src/emulator/graph/server.js";
import type { OktaEmulator } from "../../src/emulator/okta/server.js";

/** A clock for several emulators in one process: never returns the same instant twice. */
export function sharedClock(): { now: () => Date } {
  let last = 0;
  return {
    now: () => {
      last = Math.max(Date.now(), last + 1);
      return new Date(last);
    },
  };
}

export interface SigningIdp {
  /** Instants at which the IdP's signing key may have changed. */
  changes(): Date[];
  /** The certificate (PEM) the IdP signed with at `time`; null when none. */
  signingAt(time: Date): string | null;
}

export function oktaSigning(okta: OktaEmulator, appId: string): SigningIdp {
  return {
    changes: () => okta.state.history.filter((e) => e.appId === appId).map((e) => e.time),
    signingAt(time) {
      const kid = okta.state.signingKeyAt(appId, time);
      return okta.state.app(appId)?.keys.find((k) => k.kid === kid)?.pem ?? null;
    },
  };
}

export function graphSigning(graph: GraphEmulator, servicePrincipalId: string): SigningIdp {
  return {
    changes: () =>
      graph.state.history.filter((e) => e.servicePrincipalId === servicePrincipalId).map((e) => e.time),
    signingAt(time) {
      const key = graph.state.signingCredentialAt(servicePrincipalId, time)?.key;
      if (!key) return null;
      const base64 = Buffer.from(key).toString("base64");
      return `-----BEGIN CERTIFICATE-----\n${base64.replace(/(.{64})/g, "$1\n")}\n-----END CERTIFICATE-----\n`;
    },
  };
}

const fingerprint = (pem: string): string => {
  const parsed = parseCertificate(pem);
  return parsed.ok ? parsed.certificate.fingerprintSha256 : createHash("sha256").update(pem).digest("hex");
};

function usableAt(records: readonly CertificateRecord[], at: Date): Set<string> {
  return new Set(
    records
      .filter(
        (c) =>
          c.enabled && c.notBefore !== null && c.notAfter !== null && c.notBefore <= at && at < c.notAfter,
      )
      .map((c) => fingerprint(c.pem)),
  );
}

/**
 * Every instant, from `since` on, at which the IdP signed with a certificate the integration did not hold
 * usable, described for an assertion message; empty: no lockout. `initial`: the integration's
 * certificates at `since`, before the first mutation in the history.
 */
export function lockoutInstants(
  sendgrid: Emulator,
  integrationId: string,
  initial: readonly CertificateRecord[],
  idp: SigningIdp,
  since: Date,
): string[] {
  const sendgridChanges = sendgrid.state.history.filter(
    (h) => h.kind !== "teammate" && h.certificatesAfter[integrationId] !== undefined && h.time >= since,
  );
  const instants = [
    since,
    ...sendgridChanges.map((h) => h.time),
    ...idp.changes().filter((t) => t >= since),
  ].sort((a, b) => a.getTime() - b.getTime());
  const found: string[] = [];
  for (const at of instants) {
    let held = initial;
    for (const change of sendgridChanges) {
      if (change.time > at) break;
      if (change.kind !== "teammate") held = change.certificatesAfter[integrationId] ?? held;
    }
    const signing = idp.signingAt(at);
    if (signing === null) continue;
    if (!usableAt(held, at).has(fingerprint(signing)))
      found.push(
        `${at.toISOString()}: the IdP signs with ${fingerprint(signing).slice(0, 16)}, not usable in SendGrid`,
      );
  }
  return found;
}
