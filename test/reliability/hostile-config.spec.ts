// Every configuration key, given an invalid value in the file and through its environment variable, is
// reported on a line that names its path. The list of keys is not written here: it is read from
// config/config.example.yaml (commented-out keys included) and from the schema itself, whose unknown-key
// message lists the keys of each mapping. A key added to either without a case below fails this test.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import bcrypt from "bcryptjs";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadConfig, type LoadResult } from "../../src/config/load.js";
import { makeCert } from "../helpers/make-cert.js";
import { createWorkspace, type Workspace } from "../helpers/workspace.js";

const EXAMPLE_FILE = resolve(import.meta.dirname, "../../config/config.example.yaml");
const KEY = "SG.config-test-key";
const PROBE = "zz_probe_key";
const HASH = bcrypt.hashSync("a password", 4);

type Document = Record<string, unknown>;

/** A valid document that holds every key, each list item where its key makes sense. */
function validDocument(): Document {
  return {
    accounts: [
      { name: "main", api_key_env: "SENDGRID_API_KEY", base_url: null, region: "global", on_behalf_of: null },
      { name: "from-file", api_key_file: "./api-key" },
      { name: "inline", api_key: "SG.inline-config-test-key" },
    ],
    schedule: "*/5 * * * *",
    listen: "0.0.0.0:9469",
    thresholds: { warning: "30d", critical: "7d" },
    http: { timeout: "15s", max_concurrency: 4, max_retries: 5 },
    web: {
      tls_server_config: { cert_file: "./tls.crt", key_file: "./tls.key", min_version: "TLS12" },
      basic_auth_users: { prometheus: HASH },
      bearer_token_file: "./token",
    },
    state_dir: "./data",
    log_level: "info",
    metrics: { expose_relative: false },
    rotation: {
      enabled: false,
      dry_run: false,
      rotate_before: "30d",
      overlap: "24h",
      delete_disabled_after: "never",
      max_rotations_per_cycle: 5,
      integrations: [
        {
          match: { name: "Okta" },
          source: { type: "file", path: "./certs/okta" },
          account: "main",
          rotate_before: "33%",
          overlap: "48h",
        },
        {
          match: { name: "Entra" },
          source: {
            type: "metadata",
            url: "https://idp.example/metadata.xml",
            entity_id: "https://idp.example/idp",
            require_signature: true,
            signing_certificate_file: "./signer.pem",
          },
        },
        { match: { id: "42" }, source: { type: "file", path: "./certs/other" } },
        {
          match: { name: "OktaApi" },
          source: {
            type: "okta",
            org_url: "https://example.okta.com",
            app_id: "0oa1b2c3d4e5f6g7h8i9",
            api_token_env: "OKTA_API_TOKEN",
            manage_keys: false,
            validity_years: 2,
          },
        },
        {
          match: { name: "OktaFile" },
          source: {
            type: "okta",
            org_url: "https://example.okta.com",
            app_id: "a",
            api_token_file: "./token",
          },
        },
        {
          match: { name: "EntraApi" },
          source: {
            type: "entra",
            tenant_id: "00000000-0000-0000-0000-000000000000",
            client_id: "11111111-1111-1111-1111-111111111111",
            client_secret_env: "ENTRA_CLIENT_SECRET",
            service_principal_id: "22222222-2222-2222-2222-222222222222",
            authority_url: "https://login.microsoftonline.com",
            graph_url: "https://graph.microsoft.com",
          },
        },
        {
          match: { name: "EntraFile" },
          source: {
            type: "entra",
            tenant_id: "t",
            client_id: "c",
            client_secret_file: "./token",
            service_principal_id: "s",
          },
        },
      ],
    },
  };
}

interface Case {
  /** The invalid value, written into the file or (as YAML) into the variable. */
  readonly value: unknown;
}

