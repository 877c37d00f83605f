// Basic auth and bearer tokens on the real server over real sockets: who gets in, what a refusal looks
// like, that /healthz stays open, that a rotated token file is honoured, and that no credential is logged.

import { renameSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { hashSync } from "bcryptjs";
import { afterEach, describe, expect, it } from "vitest";
import { fileSecret } from "../../src/config/secrets.js";
import type { WebConfig } from "../../src/config/types.js";
import { WWW_AUTHENTICATE } from "../../src/server/auth.js";
import { basic, bearer, get, NO_WEB, startTestServer, type TestServer } from "./harness.js";
import { createWorkspace, type Workspace } from "../helpers/workspace.js";

// Cost 4, the lowest bcrypt allows: the tests are about who gets in, not about bcrypt's speed.
const PASSWORD = "correct horse battery staple";
const HASH = hashSync(PASSWORD, 4);
const TOKEN = "token-7f3a9c1e5b";

let server: TestServer | null = null;
let files: Workspace | null = null;

afterEach(async () => {
  await server?.close();
  server = null;
  files?.remove();
  files = null;
});

async function serve(web: Partial<WebConfig>): Promise<TestServer> {
  server = await startTestServer({ ...NO_WEB, ...web });
  return server;
}

function tokenFile(text: string): { path: string; files: Workspace } {
  files = createWorkspace();
  return { path: files.write("token", text), files };
}

describe("basic auth", () => {
  it("answers 200 to the right password and 401 with the realm to a wrong one, an unknown user or none", async () => {
    const s = await serve({ basicAuthUsers: new Map([["prometheus", HASH]]) });

    const ok = await get(`${s.url}/metrics`, { headers: basic("prometheus", PASSWORD) });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("sendgrid_sso_build_info");

    for (const headers of [
      basic("prometheus", "wrong password"),
      basic("someone-else", PASSWORD),
      basic("prometheus", ""),
      { authorization: "Basic not-base64-at-all!" },
      { authorization: `Digest ${Buffer.from(`prometheus:${PASSWORD}`).toString("base64")}` },
      {},
    ]) {
      const refused = await get(`${s.url}/metrics`, { headers });
      expect(refused.status).toBe(401);
      expect(refused.headers["www-authenticate"]).toBe(WWW_AUTHENTICATE);
      expect(refused.body).not.toContain("sendgrid_sso");
    }
    expect(WWW_AUTHENTICATE).toBe('Basic realm="sendgrid-sso-certs"');
  });

  it("accepts a hash as htpasswd writes it ($2y$)", async () => {
    const htpasswd = HASH.replace(/^\$2b\$/, "$2y$");
    expect(htpasswd.startsWith("$2y$04$")).toBe(true);
    const s = await serve({ basicAuthUsers: new Map([["prometheus", htpasswd]]) });
    expect((await get(`${s.url}/metrics`, { headers: basic("prometheus", PASSWORD) })).status).toBe(200);
    expect((await get(`${s.url}/metrics`, { headers: basic("prometheus", "nope") })).status).toBe(401);
  });

  it("closes every endpoint but the probes /healthz and /readyz, unknown paths included", async () => {
    const s = await serve({ basicAuthUsers: new Map([["prometheus", HASH]]) });
    for (const path of ["/metrics", "/", "/api/v1/inventory", "/no-such-page", "/healthz/../metrics"]) {
      expect((await get(`${s.url}${path}`)).status, path).toBe(401);
    }
    const health = await get(`${s.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body).toBe("ok\n");
    // The readiness probe needs no credentials either (the kubelet has none): before the first scan it
    // says so, and never more.
    const ready = await get(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toBe("waiting for the first scan\n");
    // With credentials the routes answer as without authentication.
    expect((await get(`${s.url}/no-such-page`, { headers: basic("prometheus", PASSWORD) })).status).toBe(404);
    expect((await get(`${s.url}/readyz`, { headers: basic("prometheus", PASSWORD) })).status).toBe(503);
  });

  it("remembers a verified login: the same credentials are not checked against the hash again", async () => {
    const users = new Map([["prometheus", HASH]]);
    const s = await serve({ basicAuthUsers: users });
    expect((await get(`${s.url}/metrics`, { headers: basic("prometheus", PASSWORD) })).status).toBe(200);

    // Behind the server's back the hash now belongs to another password: only a remembered login still works.
    users.set("prometheus", hashSync("another password", 4));
    expect((await get(`${s.url}/metrics`, { headers: basic("prometheus", PASSWORD) })).status).toBe(200);
    expect((await get(`${s.url}/metrics`, { headers: basic("prometheus", "wrong") })).status).toBe(401);
    expect((await get(`${s.url}/metrics`, { headers: basic("prometheus", "another password") })).status).toBe(
      200,
    );
  });

  it("never logs the presented credentials", async () => {
    const s = await serve({ basicAuthUsers: new Map([["prometheus", HASH]]) });
    const wrong = "W0ng-pa55word-LEAK";
    await get(`${s.url}/metrics`, { headers: basic("prometheus", wrong) });
    await get(`${s.url}/metrics`, { headers: basic("prometheus", PASSWORD) });
    await get(`${s.url}/metrics`, { headers: bearer("Bearer-LEAK-token") });
    const text = s.logs.join("");
    expect(s.logs.some((line) => line.includes("unauthenticated request refused"))).toBe(true);
    for (const secret of [
      wrong,
      PASSWORD,
      "Bearer-LEAK-token",
      Buffer.from(`prometheus:${wrong}`).toString("base64"),
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("bearer token", () => {
  it("lets the token from the file in and refuses any other", async () => {
    const { path } = tokenFile(`${TOKEN}\n`);
    const s = await serve({ bearerToken: fileSecret(path) });
    expect((await get(`${s.url}/metrics`, { headers: bearer(TOKEN) })).status).toBe(200);
    expect((await get(`${s.url}/metrics`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(
      200,
    );
    for (const token of [`${TOKEN}x`, TOKEN.slice(0, -1), "", "Bearer"]) {
      expect((await get(`${s.url}/metrics`, { headers: bearer(token) })).status, token).toBe(401);
    }
    expect((await get(`${s.url}/metrics`, { headers: basic("prometheus", TOKEN) })).status).toBe(401);
    expect((await get(`${s.url}/healthz`)).status).toBe(200);
  });

  it("picks up a new token when the file is replaced, and refuses all tokens while it is missing", async () => {
    const { path, files: dir } = tokenFile(TOKEN);
    const s = await serve({ bearerToken: fileSecret(path) });
    expect((await get(`${s.url}/metrics`, { headers: bearer(TOKEN) })).status).toBe(200);

    renameSync(dir.write("token.next", "token-rotated-2\n"), path);
    expect((await get(`${s.url}/metrics`, { headers: bearer("token-rotated-2") })).status).toBe(200);
    expect((await get(`${s.url}/metrics`, { headers: bearer(TOKEN) })).status).toBe(401);

    rmSync(path);
    expect((await get(`${s.url}/metrics`, { headers: bearer("token-rotated-2") })).status).toBe(401);
    expect((await get(`${s.url}/metrics`, { headers: bearer("token-rotated-2") })).status).toBe(401);
    const reports = s.logs.filter((line) => line.includes("bearer token unavailable"));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain(`file ${path} does not exist`);
    expect(s.logs.join("")).not.toContain("token-rotated-2");
  });

  it("with both methods configured, either one is enough", async () => {
    const { path } = tokenFile(TOKEN);
    const s = await serve({ basicAuthUsers: new Map([["prometheus", HASH]]), bearerToken: fileSecret(path) });
    expect((await get(`${s.url}/metrics`, { headers: bearer(TOKEN) })).status).toBe(200);
    expect((await get(`${s.url}/metrics`, { headers: basic("prometheus", PASSWORD) })).status).toBe(200);
    expect((await get(`${s.url}/metrics`, { headers: basic("prometheus", TOKEN) })).status).toBe(401);
    expect((await get(`${s.url}/metrics`)).status).toBe(401);
  });
});

describe("request targets", () => {
  it("answers 400 to one that is not a URL, and lives on", async () => {
    const s = await serve({ basicAuthUsers: new Map([["prometheus", HASH]]) });
    const { hostname, port } = new URL(s.url);
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write(`GET http://[ HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`),
      );
      let received = "";
      socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
      socket.on("error", reject);
      socket.on("close", () => resolve(received));
    });
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect((await get(`${s.url}/healthz`)).status).toBe(200);
  });
});

describe("without a web config", () => {
  it("every endpoint is open, as before", async () => {
    const s = await serve({});
    expect((await get(`${s.url}/metrics`)).status).toBe(200);
    expect((await get(`${s.url}/metrics`)).headers["www-authenticate"]).toBeUndefined();
  });
});
