import { X509Certificate, createHash } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { generateCertificate, generateCsr, type GeneratedCertificate } from "../../src/certs/generate.js";
import { parseCertificate, parseStats } from "../../src/certs/parse.js";
import type { ParsedCertificate, ParseResult } from "../../src/core/model.js";
import { REASON_CODES } from "../../src/core/reasons.js";
import { makeCert } from "../helpers/make-cert.js";

const NOW = new Date("2030-01-01T00:00:00Z");
const DAY_MS = 86_400_000;

let leaf: GeneratedCertificate;
let ca: GeneratedCertificate;
let issued: GeneratedCertificate;
let rsa: GeneratedCertificate;

beforeAll(async () => {
  leaf = await makeCert({ now: NOW, cn: "idp.example.test", fromDays: -10, toDays: 355 });
  ca = await makeCert({
    now: NOW,
    cn: "Example Root CA",
    fromDays: -100,
    toDays: 3650,
    key: { kind: "ec", curve: "P-384" },
  });
  issued = await makeCert({ now: NOW, cn: "login.example.test", issuer: ca });
  rsa = await makeCert({ now: NOW, cn: "rsa.example.test", key: { kind: "rsa", bits: 2048 } });
});

function parsed(pem: string): ParsedCertificate {
  const result = parseCertificate(pem);
  if (!result.ok)
    throw new Error(`expected a certificate, got ${result.failure.reason}: ${result.failure.message}`);
  return result.certificate;
}

function failure(pem: string) {
  const result = parseCertificate(pem);
  if (result.ok) throw new Error("expected a failure, got a certificate");
  return result.failure;
}

/** The base64 body of a PEM, without BEGIN/END lines or line breaks. */
const bodyOf = (pem: string): string => pem.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
const armour = (body: string, label = "CERTIFICATE") =>
  `-----BEGIN ${label}-----\n${body.replace(/(.{64})/g, "$1\n")}\n-----END ${label}-----\n`;
const fingerprintOf = (pem: string) =>
  new X509Certificate(pem).fingerprint256.replaceAll(":", "").toLowerCase();

describe("parseCertificate: what a certificate says", () => {
  it("reads subject, issuer, CNs, serial, fingerprint, dates, key and signature of a self-signed EC certificate", () => {
    const reference = new X509Certificate(leaf.pem);
    expect(parsed(leaf.pem)).toEqual({
      fingerprintSha256: createHash("sha256").update(reference.raw).digest("hex"),
      subject: "CN=idp.example.test",
      issuer: "CN=idp.example.test",
      subjectCn: "idp.example.test",
      issuerCn: "idp.example.test",
      serialNumber: reference.serialNumber.toLowerCase(),
      notBefore: new Date(NOW.getTime() - 10 * DAY_MS),
      notAfter: new Date(NOW.getTime() + 355 * DAY_MS),
      keyAlgorithm: "EC",
      keySize: 256,
      signatureAlgorithm: "ECDSA with SHA-256",
      selfSigned: true,
      chainLength: 1,
    });
  });

  it("gives the fingerprint as 64 lowercase hex digits without colons, equal to the generator's", () => {
    const { fingerprintSha256 } = parsed(leaf.pem);
    expect(fingerprintSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprintSha256).toBe(fingerprintOf(leaf.pem));
    expect(fingerprintSha256).toBe(leaf.fingerprintSha256.replaceAll(":", "").toLowerCase());
  });

  it("gives the serial number in lowercase hex", async () => {
    const upper = await generateCertificate({
      commonName: "serial.example.test",
      notBefore: NOW,
      notAfter: new Date(NOW.getTime() + DAY_MS),
      serialNumber: "7ABCDEF0123456",
    });
    expect(new X509Certificate(upper.pem).serialNumber).toMatch(/[A-F]/);
    expect(parsed(upper.pem).serialNumber).toBe("7abcdef0123456");
  });

  it("reads an RSA key's modulus size and signature", () => {
    expect(parsed(rsa.pem)).toMatchObject({
      keyAlgorithm: "RSA",
      keySize: 2048,
      signatureAlgorithm: "RSASSA-PKCS1-v1_5 with SHA-256",
    });
  });

  it("reads an EC P-384 key as 384 bits", () => {
    expect(parsed(ca.pem)).toMatchObject({ keyAlgorithm: "EC", keySize: 384 });
  });

  it("tells a CA-issued certificate from a self-signed one", () => {
    expect(parsed(issued.pem)).toMatchObject({
      subject: "CN=login.example.test",
      issuer: "CN=Example Root CA",
      subjectCn: "login.example.test",
      issuerCn: "Example Root CA",
      selfSigned: false,
      // Signed with the CA's P-384 key; its own key is the default P-256.
      keySize: 256,
    });
    expect(parsed(ca.pem).selfSigned).toBe(true);
  });
});

