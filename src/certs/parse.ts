// PEM text -> ParsedCertificate, or a Failure as data. Never throws: a certificate SendGrid stores may be
// anything, and one bad record must not break a scan. Parses with @peculiar/x509; results are cached by
// the SHA-256 of the DER, so an unchanged certificate costs one hash per scan, not one parse, and the
// cache outlives the process in state_dir (parse-cache-file.ts). Split in three steps (locate, parseDer,
// remember) so that parse-pool.ts can run the costly middle one elsewhere.

import { createHash } from "node:crypto";
import type { X509Certificate, Name } from "@peculiar/x509";
import type { Failure, KeyAlgorithm, ParseResult, ParsedCertificate } from "../core/model.js";
import { x509 } from "./x509.js";

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const CACHE_LIMIT = 20_000;

const cache = new Map<string, ParseResult>();
let parses = 0;
let cacheHits = 0;

/** Counts of real parses and cache hits since start: the bench and the request-count guard read them. */
export function parseStats(): { parses: number; cacheHits: number } {
  return { parses, cacheHits };
}

function fail(reason: Failure["reason"], message: string): ParseResult {
  return { ok: false, failure: { reason, message } };
}

function decodeBase64(body: string): Buffer | null {
  const compact = body.replace(/\s+/g, "");
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) return null;
  return Buffer.from(compact, "base64");
}

/** Finds the DER of the first certificate, or says why there is none. */
function firstCertificateDer(text: string): { der: Buffer; chainLength: number } | Failure {
  const normalized = text
    .replace(/^\uFEFF/, "")
    .replace(/\r\n?/g, "\n")
    .trim();
  if (normalized.length === 0) return { reason: "bad_pem", message: "empty certificate" };
  const blocks = [...normalized.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) {
    if (normalized.includes("-----BEGIN")) {
      return { reason: "bad_pem", message: "PEM armour without a matching END line" };
    }
    // SendGrid may hand back the base64 body alone, without BEGIN/END lines.
    const der = decodeBase64(normalized);
    return der ? { der, chainLength: 1 } : { reason: "bad_pem", message: "neither PEM nor base64 DER" };
  }
  const certificates = blocks.filter(
    (block) => block[1] === "CERTIFICATE" || block[1] === "X509 CERTIFICATE",
  );
  const first = certificates[0];
  if (!first) {
    const labels = [...new Set(blocks.map((block) => block[1]))].join(", ");
    return { reason: "not_a_certificate", message: `PEM holds ${labels}, not a CERTIFICATE` };
  }
  const der = decodeBase64(first[2] ?? "");
  return der
    ? { der, chainLength: certificates.length }
    : { reason: "bad_pem", message: "invalid base64 in PEM body" };
}

function keyOf(cert: X509Certificate): { keyAlgorithm: KeyAlgorithm; keySize: number | null } {
  const algorithm = cert.publicKey.algorithm as { name: string; modulusLength?: number; namedCurve?: string };
  if (/^RSA/i.test(algorithm.name)) return { keyAlgorithm: "RSA", keySize: algorithm.modulusLength ?? null };
  if (algorithm.name === "ECDSA" || algorithm.name === "ECDH") {
    const size = /^P-(\d+)$/.exec(algorithm.namedCurve ?? "")?.[1];
    return { keyAlgorithm: "EC", keySize: size ? Number(size) : null };
  }
  if (algorithm.name === "Ed25519") return { keyAlgorithm: "Ed25519", keySize: 256 };
  if (algorithm.name === "Ed448") return { keyAlgorithm: "Ed448", keySize: 456 };
  return { keyAlgorithm: "unknown", keySize: null };
}

function signatureName(cert: X509Certificate): string {
  const algorithm = cert.signatureAlgorithm as { name: string; hash?: { name: string } | string };
  const hash = typeof algorithm.hash === "string" ? algorithm.hash : algorithm.hash?.name;
  return hash ? `${algorithm.name} with ${hash}` : algorithm.name;
}

function firstField(name: Name, type: string): string | null {
  return name.getField(type)[0] ?? null;
}

