// The `web` section: TLS files, basic-auth users and the bearer token file, with paths relative to the
// config file, every problem on its own line with its key path, and no password or token ever echoed.

import { hashSync } from "bcryptjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, type LoadResult } from "../../src/config/load.js";
import { createWorkspace, expectConfig, expectProblems, type Workspace } from "../helpers/workspace.js";

const HASH = hashSync("pw", 4);
const ENV = { SENDGRID_API_KEY: "SG.web-test-key" };

let workspace: Workspace;
beforeEach(() => {
  workspace = createWorkspace();
});
afterEach(() => {
  workspace.remove();
});

function load(yaml: string, env: Record<string, string> = ENV): LoadResult {
  const file = workspace.write("conf/config.yaml", yaml);
  return loadConfig({ file, env, cwd: workspace.root });
}

describe("web", () => {
  it("defaults to plain HTTP without authentication, also when the section is left empty", () => {
    for (const yaml of ["schedule: '*/5 * * * *'\n", "web:\n", "web: {}\n"]) {
      const { web } = expectConfig(load(yaml));
      expect(web.tls).toBeNull();
      expect(web.basicAuthUsers.size).toBe(0);
      expect(web.bearerToken).toBeNull();
    }
  });

  it("reads TLS files and the token file relative to the config file, and keeps the hashes", () => {
    workspace.write("conf/tls/tls.crt", "CERTIFICATE TEXT\n");
    workspace.write("conf/tls/tls.key", "KEY TEXT\n");
    workspace.write("conf/token", "the-token\n");
    const htpasswd = HASH.replace(/^\$2b\$/, "$2y$");
    const { web } = expectConfig(
      load(
        [
          "web:",
          "  tls_server_config:",
          "    cert_file: tls/tls.crt",
          "    key_file: tls/tls.key",
          "    min_version: TLS13",
          "  basic_auth_users:",
          `    prometheus: ${htpasswd}`,
          `    grafana: "${HASH}"`,
          "  bearer_token_file: token",
        ].join("\n"),
      ),
    );
    expect(web.tls?.cert.describe()).toBe(`file ${workspace.root}/conf/tls/tls.crt`);
    expect(web.tls?.key.describe()).toBe(`file ${workspace.root}/conf/tls/tls.key`);
    expect(web.tls?.cert.read()).toBe("CERTIFICATE TEXT");
    expect(web.tls?.minVersion).toBe("TLS13");
    expect([...web.basicAuthUsers]).toEqual([
      ["prometheus", htpasswd],
      ["grafana", HASH],
    ]);
    expect(web.bearerToken?.describe()).toBe(`file ${workspace.root}/conf/token`);
    expect(web.bearerToken?.read()).toBe("the-token");
  });

  it("defaults min_version to TLS12", () => {
    workspace.write("conf/c", "c");
    workspace.write("conf/k", "k");
    const { web } = expectConfig(load("web:\n  tls_server_config: { cert_file: c, key_file: k }\n"));
    expect(web.tls?.minVersion).toBe("TLS12");
  });

  it("reports every problem with its key path and never echoes a password or token", () => {
    const problems = expectProblems(
      load(
        [
          "web:",
          "  tls_server_config:",
          "    cert_file: missing.crt",
          "    key_file: missing.key",
          "    min_version: TLS10",
          "    ciphers: ALL",
          "  basic_auth_users:",
          "    prometheus: plaintext-Passw0rd",
          "    grafana: 123456789",
          '    "a:b": ' + HASH,
          "    weak: $2b$03$" + HASH.slice(7),
          "  bearer_token_file: no-such-token",
          "  bearer_token: inline-T0ken",
        ].join("\n"),
      ),
    );
    const conf = `${workspace.root}/conf`;
    const hint = `write the hash, never the password (make one with: htpasswd -nBC 10 "" | tr -d ':\\n')`;
    expect(problems).toEqual([
      `web.tls_server_config.cert_file: file ${conf}/missing.crt does not exist`,
      `web.tls_server_config.key_file: file ${conf}/missing.key does not exist`,
      'web.tls_server_config.min_version: expected one of TLS12, TLS13, got "TLS10"',
      "web.tls_server_config.ciphers: unknown key (expected one of: cert_file, key_file, min_version)",
      `web.basic_auth_users.prometheus: is not a bcrypt hash; ${hint}`,
      `web.basic_auth_users.grafana: is not a bcrypt hash; ${hint}`,
      `web.basic_auth_users["a:b"]: a user name must not be empty or contain ':' (basic auth cannot carry it)`,
      "web.basic_auth_users.weak: bcrypt cost 03 is out of range (4 to 31; 10 is usual)",
      `web.bearer_token_file: file ${conf}/no-such-token does not exist`,
      "web.bearer_token: unknown key (did you mean bearer_token_file?)",
    ]);
    for (const secret of ["plaintext-Passw0rd", "123456789", "inline-T0ken"]) {
      expect(problems.join("\n")).not.toContain(secret);
    }
  });

  it("names a missing TLS file, and both when both are missing", () => {
    workspace.write("conf/present.crt", "c");
    const one = expectProblems(
      load("web:\n  tls_server_config: { cert_file: present.crt, key_file: absent.key }\n"),
    );
    expect(one).toEqual([
      `web.tls_server_config.key_file: file ${workspace.root}/conf/absent.key does not exist`,
    ]);
    const both = expectProblems(load("web:\n  tls_server_config: { cert_file: a.crt, key_file: b.key }\n"));
    expect(both).toEqual([
      `web.tls_server_config.cert_file: file ${workspace.root}/conf/a.crt does not exist`,
      `web.tls_server_config.key_file: file ${workspace.root}/conf/b.key does not exist`,
    ]);
    expect(expectProblems(load("web:\n  tls_server_config: { cert_file: present.crt }\n"))).toEqual([
      "web.tls_server_config.key_file: is required",
    ]);
  });

  it("takes the section from the environment like any other", () => {
    workspace.write("token", "tok\n");
    const { web } = expectConfig(
      load("schedule: '*/5 * * * *'\n", { ...ENV, SSO_CERTS__WEB__BEARER_TOKEN_FILE: "token" }),
    );
    expect(web.bearerToken?.describe()).toBe(`file ${workspace.root}/token`);
    const problems = expectProblems(
      load("schedule: '*/5 * * * *'\n", {
        ...ENV,
        SSO_CERTS__WEB__BASIC_AUTH_USERS: "{prometheus: s3cret-plain}",
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^web\.basic_auth_users\.prometheus \(from SSO_CERTS__WEB__BASIC_AUTH_USERS\): is not a bcrypt hash/,
      ),
    ]);
    expect(problems.join("\n")).not.toContain("s3cret-plain");
  });
});
