import { beforeAll, describe, expect, test } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import { parseMetadata, type MetadataResult } from "../../src/sources/metadata.js";
import { makeCert } from "../helpers/make-cert.js";
import { adfsMetadata, base64Of, oktaMetadata } from "./metadata-fixtures.js";
import { ENVELOPED, INCLUSIVE_C14N, RSA_SHA1, SHA1, signMetadata } from "./metadata-signing.js";

const NOW = new Date("2025-06-01T12:00:00Z");
const RSA = { kind: "rsa", bits: 2048 } as const;

let signer: GeneratedCertificate;
let attacker: GeneratedCertificate;
let current: GeneratedCertificate;
let next: GeneratedCertificate;
let planted: GeneratedCertificate;
let encryption: GeneratedCertificate;

beforeAll(async () => {
  [signer, attacker, current, next, planted, encryption] = await Promise.all([
    makeCert({ cn: "adfs-metadata-signer", now: NOW, key: RSA }),
    // Another key size: makeCert reuses one key pair per key spec.
    makeCert({ cn: "attacker-signer", now: NOW, key: { kind: "rsa", bits: 3072 } }),
    makeCert({ cn: "adfs-token-signing", now: NOW }),
    makeCert({ cn: "adfs-token-signing-next", now: NOW }),
    makeCert({ cn: "attacker-planted-signing", now: NOW }),
    makeCert({ cn: "adfs-token-decrypting", now: NOW }),
  ]);
});

/** ADFS metadata mid-rollover; its root carries ID, so a signature references "#<ID>". */
function adfs(signing: readonly GeneratedCertificate[] = [current, next]): string {
  return adfsMetadata({
    signing: signing.map(base64Of),
    encryption: base64Of(encryption),
    spSigning: base64Of(encryption),
  });
}

function refused(result: MetadataResult): { reason: string; message: string } {
  if (result.ok) throw new Error(`expected a refusal, got ${result.signing.length} certificates`);
  return { reason: result.reason, message: result.message };
}

/** The first `<ds:Signature>…</ds:Signature>` of a signed document, and the document without it. */
function splitSignature(signed: string): { signature: string; rest: string } {
  const signature = /<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(signed)?.[0];
  if (signature === undefined) throw new Error("no signature");
  return { signature, rest: signed.replace(signature, "") };
}

describe("a valid signature", () => {
  test("by the certificate in its KeyInfo: the signer's fingerprint, not pinned", () => {
    const signed = signMetadata(adfs(), signer);
    expect(signed).toContain('URI="#_2a7c5e3b-6f1d-4b8a-9c0e-7d3f1a2b4c6d"');
    expect(parseMetadata(signed)).toEqual({
      ok: true,
      signing: [current.pem, next.pem],
      signature: { kind: "valid", signerFingerprint: signer.fingerprintSha256, pinned: false },
    });
  });

  test('with Reference URI="" (the whole document)', () => {
    const signed = signMetadata(oktaMetadata([base64Of(current)]), signer, { reference: "empty" });
    expect(signed).toContain('URI=""');
    expect(parseMetadata(signed, { requireSignature: true })).toEqual({
      ok: true,
      signing: [current.pem],
      signature: { kind: "valid", signerFingerprint: signer.fingerprintSha256, pinned: false },
    });
  });

  test("by the pinned certificate, even when KeyInfo is absent", () => {
    const signed = signMetadata(adfs(), signer, { keyInfo: false });
    expect(signed).not.toContain("KeyInfo><ds:X509Data");
    expect(parseMetadata(signed, { pinnedSignerPem: signer.pem })).toEqual({
      ok: true,
      signing: [current.pem, next.pem],
      signature: { kind: "valid", signerFingerprint: signer.fingerprintSha256, pinned: true },
    });
    expect(refused(parseMetadata(signed))).toEqual({
      reason: "signature_invalid",
      message:
        "metadata signature refused: its KeyInfo carries no X509Certificate and no signing_certificate_file is set",
    });
  });
});