describe("parseCertificate: the forms SendGrid hands back", () => {
  it.each([
    ["LF, as generated", (pem: string) => pem],
    ["CRLF line ends", (pem: string) => pem.replace(/\n/g, "\r\n")],
    ["bare base64 body with line breaks", (pem: string) => pem.split("\n").slice(1, -2).join("\n")],
    ["bare base64 body on one line", (pem: string) => bodyOf(pem)],
    ["bare base64 body with CRLF", (pem: string) => pem.split("\n").slice(1, -2).join("\r\n")],
    ["surrounding blank lines and spaces", (pem: string) => `\n\n   ${pem}   \n\n`],
    ["a byte order mark", (pem: string) => `\uFEFF${pem}`],
    [
      "an unwrapped body between BEGIN/END",
      (pem: string) => `-----BEGIN CERTIFICATE-----\n${bodyOf(pem)}\n-----END CERTIFICATE-----`,
    ],
    [
      "text before the PEM block",
      (pem: string) => `Subject: CN=idp.example.test\nIssuer: CN=idp.example.test\n${pem}`,
    ],
  ])("%s", (_name, present) => {
    expect(parsed(present(leaf.pem)).fingerprintSha256).toBe(fingerprintOf(leaf.pem));
  });

  it("takes the first certificate of a chain and counts the chain", () => {
    const chain = parsed(`${issued.pem}${ca.pem}`);
    expect(chain.fingerprintSha256).toBe(fingerprintOf(issued.pem));
    expect(chain.subjectCn).toBe("login.example.test");
    expect(chain.chainLength).toBe(2);

    const reversed = parsed(`${ca.pem}\r\n${issued.pem}`.replace(/\n/g, "\r\n"));
    expect(reversed.subjectCn).toBe("Example Root CA");
    expect(reversed.chainLength).toBe(2);
  });

  it("skips a private key in front of the certificate (refusing it is the uploader's job)", () => {
    const bundle = parsed(`${leaf.privateKeyPem}${leaf.pem}`);
    expect(bundle.fingerprintSha256).toBe(fingerprintOf(leaf.pem));
    expect(bundle.chainLength).toBe(1);
  });
});

