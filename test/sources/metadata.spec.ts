import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import { validateCandidate } from "../../src/certs/validate.js";
import { parseMetadata, type MetadataResult } from "../../src/sources/metadata.js";
import { makeCert } from "../helpers/make-cert.js";
import { adfsMetadata, base64Of, duoMetadata, entraMetadata, oktaMetadata } from "./metadata-fixtures.js";
import { signMetadata } from "./metadata-signing.js";

const NOW = new Date("2025-06-01T12:00:00Z");

let current: GeneratedCertificate;
let next: GeneratedCertificate;
let encryption: GeneratedCertificate;
let other: GeneratedCertificate;
let metadataSigner: GeneratedCertificate;

beforeAll(async () => {
  metadataSigner = await makeCert({ cn: "sts-metadata-signer", now: NOW, key: { kind: "rsa", bits: 2048 } });
  current = await makeCert({
    cn: "idp-signing-2024",
    now: NOW,
    toDays: 30,
    key: { kind: "rsa", bits: 2048 },
  });
  next = await makeCert({ cn: "idp-signing-2025", now: NOW, fromDays: -1, toDays: 730 });
  encryption = await makeCert({ cn: "idp-encryption", now: NOW, key: { kind: "ec", curve: "P-384" } });
  other = await makeCert({ cn: "not-a-saml-signing-key", now: NOW, key: { kind: "ec", curve: "P-521" } });
});

function signing(result: MetadataResult): string[] {
  if (!result.ok) throw new Error(`expected signing certificates, got: ${result.message}`);
  return result.signing;
}

function failure(result: MetadataResult): string {
  if (result.ok) throw new Error(`expected a failure, got ${result.signing.length} certificates`);
  return result.message;
}

function fingerprints(pems: readonly string[]): string[] {
  const context = { now: NOW, presentFingerprints: new Set<string>(), mustOutlive: null };
  return pems.map((pem) => {
    const verdict = validateCandidate({ origin: "metadata", text: pem }, context);
    if (!verdict.ok) throw new Error(verdict.rejections.map((rejection) => rejection.message).join("; "));
    return verdict.candidate.certificate.fingerprintSha256;
  });
}