describe("refused", () => {
  test("a document signed by another key than the pinned one, whatever its KeyInfo says", () => {
    const signed = signMetadata(adfs([planted]), attacker);
    expect(refused(parseMetadata(signed, { pinnedSignerPem: signer.pem }))).toEqual({
      reason: "signature_invalid",
      message:
        "metadata signature refused: the signature does not verify with the pinned signing_certificate_file",
    });
  });

  test("a certificate swapped after signing", () => {
    const signed = signMetadata(adfs(), signer);
    const tampered = signed.replace(base64Of(next), base64Of(planted));
    expect(tampered).not.toBe(signed);
    const refusal = refused(parseMetadata(tampered));
    expect(refusal.reason).toBe("signature_invalid");
    expect(refusal.message).toMatch(/^metadata signature refused: /);
    expect(refused(parseMetadata(tampered, { pinnedSignerPem: signer.pem })).reason).toBe(
      "signature_invalid",
    );
  });

  test("a KeyInfo certificate swapped for the attacker's after signing", () => {
    const signed = signMetadata(adfs(), signer);
    const swapped = signed.replace(
      /<ds:X509Certificate>[^<]*<\/ds:X509Certificate>(<\/ds:X509Data><\/ds:KeyInfo><\/ds:Signature>)/,
      `<ds:X509Certificate>${base64Of(attacker)}</ds:X509Certificate>$1`,
    );
    expect(swapped).toContain(base64Of(attacker));
    expect(refused(parseMetadata(swapped))).toEqual({
      reason: "signature_invalid",
      message:
        "metadata signature refused: the signature does not verify with the certificate in its KeyInfo",
    });
  });

  test("unsigned, when require_signature is set or a signer is pinned", () => {
    const xml = adfs();
    expect(refused(parseMetadata(xml, { requireSignature: true }))).toEqual({
      reason: "signature_missing",
      message: "metadata carries no signature at its root and require_signature is true",
    });
    expect(refused(parseMetadata(xml, { pinnedSignerPem: signer.pem }))).toEqual({
      reason: "signature_missing",
      message: "metadata carries no signature at its root and a signing_certificate_file is pinned",
    });
  });

  test("RSA-SHA1 signatures and SHA-1 digests", () => {
    const sha1 = signMetadata(adfs(), signer, { signatureAlgorithm: RSA_SHA1 });
    expect(refused(parseMetadata(sha1)).message).toBe(
      "metadata signature refused: signature algorithm http://www.w3.org/2000/09/xmldsig#rsa-sha1 is not accepted (RSA-SHA256 or RSA-SHA512)",
    );
    const sha1Digest = signMetadata(adfs(), signer, { digestAlgorithm: SHA1 });
    expect(refused(parseMetadata(sha1Digest)).message).toBe(
      "metadata signature refused: digest http://www.w3.org/2000/09/xmldsig#sha1 is not accepted (SHA-256 or SHA-512)",
    );
  });

  test("a Reference in inclusive c14n", () => {
    const signed = signMetadata(adfs(), signer, { transforms: [ENVELOPED, INCLUSIVE_C14N] });
    expect(refused(parseMetadata(signed)).message).toBe(
      "metadata signature refused: its Reference transforms are http://www.w3.org/2000/09/xmldsig#enveloped-signature, http://www.w3.org/TR/2001/REC-xml-c14n-20010315; enveloped-signature then exclusive c14n is accepted",
    );
  });
});