/** One invalid value per key path; `[]` stands for any item of a list. */
const CASES: Readonly<Record<string, Case>> = {
  accounts: { value: "main" },
  "accounts[].name": { value: "has space" },
  "accounts[].api_key_env": { value: "not a variable!" },
  "accounts[].api_key_file": { value: "./no-such-key-file" },
  "accounts[].api_key": { value: [1, 2] },
  "accounts[].base_url": { value: "ftp://example.com" },
  "accounts[].region": { value: "mars" },
  "accounts[].on_behalf_of": { value: [] },
  schedule: { value: "61 * * * *" },
  listen: { value: "localhost" },
  thresholds: { value: "soon" },
  "thresholds.warning": { value: "30x" },
  "thresholds.critical": { value: "-1d" },
  http: { value: 5 },
  "http.timeout": { value: "0s" },
  "http.max_concurrency": { value: 0 },
  "http.max_retries": { value: -1 },
  web: { value: "yes" },
  "web.tls_server_config": { value: "on" },
  "web.tls_server_config.cert_file": { value: "./missing.crt" },
  "web.tls_server_config.key_file": { value: "./missing.key" },
  "web.tls_server_config.min_version": { value: "SSL3" },
  "web.basic_auth_users": { value: ["prometheus"] },
  "web.basic_auth_users.prometheus": { value: "password123" },
  "web.bearer_token_file": { value: "./missing-token" },
  state_dir: { value: [] },
  log_level: { value: "verbose" },
  metrics: { value: [] },
  "metrics.expose_relative": { value: "maybe" },
  rotation: { value: "on" },
  "rotation.enabled": { value: "maybe" },
  "rotation.dry_run": { value: 2 },
  "rotation.rotate_before": { value: "120%" },
  "rotation.overlap": { value: "-1h" },
  "rotation.delete_disabled_after": { value: "forever" },
  "rotation.max_rotations_per_cycle": { value: 0 },
  "rotation.integrations": { value: "all" },
  "rotation.integrations[].match": { value: "Okta" },
  "rotation.integrations[].match.name": { value: [] },
  "rotation.integrations[].match.id": { value: -1 },
  "rotation.integrations[].source": { value: "file" },
  "rotation.integrations[].source.type": { value: "ftp" },
  "rotation.integrations[].source.path": { value: [] },
  "rotation.integrations[].source.url": { value: "http://idp.example/metadata.xml" },
  "rotation.integrations[].source.entity_id": { value: [] },
  "rotation.integrations[].source.require_signature": { value: "maybe" },
  "rotation.integrations[].source.signing_certificate_file": { value: "./no-such-signer.pem" },
  "rotation.integrations[].source.org_url": { value: "http://example.okta.com" },
  "rotation.integrations[].source.app_id": { value: "apps/../users" },
  "rotation.integrations[].source.api_token_env": { value: "not a variable!" },
  "rotation.integrations[].source.api_token_file": { value: "./no-such-token" },
  "rotation.integrations[].source.manage_keys": { value: "maybe" },
  "rotation.integrations[].source.validity_years": { value: 11 },
  "rotation.integrations[].source.tenant_id": { value: "a/b" },
  "rotation.integrations[].source.client_id": { value: [] },
  "rotation.integrations[].source.client_secret_env": { value: "not a variable!" },
  "rotation.integrations[].source.client_secret_file": { value: "./no-such-secret" },
  "rotation.integrations[].source.service_principal_id": { value: ".." },
  "rotation.integrations[].source.authority_url": { value: "http://login.example.com" },
  "rotation.integrations[].source.graph_url": { value: "ftp://graph.example.com" },
  "rotation.integrations[].account": { value: "no such account!" },
  "rotation.integrations[].rotate_before": { value: "0%" },
  "rotation.integrations[].overlap": { value: "1y" },
};

type Segment = string | number;

function format(path: readonly Segment[], item: (index: number) => string): string {
  return path.map((s, i) => (typeof s === "number" ? item(s) : i === 0 ? s : `.${s}`)).join("");
}

/** `accounts[0].name`, as problems name it. */
const pathText = (path: readonly Segment[]) => format(path, (index) => `[${index}]`);
/** `accounts[].name`: the key, whichever list item holds it. */
const general = (path: readonly Segment[]) => format(path, () => "[]");

/** Every key path of a document, lists entered item by item. */
function keyPaths(value: unknown, at: Segment[] = []): Segment[][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => keyPaths(item, [...at, i]));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, child]) => [[...at, key], ...keyPaths(child, [...at, key])]);
}

function setAt(doc: Document, path: readonly Segment[], value: unknown): void {
  let node = doc as Record<Segment, unknown>;
  for (const segment of path.slice(0, -1)) node = node[segment] as Record<Segment, unknown>;
  node[path.at(-1)!] = value;
}