describe("parseCertificate: failures are data", () => {
  it("says not_a_certificate for a private key alone", () => {
    expect(failure(leaf.privateKeyPem)).toEqual({
      reason: "not_a_certificate",
      message: "PEM holds PRIVATE KEY, not a CERTIFICATE",
    });
  });

  it("says not_a_certificate for a certificate signing request", async () => {
    const csr = await generateCsr("idp.example.test");
    expect(failure(csr)).toEqual({
      reason: "not_a_certificate",
      message: "PEM holds CERTIFICATE REQUEST, not a CERTIFICATE",
    });
  });

  it("says not_a_certificate for the bare base64 of something else", () => {
    expect(failure(bodyOf(leaf.privateKeyPem)).reason).toBe("not_a_certificate");
  });

  it.each([
    ["an empty string", ""],
    ["only whitespace", "  \r\n\t "],
    ["prose", "please find the certificate attached."],
    ["BEGIN without END", `-----BEGIN CERTIFICATE-----\nMIIB\n`],
    ["base64 with a stray character", "MIIB!AAA"],
    ["an empty PEM body", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----"],
  ])("says bad_pem for %s", (_name, text) => {
    expect(failure(text).reason).toBe("bad_pem");
  });

  it("says bad_pem for base64 cut short of its padding, not_a_certificate for a cut DER", () => {
    const body = bodyOf(leaf.pem);
    for (const length of [body.length - 1, body.length - 2, body.length - 3, 101]) {
      expect(failure(armour(body.slice(0, length)))).toEqual({
        reason: "bad_pem",
        message: "invalid base64 in PEM body",
      });
    }
    for (const length of [body.length - 4, body.length - 64, 100, 8]) {
      const cut = failure(armour(body.slice(0, length)));
      expect(cut.reason).toBe("not_a_certificate");
      expect(cut.message).toMatch(/^not an X\.509 certificate: /);
    }
  });

  it("never throws, and every failure has a stable reason code and a message (property)", () => {
    const outcome = (result: ParseResult) => {
      if (result.ok) return;
      expect(REASON_CODES).toContain(result.failure.reason);
      expect(result.failure.message.length).toBeGreaterThan(0);
    };
    const body = bodyOf(leaf.pem);
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => outcome(parseCertificate(text))),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.base64String({ maxLength: 400 }), (text) => outcome(parseCertificate(armour(text)))),
      { numRuns: 300 },
    );
    // The real certificate with a single character replaced: deep into the DER parser, still no throw.
    fc.assert(
      fc.property(
        fc.nat({ max: body.length - 1 }),
        fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
        (at, c) => outcome(parseCertificate(armour(body.slice(0, at) + c + body.slice(at + 1)))),
      ),
      { numRuns: 300 },
    );
  });

  it("reads the same certificate however its PEM is wrapped (property)", () => {
    const body = bodyOf(leaf.pem);
    const expected = fingerprintOf(leaf.pem);
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 120 }),
        fc.constantFrom("\n", "\r\n"),
        fc.boolean(),
        (width, eol, withArmour) => {
          const lines = body.match(new RegExp(`.{1,${width}}`, "g"))!.join(eol);
          const text = withArmour
            ? `-----BEGIN CERTIFICATE-----${eol}${lines}${eol}-----END CERTIFICATE-----${eol}`
            : lines;
          expect(parsed(text).fingerprintSha256).toBe(expected);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("parseCertificate: the cache", () => {
  it("parses a certificate once; the second time is a cache hit with the same result", async () => {
    const fresh = await makeCert({ now: NOW, cn: "cache.example.test" });
    const before = parseStats();
    const first = parseCertificate(fresh.pem);
    const afterFirst = parseStats();
    expect(afterFirst.parses).toBe(before.parses + 1);
    expect(afterFirst.cacheHits).toBe(before.cacheHits);

    const second = parseCertificate(fresh.pem);
    const afterSecond = parseStats();
    expect(afterSecond.parses).toBe(afterFirst.parses);
    expect(afterSecond.cacheHits).toBe(afterFirst.cacheHits + 1);
    expect(second).toBe(first);
  });

  it("keys the cache by the certificate, not the text: another wrapping is a hit too", async () => {
    const fresh = await makeCert({ now: NOW, cn: "cache-wrap.example.test" });
    parseCertificate(fresh.pem);
    const before = parseStats();
    parseCertificate(fresh.pem.replace(/\n/g, "\r\n"));
    parseCertificate(bodyOf(fresh.pem));
    expect(parseStats()).toEqual({ parses: before.parses, cacheHits: before.cacheHits + 2 });
  });

  it("caches failures of undecodable certificates too", () => {
    const broken = armour(bodyOf(leaf.pem).slice(0, 200));
    failure(broken);
    const before = parseStats();
    expect(failure(broken).reason).toBe("not_a_certificate");
    expect(parseStats()).toEqual({ parses: before.parses, cacheHits: before.cacheHits + 1 });
  });
});
