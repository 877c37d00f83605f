// The emulator's HTTP face on node:http: reads each request, lets the fault controller strike, checks the
// bearer key and the rate limit, hands the rest to the routes, and logs the outcome. Owns every socket it
// accepts so close() never waits on a hung or trickling answer. Never stores the Authorization header.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { timingSafeEqual } from "node:crypto";
import { FaultController, seededRandom, type FaultAction } from "./faults.js";
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimitOptions } from "./rate-limit.js";
import { createApi, type ApiResponse, type RequestBody } from "./routes.js";
import { applySeed, buildSeed, type Seed } from "./seeds.js";
import { EmulatorState } from "./state.js";
import { DEFAULT_QUIRKS, FORBIDDEN_BODY, UNAUTHORIZED_BODY, WireRenderer, type Quirks } from "./wire.js";

export interface EmulatorOptions {
  /** The one bearer token accepted (until setApiKey). */
  readonly apiKey: string;
  /** Default: empty. */
  readonly seed?: Seed;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Clock for rate-limit windows, last_updated, history, the log and the demo seed. */
  readonly now?: () => Date;
  /** Default 10,000 requests per 60 s, reset as a unix time, no Retry-After. */
  readonly rateLimit?: RateLimitOptions;
  readonly quirks?: Partial<Quirks>;
  /** Seed of the fault RNG; fixed in tests so probabilistic faults replay exactly. */
  readonly seedRandom?: number;
}

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

export interface Emulator {
  /** http://HOST:PORT, no trailing slash. */
  readonly url: string;
  readonly state: EmulatorState;
  readonly faults: FaultController;
  /** Every request in arrival order, oldest first (past 100,000 entries the older half is dropped). */
  readonly log: readonly RequestLogEntry[];
  clearLog(): void;
  /** From now on accepts only `key`, as SendGrid does once an API key is replaced by a new one. */
  setApiKey(key: string): void;
  /** Closes the server and destroys every open, hung or trickling connection. */
  close(): Promise<void>;
}

const JSON_TYPE = "application/json";
/** A standalone emulator runs for days: past this many entries the older half of the log is dropped. */
const LOG_LIMIT = 100_000;
/** One account, one rate limit, whichever of its keys a request carries. */
const RATE_LIMIT_BUCKET = "account";

function keyMatches(header: string | undefined, apiKey: string): boolean {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
  if (token === undefined) return false;
  const given = Buffer.from(token);
  const expected = Buffer.from(apiKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

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

function parseBody(raw: string): RequestBody {
  if (raw.trim() === "") return { kind: "none" };
  try {
    return { kind: "json", value: JSON.parse(raw) as unknown };
  } catch (error) {
    return { kind: "invalid", reason: (error as Error).message };
  }
}

function loggedBody(body: RequestBody, raw: string): unknown {
  switch (body.kind) {
    case "none":
      return null;
    case "json":
      return body.value;
    case "invalid":
      return raw;
  }
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const now = options.now ?? (() => new Date());
  const limiter = new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT, now);
  const state = new EmulatorState(now);
  applySeed(state, await buildSeed(options.seed ?? { kind: "empty" }, now()));
  const wire = new WireRenderer({ ...DEFAULT_QUIRKS, ...options.quirks });
  const api = createApi(state, wire);
  const faults = new FaultController(seededRandom(options.seedRandom ?? Math.floor(Math.random() * 2 ** 32)));
  const log: RequestLogEntry[] = [];
  let apiKey = options.apiKey;
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

  function injected(action: Extract<FaultAction, { kind: "status" }>): ApiResponse {
    const headers = action.headers ?? {};
    if (typeof action.body === "string") return { status: action.status, body: action.body, headers };
    if (action.body !== undefined)
      return { status: action.status, body: JSON.stringify(action.body), headers };
    if (action.status === 204 || action.status === 304) return { status: action.status, body: null, headers };
    const message = `injected fault: HTTP ${action.status}`;
    return {
      status: action.status,
      body: wire.errors([{ message, field: null, errorId: "injected" }]),
      headers,
    };
  }

  /** Authentication, authorization, rate limit, then the API itself. */
  function answer(
    request: IncomingMessage,
    path: string,
    query: URLSearchParams,
    body: RequestBody,
  ): ApiResponse {
    if (!keyMatches(request.headers.authorization, apiKey)) {
      return { status: 401, body: UNAUTHORIZED_BODY };
    }
    const rate = limiter.take(RATE_LIMIT_BUCKET);
    if (!rate.allowed) {
      return {
        status: 429,
        body: wire.errors([{ message: "too many requests", field: null, errorId: "rate_limited" }]),
        headers: rate.headers,
      };
    }
    const response = state.forbidden
      ? { status: 403, body: FORBIDDEN_BODY }
      : api({ method: request.method ?? "GET", path, query, body });
    return { ...response, headers: { ...rate.headers, ...response.headers } };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const time = now();
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const body = parseBody(raw);
    const onBehalfOf = req.headers["on-behalf-of"];
    const record = (status: number | null, outcome: RequestOutcome): void => {
      if (log.length >= LOG_LIMIT) log.splice(0, LOG_LIMIT / 2);
      log.push({
        time,
        method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: loggedBody(body, raw),
        status,
        outcome,
        headers: typeof onBehalfOf === "string" ? { onBehalfOf } : {},
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
        const response = injected(action);
        record(response.status, "answered");
        send(res, response);
        return;
      }
      case "delay":
        if (!(await sleep(action.ms))) return;
        break;
    }

    const response = answer(req, url.pathname, url.searchParams, body);
    if (action?.kind === "lose") {
      record(response.status, "lost");
      req.socket.destroy();
      return;
    }
    record(response.status, response.status === 429 ? "rate_limited" : "answered");
    if (action?.kind === "trickle") await trickle(res, response, action.bytesPerSecond);
    else send(res, response);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent || req.socket.destroyed) {
        res.destroy();
        return;
      }
      send(res, {
        status: 500,
        body: wire.errors([
          { message: `emulator error: ${(error as Error).message}`, field: null, errorId: "internal" },
        ]),
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
    state,
    faults,
    get log() {
      return log;
    },
    clearLog() {
      log.length = 0;
    },
    setApiKey(key) {
      apiKey = key;
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
