import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import { fetchMetadata } from "../../src/sources/metadata.js";
import { makeCert } from "../helpers/make-cert.js";
import { adfsMetadata, base64Of, oktaMetadata } from "./metadata-fixtures.js";

const CHUNK = Buffer.alloc(16 * 1024, "x");

let server: Server;
let base: string;
let agent: Agent;
let current: GeneratedCertificate;
let next: GeneratedCertificate;
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
        adfsMetadata({
          signing: [base64Of(current), base64Of(next)],
          encryption: base64Of(next),
          spSigning: base64Of(current),
        }),
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
  server = createServer(route);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = new Agent();
});

afterAll(async () => {
  await agent.close();
  server.closeAllConnections();
  server.close();
  await once(server, "close");
});

describe("fetchMetadata", () => {
  test("200: the signing certificates", async () => {
    expect(await fetchMetadata(`${base}/okta`, { timeoutMs: 5000, dispatcher: agent })).toEqual({
      ok: true,
      signing: [current.pem],
    });
  });

  test("200 through the global dispatcher, with a rollover document", async () => {
    expect(await fetchMetadata(`${base}/adfs`, { timeoutMs: 5000 })).toEqual({
      ok: true,
      signing: [current.pem, next.pem],
    });
  });

  test.each([
    ["/missing", "metadata fetch failed: HTTP 404 Not Found"],
    ["/broken", "metadata fetch failed: HTTP 500 Internal Server Error"],
  ])("%s: the status, and no parsing", async (path, message) => {
    expect(await fetchMetadata(`${base}${path}`, { timeoutMs: 5000, dispatcher: agent })).toEqual({
      ok: false,
      message,
    });
  });

  test("200 with an HTML page instead of metadata", async () => {
    const result = await fetchMetadata(`${base}/html`, { timeoutMs: 5000, dispatcher: agent });
    expect(result).toEqual({
      ok: false,
      message: "not SAML metadata: the root element is <html>, not EntityDescriptor",
    });
  });

  test("a body that trickles in is cut by the timeout", async () => {
    const result = await fetchMetadata(`${base}/trickle`, { timeoutMs: 300, dispatcher: agent });
    expect(result).toEqual({ ok: false, message: "metadata fetch timed out after 300 ms" });
    await trickleClosed;
  });

  test("a body larger than the cap: reading stops, the server sees the connection go", async () => {
    const maxBytes = 256 * 1024;
    const result = await fetchMetadata(`${base}/endless`, { timeoutMs: 10_000, maxBytes, dispatcher: agent });
    expect(result).toEqual({
      ok: false,
      message: `metadata body is over the ${maxBytes}-byte cap; stopped reading`,
    });
    expect(await endlessWritten).toBeLessThan(64 * 1024 * 1024);
  });

  test("a Content-Length over the cap is refused before reading", async () => {
    const result = await fetchMetadata(`${base}/declared-huge`, { timeoutMs: 5000, dispatcher: agent });
    expect(result).toEqual({
      ok: false,
      message: `metadata of ${50 * 1024 * 1024} bytes is over the ${5 * 1024 * 1024}-byte cap`,
    });
  });

  test("redirects are followed, up to three", async () => {
    expect(await fetchMetadata(`${base}/hop/2`, { timeoutMs: 5000, dispatcher: agent })).toEqual({
      ok: true,
      signing: [current.pem],
    });
    expect(await fetchMetadata(`${base}/hop/3`, { timeoutMs: 5000, dispatcher: agent })).toEqual({
      ok: false,
      message: "metadata fetch failed: HTTP 302 Found after 3 redirects (the limit)",
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
      timeoutMs: 5000,
      dispatcher: agent,
    });
    expect(refused.ok || refused.message).toMatch(/^metadata fetch failed: .*ECONNREFUSED/);
    const malformed = await fetchMetadata("not a url", { timeoutMs: 5000, dispatcher: agent });
    expect(malformed.ok || malformed.message).toMatch(/^metadata fetch failed: /);
  });
});
