// The probes keep working with TLS and authentication on: the Docker HEALTHCHECK command of the
// Dockerfile, run as Docker runs it, and the Kubernetes probes of deployment.yaml, asked as the kubelet
// asks (no credentials; scheme HTTPS without verification once TLS is on). /readyz fails with the reason
// when the daemon cannot do its work although it scans (a state_dir it cannot write).

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { hashSync } from "bcryptjs";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fileSecret } from "../../src/config/secrets.js";
import { parseDockerfile, execForm } from "../deploy/dockerfile.js";
import { projectFile, readProjectText } from "../deploy/files.js";
import { createWorkspace, type Workspace } from "../helpers/workspace.js";
import { NO_WEB, get, serverCertificate, startTestServer, type TestServer } from "./harness.js";

let server: TestServer | null = null;
let files: Workspace | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
  files?.remove();
  files = null;
});

/** A server with basic auth, and TLS when asked; `ca` is what a client trusts to reach it (TLS only). */
async function protectedServer(tls: boolean): Promise<{ server: TestServer; ca: { ca?: string } }> {
  files = createWorkspace();
  const certificate = await serverCertificate("probes");
  const web = {
    ...NO_WEB,
    basicAuthUsers: new Map([["prometheus", hashSync("secret-password", 4)]]),
    tls: tls
      ? {
          cert: fileSecret(files.write("tls.crt", certificate.pem)),
          key: fileSecret(files.write("tls.key", certificate.privateKeyPem)),
          minVersion: "TLS12" as const,
        }
      : null,
  };
  server = await startTestServer(web);
  return { server, ca: tls ? { ca: certificate.pem } : {} };
}

function healthcheck(port: string): Promise<number> {
  const instructions = parseDockerfile(readProjectText("Dockerfile"));
  const args = instructions.filter((i) => i.keyword === "HEALTHCHECK").at(-1)!.args;
  const [command, ...rest] = execForm(/CMD\s+(\[.*\])$/.exec(args)![1]!);
  expect(command).toBe("node");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, rest, { env: { LISTEN: `0.0.0.0:${port}` }, stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code ?? -1));
  });
}

const portOf = (url: string) => new URL(url).port;

describe("Docker HEALTHCHECK", () => {
  it.each([false, true])("passes with basic auth on (TLS: %s)", async (tls) => {
    const { server: s, ca } = await protectedServer(tls);
    expect(await healthcheck(portOf(s.url))).toBe(0);
    // The server really is protected: the probe passes because /healthz is open, not by accident.
    expect((await get(`${s.url}/metrics`, ca)).status).toBe(401);
  });
});

interface Probe {
  readonly httpGet: { readonly path: string; readonly port: string; readonly scheme?: string };
}

describe("Kubernetes probes", () => {
  const deployment = parse(readFileSync(projectFile("config/kubernetes/deployment.yaml"), "utf8")) as {
    spec: { template: { spec: { containers: { livenessProbe: Probe; readinessProbe: Probe }[] } } };
  };
  const container = deployment.spec.template.spec.containers[0]!;

  it.each([false, true])("answer without credentials with basic auth on (TLS: %s)", async (tls) => {
    const { server: s, ca } = await protectedServer(tls);
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      // The kubelet sends no credentials (with TLS on, deployment.yaml says to set scheme: HTTPS).
      const answer = await get(`${s.url}${probe.httpGet.path}`, ca);
      // /readyz: 503 until the first scan, never 401.
      expect(answer.status, probe.httpGet.path).not.toBe(401);
      expect([200, 503], probe.httpGet.path).toContain(answer.status);
    }
  });
});

describe("faults that stay visible", () => {
  it("/readyz fails with the reason of a state_dir fault; the status page shows it and a held account", async () => {
    let fault: string | null =
      "state_dir: cannot write journal /state/journal.json: ENOSPC: no space left on device";
    const until = new Date(Date.now() + 600_000);
    server = await startTestServer(
      NO_WEB,
      {},
      { fault: () => fault, held: () => [{ account: "main", until }] },
    );
    // No scan in this server: /readyz waits for it first; the page shows both faults at once.
    const page = await get(`${server.url}/`);
    expect(page.body).toContain("ENOSPC: no space left on device");
    expect(page.body).toContain("account main: the API asked to wait; calls held until");
    await server.monitor.scan();
    const ready = await get(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toBe(`${fault}\n`);
    fault = null;
    expect((await get(`${server.url}/readyz`)).status).toBe(200);
    expect((await get(`${server.url}/`)).body).not.toContain("ENOSPC");
  });
});
