// The dialect hooks of the shared transport, against a scripted server over real sockets: async
// authorization and the one refresh after an expired credential, the dialect's rate-limit header names,
// an answer the dialect calls unprocessed (a POST retried), PUT retried as idempotent, and every secret
// the dialect names kept out of errors. The retry loop itself is exercised through SendGrid's tests.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiError, type ApiErrorInit } from "../../src/http/errors.js";
import {
  JsonTransport,
  type Dialect,
  type RequestEvent,
  type TransportOptions,
} from "../../src/http/transport.js";
import { fakeClock } from "../sendgrid/fixture.js";

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
type Script = (req: IncomingMessage, seen: number) => Reply;

interface Seen {
  method: string;
  authorization: string | undefined;
}

const servers: { close(): void }[] = [];
const transports: JsonTransport<TestError, TestBody>[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  for (const s of servers.splice(0)) s.close();
});

async function serve(script: Script): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      seen.push({ method: req.method ?? "", authorization: req.headers.authorization });
      const reply = script(req, seen.length);
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

interface TestBody {
  code: string | null;
  message: string | null;
}
class TestError extends ApiError {
  override readonly name = "TestError";
  readonly apiCode: string | null;
  constructor(init: ApiErrorInit, body: TestBody | null) {
    super(init, "TEST");
    this.apiCode = body?.code ?? null;
  }
}

const bodySchema = z.object({ code: z.string().nullish(), message: z.string().nullish() });

/** Tokens "token-1", "token-2", ... handed out asynchronously; a refresh takes the next one. */
function testDialect(overrides: Partial<Dialect<TestError, TestBody>> = {}) {
  const issued: string[] = [];
  const refreshes: boolean[] = [];
  let current: string | null = null;
  const dialect: Dialect<TestError, TestBody> = {
    async authorize(refresh) {
      refreshes.push(refresh);
      await Promise.resolve();
      if (current === null || refresh) {
        current = `token-${issued.length + 1}`;
        issued.push(current);
      }
      return { headers: { authorization: `Token ${current}` }, secrets: [current] };
    },
    rateLimitHeaders: { remaining: "x-rate-limit-remaining", reset: "x-rate-limit-reset" },
    parseError(answer) {
      try {
        const parsed = bodySchema.safeParse(JSON.parse(answer.text));
        if (parsed.success) return { code: parsed.data.code ?? null, message: parsed.data.message ?? null };
      } catch {
        // not JSON: nothing said
      }
      return { code: null, message: null };
    },
    describeError: (body) => body.message,
    credentialExpired: (_answer, body) => body.code === "expired",
    createError: (init, body) => new TestError(init, body),
    ...overrides,
  };
  return { dialect, issued, refreshes };
}

function transport(
  url: string,
  dialect: Dialect<TestError, TestBody>,
  extra: Partial<TransportOptions<TestError, TestBody>> = {},
) {
  const t = new JsonTransport({
    account: "idp",
    baseUrl: url,
    dialect,
    timeoutMs: 5_000,
    maxRetries: 2,
    maxConcurrency: 2,
    clock: fakeClock(Date.parse("2025-06-01T00:00:00Z")),
    random: () => 0.5,
    ...extra,
  });
  transports.push(t);
  return t;
}

const ok = z.object({ ok: z.literal(true) });
const get = { method: "GET", route: "/things/:id", params: { id: "a" }, schema: ok } as const;

async function rejection(promise: Promise<unknown>): Promise<TestError> {
  const error: unknown = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  if (error instanceof TestError) return error;
  throw error;
}

