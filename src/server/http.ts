// The one HTTP server on `listen`: /metrics, /healthz, /readyz, /api/v1/inventory and the status page.
// Read-only (GET/HEAD); reads the monitor's latest snapshot and never starts a scan or an API call.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Journal } from "../core/journal.js";
import { inventoryReport } from "../core/report.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/registry.js";
import type { Monitor } from "../scan/monitor.js";
import { renderStatusPage, type HistoryEntry } from "./status-page.js";

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: Metrics;
  readonly monitor: Monitor;
  readonly logger: Logger;
  readonly now: () => Date;
  /** False once the scheduler has stopped: /healthz. */
  readonly alive: () => boolean;
  /** Rotation history for the status page, newest first. */
  readonly history?: () => Promise<readonly HistoryEntry[]>;
  /** The rotation journal: rotations under way and integrations backing off. */
  readonly rotations?: () => Journal;
  readonly version: string;
}

export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  response.end(response.req.method === "HEAD" ? undefined : body);
}

const json = (response: ServerResponse, status: number, value: unknown) =>
  send(response, status, "application/json; charset=utf-8", JSON.stringify(value, null, 2) + "\n");
const text = (response: ServerResponse, status: number, body: string) =>
  send(response, status, "text/plain; charset=utf-8", body + "\n");

function routes(options: HttpServerOptions): Record<string, Handler> {
  const { metrics, monitor } = options;
  return {
    "/metrics": async (_request, response) => {
      send(response, 200, metrics.contentType, await metrics.render());
    },
    "/healthz": (_request, response) => {
      if (options.alive()) text(response, 200, "ok");
      else text(response, 503, "scheduler stopped");
    },
    "/readyz": (_request, response) => {
      if (monitor.ready) text(response, 200, "ready");
      else text(response, 503, "waiting for the first scan");
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
      });
      send(response, 200, "text/html; charset=utf-8", html);
    },
  };
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningServer> {
  const table = routes(options);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const handler = table[path];
    if (!handler) return text(response, 404, "not found");
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.setHeader("allow", "GET, HEAD");
      return text(response, 405, "method not allowed");
    }
    Promise.resolve(handler(request, response)).catch((error: unknown) => {
      options.logger.error({ err: error, path }, "HTTP handler failed");
      if (!response.headersSent) text(response, 500, "internal error");
      else response.destroy();
    });
  });
  // A slow or idle client must not hold the server: bounded header, request and keep-alive times.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
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
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host === "[::]" ? "[::1]" : host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
