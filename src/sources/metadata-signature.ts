// Verifies the XML signature at the root of a SAML metadata document (xml-crypto) and hands back the
// content that signature covers, so callers read certificates only from signed bytes. It decides
// nothing about trust: it reports which certificate verified the signature (a pinned one, or the one
// the signature's own KeyInfo carries, which only proves possession) and the core judges that against
// what SendGrid holds. Must be given a document already refused for DOCTYPE/ENTITY (metadata.ts does
// that before any parsing); never throws.
//
// Accepted, per XML Signature 1.1 (https://www.w3.org/TR/xmldsig-core1/) as SAML metadata signers use it
// (ADFS, Entra ID, Shibboleth/InCommon): exactly one Signature as a child of the root element, exactly
// one Reference, to "" or to "#<root ID>", transforms enveloped-signature then exclusive c14n, SignedInfo
// in exclusive c14n, RSA-SHA256 or RSA-SHA512 over SHA-256 or SHA-512 digests. RSA-SHA1 and SHA-1
// digests are refused: SHA-1 collisions are practical, and every signer above defaults to SHA-256.

import { createRequire } from "node:module";
import { SignedXml } from "xml-crypto";
import { parseCertificate } from "../certs/parse.js";
import { certificatePem } from "../certs/validate.js";

const DSIG_NS = "http://www.w3.org/2000/09/xmldsig#";
const EXCLUSIVE_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#";
const EXCLUSIVE_C14N_WITH_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const ENVELOPED_SIGNATURE = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set([
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
  "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
]);
const DIGEST_ALGORITHMS: ReadonlySet<string> = new Set([
  "http://www.w3.org/2001/04/xmlenc#sha256",
  "http://www.w3.org/2001/04/xmlenc#sha512",
]);

/** What the signature at the document's root says about who signed it. */
export type MetadataSignature =
  | { readonly kind: "none" }
  | {
      readonly kind: "valid";
      /** SHA-256 (lowercase hex) of the certificate whose key verified the signature. */
      readonly signerFingerprint: string;
      /** true: that certificate is the configured signing_certificate_file; false: the KeyInfo's own. */
      readonly pinned: boolean;
    };

export type SignatureCheck =
  | { readonly kind: "none" }
  | {
      readonly kind: "valid";
      readonly signature: MetadataSignature & { readonly kind: "valid" };
      /** The canonical XML the signature covers: the root element, the Signature removed. */
      readonly signedXml: string;
    }
  | { readonly kind: "invalid"; readonly message: string };

