// The HTTP server alone for endpoint tests: startHttpServer on 127.0.0.1:0 over an empty monitor, its log
// lines kept, plus the clients the tests need (plain and TLS, with the peer certificate's fingerprint) and
// server certificates for 127.0.0.1 (written to files with test/helpers/workspace.ts).

import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";

import type { TLSSocket } from "node:tls";
import { generateCertificate, type GeneratedCertificate, type KeySpec } from "../../src/certs/generate.js";
import type { WebConfig } from "../../src/config/types.js";
import { createLogger } from "../../src/log.js";
import { Metrics } from "../../src/metrics/registry.js";
import { Monitor } from "../../src/scan/monitor.js";
import {
  startHttpServer,
  type HttpServerOptions,
  type RunningServer,
  type ServerTimeouts,
} from "../../src/server/http.js";

export const NO_WEB: WebConfig = { tls: null, basicAuthUsers: new Map(), bearerToken: null };

export interface TestServer {
  readonly running: RunningServer;
  /** The registry /metrics renders, for tests that add series. */
  readonly metrics: Metrics;
  /** The monitor it reads, with no scan targets: a scan() makes it ready. */
  readonly monitor: Monitor;
  readonly url: string;
  /** Every log line, raw JSON text. */
  readonly logs: string[];
  close(): Promise<void>;
}

export async function startTestServer(
  web: WebConfig,
  timeouts: Partial<ServerTimeouts> = {},
  extra: Pick<HttpServerOptions, "fault" | "held"> = {},
): Promise<TestServer> {
  const logs: string[] = [];
  const logger = createLogger({
    level: "trace",
    destination: { write: (line: string) => void logs.push(line) },
  });
  const now = () => new Date();
  const metrics = new Metrics({
    accounts: ["main"],
    source: { evaluation: () => null, scanStats: () => [] },
    now,
    exposeRelative: false,
    version: "test",
    processMetrics: false,
  });
  const monitor = new Monitor({
    targets: [],
    thresholds: { warningMs: 30 * 86_400_000, criticalMs: 7 * 86_400_000 },
    clock: { now },
    logger,
  });
  const running = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    metrics,
    monitor,
    logger,
    now,
    alive: () => true,
    version: "test",
    web,
    timeouts,
    ...extra,
  });
  return { running, metrics, monitor, url: running.url, logs, close: () => running.close() };
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** Uppercase colon-free SHA-256 of the server's certificate, for TLS answers. */
  readonly peerFingerprint: string | null;
}

export interface GetOptions {
  readonly headers?: Record<string, string>;
  /** PEM the client trusts; with it the request is made over TLS. */
  readonly ca?: string;
  readonly maxVersion?: "TLSv1.2" | "TLSv1.3";
  /** GET unless told. */
  readonly method?: "GET" | "HEAD";
}

/** One request on a fresh connection (no agent), so each request sees the server's current certificate. */
export function get(url: string, options: GetOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const common = { method: options.method ?? "GET", agent: false as const, headers: options.headers ?? {} };
    const onResponse = (response: IncomingMessage) => {
      const socket = response.socket as Partial<TLSSocket>;
      const peer = socket.getPeerCertificate?.();
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          peerFingerprint: peer?.fingerprint256?.replaceAll(":", "") ?? null,
        }),
      );
    };
    const req =
      options.ca === undefined
        ? httpRequest(target, common, onResponse)
        : httpsRequest(
            target,
            { ...common, ca: options.ca, ...(options.maxVersion && { maxVersion: options.maxVersion }) },
            onResponse,
          );
    req.on("error", reject);
    req.end();
  });
}

export const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A self-signed server certificate for 127.0.0.1 and localhost: the client trusts it as its CA. */
export function serverCertificate(commonName: string, key?: KeySpec): Promise<GeneratedCertificate> {
  const now = Date.now();
  return generateCertificate({
    commonName,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 30 * 86_400_000),
    subjectAltNames: [
      { type: "ip", value: "127.0.0.1" },
      { type: "dns", value: "localhost" },
    ],
    ...(key && { key }),
  });
}

/** Hex of the certificate's SHA-256 in the form node:tls reports it. */
export const fingerprintOf = (certificate: GeneratedCertificate) =>
  certificate.fingerprintSha256.toUpperCase();
