// The one HTTP(S) server on `listen`: /metrics, /healthz, /readyz, /api/v1/inventory and the status page,
// behind the optional TLS and authentication of the `web` config (all but the probes /healthz and /readyz,
// which the kubelet and Docker's HEALTHCHECK call without credentials).
// Read-only (GET/HEAD); reads the monitor's latest snapshot and never starts a scan or an API call.

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { RotationConfig, WebConfig } from "../config/types.js";
import type { Journal } from "../core/journal.js";
import { inventoryReport } from "../core/report.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/registry.js";
import type { Monitor } from "../scan/monitor.js";

import { createServer } from "../http/node-http.js";
import { Authenticator, WWW_AUTHENTICATE } from "./auth.js";
import { GzipExposition } from "./gzip-exposition.js";
import { renderStatusPage, type HistoryEntry } from "./status-page.js";

/** What the server reads of the monitor: the daemon hands a view that follows a configuration reload. */
export type MonitorView = Pick<Monitor, "ready" | "scanning" | "evaluation" | "scanStats" | "failures">;

/**
 * Open to anyone even when authentication is on: the kubelet and Docker's HEALTHCHECK probe them without
 * credentials. They say only "ok" / "ready" or why not, never a certificate or a secret.
 */
export const UNAUTHENTICATED_PATHS: ReadonlySet<string> = new Set(["/healthz", "/readyz"]);

/** A slow or idle client must not hold the server: bounded header, request and keep-alive times. */
export interface ServerTimeouts {
  /** The request head must be complete within this (also the TLS handshake's limit). */
  readonly headersMs: number;
  /** The whole request; not shorter than headersMs. */
  readonly requestMs: number;
  /** An idle kept-alive connection is closed after this. */
  readonly keepAliveMs: number;
  /**
   * How often the header and request limits are checked: Node's default, 30 s, would let a slow client
   * stay that much longer.
   */
  readonly checkIntervalMs: number;
}

export const DEFAULT_SERVER_TIMEOUTS: ServerTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
  checkIntervalMs: 1_000,
};

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: Metrics;
  readonly monitor: MonitorView;
  readonly logger: Logger;
  readonly now: () => Date;
  /** False once the scheduler has stopped: /healthz. */
  readonly alive: () => boolean;
  /** Why the daemon cannot do its work although it scans (a state_dir it cannot write): /readyz fails with it. */
  readonly fault?: () => string | null;
  /** Accounts held by a server-requested wait, for the status page. */
  readonly held?: () => readonly { readonly account: string; readonly until: Date }[];
  /** Rotation history for the status page, newest first. */
  readonly history?: () => Promise<readonly HistoryEntry[]>;
  /** The rotation journal: rotations under way and integrations backing off. */
  readonly rotations?: () => Journal;
  /** The rotation settings in force, so the status page can say when each next step is due. */
  readonly rotationConfig?: () => RotationConfig;
  readonly version: string;
  /** TLS and authentication; absent: plain HTTP, open to all. */
  readonly web?: WebConfig;
  /** Each absent one is DEFAULT_SERVER_TIMEOUTS'. */
  readonly timeouts?: Partial<ServerTimeouts>;
}

export interface RunningServer {
  /** http:// or https://, no trailing slash. */
  readonly url: string;
  readonly server: Server | HttpsServer;
  /**
   * Deflates what a scan changed in /metrics now, in the background, rather than in the next gzip
   * scrape; nothing before a scraper has asked for gzip. Never rejects; a failure here is met again, and
   * answered, by that scrape.
   */
  prepareMetrics(): void;
  close(): Promise<void>;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

function writeHead(response: ServerResponse, status: number, contentType: string, bytes: number): void {
  response.writeHead(status, {
    "content-type": contentType,
    "content-length": bytes,
    "cache-control": "no-store",
  });
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  writeHead(response, status, contentType, Buffer.byteLength(body));
  response.end(response.req.method === "HEAD" ? undefined : body);
}

/**
 * A large body written chunk by chunk, waiting whenever the socket's buffer is full: the answer is never
 * copied into one string nor queued whole in memory, and the event loop stays free for the scans between
 * chunks. Stops when the client goes away.
 */
async function sendChunks(
  response: ServerResponse,
  status: number,
  contentType: string,
  chunks: readonly string[],
): Promise<void> {
  const bytes = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk), 0);
  writeHead(response, status, contentType, bytes);
  if (response.req.method === "HEAD") return void response.end();
  await writeAll(response, chunks);
}

/** Writes each part in turn, waiting while the socket's buffer is full; stops if the client went away. */
async function writeAll(response: ServerResponse, parts: readonly (string | Buffer)[]): Promise<void> {
  for (const part of parts) {
    if (!response.write(part)) await drained(response);
    if (response.destroyed) return;
  }
  response.end();
}

/**
 * Does the client take gzip? Prometheus asks for it on every scrape; `gzip;q=0` refuses it. Other codings
 * are not offered: identity is always acceptable.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(",") : (header ?? "");
  return value.split(",").some((part) => {
    const [coding, ...parameters] = part.split(";").map((piece) => piece.trim().toLowerCase());
    if (coding !== "gzip" && coding !== "x-gzip") return false;
    const q = parameters.find((parameter) => parameter.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** The exposition gzipped (gzip-exposition.ts), with its length. */