/** The example with its commented-out keys (`# key: value`, one token at most) put back. */
function exampleKeys(): Set<string> {
  const text = readFileSync(EXAMPLE_FILE, "utf8")
    .split("\n")
    .map((line) => line.replace(/^(\s*)# ((?:\s*)(?:- )?[a-z_]+:(?: \S+)?)$/, "$1$2"))
    .join("\n");
  return new Set(keyPaths(parse(text)).map(general));
}

let workspace: Workspace;
let valid: Document;
let concrete: Map<string, Segment[]>;

beforeAll(async () => {
  workspace = createWorkspace();
  for (const file of ["tls.crt", "tls.key", "token", "api-key"]) workspace.write(file, "not empty\n");
  workspace.write("signer.pem", (await makeCert({ cn: "metadata-signer" })).pem);
  valid = validDocument();
  concrete = new Map();
  for (const path of keyPaths(valid)) if (!concrete.has(general(path))) concrete.set(general(path), path);
});

afterAll(() => {
  workspace.remove();
});

function load(doc: Document, env: Record<string, string> = {}): LoadResult {
  const file = workspace.write("config.yaml", stringify(doc));
  return loadConfig({
    file,
    env: {
      SENDGRID_API_KEY: KEY,
      OKTA_API_TOKEN: "okta-test-token",
      ENTRA_CLIENT_SECRET: "entra-test-secret",
      ...env,
    },
    cwd: workspace.root,
  });
}

function problems(result: LoadResult): readonly string[] {
  return result.ok ? [] : result.problems;
}

/** The keys the schema knows at each mapping of the valid document, read from its unknown-key message. */
function schemaKeys(): Set<string> {
  const found = new Set<string>();
  for (const path of [[], ...keyPaths(valid)]) {
    const doc = validDocument();
    let node: unknown = doc;
    for (const segment of path) node = (node as Record<Segment, unknown>)[segment];
    if (node === null || typeof node !== "object" || Array.isArray(node)) continue;
    setAt(doc, [...path, PROBE], 1);
    const line = problems(load(doc)).find((p) => p.startsWith(`${pathText([...path, PROBE])}: unknown key`));
    const known = /expected one of: (.*)\)$/.exec(line ?? "")?.[1];
    for (const key of known?.split(", ") ?? []) found.add(general([...path, key]));
  }
  return found;
}

describe("the configuration's keys", () => {
  test("the valid document used below loads", () => {
    expect(problems(load(validDocument()))).toEqual([]);
  });

  test("every key of the example and of the schema has a case here, and every case a key", () => {
    const keys = new Set([...exampleKeys(), ...schemaKeys()]);
    // The schema is probed at every mapping: a key found only there is still a key of the config.
    expect(keys.size).toBeGreaterThan(40);
    expect([...keys].sort()).toEqual(Object.keys(CASES).sort());
    for (const key of keys) expect(concrete.has(key), `the valid document holds ${key}`).toBe(true);
  });

  test.each(Object.entries(CASES))(
    "%s: an invalid value is reported with its path, from the file and the environment",
    (key, spec) => {
      const path = concrete.get(key);
      if (!path) throw new Error(`the valid document holds no ${key}`);
      const named = pathText(path);

      const inFile = validDocument();
      setAt(inFile, path, spec.value);
      const fromFile = problems(load(inFile));
      expect(fromFile.length, `${named} = ${JSON.stringify(spec.value)} was accepted`).toBeGreaterThan(0);
      expect(
        fromFile.filter((p) => p.startsWith(`${named}: `)),
        fromFile.join("\n"),
      ).toHaveLength(1);
      for (const problem of fromFile) expect(problem).not.toMatch(/SG\.(config-test|inline-config-test)-key/);

      const variable = `SSO_CERTS__${path.map((s) => String(s).toUpperCase()).join("__")}`;
      const fromEnv = problems(
        load(validDocument(), {
          // Flow style: a variable holding a block list is taken as text.
          [variable]: stringify(spec.value, { collectionStyle: "flow" }).trimEnd(),
        }),
      );
      expect(
        fromEnv.filter((p) => p.startsWith(`${named} (from ${variable}): `)),
        fromEnv.join("\n"),
      ).toHaveLength(1);
    },
  );
});
