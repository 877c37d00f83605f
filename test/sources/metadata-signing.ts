// Signs SAML metadata in the test, as ADFS, Entra ID and Shibboleth sign theirs (enveloped signature at
// the root, exclusive c14n, RSA-SHA256), with a key generated in the test: never a checked-in signature.

import { SignedXml } from "xml-crypto";
import type { GeneratedCertificate } from "../../src/certs/generate.js";

export const EXCLUSIVE_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";
export const INCLUSIVE_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
export const ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
export const RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
export const RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
export const SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";
export const SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1";

export interface SignOptions {
  /** "id": Reference URI="#<root ID>" (the root gets an Id when it has none); "empty": URI="". */
  readonly reference?: "id" | "empty";
  readonly signatureAlgorithm?: string;
  readonly digestAlgorithm?: string;
  readonly transforms?: readonly string[];
  /** Put the signer's certificate in KeyInfo (default true). */
  readonly keyInfo?: boolean;
}

export function signMetadata(xml: string, signer: GeneratedCertificate, options: SignOptions = {}): string {
  const signature = new SignedXml({
    privateKey: signer.privateKeyPem,
    publicCert: signer.pem,
    canonicalizationAlgorithm: EXCLUSIVE_C14N,
    signatureAlgorithm: options.signatureAlgorithm ?? RSA_SHA256,
    ...(options.keyInfo === false ? { getKeyInfoContent: () => null } : {}),
  });
  signature.addReference({
    xpath: "/*",
    transforms: options.transforms ?? [ENVELOPED, EXCLUSIVE_C14N],
    digestAlgorithm: options.digestAlgorithm ?? SHA256,
    isEmptyUri: options.reference === "empty",
  });
  signature.computeSignature(xml.replace(/^\uFEFF/, ""), {
    prefix: "ds",
    location: { reference: "/*", action: "prepend" },
  });
  return signature.getSignedXml();
}
