// /metrics written family by family: the bytes a client gets are exactly Metrics.render(), under a
// Content-Length that counts UTF-8 bytes, also when the client reads slowly or leaves halfway.

import { request, type IncomingMessage } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { get, NO_WEB, startTestServer, type TestServer } from "./harness.js";

// Enough series for an answer of several megabytes: larger than the socket buffers on both sides, so the
// server has to wait for the client between chunks.
const ROUTES = 1_500;

let server: TestServer;

beforeEach(async () => {
  server = await startTestServer(NO_WEB);
  for (let i = 0; i < ROUTES; i++) {
    server.metrics.observeRequest({
      // Non-ASCII label values: the length header must count bytes, not characters.
      account: "zürich-東京",
      method: "GET",
      route: `/v3/sso/integrations/${i}/certificates`,
      status: 200,
      durationSeconds: 0.02,
      rateLimitRemaining: i,
    });
  }
});

afterEach(async () => {
  await server.close();
});

/** GET /metrics whose body is read only after `pauseMs`, or abandoned after the first chunk. */
function scrape(url: string, reader: { pauseMs: number } | "leave-after-first-chunk"): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/metrics`, { agent: false }, (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      if (reader === "leave-after-first-chunk") {
        response.once("data", (chunk: Buffer) => {
          req.destroy();
          resolve(chunk);
        });
        return;
      }
      response.pause();
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => resolve(Buffer.concat(chunks)));
      setTimeout(() => response.resume(), reader.pauseMs);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("/metrics streaming", () => {
  it("sends exactly the rendered exposition with its UTF-8 length", async () => {
    const expected = await server.metrics.render();
    expect(expected.length).toBeGreaterThan(2_000_000);
    const answer = await get(`${server.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe(server.metrics.contentType);
    expect(answer.headers["transfer-encoding"]).toBeUndefined();
    expect(Number(answer.headers["content-length"])).toBe(Buffer.byteLength(expected));
    expect(Buffer.byteLength(expected)).toBeGreaterThan(expected.length);
    expect(answer.body).toBe(expected);
  });

  it("answers HEAD with the length and no body", async () => {
    const expected = await server.metrics.render();
    const answer = await get(`${server.url}/metrics`, { method: "HEAD" });
    expect(answer.status).toBe(200);
    expect(Number(answer.headers["content-length"])).toBe(Buffer.byteLength(expected));
    expect(answer.body).toBe("");
  });

  it("keeps the answer whole for a client that stops reading for a while, and serves others meanwhile", async () => {
    const expected = Buffer.from(await server.metrics.render());
    const slow = scrape(server.url, { pauseMs: 500 });
    await sleep(100);
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
    expect((await slow).equals(expected)).toBe(true);
  });

  it("survives a client that leaves halfway and serves the next scrape in full", async () => {
    const first = await scrape(server.url, "leave-after-first-chunk");
    expect(first.length).toBeGreaterThan(0);
    await sleep(100);
    const expected = await server.metrics.render();
    const answer = await get(`${server.url}/metrics`);
    expect(answer.body).toBe(expected);
    expect(server.logs.filter((line) => line.includes("HTTP handler failed"))).toEqual([]);
  });
});