async function sendGzipped(
  response: ServerResponse,
  status: number,
  contentType: string,
  parts: readonly Buffer[],
) {
  response.writeHead(status, {
    "content-type": contentType,
    "content-encoding": "gzip",
    "content-length": parts.reduce((sum, part) => sum + part.length, 0),
    vary: "Accept-Encoding",
    "cache-control": "no-store",
  });
  if (response.req.method === "HEAD") return void response.end();
  await writeAll(response, parts);
}

/** Resolves when the response can take more data or will never take any (the connection closed). */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off("drain", done);
      response.off("close", done);
      resolve();
    };
    response.on("drain", done);
    response.on("close", done);
  });
}

const json = (response: ServerResponse, status: number, value: unknown) =>
  send(response, status, "application/json; charset=utf-8", JSON.stringify(value, null, 2) + "\n");
const text = (response: ServerResponse, status: number, body: string) =>
  send(response, status, "text/plain; charset=utf-8", body + "\n");

function routes(options: HttpServerOptions, gzipped: GzipExposition): Record<string, Handler> {
  const { metrics, monitor } = options;
  return {
    "/metrics": async (request, response) => {
      const chunks = await metrics.renderChunks();
      if (acceptsGzip(request.headers["accept-encoding"]))
        await sendGzipped(response, 200, metrics.contentType, await gzipped.parts(chunks));
      else await sendChunks(response, 200, metrics.contentType, chunks);
    },
    "/healthz": (_request, response) => {
      if (options.alive()) text(response, 200, "ok");
      else text(response, 503, "scheduler stopped");
    },
    "/readyz": (_request, response) => {
      const fault = options.fault?.() ?? null;
      if (!monitor.ready) text(response, 503, "waiting for the first scan");
      else if (fault !== null) text(response, 503, fault);
      else text(response, 200, "ready");
    },
    "/api/v1/inventory": (_request, response) => {
      const evaluation = monitor.evaluation(options.now());
      if (evaluation) json(response, 200, inventoryReport(evaluation));
      else json(response, 503, { error: "no scan has completed yet" });
    },
    "/": async (_request, response) => {
      const now = options.now();
      const html = renderStatusPage({
        now,
        version: options.version,
        evaluation: monitor.evaluation(now),
        stats: monitor.scanStats(),
        failures: monitor.failures(),
        scanning: monitor.scanning,
        history: options.history ? await options.history() : [],
        journal: options.rotations?.() ?? null,
        ...(options.rotationConfig ? { rotation: options.rotationConfig() } : {}),
        held: options.held?.() ?? [],
        fault: options.fault?.() ?? null,
      });
      send(response, 200, "text/html; charset=utf-8", html);
    },
  };
}

/** A wildcard bind address is not something to connect to: the loopback address of its family is. */
function reachable(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  return host === "[::]" ? "[::1]" : host;
}

/**
 * Starts listening. Throws TlsCredentialsError, naming the files, when TLS is configured and its
 * certificate and key cannot be used.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningServer> {
  const gzipped = new GzipExposition();
  const table = routes(options, gzipped);
  const { logger } = options;
  const timeouts = { ...DEFAULT_SERVER_TIMEOUTS, ...options.timeouts };
  const authenticator = options.web ? Authenticator.from(options.web, logger) : null;
  // The TLS module is loaded only for a server that web.tls_server_config makes HTTPS.
  const credentials = options.web?.tls
    ? new (await import("./tls.js")).TlsCredentials(options.web.tls, logger)
    : null;

  const serve = async (request: IncomingMessage, response: ServerResponse, path: string) => {
    if (
      authenticator !== null &&
      !UNAUTHENTICATED_PATHS.has(path) &&
      !(await authenticator.allows(request.headers.authorization))
    ) {
      // Neither the header nor any part of it is logged: it is a credential, right or wrong.
      logger.debug({ path, remote: request.socket.remoteAddress }, "unauthenticated request refused");
      response.setHeader("www-authenticate", WWW_AUTHENTICATE);
      return text(response, 401, "unauthorized");
    }
    const handler = table[path];
    if (!handler) return text(response, 404, "not found");
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      return text(response, 405, "method not allowed");
    }
    await handler(request, response);
  };
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    // URL.parse, not new URL: a target like "http://[" would throw here, outside any handler, and the
    // uncaught exception would end the daemon.
    const path = URL.parse(request.url ?? "/", "http://localhost")?.pathname;
    if (path === undefined) return text(response, 400, "bad request");
    serve(request, response, path).catch((error: unknown) => {
      logger.error({ err: error, path }, "HTTP handler failed");
      if (!response.headersSent) text(response, 500, "internal error");
      else response.destroy();
    });
  };

  const httpOptions = { connectionsCheckingInterval: timeouts.checkIntervalMs };
  let server: Server | HttpsServer;
  if (credentials === null) server = createServer(httpOptions, listener);
  else {
    const https = createHttpsServer(
      { ...httpOptions, ...credentials.options, handshakeTimeout: timeouts.headersMs },
      listener,
    );
    credentials.attach(https);
    server = https;
  }
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.requestMs;
  server.keepAliveTimeout = timeouts.keepAliveMs;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `${credentials === null ? "http" : "https"}://${reachable(host)}:${address.port}`,
    server,
    prepareMetrics: () => {
      if (!gzipped.keeping) return;
      void options.metrics
        .renderChunks()
        .then((chunks) => gzipped.parts(chunks))
        .catch(() => undefined);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
