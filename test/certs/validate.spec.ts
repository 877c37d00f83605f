import type { webcrypto as WebCrypto } from "node:crypto";
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { generateCsr } from "../../src/certs/generate.js";
import {
  pemLabels,
  validateCandidate,
  type RejectionCode,
  type ValidationContext,
  type ValidationResult,
} from "../../src/certs/validate.js";
import { x509, webcrypto } from "../../src/certs/x509.js";
import { makeCert } from "../helpers/make-cert.js";

const NOW = new Date("2025-06-01T12:00:00Z");
const DAY = 86_400_000;

function context(overrides: Partial<ValidationContext> = {}): ValidationContext {
  return { now: NOW, presentFingerprints: new Set(), mustOutlive: null, ...overrides };
}

function codes(result: ValidationResult): RejectionCode[] {
  return result.ok ? [] : result.rejections.map((rejection) => rejection.code).sort();
}

function bodyOf(pem: string): string {
  return pem.trim().split("\n").slice(1, -1).join("");
}

function armour(label: string, base64: string): string {
  return `-----BEGIN ${label}-----\n${base64.replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

describe("validateCandidate accepts", () => {
  test.each([
    ["EC P-256", { kind: "ec", curve: "P-256" }],
    ["EC P-384", { kind: "ec", curve: "P-384" }],
    ["EC P-521", { kind: "ec", curve: "P-521" }],
    ["RSA 2048", { kind: "rsa", bits: 2048 }],
  ] as const)("a valid %s certificate, as its normalised PEM", async (_name, key) => {
    const cert = await makeCert({ now: NOW, key });
    const result = validateCandidate({ origin: "okta/next.pem", text: cert.pem }, context());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.candidate.origin).toBe("okta/next.pem");
    expect(result.candidate.pem).toBe(cert.pem);
    expect(result.candidate.certificate.fingerprintSha256).toBe(cert.fingerprintSha256);
  });

  test("CRLF, a BOM and bare base64 without BEGIN/END lines, normalised to LF and 64 columns", async () => {
    const cert = await makeCert({ now: NOW });
    const bare = "\uFEFF" + bodyOf(cert.pem).replace(/(.{76})/g, "$1\r\n") + "\r\n";
    const result = validateCandidate({ origin: "bare.txt", text: bare }, context());
    expect(result.ok && result.candidate.pem).toBe(cert.pem);
    const crlf = cert.pem.replace(/\n/g, "\r\n");
    const again = validateCandidate({ origin: "crlf.pem", text: crlf }, context());
    expect(again.ok && again.candidate.pem).toBe(cert.pem);
  });

  test("a chain: the leaf is the candidate and the upload PEM holds only the leaf", async () => {
    const ca = await makeCert({
      cn: "Issuing CA",
      now: NOW,
      toDays: 3650,
      key: { kind: "ec", curve: "P-384" },
    });
    const leaf = await makeCert({ cn: "idp-signing", now: NOW, toDays: 365, issuer: ca });
    const result = validateCandidate({ origin: "chain.pem", text: leaf.pem + ca.pem }, context());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.candidate.certificate.fingerprintSha256).toBe(leaf.fingerprintSha256);
    expect(result.candidate.certificate.chainLength).toBe(2);
    expect(result.candidate.pem).toBe(leaf.pem);
    expect(pemLabels(result.candidate.pem)).toEqual(["CERTIFICATE"]);
  });

  test("a replacement that outlives the current best one", async () => {
    const cert = await makeCert({ now: NOW, toDays: 400 });
    const result = validateCandidate(
      { origin: "next.pem", text: cert.pem },
      context({ mustOutlive: new Date(NOW.getTime() + 399 * DAY) }),
    );
    expect(result.ok).toBe(true);
  });
});

describe("validateCandidate rejects", () => {
  test("an expired certificate, naming the file and the date", async () => {
    const cert = await makeCert({ now: NOW, fromDays: -400, toDays: -1 });
    const result = validateCandidate({ origin: "old.pem", text: cert.pem }, context());
    expect(codes(result)).toEqual(["expired"]);
    expect(!result.ok && result.rejections[0].message).toMatch(
      /^old\.pem: expired at 2025-05-31T12:00:00\.000Z/,
    );
  });

  test("a certificate that expires exactly now (notAfter is exclusive)", async () => {
    const cert = await makeCert({ now: NOW, fromDays: -10, toDays: 0 });
    expect(codes(validateCandidate({ origin: "edge.pem", text: cert.pem }, context()))).toEqual(["expired"]);
  });

  test("a certificate not valid yet", async () => {
    const cert = await makeCert({ now: NOW, fromDays: 2, toDays: 400 });
    const result = validateCandidate({ origin: "future.pem", text: cert.pem }, context());
    expect(codes(result)).toEqual(["not_yet_valid"]);
    expect(!result.ok && result.rejections[0].message).toContain("not valid before 2025-06-03T12:00:00.000Z");
  });

  test("an RSA key of 1024 bits", async () => {
    const cert = await makeCert({ now: NOW, key: { kind: "rsa", bits: 1024 } });
    const result = validateCandidate({ origin: "okta/next.pem", text: cert.pem }, context());
    expect(result).toEqual({
      ok: false,
      rejections: [
        { code: "weak_key", message: "okta/next.pem: RSA key of 1024 bits; at least 2048 required" },
      ],
    });
  });

  test("an Ed25519 key, which SendGrid's SAML does not accept", async () => {
    const keys = (await webcrypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ])) as WebCrypto.CryptoKeyPair;
    const cert = await x509().X509CertificateGenerator.createSelfSigned({
      serialNumber: "0a1b",
      name: "CN=ed25519.example.test",
      notBefore: new Date(NOW.getTime() - DAY),
      notAfter: new Date(NOW.getTime() + 365 * DAY),
      signingAlgorithm: { name: "Ed25519" },
      keys,
    });
    const result = validateCandidate({ origin: "ed.pem", text: cert.toString("pem") }, context());
    expect(codes(result)).toEqual(["unsupported_key"]);
    expect(!result.ok && result.rejections[0].message).toMatch(/^ed\.pem: Ed25519 key/);
  });

  test("a certificate with its private key in the same file", async () => {
    const cert = await makeCert({ now: NOW });
    const result = validateCandidate(
      { origin: "bundle.pem", text: cert.pem + cert.privateKeyPem },
      context(),
    );
    expect(codes(result)).toEqual(["private_key"]);
    expect(!result.ok && result.rejections[0].message).toContain(
      "bundle.pem: holds a private key (PRIVATE KEY)",
    );
  });

  test.each(["RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY"])(
    "a key labelled %s, even before the certificate",
    async (label) => {
      const cert = await makeCert({ now: NOW });
      const key = armour(label, bodyOf(cert.privateKeyPem));
      const result = validateCandidate({ origin: "k.pem", text: key + cert.pem }, context());
      expect(codes(result)).toEqual(["private_key"]);
    },
  );

  test("a private key whose END line is missing", async () => {
    const cert = await makeCert({ now: NOW });
    const truncated = cert.privateKeyPem.split("\n").slice(0, 3).join("\n");
    const result = validateCandidate({ origin: "cut.pem", text: cert.pem + truncated }, context());
    expect(codes(result)).toEqual(["private_key"]);
  });

  test("a bare private key: it is no certificate, and it is a key", async () => {
    const cert = await makeCert({ now: NOW });
    const result = validateCandidate({ origin: "tls.key", text: cert.privateKeyPem }, context());
    expect(codes(result)).toEqual(["not_a_certificate", "private_key"]);
  });

  test("a CSR, called a CSR", async () => {
    const csr = await generateCsr("idp.example.test");
    const result = validateCandidate({ origin: "request.pem", text: csr }, context());
    expect(result).toEqual({
      ok: false,
      rejections: [
        { code: "csr", message: "request.pem: a certificate signing request (CSR), not a certificate" },
      ],
    });
  });

  test("a public key", async () => {
    const cert = await makeCert({ now: NOW });
    const spki = await webcrypto.subtle.exportKey("spki", cert.keys.publicKey);
    const text = armour("PUBLIC KEY", Buffer.from(spki).toString("base64"));
    expect(codes(validateCandidate({ origin: "pub.pem", text }, context()))).toEqual(["not_a_certificate"]);
  });

  test.each([
    ["garbage", "this is not a certificate at all"],
    ["an empty file", ""],
    ["BEGIN without END", "-----BEGIN CERTIFICATE-----\nMIIB\n"],
  ])("%s", (_name, text) => {
    const result = validateCandidate({ origin: "junk.pem", text }, context());
    expect(codes(result)).toEqual(["bad_pem"]);
    expect(!result.ok && result.rejections[0].message).toMatch(/^junk\.pem: /);
  });

  test("truncated base64: broken padding is bad PEM, a cut DER is not a certificate", async () => {
    const cert = await makeCert({ now: NOW });
    const body = bodyOf(cert.pem);
    const unpadded = armour("CERTIFICATE", body.slice(0, body.length - 41));
    expect(codes(validateCandidate({ origin: "cut.pem", text: unpadded }, context()))).toEqual(["bad_pem"]);
    const short = armour("CERTIFICATE", body.slice(0, body.length - 40));
    expect(codes(validateCandidate({ origin: "cut.pem", text: short }, context()))).toEqual([
      "not_a_certificate",
    ]);
  });

  test("a certificate already on the integration", async () => {
    const cert = await makeCert({ now: NOW });
    const result = validateCandidate(
      { origin: "current.pem", text: cert.pem },
      context({ presentFingerprints: new Set([cert.fingerprintSha256]) }),
    );
    expect(codes(result)).toEqual(["already_present"]);
    expect(!result.ok && result.rejections[0].message).toContain(cert.fingerprintSha256);
  });

  test("a certificate that does not outlive the current best one (equal counts as not outliving)", async () => {
    const cert = await makeCert({ now: NOW, toDays: 90 });
    const notAfter = new Date(NOW.getTime() + 90 * DAY);
    for (const mustOutlive of [notAfter, new Date(notAfter.getTime() + DAY)]) {
      const result = validateCandidate({ origin: "short.pem", text: cert.pem }, context({ mustOutlive }));
      expect(codes(result)).toEqual(["does_not_outlive"]);
    }
  });

  test("every rule that fails, not only the first", async () => {
    const cert = await makeCert({ now: NOW, fromDays: -400, toDays: -5, key: { kind: "rsa", bits: 1024 } });
    const result = validateCandidate(
      { origin: "worst.pem", text: cert.pem + cert.privateKeyPem },
      context({ presentFingerprints: new Set([cert.fingerprintSha256]), mustOutlive: NOW }),
    );
    expect(codes(result)).toEqual([
      "already_present",
      "does_not_outlive",
      "expired",
      "private_key",
      "weak_key",
    ]);
    expect(
      result.ok || result.rejections.every((rejection) => rejection.message.startsWith("worst.pem: ")),
    ).toBe(true);
  });

  test("a chain whose leaf is expired, even though its CA is valid", async () => {
    const ca = await makeCert({ cn: "CA", now: NOW, toDays: 3650 });
    const leaf = await makeCert({ cn: "leaf", now: NOW, fromDays: -100, toDays: -1, issuer: ca });
    expect(codes(validateCandidate({ origin: "chain.pem", text: leaf.pem + ca.pem }, context()))).toEqual([
      "expired",
    ]);
  });
});

describe("validateCandidate never throws", () => {
  const ctx = context();

  function judged(text: string): boolean {
    const result = validateCandidate({ origin: "fuzz", text }, ctx);
    return result.ok ? result.candidate.pem.length > 0 : result.rejections.length > 0;
  }

  test("on arbitrary strings", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 2000 }), judged), { numRuns: 300 });
  });

  test("on arbitrary bytes, as base64 inside PEM armour and as raw text", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 2000 }),
        fc.constantFrom("CERTIFICATE", "PRIVATE KEY", "X"),
        (bytes, label) => {
          const raw = Buffer.from(bytes);
          return judged(armour(label, raw.toString("base64"))) && judged(raw.toString("latin1"));
        },
      ),
      { numRuns: 300 },
    );
  });

  test("on a real certificate with bytes of its DER changed", async () => {
    const cert = await makeCert({ now: NOW });
    fc.assert(
      fc.property(fc.nat({ max: cert.der.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, flip) => {
        const der = Buffer.from(cert.der);
        der[index] = (der[index] ?? 0) ^ flip;
        return judged(armour("CERTIFICATE", der.toString("base64")));
      }),
      { numRuns: 300 },
    );
  });
});
