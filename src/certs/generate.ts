// Makes real X.509 certificates with @peculiar/x509 and WebCrypto: the emulator's seeds, the demo and
// every test use this, so no certificate with hand-edited dates is ever checked in.

import { x509, webcrypto } from "./x509.js";
import { randomBytes, type webcrypto as WebCrypto } from "node:crypto";

type CryptoKeyPair = WebCrypto.CryptoKeyPair;
type SigningAlgorithm = WebCrypto.RsaHashedKeyGenParams | (WebCrypto.EcKeyGenParams & { hash: string });

export type KeySpec = { kind: "rsa"; bits: number } | { kind: "ec"; curve: "P-256" | "P-384" | "P-521" };

export interface GenerateOptions {
  readonly commonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Default EC P-256: fast to generate. */
  readonly key?: KeySpec;
  /** Sign with this issuer instead of self-signing. */
  readonly issuer?: GeneratedCertificate;
  readonly serialNumber?: string;
  /** Names a TLS server certificate is valid for, e.g. `{ type: "ip", value: "127.0.0.1" }`. */
  readonly subjectAltNames?: readonly { readonly type: "dns" | "ip"; readonly value: string }[];
}

export interface GeneratedCertificate {
  readonly pem: string;
  readonly der: Uint8Array;
  readonly fingerprintSha256: string;
  readonly privateKeyPem: string;
  readonly subject: string;
  readonly keys: CryptoKeyPair;
  readonly signingAlgorithm: SigningAlgorithm;
}

function algorithmOf(key: KeySpec): SigningAlgorithm {
  return key.kind === "rsa"
    ? {
        name: "RSASSA-PKCS1-v1_5",
        hash: "SHA-256",
        publicExponent: new Uint8Array([1, 0, 1]),
        modulusLength: key.bits,
      }
    : { name: "ECDSA", namedCurve: key.curve, hash: "SHA-256" };
}

// RSA key generation costs ~100 ms per 2048-bit key; a test suite makes hundreds of certificates, and the
// key pair does not matter to what they test, so one pair per key spec is reused within a process.
const keyCache = new Map<string, Promise<CryptoKeyPair>>();

function keysFor(key: KeySpec): Promise<CryptoKeyPair> {
  const cacheKey = JSON.stringify(key);
  let keys = keyCache.get(cacheKey);
  if (!keys) {
    keys = webcrypto.subtle.generateKey(algorithmOf(key), true, ["sign", "verify"]);
    keyCache.set(cacheKey, keys);
  }
  return keys;
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString("base64");
  return `-----BEGIN ${label}-----\n${b64.replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

export async function generateCertificate(options: GenerateOptions): Promise<GeneratedCertificate> {
  const key = options.key ?? { kind: "ec", curve: "P-256" };
  const signingAlgorithm = algorithmOf(key);
  const keys = await keysFor(key);
  const serialNumber =
    options.serialNumber ??
    randomBytes(8)
      .toString("hex")
      .replace(/^[89a-f]/, "1");
  const name = `CN=${options.commonName}`;
  const extensions = options.subjectAltNames
    ? [new (x509().SubjectAlternativeNameExtension)(options.subjectAltNames.map((san) => ({ ...san })))]
    : [];
  const cert = options.issuer
    ? await x509().X509CertificateGenerator.create({
        serialNumber,
        subject: name,
        issuer: options.issuer.subject,
        notBefore: options.notBefore,
        notAfter: options.notAfter,
        signingAlgorithm: options.issuer.signingAlgorithm,
        publicKey: keys.publicKey,
        signingKey: options.issuer.keys.privateKey,
        extensions,
      })
    : await x509().X509CertificateGenerator.createSelfSigned({
        serialNumber,
        name,
        notBefore: options.notBefore,
        notAfter: options.notAfter,
        signingAlgorithm,
        keys,
        extensions,
      });
  const fingerprint = Buffer.from(await cert.getThumbprint("SHA-256")).toString("hex");
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    pem: cert.toString("pem") + "\n",
    der: new Uint8Array(cert.rawData),
    fingerprintSha256: fingerprint,
    privateKeyPem: toPem(pkcs8, "PRIVATE KEY"),
    subject: name,
    keys,
    signingAlgorithm,
  };
}

/** A certificate signing request for the same kind of key (tests use it to prove a CSR is refused). */
export async function generateCsr(commonName: string): Promise<string> {
  const key: KeySpec = { kind: "ec", curve: "P-256" };
  const csr = await x509().Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys: await keysFor(key),
    signingAlgorithm: algorithmOf(key),
  });
  return csr.toString("pem") + "\n";
}
