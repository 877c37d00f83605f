// /metrics compressed when the scraper asks for it (Prometheus sends `Accept-Encoding: gzip`): the body
// gunzips to exactly what an identity scrape returns, is several times smaller, and a client that asks
// for no gzip, or refuses it with q=0, gets the identity answer with its length.

import { request, type IncomingMessage } from "node:http";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acceptsGzip } from "../../src/server/http.js";
import { NO_WEB, startTestServer, type TestServer } from "./harness.js";

let server: TestServer;

beforeEach(async () => {
  server = await startTestServer(NO_WEB);
  for (let i = 0; i < 1_500; i++) {
    server.metrics.observeRequest({
      account: "main",
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

function scrape(
  url: string,
  acceptEncoding: string | null,
): Promise<{ response: IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = acceptEncoding === null ? {} : { "accept-encoding": acceptEncoding };
    const req = request(`${url}/metrics`, { agent: false, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => resolve({ response, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("/metrics with Accept-Encoding", () => {
  it("gzip: the same exposition, at least five times smaller", async () => {
    const identity = await scrape(server.url, null);
    const gzipped = await scrape(server.url, "gzip, deflate");
    expect(gzipped.response.headers["content-encoding"]).toBe("gzip");
    expect(Number(gzipped.response.headers["content-length"])).toBe(gzipped.body.length);
    expect(identity.response.headers["content-encoding"]).toBeUndefined();
    expect(Number(identity.response.headers["content-length"])).toBe(identity.body.length);
    // The render in between may differ only in what a scrape itself changes: compare without those.
    const stable = (text: string) =>
      text.split("\n").filter((line) => !line.startsWith("process_") && !line.startsWith("nodejs_"));
    expect(stable(gunzipSync(gzipped.body).toString("utf8"))).toEqual(stable(identity.body.toString("utf8")));
    expect(identity.body.length / gzipped.body.length).toBeGreaterThanOrEqual(5);
  });

  it("identity when gzip is not asked for or refused", async () => {
    for (const header of [null, "identity", "gzip;q=0", "br"]) {
      const { response } = await scrape(server.url, header);
      expect(response.headers["content-encoding"], String(header)).toBeUndefined();
    }
  });

  it("reads Accept-Encoding as RFC 9110 writes it", () => {
    expect(acceptsGzip("gzip")).toBe(true);
    expect(acceptsGzip("GZIP;q=0.5, br")).toBe(true);
    expect(acceptsGzip(["br", "x-gzip"])).toBe(true);
    expect(acceptsGzip("gzip;q=0")).toBe(false);
    expect(acceptsGzip("gzip;q=0.000")).toBe(false);
    expect(acceptsGzip("deflate, br")).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });
});
