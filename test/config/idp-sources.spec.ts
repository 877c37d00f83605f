import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import { loadConfig, type LoadResult } from "../../src/config/load.js";
import type { CertificateSource, EntraSource, MetadataSource, OktaSource } from "../../src/config/types.js";
import { makeCert } from "../helpers/make-cert.js";
import { createWorkspace, expectConfig, expectProblems, type Workspace } from "../helpers/workspace.js";

const OKTA_TOKEN = "00aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-_xY";
const ENTRA_SECRET = "Qx8Q~fake.client-secret_Value0123456789abcd";
const ENV = { SENDGRID_API_KEY: "SG.test-key", OKTA_API_TOKEN: OKTA_TOKEN, ENTRA_SECRET };
const HTTP_ONLY_TO_LOOPBACK =
  "http:// is allowed only to a loopback host (127.0.0.0/8, ::1, localhost); use https://";

let workspace: Workspace;
let signer: GeneratedCertificate;

beforeAll(async () => {
  signer = await makeCert({ cn: "federation-metadata-signer" });
});
beforeEach(() => {
  workspace = createWorkspace();
});
afterEach(() => {
  workspace.remove();
});

function load(yaml: string, env: Record<string, string> = ENV): LoadResult {
  const file = workspace.write("config.yaml", yaml);
  return loadConfig({ file, env, cwd: workspace.root });
}

/** One rotation rule whose source is the given YAML flow mapping. */
function withSource(source: string): string {
  return ["rotation:", "  integrations:", `    - { match: { name: Okta }, source: ${source} }`].join("\n");
}

function sourceOf(result: LoadResult): CertificateSource {
  return expectConfig(result).rotation.integrations[0]!.source;
}

