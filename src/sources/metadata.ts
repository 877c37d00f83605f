// The `metadata` source: an IdP's SAML metadata (Okta, Entra ID, Duo, ADFS, a federation aggregate) ->
// the PEMs of the signing certificates one IdP entity publishes, and what the document's signature says
// about who signed it. Hostile input is expected: a document with a DOCTYPE is refused before any
// parser sees it (no entity expansion, no external entities, ever), sizes are capped, the fetch never
// leaves https, and a signed document is read only from the content its signature covers. Never
// throws; every failure is data with a stable reason, and judging the certificates (and whether the
// signer is trusted) is left to validateCandidate and the core.

import { readFile } from "node:fs/promises";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Dispatcher } from "undici";
import { certificatePem } from "../certs/validate.js";
import { STATUS_CODES } from "../http/node-http.js";
import { getGlobalDispatcher, request } from "../http/undici.js";
import { fsErrorText } from "../config/problems.js";
import { insecureUrlProblem } from "../config/url-policy.js";
import { verifyMetadataSignature, type MetadataSignature } from "./metadata-signature.js";

export type { MetadataSignature } from "./metadata-signature.js";

export const DEFAULT_MAX_METADATA_BYTES = 5 * 1024 * 1024;
export const MAX_METADATA_REDIRECTS = 3;
/** Entity ids a message lists before it says "and N more". */
const LISTED_ENTITIES = 10;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export type MetadataFailureReason =
  /** Connection, timeout, an HTTP status other than 2xx, a body over the cap. */
  | "fetch_failed"
  /** Plain http to a host that is not loopback, or a redirect from https to http. */
  | "insecure_url"
  /** Not XML, a DOCTYPE, not SAML metadata, no IdP, no signing certificate. */
  | "not_metadata"
  /** No EntityDescriptor has the configured entity_id. */
  | "entity_not_found"
  /** Several IdP entities and no entity_id, or several entities with the configured one. */
  | "entity_ambiguous"
  /** The root's signature does not verify, or is not one this tool accepts. */
  | "signature_invalid"
  /** No signature at the root while require_signature (or a pinned signer) demands one. */
  | "signature_missing"
  /** signing_certificate_file could not be read at fetch time. */
  | "signer_unavailable";

export type MetadataResult =
  | {
      readonly ok: true;
      /** The chosen entity's IdP signing certificates as PEMs, in document order, each once. */
      readonly signing: string[];
      readonly signature: MetadataSignature;
    }
  | { readonly ok: false; readonly reason: MetadataFailureReason; readonly message: string };

/** Which part of the document to read, and what its signature must be (a MetadataSource's settings). */
export interface MetadataTrust {
  /** The entityID to read; null: the document must hold exactly one IdP entity. */
  readonly entityId: string | null;
  /** Refuse a document without a signature at its root. */
  readonly requireSignature: boolean;
}

export interface ParseMetadataOptions extends Partial<MetadataTrust> {
  readonly maxBytes?: number;
  /**
   * PEM of the pinned metadata signer: only its key may verify the signature, and a document without
   * one is refused (else stripping the signature would bypass the pin). Null or absent: the
   * certificate in the signature's KeyInfo verifies it, and the core decides whether to trust it.
   */
  readonly pinnedSignerPem?: string | null;
}

