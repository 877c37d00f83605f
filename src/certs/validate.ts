// The gate every replacement certificate passes before it may be uploaded: one verdict per input text,
// with every rule that fails reported at once so an operator fixes a file in one go. Pure: `now` and the
// integration's state come in as arguments; it never reads the clock, the disk or the network, and it
// never throws, because a source hands it whatever a person or an IdP put in a file.

import { createHash } from "node:crypto";
import type { ParsedCertificate } from "../core/model.js";
import { parseCertificate } from "./parse.js";

export type RejectionCode =
  | "bad_pem"
  | "not_a_certificate"
  | "private_key"
  | "csr"
  | "expired"
  | "not_yet_valid"
  | "weak_key"
  | "unsupported_key"
  | "already_present"
  | "does_not_outlive";

export interface Rejection {
  readonly code: RejectionCode;
  /** Names the origin and the offending value, e.g. "okta/next.pem: RSA key of 1024 bits; at least 2048 required". */
  readonly message: string;
}

export interface Candidate {
  readonly origin: string;
  /** The candidate alone (never the rest of a chain): LF line ends, 64-column base64, trailing newline. */
  readonly pem: string;
  readonly certificate: ParsedCertificate;
}

export interface ValidationContext {
  readonly now: Date;
  /** SHA-256 fingerprints (lowercase hex, no colons) of the certificates already on the integration. */
  readonly presentFingerprints: ReadonlySet<string>;
  /** notAfter of the integration's current best certificate: a replacement must end later. null: no bar. */
  readonly mustOutlive: Date | null;
}

export type ValidationResult =
  | { readonly ok: true; readonly candidate: Candidate }
  | { readonly ok: false; readonly rejections: [Rejection, ...Rejection[]] };

const MIN_RSA_BITS = 2048;
const ACCEPTED_EC_SIZES: ReadonlySet<number> = new Set([256, 384, 521]);
const CERTIFICATE_LABELS: ReadonlySet<string> = new Set(["CERTIFICATE", "X509 CERTIFICATE"]);
const CSR_LABELS: ReadonlySet<string> = new Set(["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"]);
// BEGIN lines alone, matched loosely: a private key must be caught even when its END line is missing.
const BEGIN_LINE = /-----BEGIN ([^\r\n-]+)-----/g;
// The same block shape parse.ts reads, so the block found here is the one it fingerprinted.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM label a text announces, in order (BEGIN lines only, uppercased). */
export function pemLabels(text: string): string[] {
  return [...text.matchAll(BEGIN_LINE)].map((match) => (match[1] ?? "").trim().toUpperCase());
}

/** PKCS#8, encrypted PKCS#8, PKCS#1 RSA, SEC1 EC, DSA, OpenSSH: anything that calls itself a private key. */
export function isPrivateKeyLabel(label: string): boolean {
  return /PRIVATE KEY$/.test(label);
}