describe("okta sources", () => {
  it("resolves with the documented defaults, the token behind its source", () => {
    const source = sourceOf(
      load(
        withSource(
          "{ type: okta, org_url: 'https://example.okta.com/', app_id: 0oa1b2c3d4e5f6g7h8i9, api_token_env: OKTA_API_TOKEN }",
        ),
      ),
    ) as OktaSource;
    expect(source).toMatchObject({
      type: "okta",
      orgUrl: "https://example.okta.com",
      appId: "0oa1b2c3d4e5f6g7h8i9",
      manageKeys: false,
      validityYears: 2,
    });
    expect(source.apiToken.describe()).toBe("env OKTA_API_TOKEN");
    expect(source.apiToken.read()).toBe(OKTA_TOKEN);
    expect(JSON.stringify(source)).not.toContain(OKTA_TOKEN);
  });

  it("reads api_token_file relative to the config file, and re-reads it when it changes", () => {
    const tokenFile = workspace.write("secrets/okta-token", "first-token-value\n");
    const source = sourceOf(
      load(
        withSource(
          "{ type: okta, org_url: 'https://example.okta.com', app_id: app1, api_token_file: secrets/okta-token, manage_keys: true, validity_years: 10 }",
        ),
      ),
    ) as OktaSource;
    expect(source.apiToken.describe()).toBe(`file ${tokenFile}`);
    expect(source.apiToken.read()).toBe("first-token-value");
    workspace.write("secrets/okta-token", "second-token-value-longer\n");
    expect(source.apiToken.read()).toBe("second-token-value-longer");
    expect(source).toMatchObject({ manageKeys: true, validityYears: 10 });
  });

  it("names the key of every problem, and never repeats the token", () => {
    const problems = expectProblems(
      load(
        [
          "rotation:",
          "  integrations:",
          "    - match: { name: A }",
          "      source: { type: okta, app_id: 'apps/../users', api_token_env: OKTA_API_TOKEN, validity_years: 1 }",
          "    - match: { name: B }",
          "      source: { type: okta, org_url: 'http://example.okta.com', app_id: a, validity_years: 11 }",
          "    - match: { name: C }",
          "      source: { type: okta, org_url: 'https://x.okta.com', app_id: a, api_token_env: OKTA_API_TOKEN, api_token_file: ./t }",
          "    - match: { name: D }",
          "      source: { type: okta, org_url: 'https://x.okta.com', app_id: a, api_token_env: UNSET_TOKEN, validity_years: 2.5 }",
          "    - match: { name: E }",
          "      source: { type: okta, org_url: 'https://x.okta.com', app_id: a, api_token_file: ./missing, manage_keys: yes, token: x }",
          "    - match: { name: F }",
          `      source: { type: okta, org_url: '${OKTA_TOKEN}', app_id: a, api_token_env: OKTA_API_TOKEN }`,
        ].join("\n"),
      ),
    );
    expect(problems).toEqual([
      "rotation.integrations[0].source.org_url: is required",
      "rotation.integrations[0].source.app_id: must be an Okta app id, e.g. 0oa1b2c3d4e5f6g7h8i9: letters, digits, ., _ and - only",
      "rotation.integrations[0].source.validity_years: Okta accepts 2 to 10 years",
      `rotation.integrations[1].source.org_url: "http://example.okta.com": ${HTTP_ONLY_TO_LOOPBACK}`,
      "rotation.integrations[1].source.validity_years: Okta accepts 2 to 10 years",
      "rotation.integrations[2].source: give exactly one of api_token_env, api_token_file",
      "rotation.integrations[3].source.validity_years: expected a whole number, got 2.5",
      // Key names holding "key" never have their values quoted.
      "rotation.integrations[4].source.manage_keys: expected true or false, got a string",
      "rotation.integrations[4].source.token: unknown key (expected one of: type, org_url, app_id, api_token_env, api_token_file, manage_keys, validity_years)",
      `rotation.integrations[5].source.org_url: "[redacted]" is not a URL`,
    ]);
    expect(problems.join("\n")).not.toContain(OKTA_TOKEN);
    // Missing secrets are reported once the rest of the source is valid, like an account's key.
    expect(
      expectProblems(
        load(
          [
            "rotation:",
            "  integrations:",
            "    - { match: { name: D }, source: { type: okta, org_url: 'https://x.okta.com', app_id: a, api_token_env: UNSET_TOKEN } }",
            "    - { match: { name: E }, source: { type: okta, org_url: 'https://x.okta.com', app_id: a, api_token_file: ./missing } }",
            "    - { match: { name: F }, source: { type: okta, org_url: 'https://x.okta.com', app_id: a } }",
          ].join("\n"),
        ),
      ),
    ).toEqual([
      "rotation.integrations[0].source.api_token_env: environment variable UNSET_TOKEN is not set",
      `rotation.integrations[1].source.api_token_file: file ${join(workspace.root, "missing")} does not exist`,
      "rotation.integrations[2].source: give exactly one of api_token_env, api_token_file",
    ]);
  });
});