describe("parseMetadata reads the signing certificates of", () => {
  test("Okta, as normalised PEMs", () => {
    const pems = signing(parseMetadata(oktaMetadata([base64Of(current)])));
    expect(pems).toEqual([current.pem]);
    expect(fingerprints(pems)).toEqual([current.fingerprintSha256]);
  });

  test("Entra ID, signed, with its BOM, ignoring the Signature's and RoleDescriptors' keys", () => {
    const xml = `\uFEFF${signMetadata(entraMetadata([base64Of(current)], base64Of(other)), metadataSigner)}`;
    expect(xml.charCodeAt(0)).toBe(0xfeff);
    const result = parseMetadata(xml);
    expect(signing(result)).toEqual([current.pem]);
    expect(result).toMatchObject({
      signature: { kind: "valid", signerFingerprint: metadataSigner.fingerprintSha256, pinned: false },
    });
  });

  test("Entra ID as raw bytes with a UTF-8 BOM", () => {
    const signed = signMetadata(entraMetadata([base64Of(current)], base64Of(other)), metadataSigner);
    const bytes = new Uint8Array(Buffer.from(`\uFEFF${signed}`, "utf8"));
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(signing(parseMetadata(bytes))).toEqual([current.pem]);
  });

  test("a document sent as UTF-16 with its byte-order mark", () => {
    const xml = oktaMetadata([base64Of(current)]).replace('encoding="UTF-8"', 'encoding="UTF-16"');
    const bytes = new Uint8Array(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, "utf16le")]));
    expect(signing(parseMetadata(bytes))).toEqual([current.pem]);
  });

  test("Duo, pretty-printed, with a KeyDescriptor that has no use attribute", () => {
    expect(signing(parseMetadata(duoMetadata(base64Of(next))))).toEqual([next.pem]);
  });

  test("ADFS mid-rollover: both signing certificates in document order, not the encryption or SP keys", () => {
    const xml = adfsMetadata({
      signing: [base64Of(current), base64Of(next)],
      encryption: base64Of(encryption),
      spSigning: base64Of(other),
    });
    const pems = signing(parseMetadata(xml));
    expect(pems).toEqual([current.pem, next.pem]);
    expect(fingerprints(pems)).toEqual([current.fingerprintSha256, next.fingerprintSha256]);
  });

  test("an EntitiesDescriptor: only the entity_id asked for, nested ones included, each certificate once", () => {
    const sp = `<md:EntityDescriptor entityID="https://sp.example"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${base64Of(other)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:SPSSODescriptor></md:EntityDescriptor>`;
    const idp = (id: string, bodies: string[]): string =>
      `<md:EntityDescriptor entityID="${id}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${bodies
        .map(
          (body) =>
            `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
        )
        .join("")}</md:IDPSSODescriptor></md:EntityDescriptor>`;
    const xml = `<?xml version="1.0"?><md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Name="federation">${sp}${idp("https://idp-one.example", [base64Of(next)])}<md:EntitiesDescriptor Name="nested">${idp("https://idp-two.example", [base64Of(current), base64Of(next)])}</md:EntitiesDescriptor></md:EntitiesDescriptor>`;
    expect(signing(parseMetadata(xml, { entityId: "https://idp-one.example" }))).toEqual([next.pem]);
    expect(signing(parseMetadata(xml, { entityId: "https://idp-two.example" }))).toEqual([
      current.pem,
      next.pem,
    ]);
    // Never every member's keys at once: that would let any IdP of the federation sign for this one.
    expect(parseMetadata(xml)).toEqual({
      ok: false,
      reason: "entity_ambiguous",
      message:
        'the metadata holds 2 IdP entities ("https://idp-one.example", "https://idp-two.example"); set entity_id to the one to read',
    });
    expect(parseMetadata(xml, { entityId: "https://idp-three.example" })).toEqual({
      ok: false,
      reason: "entity_not_found",
      message:
        'no entity has entityID "https://idp-three.example" (IdP entities: "https://idp-one.example", "https://idp-two.example")',
    });
    expect(parseMetadata(xml, { entityId: "https://sp.example" })).toMatchObject({
      ok: false,
      reason: "not_metadata",
      message: 'entity "https://sp.example" has no IDPSSODescriptor (not an identity provider)',
    });
    const twice = xml.replace("https://idp-two.example", "https://idp-one.example");
    expect(parseMetadata(twice, { entityId: "https://idp-one.example" })).toEqual({
      ok: false,
      reason: "entity_ambiguous",
      message: '2 entities have entityID "https://idp-one.example"; refusing to guess which one is the IdP',
    });
  });

  test("an unsigned document: signature none, and the same certificates with an entity_id", () => {
    const xml = oktaMetadata([base64Of(current)]);
    expect(parseMetadata(xml)).toEqual({ ok: true, signing: [current.pem], signature: { kind: "none" } });
    expect(signing(parseMetadata(xml, { entityId: "http://www.okta.com/exk1fcia6d6EMsf331d8" }))).toEqual([
      current.pem,
    ]);
  });

  test("any namespace prefix, and several X509Certificate elements in one X509Data", () => {
    const xml = `<saml2md:EntityDescriptor xmlns:saml2md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example"><saml2md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><saml2md:KeyDescriptor use="signing"><dsig:KeyInfo xmlns:dsig="http://www.w3.org/2000/09/xmldsig#"><dsig:X509Data><dsig:X509Certificate>${base64Of(current)}</dsig:X509Certificate><dsig:X509Certificate>${base64Of(next)}</dsig:X509Certificate></dsig:X509Data></dsig:KeyInfo></saml2md:KeyDescriptor></saml2md:IDPSSODescriptor></saml2md:EntityDescriptor>`;
    expect(signing(parseMetadata(xml))).toEqual([current.pem, next.pem]);
  });

  test("base64 broken by CRLF, tabs, CDATA and whitespace character references", () => {
    const body = base64Of(next);
    const messy = `\t${body.slice(0, 40)}&#13;\n${body.slice(40, 100)}&#xD;&#xA;\r\n  ${body.slice(100, 200)}<![CDATA[${body.slice(200)}]]>\n`;
    expect(signing(parseMetadata(oktaMetadata([messy])))).toEqual([next.pem]);
  });

  test("a certificate whose content is not a certificate is passed on for validation to reject", () => {
    const pems = signing(parseMetadata(oktaMetadata(["bm90IGEgY2VydGlmaWNhdGU="])));
    expect(pems).toHaveLength(1);
    const verdict = validateCandidate(
      { origin: "okta-metadata", text: pems[0] ?? "" },
      { now: NOW, presentFingerprints: new Set(), mustOutlive: null },
    );
    expect(verdict.ok).toBe(false);
  });
});

