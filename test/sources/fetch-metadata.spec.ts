import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generateCertificate, type GeneratedCertificate } from "../../src/certs/generate.js";
import { fetchMetadata } from "../../src/sources/metadata.js";
import { makeCert } from "../helpers/make-cert.js";
import { adfsMetadata, base64Of, oktaMetadata } from "./metadata-fixtures.js";
import { signMetadata } from "./metadata-signing.js";

const CHUNK = Buffer.alloc(16 * 1024, "x");
/** A metadata source's defaults: any single IdP entity, signature optional, no pinned signer. */
const SOURCE_DEFAULTS = {
  entityId: null,
  requireSignature: false,
  signingCertificateFile: null,
} as const;

let server: Server;
let base: string;
let agent: Agent;
let current: GeneratedCertificate;
let next: GeneratedCertificate;
let signer: GeneratedCertificate;
let tls: GeneratedCertificate;
let secure: HttpsServer;
let secureBase: string;
/** Trusts the test's own TLS certificate, and nothing else. */
let secureAgent: Agent;
let dir: string;
/** Bytes the /endless route managed to write before the client hung up. */
let endlessWritten: Promise<number>;
let trickleClosed: Promise<void>;

async function writeUntilClosed(response: ServerResponse, limit: number, pauseMs: number): Promise<number> {
  let written = 0;
  const closed = new Promise((resolve) => response.once("close", resolve));
  while (written < limit && !response.destroyed) {
    if (!response.write(CHUNK)) {
      await Promise.race([new Promise((resolve) => response.once("drain", resolve)), closed]);
    }
    written += CHUNK.length;
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  response.end();
  return written;
}

function route(request: IncomingMessage, response: ServerResponse): void {
  const path = request.url ?? "/";
  const away = /^\/away\?to=(.+)$/.exec(path);
  if (away) {
    response.writeHead(302, { location: decodeURIComponent(away[1]!) }).end();
    return;
  }
  const hop = /^\/hop\/(\d+)$/.exec(path);
  if (hop) {
    const left = Number(hop[1]);
    response.writeHead(302, { location: left === 0 ? "/okta" : `/hop/${left - 1}` }).end();
    return;
  }
  switch (path) {
    case "/okta":
      response.writeHead(200, { "content-type": "application/samlmetadata+xml" });
      response.end(oktaMetadata([base64Of(current)]));
      return;
    case "/adfs":
      response.writeHead(200, { "content-type": "application/samlmetadata+xml" });
      response.end(
        signMetadata(
          adfsMetadata({
            signing: [base64Of(current), base64Of(next)],
            encryption: base64Of(next),
            spSigning: base64Of(current),
          }),
          signer,
        ),
      );
      return;
    case "/missing":
      response.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>");
      return;
    case "/broken":
      response.writeHead(500).end("internal error");
      return;
    case "/html":
      response
        .writeHead(200, { "content-type": "text/html" })
        .end("<html><body>Sign in to continue</body></html>");
      return;
    case "/declared-huge":
      // Announces more than the cap: refused from the header, the body is never read.
      response.writeHead(200, { "content-length": String(50 * 1024 * 1024) });
      response.write(CHUNK);
      return;
    case "/endless":
      response.writeHead(200, { "content-type": "application/xml" });
      endlessWritten = writeUntilClosed(response, 64 * 1024 * 1024, 0);
      return;
    case "/trickle":
      response.writeHead(200, { "content-type": "application/xml" });
      response.write("<?xml version='1.0'?>");
      trickleClosed = writeUntilClosed(response, 400 * CHUNK.length, 25).then(() => undefined);
      return;
    default:
      response.writeHead(404).end();
  }
}

beforeAll(async () => {
  current = await makeCert({ cn: "okta-signing" });
  next = await makeCert({ cn: "okta-signing-next", toDays: 700 });
  signer = await makeCert({ cn: "adfs-metadata-signer", key: { kind: "rsa", bits: 2048 } });
  tls = await generateCertificate({
    commonName: "metadata.test",
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 30 * 86_400_000),
    subjectAltNames: [{ type: "ip", value: "127.0.0.1" }],
  });
  server = createServer(route);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent();
  secure = createHttpsServer({ cert: tls.pem, key: tls.privateKeyPem }, route);
  secure.listen(0, "127.0.0.1");
  await once(secure, "listening");
  secureBase = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
  secureAgent = new Agent({ connect: { ca: tls.pem } });
  dir = await mkdtemp(join(tmpdir(), "metadata-signer-"));
});

