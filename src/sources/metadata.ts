// The `metadata` source: an IdP's SAML metadata (Okta, Entra ID, Duo, ADFS) -> the PEMs of the signing
// certificates its IdPSSODescriptor publishes. Hostile input is expected: a document with a DOCTYPE is
// refused outright (no entity expansion, no external entities, ever) and sizes are capped. Never throws;
// every failure is a message, and judging the certificates is left to validateCandidate.

import { STATUS_CODES } from "node:http";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { getGlobalDispatcher, interceptors, request, type Dispatcher } from "undici";
import { certificatePem } from "../certs/validate.js";

export const DEFAULT_MAX_METADATA_BYTES = 5 * 1024 * 1024;
export const MAX_METADATA_REDIRECTS = 3;

export type MetadataResult =
  { readonly ok: true; readonly signing: string[] } | { readonly ok: false; readonly message: string };

export interface FetchMetadataOptions {
  /** Covers the whole exchange, a body that trickles in included. */
  readonly timeoutMs: number;
  readonly maxBytes?: number;
  readonly dispatcher?: Dispatcher;
}

/** A node of fast-xml-parser's `preserveOrder` output: one element name -> its children, plus ":@" attributes. */
type OrderedNode = Record<string, unknown>;

const ATTRIBUTE_PREFIX = "@_";