describe("parseMetadata refuses", () => {
  let dir: string;
  let secret: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "xxe-"));
    secret = join(dir, "secret.txt");
    // Were the entity resolved, this real certificate would come back as a signing certificate.
    await writeFile(secret, base64Of(other));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("a billion-laughs DOCTYPE", () => {
    const lol = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join(
      "",
    );
    const xml = `<?xml version="1.0"?><!DOCTYPE md [<!ENTITY lol0 "lol">${lol}]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"><md:IDPSSODescriptor><md:KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>&lol9;</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>`;
    expect(failure(parseMetadata(xml))).toBe(
      "metadata declares a DOCTYPE or entities; SAML metadata never needs one, so it is refused",
    );
  });

  test("an external entity (XXE), without reading the file it names", () => {
    const xml = `<?xml version="1.0"?><!doctype md:EntityDescriptor [<!ENTITY x SYSTEM "file://${secret}">]>${oktaMetadata(["&x;"]).replace(/^<\?xml[^>]*\?>/, "")}`;
    const message = failure(parseMetadata(xml));
    expect(message).toContain("DOCTYPE");
    expect(message).not.toContain(base64Of(other).slice(0, 20));
  });

  test("an external entity pointing at /etc/passwd", () => {
    const xml = `<!DOCTYPE foo [<!ENTITY x SYSTEM "file:///etc/passwd">]><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">&x;</md:EntityDescriptor>`;
    expect(failure(parseMetadata(xml))).toContain("DOCTYPE");
  });

  test.each([
    ["plain text", "hello, this is not metadata", /^metadata is not XML: /],
    ["JSON", '{"signing":["MIIB"]}', /^metadata is not XML: /],
    [
      "unbalanced XML",
      "<md:EntityDescriptor><md:IDPSSODescriptor></md:EntityDescriptor>",
      /^metadata is not XML: /,
    ],
    ["an HTML login page", "<html><body><form>Sign in</form></body></html>", /root element is <html>/],
    ["an empty body", "  \n", /^metadata is empty$/],
  ])("%s", (_name, xml, expected) => {
    expect(failure(parseMetadata(xml))).toMatch(expected);
  });

  test("binary bytes", () => {
    const bytes = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x03]);
    expect(failure(parseMetadata(bytes))).toMatch(/^metadata is not XML: /);
  });

  test("a service provider's metadata, which has no IDPSSODescriptor", () => {
    const xml = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example"><SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${base64Of(other)}</X509Certificate></X509Data></KeyInfo></KeyDescriptor></SPSSODescriptor></EntityDescriptor>`;
    expect(failure(parseMetadata(xml))).toBe(
      "SAML metadata without an IDPSSODescriptor (not an identity provider's)",
    );
  });

  test("an IdP that publishes only an encryption key", () => {
    const xml = adfsMetadata({ signing: [], encryption: base64Of(encryption), spSigning: base64Of(other) });
    expect(failure(parseMetadata(xml))).toBe("the IDPSSODescriptor publishes no signing X509Certificate");
  });

  test("a document over the size cap, given or default (5 MiB)", () => {
    const xml = oktaMetadata([base64Of(current)]);
    expect(failure(parseMetadata(xml, { maxBytes: 1000 }))).toBe(
      `metadata of ${Buffer.byteLength(xml)} bytes is over the 1000-byte cap`,
    );
    const padded = xml.replace("<md:NameIDFormat>", `<!--${"x".repeat(5 * 1024 * 1024)}--><md:NameIDFormat>`);
    expect(failure(parseMetadata(padded))).toMatch(/over the 5242880-byte cap$/);
    expect(signing(parseMetadata(padded, { maxBytes: 6 * 1024 * 1024 }))).toEqual([current.pem]);
  });
});

describe("parseMetadata never throws", () => {
  function judged(result: MetadataResult): boolean {
    return result.ok
      ? result.signing.every((pem) => pem.startsWith("-----BEGIN CERTIFICATE-----\n"))
      : result.message.length > 0;
  }

  test("on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 2000 }), (xml) => judged(parseMetadata(xml))),
      {
        numRuns: 300,
      },
    );
  });

  test("on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => judged(parseMetadata(bytes))),
      {
        numRuns: 300,
      },
    );
  });

  test("on XML-like soup made of metadata's own pieces", () => {
    const pieces = fc.constantFrom(
      "<",
      ">",
      "</",
      "/>",
      "md:",
      "EntityDescriptor",
      "EntitiesDescriptor",
      "IDPSSODescriptor",
      "KeyDescriptor",
      "KeyInfo",
      "X509Data",
      "X509Certificate",
      ' use="signing"',
      ' xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"',
      "MIIBszCCAVmgAwIBAgIIE",
      "ds:Signature",
      "ds:SignedInfo",
      "ds:Reference",
      ' URI=""',
      ' xmlns:ds="http://www.w3.org/2000/09/xmldsig#"',
      "&#13;",
      "&amp;",
      "<![CDATA[",
      "]]>",
      "<!--",
      "-->",
      '<?xml version="1.0"?>',
      "\uFEFF",
      " ",
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 60 }), (parts) => judged(parseMetadata(parts.join("")))),
      { numRuns: 500 },
    );
  });
});