/** A certificate's DER that the cache did not know: what parseDer needs. */
export interface DerInput {
  readonly der: Uint8Array;
  readonly fingerprintSha256: string;
  readonly chainLength: number;
}

/** The costly step: runs @peculiar/x509 over the DER. Pure; safe in a worker thread. */
export function parseDer({ der, fingerprintSha256, chainLength }: DerInput): ParseResult {
  let cert: X509Certificate;
  try {
    cert = new (x509().X509Certificate)(der);
  } catch (error) {
    return fail("not_a_certificate", `not an X.509 certificate: ${(error as Error).message}`);
  }
  // The parser reads the first DER SEQUENCE and ignores the rest; bytes after it would make the
  // fingerprint (hashed over the whole buffer) not the certificate's own.
  if (cert.rawData.byteLength !== der.length) {
    return fail(
      "bad_pem",
      `${der.length - cert.rawData.byteLength} bytes of trailing data after the certificate`,
    );
  }
  try {
    const certificate: ParsedCertificate = {
      fingerprintSha256,
      subject: cert.subject,
      issuer: cert.issuer,
      subjectCn: firstField(cert.subjectName, "CN"),
      issuerCn: firstField(cert.issuerName, "CN"),
      serialNumber: cert.serialNumber.toLowerCase(),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      ...keyOf(cert),
      signatureAlgorithm: signatureName(cert),
      // Self-issued (issuer == subject) is what matters for SAML: the IdP's certificate is its own trust anchor.
      selfSigned: cert.subject === cert.issuer,
      chainLength,
    };
    return { ok: true, certificate };
  } catch (error) {
    return fail("not_a_certificate", `unreadable certificate field: ${(error as Error).message}`);
  }
}

/** A PEM's cached result (a failure to find a DER included), or the DER to parse. */
export type Located = { readonly result: ParseResult } | { readonly input: DerInput };

export function locate(pem: string): Located {
  const found = firstCertificateDer(pem);
  if ("reason" in found) return { result: { ok: false, failure: found } };
  const fingerprintSha256 = createHash("sha256").update(found.der).digest("hex");
  const cached = cache.get(cacheKey(fingerprintSha256, found.chainLength));
  if (cached) {
    cacheHits++;
    return { result: cached };
  }
  return { input: { der: found.der, fingerprintSha256, chainLength: found.chainLength } };
}

function cacheKey(fingerprint: string, chainLength: number): string {
  return `${fingerprint}:${chainLength}`;
}

/** Counts a parse and keeps its result for the next time the same DER comes by. */
export function remember(input: DerInput, result: ParseResult): void {
  parses++;
  keep(cacheKey(input.fingerprintSha256, input.chainLength), result);
}

function keep(key: string, result: ParseResult): void {
  if (!cache.has(key) && cache.size >= CACHE_LIMIT) {
    // Maps iterate in insertion order: dropping the first key evicts the oldest entry.
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, result);
}

/** A cached result with what it is keyed by: what parse-cache-file.ts writes and reads back. */
export interface CachedParse {
  readonly fingerprintSha256: string;
  readonly chainLength: number;
  readonly result: ParseResult;
}

/** Every cached result, oldest first. */
export function cachedParses(): CachedParse[] {
  return [...cache].map(([key, result]) => {
    const split = key.lastIndexOf(":");
    return {
      fingerprintSha256: key.slice(0, split),
      chainLength: Number(key.slice(split + 1)),
      result,
    };
  });
}

/** Adds results parsed by an earlier process; what this process parsed itself stays as it is. */
export function adoptCachedParses(entries: readonly CachedParse[]): void {
  for (const { fingerprintSha256, chainLength, result } of entries) {
    const key = cacheKey(fingerprintSha256, chainLength);
    if (!cache.has(key)) keep(key, result);
  }
}

export function parseCertificate(pem: string): ParseResult {
  const located = locate(pem);
  if ("result" in located) return located.result;
  const result = parseDer(located.input);
  remember(located.input, result);
  return result;
}