describe("entra sources", () => {
  const minimal =
    "{ type: entra, tenant_id: 00000000-0000-0000-0000-000000000000, client_id: 11111111-1111-1111-1111-111111111111, client_secret_env: ENTRA_SECRET, service_principal_id: 22222222-2222-2222-2222-222222222222";

  it("resolves with the documented defaults, the secret behind its source", () => {
    const source = sourceOf(load(withSource(`${minimal} }`))) as EntraSource;
    expect(source).toMatchObject({
      type: "entra",
      tenantId: "00000000-0000-0000-0000-000000000000",
      clientId: "11111111-1111-1111-1111-111111111111",
      servicePrincipalId: "22222222-2222-2222-2222-222222222222",
      authorityUrl: "https://login.microsoftonline.com",
      graphUrl: "https://graph.microsoft.com",
      manageKeys: false,
      validityYears: 3,
    });
    expect(source.clientSecret.describe()).toBe("env ENTRA_SECRET");
    expect(source.clientSecret.read()).toBe(ENTRA_SECRET);
    expect(JSON.stringify(source)).not.toContain(ENTRA_SECRET);
  });

  it("takes national-cloud and loopback URLs, a domain as tenant, and a secret file", () => {
    const secretFile = workspace.write("entra-secret", `${ENTRA_SECRET}\n`);
    const source = sourceOf(
      load(
        withSource(
          "{ type: entra, tenant_id: contoso.onmicrosoft.com, client_id: c, client_secret_file: ./entra-secret, service_principal_id: sp, authority_url: 'https://login.microsoftonline.us/', graph_url: 'http://127.0.0.1:8443/graph/', manage_keys: true, validity_years: 1 }",
        ),
      ),
    ) as EntraSource;
    expect(source).toMatchObject({
      tenantId: "contoso.onmicrosoft.com",
      authorityUrl: "https://login.microsoftonline.us",
      graphUrl: "http://127.0.0.1:8443/graph",
      manageKeys: true,
      validityYears: 1,
    });
    expect(source.clientSecret.describe()).toBe(`file ${secretFile}`);
    expect(source.clientSecret.read()).toBe(ENTRA_SECRET);
  });

  it("names the key of every problem, and never repeats the secret", () => {
    const problems = expectProblems(
      load(
        [
          "rotation:",
          "  integrations:",
          "    - match: { name: A }",
          "      source: { type: entra, tenant_id: 'a/b', client_id: '', client_secret_env: ENTRA_SECRET, service_principal_id: '..', validity_years: 4 }",
          "    - match: { name: B }",
          `      source: ${minimal}, authority_url: 'http://login.example.com', graph_url: 'ftp://graph.example.com', validity_years: 0 }`,
          "    - match: { name: C }",
          "      source: { type: entra, tenant_id: t, client_id: c, service_principal_id: s }",
          "    - match: { name: D }",
          `      source: { type: entra, tenant_id: t, client_id: '${ENTRA_SECRET}', client_secret_env: 'not a name', service_principal_id: s, graph_url: '${ENTRA_SECRET}' }`,
        ].join("\n"),
      ),
    );
    expect(problems).toEqual([
      "rotation.integrations[0].source.tenant_id: must be a tenant id (a GUID, or a domain such as contoso.onmicrosoft.com): letters, digits, ., _ and - only",
      "rotation.integrations[0].source.client_id: must not be empty",
      "rotation.integrations[0].source.service_principal_id: must be the service principal's object id (a GUID)",
      "rotation.integrations[0].source.validity_years: Microsoft Graph accepts 1 to 3 years",
      `rotation.integrations[1].source.authority_url: "http://login.example.com": ${HTTP_ONLY_TO_LOOPBACK}`,
      'rotation.integrations[1].source.graph_url: "ftp://graph.example.com" is not an http(s) URL',
      "rotation.integrations[1].source.validity_years: Microsoft Graph accepts 1 to 3 years",
      "rotation.integrations[2].source: give exactly one of client_secret_env, client_secret_file",
      "rotation.integrations[3].source.client_secret_env: must be the name of an environment variable (letters, digits, _), not a key",
      'rotation.integrations[3].source.graph_url: "[redacted]" is not a URL',
    ]);
    expect(problems.join("\n")).not.toContain(ENTRA_SECRET);
  });
});