/** Every trust setting is required here, so a caller cannot drop a configured one by forgetting it. */
export interface FetchMetadataOptions extends MetadataTrust {
  /** Covers the whole exchange, redirects and a body that trickles in included. */
  readonly timeoutMs: number;
  readonly maxBytes?: number;
  readonly dispatcher?: Dispatcher;
  /** The pinned signer's PEM file, read afresh at every fetch so a replaced file is honoured; null: none. */
  readonly signingCertificateFile: string | null;
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

function fail(reason: MetadataFailureReason, message: string): MetadataResult & { ok: false } {
  return { ok: false, reason, message };
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

function quoteId(id: string | null): string {
  if (id === null) return "(no entityID)";
  return JSON.stringify(id.length > 100 ? `${id.slice(0, 100)}…` : id);
}

function listIds(nodes: readonly OrderedNode[]): string {
  const ids = nodes.slice(0, LISTED_ENTITIES).map((node) => quoteId(attribute(node, "entityID")));
  const more = nodes.length - LISTED_ENTITIES;
  return more > 0 ? `${ids.join(", ")} and ${more} more` : ids.join(", ");
}

/**
 * The IDPSSODescriptors of the one entity to read. Never all of a federation's IdPs at once: their keys
 * merged would let any member's certificate into the integration.
 */
function chosenIdpDescriptors(
  roots: OrderedNode[],
  entityId: string | null,
): { ok: true; idps: OrderedNode[] } | (MetadataResult & { ok: false }) {
  const all = entities(roots);
  const idpEntities = all.filter((entity) => childElements(entity, "IDPSSODescriptor").length > 0);
  if (entityId === null) {
    if (idpEntities.length === 0) {
      return fail("not_metadata", "SAML metadata without an IDPSSODescriptor (not an identity provider's)");
    }
    if (idpEntities.length > 1) {
      return fail(
        "entity_ambiguous",
        `the metadata holds ${idpEntities.length} IdP entities (${listIds(idpEntities)}); set entity_id to the one to read`,
      );
    }
    return { ok: true, idps: childElements(idpEntities[0]!, "IDPSSODescriptor") };
  }
  const matching = all.filter((entity) => attribute(entity, "entityID") === entityId);
  if (matching.length === 0) {
    const found = idpEntities.length === 0 ? "none" : listIds(idpEntities);
    return fail("entity_not_found", `no entity has entityID ${quoteId(entityId)} (IdP entities: ${found})`);
  }
  if (matching.length > 1) {
    return fail(
      "entity_ambiguous",
      `${matching.length} entities have entityID ${quoteId(entityId)}; refusing to guess which one is the IdP`,
    );
  }
  const idps = childElements(matching[0]!, "IDPSSODescriptor");
  if (idps.length === 0) {
    return fail(
      "not_metadata",
      `entity ${quoteId(entityId)} has no IDPSSODescriptor (not an identity provider)`,
    );
  }
  return { ok: true, idps };
}

function parseElements(document: string): OrderedNode[] {
  return (parser.parse(document) as OrderedNode[]).filter((node) => elementName(node) !== "#text");
}

/**
 * The signing certificates one IdP entity of the document publishes, as PEMs in document order, each
 * once, and what the signature at the document's root says.
 */
export function parseMetadata(xml: string | Uint8Array, options: ParseMetadataOptions = {}): MetadataResult {
  try {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_METADATA_BYTES;
    const size = typeof xml === "string" ? Buffer.byteLength(xml, "utf8") : xml.byteLength;
    if (size > maxBytes)
      return fail("not_metadata", `metadata of ${size} bytes is over the ${maxBytes}-byte cap`);
    const document = decode(xml).replace(/^\uFEFF/, "");
    if (document.trim().length === 0) return fail("not_metadata", "metadata is empty");
    // First, before any parser (fast-xml-parser here, xmldom in the signature check) sees the text.
    if (/<!DOCTYPE/i.test(document) || /<!ENTITY/i.test(document)) {
      return fail(
        "not_metadata",
        "metadata declares a DOCTYPE or entities; SAML metadata never needs one, so it is refused",
      );
    }
    const validation = XMLValidator.validate(document);
    if (validation !== true) {
      const { msg, line } = validation.err;
      return fail("not_metadata", `metadata is not XML: ${msg} (line ${line})`);
    }
    const roots = parseElements(document);
    const root = roots[0];
    const rootName = root ? elementName(root) : null;
    if (root === undefined || (rootName !== "EntityDescriptor" && rootName !== "EntitiesDescriptor")) {
      return fail(
        "not_metadata",
        `not SAML metadata: the root element is <${rootName ?? "?"}>, not EntityDescriptor`,
      );
    }

    const pinned = options.pinnedSignerPem ?? null;
    const check =
      childElements(root, "Signature").length > 0
        ? verifyMetadataSignature(document, pinned)
        : ({ kind: "none" } as const);
    if (check.kind === "invalid") return fail("signature_invalid", check.message);
    if (check.kind === "none" && (options.requireSignature === true || pinned !== null)) {
      const why = pinned !== null ? "a signing_certificate_file is pinned" : "require_signature is true";
      return fail("signature_missing", `metadata carries no signature at its root and ${why}`);
    }
    // Signed: everything below is read from the bytes the signature covers, never from the raw text.
    const content = check.kind === "valid" ? parseElements(check.signedXml) : roots;

    const chosen = chosenIdpDescriptors(content, options.entityId ?? null);
    if (!chosen.ok) return chosen;
    const signing = [...new Set(chosen.idps.flatMap(signingCertificates))].map(certificatePem);
    if (signing.length === 0) {
      return fail("not_metadata", "the IDPSSODescriptor publishes no signing X509Certificate");
    }
    return { ok: true, signing, signature: check.kind === "valid" ? check.signature : { kind: "none" } };
  } catch (error) {
    return fail(
      "not_metadata",
      `metadata could not be parsed: ${error instanceof Error ? error.message : String(error)}`,
    );
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

/** Where a redirect may lead: never from https to http, and every hop by the same rule as the config. */
function redirectProblem(from: URL, to: URL): string | null {
  const where = `${to.protocol}//${to.host}`;
  if (from.protocol === "https:" && to.protocol !== "https:") {
    return `metadata redirect from https to ${where} refused: a redirect never leaves https`;
  }
  const problem = insecureUrlProblem(to);
  return problem === null ? null : `metadata redirect to ${where} refused: ${problem}`;
}

/** The pinned signer's PEM, read at each fetch; null when none is configured. */
async function readPinnedSigner(
  file: string | null,
): Promise<{ readonly pem: string | null } | (MetadataResult & { ok: false })> {
  if (file === null) return { pem: null };
  try {
    return { pem: await readFile(file, "utf8") };
  } catch (error) {
    return fail("signer_unavailable", `signing_certificate_file ${file} ${fsErrorText(error)}`);
  }
}

/**
 * GETs an IdP's metadata and parses it. Redirects (at most three) are followed by hand so that each
 * hop is checked before it is requested. Never throws.
 */
export async function fetchMetadata(url: string, options: FetchMetadataOptions): Promise<MetadataResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_METADATA_BYTES;
  const signer = await readPinnedSigner(options.signingCertificateFile);
  if ("ok" in signer) return signer;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  try {
    const dispatcher = options.dispatcher ?? getGlobalDispatcher();
    let target = new URL(url);
    const insecure = insecureUrlProblem(target);
    if (insecure !== null)
      return fail("insecure_url", `metadata URL ${target.protocol}//${target.host}: ${insecure}`);
    for (let redirects = 0; ; redirects++) {
      const { statusCode, headers, body } = await request(dispatcher, {
        origin: target.origin,
        path: `${target.pathname}${target.search}`,
        method: "GET",
        signal: controller.signal,
        headers: {
          accept: "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        },
      });
      const location = typeof headers.location === "string" ? headers.location : undefined;
      if (REDIRECT_STATUSES.has(statusCode) && location !== undefined && redirects < MAX_METADATA_REDIRECTS) {
        discard(body);
        const next = new URL(location, target);
        const problem = redirectProblem(target, next);
        if (problem !== null) return fail("insecure_url", problem);
        target = next;
        continue;
      }
      if (statusCode < 200 || statusCode > 299) {
        discard(body);
        const words = [`metadata fetch failed: HTTP ${statusCode}`, STATUS_CODES[statusCode]];
        if (REDIRECT_STATUSES.has(statusCode) && location !== undefined) {
          words.push(`after ${MAX_METADATA_REDIRECTS} redirects (the limit)`);
        }
        return fail("fetch_failed", words.filter(Boolean).join(" "));
      }
      const declared = Number(headers["content-length"]);
      if (Number.isFinite(declared) && declared > maxBytes) {
        discard(body);
        return fail("fetch_failed", `metadata of ${declared} bytes is over the ${maxBytes}-byte cap`);
      }
      const bytes = await readCapped(body, maxBytes);
      if (bytes === null) {
        return fail("fetch_failed", `metadata body is over the ${maxBytes}-byte cap; stopped reading`);
      }
      return parseMetadata(bytes, {
        maxBytes,
        entityId: options.entityId,
        requireSignature: options.requireSignature,
        pinnedSignerPem: signer.pem,
      });
    }
  } catch (error) {
    return fail("fetch_failed", describeFetchError(error, timedOut, options.timeoutMs));
  } finally {
    clearTimeout(timer);
  }
}
