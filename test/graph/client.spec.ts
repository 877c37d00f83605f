// The Graph client against the Graph emulator over real sockets: the token is fetched once and cached,
// refreshed once on 401 InvalidAuthenticationToken, errors are GraphErrors with Graph's own words (403
// naming the permission), Retry-After is honoured (on an injected clock, so nothing really waits), a
// lost POST answer is outcome_unknown while a lost PATCH is retried, and no secret reaches a message.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GraphEmulator } from "../../src/emulator/graph/server.js";
import { GraphClient, type GraphClientOptions } from "../../src/graph/client.js";
import { GraphError } from "../../src/graph/errors.js";
import { ROUTES, ServicePrincipalsApi } from "../../src/graph/service-principals.js";
import { certificateThumbprint } from "../../src/graph/thumbprint.js";
import { ApiError } from "../../src/http/errors.js";
import type { RequestEvent } from "../../src/http/transport.js";
import {
  READER,
  TEST_SP_ID,
  TEST_TENANT_ID,
  WRITER,
  addPortalCertificate,
  startTestGraphEmulator,
} from "../helpers/start-graph-emulator.js";

const YEAR = 365 * 86_400_000;

interface FakeClock {
  readonly sleeps: number[];
  now(): number;
  sleep(ms: number): Promise<void>;
  advance(ms: number): void;
}

/** Each sleep returns at once and moves the time by the wait. */
function fakeClock(startMs: number): FakeClock {
  let time = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => time,
    sleep: (ms) => {
      sleeps.push(ms);
      time += ms;
      return Promise.resolve();
    },
    advance: (ms) => {
      time += ms;
    },
  };
}

let emulator: GraphEmulator;
const clients: GraphClient[] = [];
let events: RequestEvent[];
let clock: FakeClock;

beforeEach(async () => {
  emulator = await startTestGraphEmulator();
  events = [];
  clock = fakeClock(Date.now());
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await emulator.close();
});

function api(
  client: { clientId: string; clientSecret: string } = WRITER,
  options: Partial<GraphClientOptions> = {},
) {
  const graph = new GraphClient({
    label: "entra-test",
    tenantId: TEST_TENANT_ID,
    clientId: client.clientId,
    clientSecret: () => client.clientSecret,
    authorityUrl: emulator.url,
    graphUrl: emulator.url,
    timeoutMs: 5_000,
    maxRetries: 2,
    maxConcurrency: 4,
    observer: { onRequest: (event) => events.push(event) },
    clock,
    random: () => 0.5,
    ...options,
  });
  clients.push(graph);
  return new ServicePrincipalsApi(graph);
}

async function failure(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GraphError) return error;
    throw error;
  }
  throw new Error("expected a GraphError, the call succeeded");
}

const tokenRequests = () => emulator.log.filter((entry) => entry.path.endsWith("/oauth2/v2.0/token"));
const graphRequests = (method: string) =>
  emulator.log.filter((entry) => entry.method === method && entry.path.startsWith("/v1.0/"));

/** Everything an error could show a log or a person. */
function everythingShown(error: Error): string {
  return [
    error.message,
    String(error.stack),
    JSON.stringify(error),
    String((error.cause as Error | undefined)?.message),
  ].join("\n");
}

describe("reads and writes", () => {
  it("reads the service principal with the certificates' DER and the preferred thumbprint", async () => {
    const { thumbprint } = await addPortalCertificate(emulator, { activate: true });
    const sp = await api().get(TEST_SP_ID);
    expect(sp.id).toBe(TEST_SP_ID);
    expect(sp.preferredTokenSigningKeyThumbprint).toBe(thumbprint);
    const verify = sp.keyCredentials.find((credential) => credential.usage === "Verify");
    expect(verify?.key && certificateThumbprint(verify.key)).toBe(thumbprint);
    expect(verify?.endDateTime).toBeInstanceOf(Date);
    expect(graphRequests("GET")[0]?.query.$select).toContain("keyCredentials");
  });

  it("adds a signing certificate and sets the preferred thumbprint, sending only that property", async () => {
    const graph = api();
    const end = new Date(Date.now() + 2 * YEAR);
    const created = await graph.addTokenSigningCertificate(TEST_SP_ID, {
      displayName: "CN=rollover",
      endDateTime: end,
    });
    expect(created.thumbprint).toBe(certificateThumbprint(created.key));
    expect(created.endDateTime.getTime()).toBe(end.getTime());
    await graph.setPreferredThumbprint(TEST_SP_ID, created.thumbprint);
    expect(emulator.state.signingThumbprint(TEST_SP_ID)).toBe(created.thumbprint);
    expect(graphRequests("PATCH")[0]?.body).toEqual({
      preferredTokenSigningKeyThumbprint: created.thumbprint,
    });
  });
});

