// The domain model every layer shares. Plain data only: no I/O, no clock, no SendGrid wire quirks
// (those stop at src/sendgrid/wire.ts). Dates are Dates, ids are opaque strings.

import type { ReasonCode } from "./reasons.js";

/** An SSO integration as SendGrid describes it. */
export interface Integration {
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  /** `completed_integration`, only present when listed with `si=true`. */
  readonly completed: boolean | null;
  readonly entityId: string | null;
  readonly signinUrl: string | null;
  readonly signoutUrl: string | null;
  readonly singleSignonUrl: string | null;
  readonly audienceUrl: string | null;
  readonly lastUpdated: Date | null;
}

/** A certificate record as SendGrid stores it, before its PEM is parsed. */
export interface ApiCertificate {
  readonly id: string;
  readonly integrationId: string;
  readonly pem: string;
  /** null: the API did not say (the real service often omits `enabled`). */
  readonly enabled: boolean | null;
  readonly notBefore: Date | null;
  readonly notAfter: Date | null;
}

export type KeyAlgorithm = "RSA" | "EC" | "Ed25519" | "Ed448" | "unknown";

/** What the PEM itself says: the authority on dates. */
export interface ParsedCertificate {
  /** Lowercase hex, no colons, of the DER of the first certificate. */
  readonly fingerprintSha256: string;
  readonly subject: string;
  readonly issuer: string;
  readonly subjectCn: string | null;
  readonly issuerCn: string | null;
  /** Lowercase hex. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyAlgorithm: KeyAlgorithm;
  /** RSA modulus bits, or EC curve size in bits (256 for P-256); null when unknown. */
  readonly keySize: number | null;
  readonly signatureAlgorithm: string;
  readonly selfSigned: boolean;
  /** Number of certificates found in the PEM (a chain counts its first one only). */
  readonly chainLength: number;
}

/** A failure as data, with a stable reason code for metrics and alerts. */
export interface Failure {
  readonly reason: ReasonCode;
  readonly message: string;
}

export type ParseResult =
  | { readonly ok: true; readonly certificate: ParsedCertificate }
  | { readonly ok: false; readonly failure: Failure };