// The few DOM members used here. xml-crypto parses with @xmldom/xmldom; its typings pull the browser DOM
// library into the whole program, so the parser is loaded from xml-crypto's own dependency, untyped.
interface DomNode {
  readonly nodeType: number;
  readonly localName: string | null;
  readonly namespaceURI: string | null;
  readonly childNodes: ArrayLike<DomNode>;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
interface DomParser {
  parseFromString(text: string, mimeType: string): { readonly documentElement: DomNode | null };
}
interface XmlDom {
  readonly DOMParser: new (options: { errorHandler: (level: string, message: string) => void }) => DomParser;
}

const ELEMENT_NODE = 1;
const xmldom = createRequire(createRequire(import.meta.url).resolve("xml-crypto"))(
  "@xmldom/xmldom",
) as XmlDom;

function children(node: DomNode, localName: string, namespace: string | null = DSIG_NS): DomNode[] {
  return Array.from(node.childNodes).filter(
    (child) =>
      child.nodeType === ELEMENT_NODE &&
      child.localName === localName &&
      (namespace === null || child.namespaceURI === namespace),
  );
}

function invalid(message: string): SignatureCheck {
  return { kind: "invalid", message: `metadata signature refused: ${message}` };
}

/** The first X509Certificate of the signature's KeyInfo, as a PEM, or a reason there is none. */
function keyInfoCertificate(signature: DomNode): { pem: string } | { problem: string } {
  const base64 = children(signature, "KeyInfo")
    .flatMap((keyInfo) => children(keyInfo, "X509Data"))
    .flatMap((data) => children(data, "X509Certificate"))
    .map((certificate) => (certificate.textContent ?? "").replace(/\s+/g, ""))
    .find((text) => text.length > 0);
  if (base64 === undefined) {
    return { problem: "its KeyInfo carries no X509Certificate and no signing_certificate_file is set" };
  }
  return { pem: certificatePem(base64) };
}

function fingerprintOf(pem: string): { fingerprint: string } | { problem: string } {
  const parsed = parseCertificate(pem);
  return parsed.ok
    ? { fingerprint: parsed.certificate.fingerprintSha256 }
    : { problem: parsed.failure.message };
}

/** Why the verified signature still does not cover the whole root element, or null when it does. */
function referenceProblem(verifier: SignedXml, root: DomNode): string | null {
  const references = verifier.getReferences();
  if (references.length !== 1) return `it has ${references.length} References; exactly one is accepted`;
  const [reference] = references as [(typeof references)[number]];
  const rootId = ["ID", "Id", "id"].map((name) => root.getAttribute(name)).find((id) => id) ?? null;
  if (reference.uri !== "" && (rootId === null || reference.uri !== `#${rootId}`)) {
    return `its Reference points at "${reference.uri}", not at the root element${rootId === null ? "" : ` (#${rootId})`}`;
  }
  const transforms = [...reference.transforms];
  const last = transforms.at(-1);
  if (
    transforms.length !== 2 ||
    transforms[0] !== ENVELOPED_SIGNATURE ||
    (last !== EXCLUSIVE_C14N && last !== EXCLUSIVE_C14N_WITH_COMMENTS)
  ) {
    return `its Reference transforms are ${transforms.join(", ") || "none"}; enveloped-signature then exclusive c14n is accepted`;
  }
  if (!DIGEST_ALGORITHMS.has(reference.digestAlgorithm)) {
    return `digest ${reference.digestAlgorithm} is not accepted (SHA-256 or SHA-512)`;
  }
  return null;
}

/**
 * Checks the signature at the root of `xml` with the pinned signer when given, else with the
 * certificate in the signature's KeyInfo. `none` when the root carries no signature at all.
 */
export function verifyMetadataSignature(xml: string, pinnedSignerPem: string | null): SignatureCheck {
  try {
    const parseErrors: string[] = [];
    const document = new xmldom.DOMParser({
      errorHandler: (level, message) => {
        if (level !== "warning") parseErrors.push(message);
      },
    }).parseFromString(xml, "text/xml");
    const root = document.documentElement;
    if (root === null || parseErrors.length > 0) return invalid("the document is not well-formed XML");

    const signatures = children(root, "Signature");
    if (signatures.length === 0) return { kind: "none" };
    if (signatures.length > 1) {
      return invalid(`the root element holds ${signatures.length} Signatures; exactly one is accepted`);
    }
    const [signature] = signatures as [DomNode];

    const signer = pinnedSignerPem === null ? keyInfoCertificate(signature) : { pem: pinnedSignerPem };
    if ("problem" in signer) return invalid(signer.problem);
    const identity = fingerprintOf(signer.pem);
    if ("problem" in identity) return invalid(`the signer's certificate is unreadable: ${identity.problem}`);

    // No getCertFromKeyInfo: xml-crypto would otherwise prefer the KeyInfo over the pinned certificate.
    const verifier = new SignedXml({ publicCert: signer.pem });
    // xml-crypto types its parameter with the browser DOM, which this program does not load.
    verifier.loadSignature(signature);
    if (verifier.canonicalizationAlgorithm !== EXCLUSIVE_C14N) {
      return invalid(
        `SignedInfo canonicalization ${verifier.canonicalizationAlgorithm ?? "(none)"} is not exclusive c14n`,
      );
    }
    if (verifier.signatureAlgorithm === undefined || !SIGNATURE_ALGORITHMS.has(verifier.signatureAlgorithm)) {
      return invalid(
        `signature algorithm ${verifier.signatureAlgorithm ?? "(none)"} is not accepted (RSA-SHA256 or RSA-SHA512)`,
      );
    }
    let verified: boolean;
    try {
      verified = verifier.checkSignature(xml);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // xml-crypto's words for a wrong key quote the whole signature value; say which key failed instead.
      return invalid(
        message.startsWith("invalid signature: the signature value")
          ? `the signature does not verify with the ${pinnedSignerPem === null ? "certificate in its KeyInfo" : "pinned signing_certificate_file"}`
          : message,
      );
    }
    if (!verified) return invalid("the signed content was changed after signing (a digest does not match)");
    const problem = referenceProblem(verifier, root);
    if (problem !== null) return invalid(problem);
    const [signedXml] = verifier.getSignedReferences();
    if (signedXml === undefined) return invalid("xml-crypto returned no signed content");
    return {
      kind: "valid",
      signature: { kind: "valid", signerFingerprint: identity.fingerprint, pinned: pinnedSignerPem !== null },
      signedXml,
    };
  } catch (error) {
    return invalid(error instanceof Error ? error.message : String(error));
  }
}