describe("access tokens", () => {
  it("fetches one token for many calls, even concurrent ones, and labels the observer events", async () => {
    const graph = api();
    await Promise.all([graph.get(TEST_SP_ID), graph.get(TEST_SP_ID), graph.get(TEST_SP_ID)]);
    await graph.get(TEST_SP_ID);
    expect(tokenRequests()).toHaveLength(1);
    expect(graphRequests("GET")).toHaveLength(4);
    expect(events.map((event) => event.route)).toContain("/:tenant/oauth2/v2.0/token");
    expect(events.filter((event) => event.route === ROUTES.servicePrincipal)).toHaveLength(4);
  });

  it("fetches a new token shortly before the cached one expires", async () => {
    const graph = api();
    await graph.get(TEST_SP_ID);
    // The token lives 3599 s and is refreshed five minutes before that: at 3299 s.
    clock.advance(3_000 * 1000);
    await graph.get(TEST_SP_ID);
    expect(tokenRequests()).toHaveLength(1);
    clock.advance(300 * 1000);
    await graph.get(TEST_SP_ID);
    expect(tokenRequests()).toHaveLength(2);
  });

  it("on 401 InvalidAuthenticationToken drops the token and retries once with a fresh one", async () => {
    const graph = api();
    await graph.get(TEST_SP_ID);
    emulator.expireTokens();
    await graph.get(TEST_SP_ID);
    expect(tokenRequests()).toHaveLength(2);
    expect(graphRequests("GET").map((entry) => entry.status)).toEqual([200, 401, 200]);
    expect(clock.sleeps).toEqual([]);
  });

  it("refreshes only once per call: a second 401 fails the call, typed", async () => {
    const graph = api();
    const expired = {
      error: {
        code: "InvalidAuthenticationToken",
        message: "Lifetime validation failed, the token is expired.",
      },
    };
    emulator.faults.next({
      match: { method: "GET" },
      action: { kind: "status", status: 401, body: expired },
      times: 2,
    });
    const error = await failure(graph.get(TEST_SP_ID));
    expect(error.status).toBe(401);
    expect(error.kind).toBe("http");
    expect(error.errorCode).toBe("InvalidAuthenticationToken");
    expect(error.message).toContain(
      "401 Unauthorized: InvalidAuthenticationToken: Lifetime validation failed",
    );
    expect(tokenRequests()).toHaveLength(2);
    expect(everythingShown(error)).not.toContain("emu.");
  });

  it("a wrong client secret fails with the token endpoint's GraphError, without the secret", async () => {
    const secret = "wrong~secret.value-that-must-not-show";
    const error = await failure(api({ clientId: WRITER.clientId, clientSecret: secret }).get(TEST_SP_ID));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(401);
    expect(error.route).toBe("/:tenant/oauth2/v2.0/token");
    expect(error.errorCode).toBe("invalid_client");
    expect(error.errorMessage).toMatch(/^AADSTS7000215: /);
    expect(error.message).toContain("AADSTS7000215");
    expect(everythingShown(error)).not.toContain(secret);
    expect(graphRequests("GET")).toHaveLength(0);
  });

  it("keeps the client secret out of an error even when the token endpoint echoes it", async () => {
    emulator.faults.next({
      match: { path: /oauth2/ },
      action: {
        kind: "status",
        status: 400,
        body: { error: "invalid_request", error_description: `bad ${WRITER.clientSecret}` },
      },
    });
    const error = await failure(api().get(TEST_SP_ID));
    expect(error.message).toContain("[REDACTED]");
    expect(everythingShown(error)).not.toContain(WRITER.clientSecret);
  });
});