const parser = new XMLParser({
  preserveOrder: true,
  // Local names only: IdPs use `md:`, `ds:`, a default namespace or any prefix they like.
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

// Character references for whitespace stay literal with entity processing off; ADFS puts `&#13;` in base64.
const WHITESPACE_REFERENCE = /&#(?:0*(?:9|10|13|32)|x0*(?:9|a|d|20));/gi;

function fail(message: string): MetadataResult {
  return { ok: false, message };
}

function decode(xml: string | Uint8Array): string {
  if (typeof xml === "string") return xml;
  const [first, second] = xml;
  if (first === 0xff && second === 0xfe) return new TextDecoder("utf-16le").decode(xml);
  if (first === 0xfe && second === 0xff) return new TextDecoder("utf-16be").decode(xml);
  return new TextDecoder("utf-8").decode(xml);
}

function elementName(node: OrderedNode): string | null {
  return Object.keys(node).find((key) => key !== ":@") ?? null;
}

function childrenOf(node: OrderedNode): OrderedNode[] {
  const name = elementName(node);
  const children = name === null ? undefined : node[name];
  return Array.isArray(children) ? (children as OrderedNode[]) : [];
}

function childElements(node: OrderedNode, name: string): OrderedNode[] {
  return childrenOf(node).filter((child) => elementName(child) === name);
}

function attribute(node: OrderedNode, name: string): string | null {
  const attributes = node[":@"] as Record<string, unknown> | undefined;
  const value = attributes?.[ATTRIBUTE_PREFIX + name];
  return typeof value === "string" ? value : null;
}

function text(node: OrderedNode): string {
  return childrenOf(node)
    .map((child) => child["#text"])
    .filter((value) => typeof value === "string")
    .join("");
}

/** Every EntityDescriptor, in document order, however deeply EntitiesDescriptors nest. */
function entities(nodes: OrderedNode[]): OrderedNode[] {
  return nodes.flatMap((node) => {
    const name = elementName(node);
    if (name === "EntityDescriptor") return [node];
    return name === "EntitiesDescriptor" ? entities(childrenOf(node)) : [];
  });
}

function signingCertificates(idp: OrderedNode): string[] {
  return childElements(idp, "KeyDescriptor")
    .filter((descriptor) => {
      const use = attribute(descriptor, "use");
      return use === null || use.trim() === "signing";
    })
    .flatMap((descriptor) => childElements(descriptor, "KeyInfo"))
    .flatMap((keyInfo) => childElements(keyInfo, "X509Data"))
    .flatMap((data) => childElements(data, "X509Certificate"))
    .map((certificate) => text(certificate).replace(WHITESPACE_REFERENCE, "").replace(/\s+/g, ""))
    .filter((base64) => base64.length > 0);
}

/** The signing certificates of every IdPSSODescriptor, as PEMs in document order, each once. */
export function parseMetadata(
  xml: string | Uint8Array,
  options: { readonly maxBytes?: number } = {},
): MetadataResult {
  try {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_METADATA_BYTES;
    const size = typeof xml === "string" ? Buffer.byteLength(xml, "utf8") : xml.byteLength;
    if (size > maxBytes) return fail(`metadata of ${size} bytes is over the ${maxBytes}-byte cap`);
    const document = decode(xml).replace(/^\uFEFF/, "");
    if (document.trim().length === 0) return fail("metadata is empty");
    if (/<!DOCTYPE/i.test(document) || /<!ENTITY/i.test(document)) {
      return fail("metadata declares a DOCTYPE or entities; SAML metadata never needs one, so it is refused");
    }
    const validation = XMLValidator.validate(document);
    if (validation !== true) {
      const { msg, line } = validation.err;
      return fail(`metadata is not XML: ${msg} (line ${line})`);
    }
    const roots = (parser.parse(document) as OrderedNode[]).filter((node) => elementName(node) !== "#text");
    const rootName = roots[0] ? elementName(roots[0]) : null;
    if (rootName !== "EntityDescriptor" && rootName !== "EntitiesDescriptor") {
      return fail(`not SAML metadata: the root element is <${rootName ?? "?"}>, not EntityDescriptor`);
    }
    const idps = entities(roots).flatMap((entity) => childElements(entity, "IDPSSODescriptor"));
    if (idps.length === 0)
      return fail("SAML metadata without an IDPSSODescriptor (not an identity provider's)");
    const signing = [...new Set(idps.flatMap(signingCertificates))].map(certificatePem);
    if (signing.length === 0) return fail("the IDPSSODescriptor publishes no signing X509Certificate");
    return { ok: true, signing };
  } catch (error) {
    return fail(`metadata could not be parsed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Drops a body that will not be read; the abort error its destruction emits is expected, not a failure. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  body.on("error", () => undefined);
  body.destroy();
}

/** Reads a body up to `maxBytes`; past that it stops reading and destroys the stream. */
async function readCapped(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    length += bytes.length;
    if (length > maxBytes) {
      discard(body);
      return null;
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, length);
}

function describeFetchError(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `metadata fetch timed out after ${timeoutMs} ms`;
  // A refused connection to a dual-stack host is an AggregateError: no message, only a code.
  const { code, message } = error as { code?: unknown; message?: unknown };
  const detail =
    (typeof message === "string" && message) || (typeof code === "string" && code) || String(error);
  return `metadata fetch failed: ${detail}`;
}

/** GETs an IdP's metadata (redirects followed, at most three) and parses it. Never throws. */
export async function fetchMetadata(url: string, options: FetchMetadataOptions): Promise<MetadataResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_METADATA_BYTES;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  try {
    const dispatcher = (options.dispatcher ?? getGlobalDispatcher()).compose(
      interceptors.redirect({ maxRedirections: MAX_METADATA_REDIRECTS }),
    );
    const response = await request(url, {
      method: "GET",
      dispatcher,
      signal: controller.signal,
      headers: { accept: "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5" },
    });
    const { statusCode, headers, body } = response;
    if (statusCode < 200 || statusCode > 299) {
      discard(body);
      const redirect = statusCode >= 300 && statusCode < 400 && headers.location !== undefined;
      const words = [`metadata fetch failed: HTTP ${statusCode}`, STATUS_CODES[statusCode]];
      if (redirect) words.push(`after ${MAX_METADATA_REDIRECTS} redirects (the limit)`);
      return fail(words.filter(Boolean).join(" "));
    }
    const declared = Number(headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBytes) {
      discard(body);
      return fail(`metadata of ${declared} bytes is over the ${maxBytes}-byte cap`);
    }
    const bytes = await readCapped(body, maxBytes);
    if (bytes === null) return fail(`metadata body is over the ${maxBytes}-byte cap; stopped reading`);
    return parseMetadata(bytes, { maxBytes });
  } catch (error) {
    return fail(describeFetchError(error, timedOut, options.timeoutMs));
  } finally {
    clearTimeout(timer);
  }
}