/** A certificate's DER as the normalised PEM that is uploaded. */
export function certificatePem(base64: string): string {
  const lines = base64.replace(/\s+/g, "").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

function sha256Hex(der: Buffer): string {
  return createHash("sha256").update(der).digest("hex");
}

/**
 * The base64 of the DER that parseCertificate fingerprinted: one of the text's certificate blocks, or the
 * whole text when it is bare base64. Matching by fingerprint ties the uploaded bytes to the checked ones.
 */
function fingerprintedBase64(text: string, fingerprint: string): string | null {
  const normalized = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const bodies = [...normalized.matchAll(PEM_BLOCK)]
    .filter((block) => CERTIFICATE_LABELS.has(block[1] ?? ""))
    .map((block) => block[2] ?? "");
  for (const body of bodies.length > 0 ? bodies : [normalized]) {
    const base64 = body.replace(/\s+/g, "");
    if (sha256Hex(Buffer.from(base64, "base64")) === fingerprint) return base64;
  }
  return null;
}

/** Why a certificate's key is one SendGrid should not trust (shared with `check`'s weak warning). */
export function keyRejection(origin: string, certificate: ParsedCertificate): Rejection | null {
  const { keyAlgorithm, keySize } = certificate;
  if (keyAlgorithm === "RSA") {
    if (keySize !== null && keySize >= MIN_RSA_BITS) return null;
    const size = keySize === null ? "of unknown size" : `of ${keySize} bits`;
    return { code: "weak_key", message: `${origin}: RSA key ${size}; at least ${MIN_RSA_BITS} required` };
  }
  if (keyAlgorithm === "EC") {
    if (keySize !== null && ACCEPTED_EC_SIZES.has(keySize)) return null;
    const curve = keySize === null ? "an unrecognised curve" : `a ${keySize}-bit curve`;
    return {
      code: "unsupported_key",
      message: `${origin}: EC key on ${curve}; P-256, P-384 or P-521 required`,
    };
  }
  // SendGrid's SAML accepts neither Ed25519 nor Ed448 signatures.
  return {
    code: "unsupported_key",
    message: `${origin}: ${keyAlgorithm} key; RSA (${MIN_RSA_BITS}+ bits) or EC P-256/P-384/P-521 required`,
  };
}

function certificateRejections(
  origin: string,
  certificate: ParsedCertificate,
  context: ValidationContext,
): Rejection[] {
  const rejections: Rejection[] = [];
  const now = context.now.getTime();
  const { notBefore, notAfter, fingerprintSha256 } = certificate;
  if (now >= notAfter.getTime()) {
    rejections.push({
      code: "expired",
      message: `${origin}: expired at ${notAfter.toISOString()} (now ${context.now.toISOString()})`,
    });
  }
  if (now < notBefore.getTime()) {
    rejections.push({
      code: "not_yet_valid",
      message: `${origin}: not valid before ${notBefore.toISOString()} (now ${context.now.toISOString()})`,
    });
  }
  const key = keyRejection(origin, certificate);
  if (key) rejections.push(key);
  if (context.presentFingerprints.has(fingerprintSha256)) {
    rejections.push({
      code: "already_present",
      message: `${origin}: certificate ${fingerprintSha256} is already on the integration`,
    });
  }
  if (context.mustOutlive && notAfter.getTime() <= context.mustOutlive.getTime()) {
    rejections.push({
      code: "does_not_outlive",
      message: `${origin}: expires ${notAfter.toISOString()}, not after the current best certificate (${context.mustOutlive.toISOString()})`,
    });
  }
  return rejections;
}

/** The candidate the text holds, or the one reason it holds none. */
function candidateOf(
  origin: string,
  text: string,
  labels: readonly string[],
): { ok: true; candidate: Candidate } | { ok: false; rejection: Rejection } {
  const parsed = parseCertificate(text);
  if (!parsed.ok) {
    const { reason, message } = parsed.failure;
    if (reason === "not_a_certificate" && labels.some((label) => CSR_LABELS.has(label))) {
      return {
        ok: false,
        rejection: {
          code: "csr",
          message: `${origin}: a certificate signing request (CSR), not a certificate`,
        },
      };
    }
    return {
      ok: false,
      rejection: {
        code: reason === "bad_pem" ? "bad_pem" : "not_a_certificate",
        message: `${origin}: ${message}`,
      },
    };
  }
  const base64 = fingerprintedBase64(text, parsed.certificate.fingerprintSha256);
  if (base64 === null) {
    return {
      ok: false,
      rejection: { code: "bad_pem", message: `${origin}: the certificate's bytes could not be isolated` },
    };
  }
  return { ok: true, candidate: { origin, pem: certificatePem(base64), certificate: parsed.certificate } };
}

export function validateCandidate(
  input: { readonly origin: string; readonly text: string },
  context: ValidationContext,
): ValidationResult {
  const { origin, text } = input;
  const labels = pemLabels(text);
  const keyLabels = [...new Set(labels.filter(isPrivateKeyLabel))];
  const privateKey: Rejection[] =
    keyLabels.length === 0
      ? []
      : [
          {
            code: "private_key",
            message: `${origin}: holds a private key (${keyLabels.join(", ")}); a private key is never uploaded`,
          },
        ];
  const found = candidateOf(origin, text, labels);
  if (!found.ok) return { ok: false, rejections: [found.rejection, ...privateKey] };
  const [first, ...rest] = [
    ...privateKey,
    ...certificateRejections(origin, found.candidate.certificate, context),
  ];
  return first ? { ok: false, rejections: [first, ...rest] } : { ok: true, candidate: found.candidate };
}

function newestFirst(a: Candidate, b: Candidate): number {
  const x = a.certificate;
  const y = b.certificate;
  return (
    y.notAfter.getTime() - x.notAfter.getTime() ||
    y.notBefore.getTime() - x.notBefore.getTime() ||
    x.fingerprintSha256.localeCompare(y.fingerprintSha256)
  );
}

/**
 * The newest candidate that passes validation (latest notAfter; ties: latest notBefore, then the smaller
 * fingerprint), with every rejection of the other inputs for the log.
 */
export function selectNewestCandidate(
  inputs: readonly { readonly origin: string; readonly text: string }[],
  context: ValidationContext,
): { candidate: Candidate | null; rejections: Rejection[] } {
  const candidates: Candidate[] = [];
  const rejections: Rejection[] = [];
  for (const input of inputs) {
    const verdict = validateCandidate(input, context);
    if (verdict.ok) candidates.push(verdict.candidate);
    else rejections.push(...verdict.rejections);
  }
  candidates.sort(newestFirst);
  return { candidate: candidates[0] ?? null, rejections };
}
