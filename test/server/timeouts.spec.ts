// A slow client cannot hold the server: a slowloris sending its request head one byte at a time is cut off
// by the header timeout, while other clients keep getting /healthz. Timeouts are shortened for the test;
// the only time bound asserted is a generous "eventually".

import { connect, type Socket } from "node:net";
import { hashSync } from "bcryptjs";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_SERVER_TIMEOUTS } from "../../src/server/http.js";
import { get, NO_WEB, startTestServer, type TestServer } from "./harness.js";

let server: TestServer | null = null;
const sockets: Socket[] = [];
const timers: NodeJS.Timeout[] = [];

afterEach(async () => {
  for (const timer of timers.splice(0)) clearInterval(timer);
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  server = null;
});

interface Slowloris {
  /** Bytes of the head sent before the server closed the connection. */
  readonly closed: Promise<{ sent: number; received: string }>;
}

/** Sends an endless request head, one byte per `everyMs`, never the blank line that would end it. */
function slowloris(url: string, everyMs: number): Slowloris {
  const { hostname, port } = new URL(url);
  const head = `GET /metrics HTTP/1.1\r\nHost: ${hostname}\r\n${"X-Padding: slow\r\n".repeat(1_000)}`;
  let sent = 0;
  let received = "";
  const socket = connect(Number(port), hostname);
  sockets.push(socket);
  const closed = new Promise<{ sent: number; received: string }>((resolve) => {
    socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve({ sent, received }));
  });
  socket.on("connect", () => {
    const timer = setInterval(() => {
      if (socket.destroyed || sent >= head.length) return clearInterval(timer);
      socket.write(head[sent++]!);
    }, everyMs);
    timers.push(timer);
  });
  return { closed };
}

describe("server timeouts", () => {
  it("cuts off a slowloris by the header timeout while /healthz answers everyone else", async () => {
    server = await startTestServer(
      { ...NO_WEB, basicAuthUsers: new Map([["prometheus", hashSync("pw", 4)]]) },
      { headersMs: 1_500, requestMs: 3_000, keepAliveMs: 1_000, checkIntervalMs: 100 },
    );
    const attackers = [slowloris(server.url, 200), slowloris(server.url, 200), slowloris(server.url, 1_000)];
    let cutOff = false;
    const all = Promise.all(attackers.map((a) => a.closed)).then((results) => {
      cutOff = true;
      return results;
    });

    // Others are served while the slow clients hold their connections.
    // A ceiling, not a timing claim: the loop ends when the server cuts the slow clients off.
    const deadline = Date.now() + 120_000;
    let answered = 0;
    while (!cutOff && Date.now() < deadline) {
      const health = await get(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      answered++;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(cutOff, "slow clients still connected after 20 s").toBe(true);
    expect(answered).toBeGreaterThan(0);

    for (const { sent, received } of await all) {
      // Closed by the server, long before the head was complete, and never answered with data.
      expect(sent).toBeGreaterThan(0);
      expect(sent).toBeLessThan(1_000);
      expect(received).not.toContain("sendgrid_sso");
      expect(received === "" || received.startsWith("HTTP/1.1 408")).toBe(true);
    }
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
  });

  it("has bounded defaults, the request timeout not shorter than the header timeout", () => {
    const { headersMs, requestMs, keepAliveMs, checkIntervalMs } = DEFAULT_SERVER_TIMEOUTS;
    expect(headersMs).toBeGreaterThan(0);
    expect(requestMs).toBeGreaterThanOrEqual(headersMs);
    expect(keepAliveMs).toBeGreaterThan(0);
    expect(checkIntervalMs).toBeLessThan(headersMs);
  });
});