describe("signature wrapping", () => {
  test("a second Signature at the root", () => {
    const signed = signMetadata(adfs(), signer);
    const { signature } = splitSignature(signed);
    const doubled = signed.replace(signature, `${signature}${signature}`);
    expect(refused(parseMetadata(doubled))).toEqual({
      reason: "signature_invalid",
      message: "metadata signature refused: the root element holds 2 Signatures; exactly one is accepted",
    });
  });

  test("a signature moved onto an attacker's root that wraps the signed element", () => {
    const signed = signMetadata(adfs(), signer);
    const { signature, rest: original } = splitSignature(signed);
    const evil = `<EntityDescriptor ID="_attacker" entityID="http://adfs.contoso.com/adfs/services/trust" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">${signature}<Extensions>${original.replace(/^<\?xml[^>]*\?>/, "")}</Extensions><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${base64Of(planted)}</X509Certificate></X509Data></KeyInfo></KeyDescriptor></IDPSSODescriptor></EntityDescriptor>`;
    // The digest of the wrapped element still matches: only the Reference check stops this.
    expect(refused(parseMetadata(evil))).toEqual({
      reason: "signature_invalid",
      message:
        'metadata signature refused: its Reference points at "#_2a7c5e3b-6f1d-4b8a-9c0e-7d3f1a2b4c6d", not at the root element (#_attacker)',
    });
  });

  test("an attacker's root reusing the signed element's ID", () => {
    const signed = signMetadata(adfs(), signer);
    const { signature, rest: original } = splitSignature(signed);
    const evil = `<EntityDescriptor ID="_2a7c5e3b-6f1d-4b8a-9c0e-7d3f1a2b4c6d" entityID="http://adfs.contoso.com/adfs/services/trust" xmlns="urn:oasis:names:tc:SAML:2.0:metadata">${signature}<Extensions>${original.replace(/^<\?xml[^>]*\?>/, "")}</Extensions><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>${base64Of(planted)}</X509Certificate></X509Data></KeyInfo></KeyDescriptor></IDPSSODescriptor></EntityDescriptor>`;
    const refusal = refused(parseMetadata(evil));
    expect(refusal.reason).toBe("signature_invalid");
    expect(refusal.message).toMatch(/^metadata signature refused: .*same value for the ID/);
  });

  test("an unsigned aggregate around the signed entity and an attacker's look-alike", () => {
    const signed = signMetadata(adfs(), signer).replace(/^<\?xml[^>]*\?>/, "");
    const lookAlike = adfs([planted]).replace(
      'ID="_2a7c5e3b-6f1d-4b8a-9c0e-7d3f1a2b4c6d"',
      'ID="_lookalike"',
    );
    const aggregate = `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">${lookAlike}${signed}</EntitiesDescriptor>`;
    // The root is unsigned, so the inner signature vouches for nothing at the document level.
    expect(refused(parseMetadata(aggregate, { requireSignature: true })).reason).toBe("signature_missing");
    expect(refused(parseMetadata(aggregate))).toEqual({
      reason: "entity_ambiguous",
      message:
        'the metadata holds 2 IdP entities ("http://adfs.contoso.com/adfs/services/trust", "http://adfs.contoso.com/adfs/services/trust"); set entity_id to the one to read',
    });
    expect(
      refused(parseMetadata(aggregate, { entityId: "http://adfs.contoso.com/adfs/services/trust" })),
    ).toEqual({
      reason: "entity_ambiguous",
      message:
        '2 entities have entityID "http://adfs.contoso.com/adfs/services/trust"; refusing to guess which one is the IdP',
    });
  });

  test("a signed aggregate yields only the chosen entity's certificates, from the signed content", () => {
    const idp = (entityId: string, certificate: GeneratedCertificate) =>
      `<md:EntityDescriptor entityID="${entityId}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${base64Of(certificate)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor></md:IDPSSODescriptor></md:EntityDescriptor>`;
    const aggregate = `<md:EntitiesDescriptor ID="_mds" Name="federation" xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">${idp("https://one.example/idp", current)}${idp("https://two.example/idp", next)}</md:EntitiesDescriptor>`;
    const signed = signMetadata(aggregate, signer);
    expect(
      parseMetadata(signed, { entityId: "https://two.example/idp", pinnedSignerPem: signer.pem }),
    ).toEqual({
      ok: true,
      signing: [next.pem],
      signature: { kind: "valid", signerFingerprint: signer.fingerprintSha256, pinned: true },
    });
    // An entity slipped in after signing breaks the digest rather than joining the signed content.
    const smuggled = signed.replace(
      "</md:EntitiesDescriptor>",
      `${idp("https://three.example/idp", planted)}</md:EntitiesDescriptor>`,
    );
    expect(refused(parseMetadata(smuggled, { entityId: "https://three.example/idp" })).reason).toBe(
      "signature_invalid",
    );
  });
});