describe("errors and retries", () => {
  it("403 is a typed GraphError naming Graph's code and the permission a write needs", async () => {
    const error = await failure(
      api(READER).addTokenSigningCertificate(TEST_SP_ID, {
        displayName: "CN=x",
        endDateTime: new Date(Date.now() + YEAR),
      }),
    );
    expect(error.status).toBe(403);
    expect(error.reason).toBe("http_403");
    expect(error.code).toBe("GRAPH_HTTP_403");
    expect(error.errorCode).toBe("Authorization_RequestDenied");
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.message).toContain("403 Forbidden: Authorization_RequestDenied: Insufficient privileges");
    expect(error.message).toContain("Application.ReadWrite.OwnedBy or Application.ReadWrite.All");
    expect(emulator.state.servicePrincipal(TEST_SP_ID)?.keyCredentials).toHaveLength(0);
  });

  it("a read refused 403 names Application.Read.All", async () => {
    emulator.state.addClient({ clientId: "nobody", clientSecret: "nobody-secret", roles: [] });
    const error = await failure(api({ clientId: "nobody", clientSecret: "nobody-secret" }).get(TEST_SP_ID));
    expect(error.status).toBe(403);
    expect(error.message).toContain("Application.Read.All");
  });

  it("404 is Request_ResourceNotFound, not retried", async () => {
    const error = await failure(api().get("33333333-0000-4000-8000-000000000000"));
    expect([error.status, error.errorCode, error.reason, error.attempts]).toEqual([
      404,
      "Request_ResourceNotFound",
      "http_404",
      1,
    ]);
  });

  it("honours Retry-After on 429 and on a 503, then succeeds", async () => {
    emulator.faults.next({
      match: { method: "GET" },
      action: { kind: "status", status: 429, headers: { "Retry-After": "3" } },
    });
    emulator.faults.next({
      match: { method: "GET" },
      action: { kind: "status", status: 503, headers: { "Retry-After": "7" } },
    });
    const sp = await api().get(TEST_SP_ID);
    expect(sp.id).toBe(TEST_SP_ID);
    expect(clock.sleeps).toEqual([3_000, 7_000]);
    expect(graphRequests("GET").map((entry) => entry.status)).toEqual([429, 503, 200]);
  });

  it("a 429 on the POST is retried after Retry-After: the request was refused, not processed", async () => {
    emulator.faults.next({
      match: { method: "POST", path: /addTokenSigningCertificate$/ },
      action: { kind: "status", status: 429, headers: { "Retry-After": "2" } },
    });
    await api().addTokenSigningCertificate(TEST_SP_ID, {
      displayName: "CN=x",
      endDateTime: new Date(Date.now() + YEAR),
    });
    expect(clock.sleeps).toEqual([2_000]);
    expect(emulator.state.servicePrincipal(TEST_SP_ID)?.keyCredentials).toHaveLength(2);
  });

  it("a lost POST answer is outcome_unknown, never repeated, though the certificate was added", async () => {
    emulator.faults.next({
      match: { method: "POST", path: /addTokenSigningCertificate$/ },
      action: { kind: "lose" },
    });
    const error = await failure(
      api().addTokenSigningCertificate(TEST_SP_ID, {
        displayName: "CN=x",
        endDateTime: new Date(Date.now() + YEAR),
      }),
    );
    expect(error.kind).toBe("outcome_unknown");
    expect(graphRequests("POST")).toHaveLength(1);
    expect(emulator.state.history.filter((entry) => entry.kind === "certificate_added")).toHaveLength(1);
  });

  it("a 503 on the POST is outcome_unknown too: Graph may have processed it", async () => {
    emulator.faults.next({
      match: { method: "POST", path: /addTokenSigningCertificate$/ },
      action: { kind: "status", status: 503, headers: { "Retry-After": "1" } },
    });
    const error = await failure(
      api().addTokenSigningCertificate(TEST_SP_ID, {
        displayName: "CN=x",
        endDateTime: new Date(Date.now() + YEAR),
      }),
    );
    expect(error.kind).toBe("outcome_unknown");
    expect(graphRequests("POST")).toHaveLength(1);
  });

  it("a lost PATCH answer is retried: setting the thumbprint twice is harmless", async () => {
    const { thumbprint } = await addPortalCertificate(emulator);
    emulator.faults.next({ match: { method: "PATCH" }, action: { kind: "lose" } });
    await api().setPreferredThumbprint(TEST_SP_ID, thumbprint);
    expect(graphRequests("PATCH").map((entry) => entry.outcome)).toEqual(["lost", "answered"]);
    expect(emulator.state.signingThumbprint(TEST_SP_ID)).toBe(thumbprint);
  });

  it("a token request that fails with 503 is retried, a POST that is safe to repeat", async () => {
    emulator.faults.next({ match: { path: /oauth2/ }, action: { kind: "status", status: 503 } });
    await api().get(TEST_SP_ID);
    expect(tokenRequests().map((entry) => entry.status)).toEqual([503, 200]);
  });
});
