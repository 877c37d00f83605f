// The node:http face every emulator shares (SendGrid, Graph, ...): reads each request, lets the fault
// controller strike (drop, hang, injected status, delay, lose the answer, trickle it), hands the rest to
// the emulator's own answer function, and logs the outcome. Owns every socket it accepts so close() never
// waits on a hung or trickling answer. Knows no API: bodies of injected and internal errors come from the
// emulator. Never stores request headers; what the log shows of a body is the emulator's choice.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { FaultAction, FaultController } from "./faults.js";
import type { ApiResponse, RequestBody } from "./routes.js";
import { createServer } from "../http/node-http.js";

export type RequestOutcome = "answered" | "dropped" | "lost" | "hung" | "rate_limited";

export interface RequestLogEntry {
  /** When the request arrived. */
  readonly time: Date;
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The parsed JSON body, the raw text when it is not JSON, or null when there was none. */
  readonly body: unknown;
  /** The status the emulator produced (also for a lost answer); null when it produced none. */
  readonly status: number | null;
  readonly outcome: RequestOutcome;
  readonly headers: { readonly onBehalfOf?: string };
}

export interface HostRequest {
  readonly incoming: IncomingMessage;
  readonly time: Date;
  readonly method: string;
  readonly url: URL;
  /** The body as received. */
  readonly raw: string;
  readonly body: RequestBody;
}

export interface HostOptions {
  readonly host?: string;
  readonly port?: number;
  readonly now: () => Date;
  readonly faults: FaultController;
  /** The emulator's answer to a request no fault preempted. */
  answer(request: HostRequest): ApiResponse | Promise<ApiResponse>;
  /** The body of an injected status fault that names none (204/304 never get one). */
  injectedBody(status: number, request: HostRequest): string;
  /** The body of the 500 answered when `answer` throws. */
  internalErrorBody(message: string, url: URL): string;
  /** What the log shows of a request's body and headers; default: the parsed JSON and no headers. */
  logged?(request: HostRequest): Pick<RequestLogEntry, "body" | "headers">;
}

export interface Host {
  /** http://HOST:PORT, no trailing slash. */
  readonly url: string;
  /** Every request in arrival order, oldest first (past 100,000 entries the older half is dropped). */
  readonly log: readonly RequestLogEntry[];
  clearLog(): void;
  /** Closes the server and destroys every open, hung or trickling connection. */
  close(): Promise<void>;
}

const JSON_TYPE = "application/json";
/** A standalone emulator runs for days: past this many entries the older half of the log is dropped. */
const LOG_LIMIT = 100_000;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
    request.on("close", () => {
      if (!request.complete) reject(new Error("request aborted before its body ended"));
    });
  });
}

export function parseBody(raw: string): RequestBody {
  if (raw.trim() === "") return { kind: "none" };
  try {
    return { kind: "json", value: JSON.parse(raw) as unknown };
  } catch (error) {
    return { kind: "invalid", reason: (error as Error).message };
  }
}

/** The parsed JSON body, the raw text when it is not JSON, or null when there was none. */
export function loggedBody(request: HostRequest): unknown {
  switch (request.body.kind) {
    case "none":
      return null;
    case "json":
      return request.body.value;
    case "invalid":
      return request.raw;
  }
}

export async function startHost(options: HostOptions): Promise<Host> {
  const { now, faults } = options;
  const log: RequestLogEntry[] = [];
  const sockets = new Set<Socket>();
  const pendingTimers = new Map<NodeJS.Timeout, () => void>();
  let closing: Promise<void> | null = null;

  /** Resolves true after `ms`, or false at once when the emulator closes meanwhile. */
  const sleep = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (closing !== null) {
        resolve(false);
        return;
      }
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        resolve(closing === null);
      }, ms);
      pendingTimers.set(timer, () => resolve(false));
    });

  function send(res: ServerResponse, response: ApiResponse): void {
    const body = response.body === null ? null : Buffer.from(response.body);
    res.writeHead(response.status, {
      ...(body && { "Content-Type": JSON_TYPE, "Content-Length": String(body.length) }),
      ...response.headers,
    });
    res.end(body ?? undefined);
  }

  async function trickle(res: ServerResponse, response: ApiResponse, bytesPerSecond: number): Promise<void> {
    const body = Buffer.from(response.body ?? "");
    res.writeHead(response.status, {
      ...(response.body !== null && { "Content-Type": JSON_TYPE }),
      "Content-Length": String(body.length),
      ...response.headers,
    });
    const chunk = Math.max(1, Math.floor(bytesPerSecond / 10));
    const intervalMs = (chunk * 1000) / bytesPerSecond;
    for (let offset = 0; offset < body.length; offset += chunk) {
      if (res.destroyed) return;
      res.write(body.subarray(offset, offset + chunk));
      if (offset + chunk < body.length && !(await sleep(intervalMs))) return;
    }
    res.end();
  }

  function injected(action: Extract<FaultAction, { kind: "status" }>, request: HostRequest): ApiResponse {
    const headers = action.headers ?? {};
    if (typeof action.body === "string") return { status: action.status, body: action.body, headers };
    if (action.body !== undefined)
      return { status: action.status, body: JSON.stringify(action.body), headers };
    if (action.status === 204 || action.status === 304) return { status: action.status, body: null, headers };
    return { status: action.status, body: options.injectedBody(action.status, request), headers };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const time = now();
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const request: HostRequest = { incoming: req, time, method, url, raw, body: parseBody(raw) };
    const shown = options.logged?.(request) ?? { body: loggedBody(request), headers: {} };
    const record = (status: number | null, outcome: RequestOutcome): void => {
      if (log.length >= LOG_LIMIT) log.splice(0, LOG_LIMIT / 2);
      log.push({
        time,
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: shown.body,
        status,
        outcome,
        headers: shown.headers,
      });
    };

    const decision = faults.decide(method, url.pathname);
    if (decision.latencyMs > 0 && !(await sleep(decision.latencyMs))) return;
    const action = decision.action;
    switch (action?.kind) {
      case "drop":
        record(null, "dropped");
        req.socket.destroy();
        return;
      case "hang":
        record(null, "hung");
        return;
      case "status": {
        const response = injected(action, request);
        record(response.status, "answered");
        send(res, response);
        return;
      }
      case "delay":
        if (!(await sleep(action.ms))) return;
        break;
    }

    const response = await options.answer(request);
    if (action?.kind === "lose") {
      record(response.status, "lost");
      req.socket.destroy();
      return;
    }
    record(response.status, response.status === 429 ? "rate_limited" : "answered");
    if (action?.kind === "trickle") await trickle(res, response, action.bytesPerSecond);
    else send(res, response);
    return;
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || req.socket.destroyed) {
        res.destroy();
        return;
      }
      const url = new URL(req.url ?? "/", "http://emulator.invalid");
      send(res, {
        status: 500,
        body: options.internalErrorBody(`emulator error: ${(error as Error).message}`, url),
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    get log() {
      return log;
    },
    clearLog() {
      log.length = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const [timer, cancel] of pendingTimers) {
          clearTimeout(timer);
          cancel();
        }
        pendingTimers.clear();
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