describe("JsonTransport with a dialect", () => {
  it("re-authorizes once after a 401 the dialect calls expired, without spending a retry", async () => {
    const { url, seen } = await serve((_req, n) =>
      n === 1
        ? { status: 401, body: { code: "expired", message: "token expired" } }
        : { status: 200, body: { ok: true } },
    );
    const { dialect, issued, refreshes } = testDialect();
    const t = transport(url, dialect, { maxRetries: 0 });
    await expect(t.request(get)).resolves.toEqual({ ok: true });
    expect(seen.map((s) => s.authorization)).toEqual(["Token token-1", "Token token-2"]);
    expect(issued).toEqual(["token-1", "token-2"]);
    expect(refreshes).toEqual([false, true]);
  });

  it("a second expired 401 fails as http 401 with the API's words, and no token in the message", async () => {
    const { url, seen } = await serve(() => ({
      status: 401,
      body: { code: "expired", message: "token-1 and token-2 are expired" },
    }));
    const t = transport(url, testDialect().dialect);
    const error = await rejection(t.request(get));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ kind: "http", status: 401, reason: "http_401", code: "TEST_HTTP_401" });
    expect(error.apiCode).toBe("expired");
    expect(seen).toHaveLength(2);
    expect(error.message).toContain("[REDACTED] and [REDACTED] are expired");
    expect(error.message).not.toMatch(/token-\d/);
  });

  it("a 401 the dialect does not call expired is not retried", async () => {
    const { url, seen } = await serve(() => ({ status: 401, body: { code: "invalid", message: "no" } }));
    const error = await rejection(transport(url, testDialect().dialect).request(get));
    expect(error).toMatchObject({ kind: "http", status: 401, attempts: 1 });
    expect(seen).toHaveLength(1);
  });

  it("reads the dialect's rate-limit headers: remaining per route, and the reset a 429 asks to wait", async () => {
    const resetAt = Math.floor(Date.parse("2025-06-01T00:00:00Z") / 1000) + 7;
    const { url } = await serve((_req, n): Reply =>
      n === 1
        ? {
            status: 429,
            body: { message: "slow down" },
            headers: { "x-rate-limit-remaining": "0", "x-rate-limit-reset": String(resetAt) },
          }
        : { status: 200, body: { ok: true }, headers: { "x-rate-limit-remaining": "41" } },
    );
    const events: RequestEvent[] = [];
    const clock = fakeClock(Date.parse("2025-06-01T00:00:00Z"));
    const t = transport(url, testDialect().dialect, {
      clock,
      observer: { onRequest: (e) => events.push(e) },
    });
    await expect(t.request(get)).resolves.toEqual({ ok: true });
    expect(clock.sleeps).toEqual([7_000]);
    expect(events.map((e) => [e.account, e.route, e.status, e.rateLimitRemaining])).toEqual([
      ["idp", "/things/:id", 429, 0],
      ["idp", "/things/:id", 200, 41],
    ]);
    expect(t.rateLimitRemaining().get("/things/:id")).toBe(41);
  });

  it("retries a POST the dialect says was not processed; without that a 503 POST is outcome_unknown", async () => {
    const script: Script = (_req, n) =>
      n === 1 ? { status: 503, body: { code: "busy" } } : { status: 201, body: { ok: true } };
    const post = { method: "POST", route: "/things", body: { a: 1 }, schema: ok } as const;

    const refusing = await serve(script);
    const busy = testDialect({ refusedUnprocessed: (_a, body) => body.code === "busy" }).dialect;
    await expect(transport(refusing.url, busy).request(post)).resolves.toEqual({ ok: true });
    expect(refusing.seen.map((s) => s.method)).toEqual(["POST", "POST"]);

    const plain = await serve(script);
    const error = await rejection(transport(plain.url, testDialect().dialect).request(post));
    expect(error).toMatchObject({
      kind: "outcome_unknown",
      status: 503,
      code: "TEST_OUTCOME_UNKNOWN",
      apiCode: "busy",
    });
    expect(plain.seen).toHaveLength(1);
  });

  it("retries a PUT on 5xx as idempotent", async () => {
    const { url, seen } = await serve((_req, n) =>
      n === 1 ? { status: 500 } : { status: 200, body: { ok: true } },
    );
    const put = {
      method: "PUT",
      route: "/things/:id",
      params: { id: "a b" },
      body: { x: 1 },
      schema: ok,
    } as const;
    await expect(transport(url, testDialect().dialect).request(put)).resolves.toEqual({ ok: true });
    expect(seen.map((s) => s.method)).toEqual(["PUT", "PUT"]);
  });

  it("a rejected authorization rejects the call with the dialect's error and sends nothing", async () => {
    const { url, seen } = await serve(() => ({ status: 200, body: { ok: true } }));
    const refused = new TestError(
      {
        kind: "http",
        method: "POST",
        route: "/token",
        status: 400,
        reason: "http_4xx",
        retryable: false,
        attempts: 1,
        detail: "bad client",
      },
      null,
    );
    const { dialect } = testDialect({ authorize: () => Promise.reject(refused) });
    await expect(transport(url, dialect).request(get)).rejects.toBe(refused);
    expect(seen).toHaveLength(0);
  });
});