describe("metadata sources", () => {
  it("defaults: no entity filter, signatures optional, no pinned signer", () => {
    expect(sourceOf(load(withSource("{ type: metadata, url: 'https://idp.example/md.xml' }")))).toEqual({
      type: "metadata",
      url: "https://idp.example/md.xml",
      entityId: null,
      requireSignature: false,
      signingCertificateFile: null,
    } satisfies MetadataSource);
  });

  it("resolves the pinned signer relative to the config file", () => {
    const pinned = workspace.write("pins/signer.pem", signer.pem);
    const source = sourceOf(
      load(
        withSource(
          "{ type: metadata, url: 'https://mds.example/aggregate.xml', entity_id: 'https://idp.example/idp', require_signature: true, signing_certificate_file: pins/signer.pem }",
        ),
      ),
    );
    expect(source).toEqual({
      type: "metadata",
      url: "https://mds.example/aggregate.xml",
      entityId: "https://idp.example/idp",
      requireSignature: true,
      signingCertificateFile: pinned,
    } satisfies MetadataSource);
  });

  it("refuses a pinned signer file that is missing, holds a key, or holds no certificate", () => {
    workspace.write("with-key.pem", `${signer.pem}${signer.privateKeyPem}`);
    workspace.write("no-cert.pem", "just some text\n");
    workspace.write(
      "broken.pem",
      "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
    );
    const rule = (name: string, file: string) =>
      `    - { match: { name: ${name} }, source: { type: metadata, url: 'https://idp.example/md', signing_certificate_file: ${file} } }`;
    const problems = expectProblems(
      load(
        [
          "rotation:",
          "  integrations:",
          rule("A", "./absent.pem"),
          rule("B", "./with-key.pem"),
          rule("C", "./no-cert.pem"),
          rule("D", "./broken.pem"),
          "    - { match: { name: E }, source: { type: metadata, url: 'https://idp.example/md', entity_id: '', require_signature: 1 } }",
        ].join("\n"),
      ),
    );
    const at = (index: number) => `rotation.integrations[${index}].source`;
    expect(problems.slice(0, 3)).toEqual([
      `${at(0)}.signing_certificate_file: file ${join(workspace.root, "absent.pem")} does not exist`,
      `${at(1)}.signing_certificate_file: file ${join(workspace.root, "with-key.pem")} holds a private key; give only the signer's certificate`,
      `${at(2)}.signing_certificate_file: file ${join(workspace.root, "no-cert.pem")} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ]);
    expect(problems[3]).toMatch(
      new RegExp(`^${at(3).replace(/[[\].]/g, "\\$&")}\\.signing_certificate_file: file .*broken\\.pem: `),
    );
    expect(problems.slice(4)).toEqual([
      `${at(4)}.entity_id: must not be empty`,
      `${at(4)}.require_signature: expected true or false, got 1`,
    ]);
    expect(problems.join("\n")).not.toContain("PRIVATE KEY");
  });
});

describe("https only, except to loopback hosts", () => {
  it.each([
    "http://127.0.0.1:8080",
    "http://127.9.8.7",
    "http://localhost:3000",
    "http://[::1]:8080",
    "https://api.sendgrid.com",
  ])("accepts %s", (url) => {
    const config = expectConfig(
      load(
        [
          `accounts: [{ name: a, api_key_env: SENDGRID_API_KEY, base_url: '${url}' }]`,
          withSource(`{ type: metadata, url: '${url}/metadata' }`),
        ].join("\n"),
      ),
    );
    expect(config.accounts[0]!.baseUrl).toBe(url);
  });

  it.each([
    "http://api.sendgrid.com",
    "http://10.0.0.1",
    "http://0.0.0.0:8080",
    "http://127.0.0.1.nip.io",
    "http://localhost.example.com",
    "http://[::ffff:127.0.0.1]",
    "http://[::2]",
  ])("refuses %s, naming the key", (url) => {
    const problems = expectProblems(
      load(
        [
          `accounts: [{ name: a, api_key_env: SENDGRID_API_KEY, base_url: '${url}' }]`,
          withSource(`{ type: metadata, url: '${url}/md' }`),
        ].join("\n"),
      ),
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^accounts\[0\]\.base_url: ".*": http:\/\/ is allowed only to a loopback host/,
    );
    expect(problems[1]).toMatch(
      /^rotation\.integrations\[0\]\.source\.url: ".*": http:\/\/ is allowed only to a loopback host/,
    );
  });

  it("names SENDGRID_API_BASE_URL when the override is plain http to another host", () => {
    const problems = expectProblems(
      loadConfig({
        env: { SENDGRID_API_KEY: "SG.x", SENDGRID_API_BASE_URL: "http://sendgrid.internal:8080" },
        cwd: workspace.root,
      }),
    );
    expect(problems).toEqual([
      `accounts[0].base_url (from SENDGRID_API_BASE_URL): "http://sendgrid.internal:8080": ${HTTP_ONLY_TO_LOOPBACK}`,
    ]);
  });
});