afterAll(async () => {
  await agent.close();
  await secureAgent.close();
  for (const listening of [server, secure]) {
    listening.closeAllConnections();
    listening.close();
    await once(listening, "close");
  }
  await rm(dir, { recursive: true, force: true });
});

describe("fetchMetadata", () => {
  test("200: the signing certificates", async () => {
    expect(
      await fetchMetadata(`${base}/okta`, { ...SOURCE_DEFAULTS, timeoutMs: 5000, dispatcher: agent }),
    ).toEqual({
      ok: true,
      signing: [current.pem],
      signature: { kind: "none" },
    });
  });

  test("200 through the global dispatcher, with a signed rollover document", async () => {
    expect(await fetchMetadata(`${base}/adfs`, { ...SOURCE_DEFAULTS, timeoutMs: 5000 })).toEqual({
      ok: true,
      signing: [current.pem, next.pem],
      signature: { kind: "valid", signerFingerprint: signer.fingerprintSha256, pinned: false },
    });
  });

  test("a pinned signer is read from its file at each fetch", async () => {
    const pinned = join(dir, "signer.pem");
    const options = {
      ...SOURCE_DEFAULTS,
      timeoutMs: 5000,
      dispatcher: agent,
      signingCertificateFile: pinned,
    };
    expect(await fetchMetadata(`${base}/adfs`, options)).toEqual({
      ok: false,
      reason: "signer_unavailable",
      message: `signing_certificate_file ${pinned} does not exist`,
    });
    await writeFile(pinned, signer.pem);
    expect(await fetchMetadata(`${base}/adfs`, options)).toMatchObject({
      ok: true,
      signature: { kind: "valid", signerFingerprint: signer.fingerprintSha256, pinned: true },
    });
    // Pinned, so an unsigned document is refused even without require_signature.
    expect(await fetchMetadata(`${base}/okta`, options)).toMatchObject({
      ok: false,
      reason: "signature_missing",
    });
    await writeFile(pinned, current.pem);
    expect(await fetchMetadata(`${base}/adfs`, options)).toMatchObject({
      ok: false,
      reason: "signature_invalid",
    });
  });

  test("entity_id and require_signature are applied to the fetched document", async () => {
    expect(
      await fetchMetadata(`${base}/okta`, {
        ...SOURCE_DEFAULTS,
        timeoutMs: 5000,
        dispatcher: agent,
        requireSignature: true,
      }),
    ).toMatchObject({ ok: false, reason: "signature_missing" });
    expect(
      await fetchMetadata(`${base}/okta`, {
        ...SOURCE_DEFAULTS,
        timeoutMs: 5000,
        dispatcher: agent,
        entityId: "https://other.example",
      }),
    ).toMatchObject({ ok: false, reason: "entity_not_found" });
  });

  test.each([
    ["/missing", "metadata fetch failed: HTTP 404 Not Found"],
    ["/broken", "metadata fetch failed: HTTP 500 Internal Server Error"],
  ])("%s: the status, and no parsing", async (path, message) => {
    expect(
      await fetchMetadata(`${base}${path}`, { ...SOURCE_DEFAULTS, timeoutMs: 5000, dispatcher: agent }),
    ).toEqual({
      ok: false,
      reason: "fetch_failed",
      message,
    });
  });

  test("200 with an HTML page instead of metadata", async () => {
    const result = await fetchMetadata(`${base}/html`, {
      ...SOURCE_DEFAULTS,
      timeoutMs: 5000,
      dispatcher: agent,
    });
    expect(result).toEqual({
      ok: false,
      reason: "not_metadata",
      message: "not SAML metadata: the root element is <html>, not EntityDescriptor",
    });
  });

  test("a body that trickles in is cut by the timeout", async () => {
    const result = await fetchMetadata(`${base}/trickle`, {
      ...SOURCE_DEFAULTS,
      timeoutMs: 300,
      dispatcher: agent,
    });
    expect(result).toEqual({
      ok: false,
      reason: "fetch_failed",
      message: "metadata fetch timed out after 300 ms",
    });
    await trickleClosed;
  });

  test("a body larger than the cap: reading stops, the server sees the connection go", async () => {
    const maxBytes = 256 * 1024;
    const result = await fetchMetadata(`${base}/endless`, {
      ...SOURCE_DEFAULTS,
      timeoutMs: 10_000,
      maxBytes,
      dispatcher: agent,
    });
    expect(result).toEqual({
      ok: false,
      reason: "fetch_failed",
      message: `metadata body is over the ${maxBytes}-byte cap; stopped reading`,
    });
    expect(await endlessWritten).toBeLessThan(64 * 1024 * 1024);
  });

  test("a Content-Length over the cap is refused before reading", async () => {
    const result = await fetchMetadata(`${base}/declared-huge`, {
      ...SOURCE_DEFAULTS,
      timeoutMs: 5000,
      dispatcher: agent,
    });
    expect(result).toEqual({
      ok: false,
      reason: "fetch_failed",
      message: `metadata of ${50 * 1024 * 1024} bytes is over the ${5 * 1024 * 1024}-byte cap`,
    });
  });

  test("redirects are followed, up to three", async () => {
    expect(
      await fetchMetadata(`${base}/hop/2`, { ...SOURCE_DEFAULTS, timeoutMs: 5000, dispatcher: agent }),
    ).toEqual({
      ok: true,
      signing: [current.pem],
      signature: { kind: "none" },
    });
    expect(
      await fetchMetadata(`${base}/hop/3`, { ...SOURCE_DEFAULTS, timeoutMs: 5000, dispatcher: agent }),
    ).toEqual({
      ok: false,
      reason: "fetch_failed",
      message: "metadata fetch failed: HTTP 302 Found after 3 redirects (the limit)",
    });
  });

  test("https redirects within https are followed", async () => {
    expect(
      await fetchMetadata(`${secureBase}/hop/1`, {
        ...SOURCE_DEFAULTS,
        timeoutMs: 5000,
        dispatcher: secureAgent,
      }),
    ).toEqual({
      ok: true,
      signing: [current.pem],
      signature: { kind: "none" },
    });
  });

  test("a redirect from https to http is refused, even to a loopback host", async () => {
    const to = encodeURIComponent(`${base}/okta`);
    const result = await fetchMetadata(`${secureBase}/away?to=${to}`, {
      ...SOURCE_DEFAULTS,
      timeoutMs: 5000,
      dispatcher: secureAgent,
    });
    expect(result).toEqual({
      ok: false,
      reason: "insecure_url",
      message: `metadata redirect from https to ${base} refused: a redirect never leaves https`,
    });
  });

  test("an http hop to a host that is not loopback is refused before it is requested", async () => {
    const result = await fetchMetadata(
      `${base}/away?to=${encodeURIComponent("http://idp.example.invalid/md")}`,
      {
        ...SOURCE_DEFAULTS,
        timeoutMs: 5000,
        dispatcher: agent,
      },
    );
    expect(result).toEqual({
      ok: false,
      reason: "insecure_url",
      message:
        "metadata redirect to http://idp.example.invalid refused: http:// is allowed only to a loopback host (127.0.0.0/8, ::1, localhost); use https://",
    });
    // http loopback -> https is an upgrade, and allowed.
    const upgraded = await fetchMetadata(`${base}/away?to=${encodeURIComponent(`${secureBase}/okta`)}`, {
      ...SOURCE_DEFAULTS,
      timeoutMs: 5000,
      dispatcher: secureAgent,
    });
    expect(upgraded).toMatchObject({ ok: true, signing: [current.pem] });
  });

  test("a plain http URL to a host that is not loopback is refused without connecting", async () => {
    expect(
      await fetchMetadata("http://idp.example.invalid/md", {
        ...SOURCE_DEFAULTS,
        timeoutMs: 5000,
        dispatcher: agent,
      }),
    ).toEqual({
      ok: false,
      reason: "insecure_url",
      message:
        "metadata URL http://idp.example.invalid: http:// is allowed only to a loopback host (127.0.0.0/8, ::1, localhost); use https://",
    });
  });

  test("a refused connection and a malformed URL are messages, not exceptions", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, "close");
    const refused = await fetchMetadata(`http://127.0.0.1:${port}/metadata`, {
      ...SOURCE_DEFAULTS,
      timeoutMs: 5000,
      dispatcher: agent,
    });
    expect(refused.ok || refused.message).toMatch(/^metadata fetch failed: .*ECONNREFUSED/);
    const malformed = await fetchMetadata("not a url", {
      ...SOURCE_DEFAULTS,
      timeoutMs: 5000,
      dispatcher: agent,
    });
    expect(malformed.ok || malformed.message).toMatch(/^metadata fetch failed: /);
  });
});
