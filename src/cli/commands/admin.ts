// Thin admin commands over every endpoint of the SSO API: `integrations …`, `certificates …`,
// `teammates …`, JSON out (`certificates list` a table, JSON with --json). They refuse what SendGrid's
// spec forbids or what would change nothing (a request with no field, an admin with a persona) before
// sending it, and refuse to send a private key anywhere.

import { readFile } from "node:fs/promises";
import { parseCertificate } from "../../certs/parse.js";
import type { Config } from "../../config/types.js";
import type { ApiCertificate } from "../../core/model.js";
import { SsoApi, type Persona } from "../../sendgrid/sso.js";
import { clientFor } from "../../scan/targets.js";
import { RefusedError, UsageError, type ParsedArgs } from "../args.js";
import { ConfigError } from "../config-error.js";
import { configFrom, type Io } from "../context.js";
import { INTEGRATION_FIELDS } from "../specs.js";
import { renderTable } from "../table.js";

function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === "string" ? value : undefined;
}

function requiredOption(args: ParsedArgs, name: string, command: string): string {
  const value = stringOption(args, name);
  if (value === undefined)
    throw new UsageError(`missing --${name}`, `Usage: sendgrid-sso-certs ${command} --help`);
  return value;
}

function booleanOption(args: ParsedArgs, name: string): boolean | undefined {
  const value = stringOption(args, name);
  if (value === undefined) return undefined;
  if (value === "true" || value === "false") return value === "true";
  throw new UsageError(`--${name} takes true or false, not '${value}'`, `Usage: sendgrid-sso-certs --help`);
}

function listOption(args: ParsedArgs, name: string): string[] | undefined {
  return stringOption(args, name)
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Runs `action` with the account's API and prints its result: JSON, or `render`'s text without --json. */
async function withApi<T>(
  args: ParsedArgs,
  io: Io,
  action: (api: SsoApi) => Promise<T>,
  render?: (result: T) => string,
): Promise<number> {
  const config: Config = configFrom(args, io);
  const wanted = stringOption(args, "account");
  const account = wanted ? config.accounts.find((a) => a.name === wanted) : config.accounts[0];
  if (!account) {
    throw new ConfigError([
      `--account: no account named "${wanted}" (have: ${config.accounts.map((a) => a.name).join(", ")})`,
    ]);
  }
  const client = clientFor(config, account);
  try {
    const result = await action(new SsoApi(client));
    io.stdout.write(
      render && args.values.json !== true
        ? render(result)
        : JSON.stringify(result ?? { ok: true }, null, 2) + "\n",
    );
    return 0;
  } finally {
    await client.close();
  }
}

async function readCertificateFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(
      `cannot read --cert ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      "",
    );
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new UsageError(
      `${path} holds a private key; refusing to send it to SendGrid (upload the certificate only)`,
      "",
    );
  }
  return text;
}

function integrationPatch(args: ParsedArgs) {
  const patch = {
    name: stringOption(args, "name"),
    enabled: booleanOption(args, "enabled"),
    entityId: stringOption(args, "entity-id"),
    signinUrl: stringOption(args, "signin-url"),
    signoutUrl: stringOption(args, "signout-url"),
    completedIntegration: booleanOption(args, "completed"),
  };
  if (Object.values(patch).every((value) => value === undefined)) {
    throw new RefusedError(
      `integrations update: nothing to change; give at least one of ${Object.keys(INTEGRATION_FIELDS)
        .map((f) => `--${f}`)
        .join(", ")}`,
    );
  }
  return patch;
}

function teammatePatch(args: ParsedArgs) {
  const persona = stringOption(args, "persona");
  if (persona !== undefined && !["accountant", "developer", "marketer", "observer"].includes(persona)) {
    throw new UsageError(
      `--persona must be accountant, developer, marketer or observer, not '${persona}'`,
      "",
    );
  }
  const patch = {
    firstName: stringOption(args, "first-name"),
    lastName: stringOption(args, "last-name"),
    isAdmin: booleanOption(args, "admin"),
    persona: persona as Persona | undefined,
    scopes: listOption(args, "scopes"),
  };
  // The spec (SsoTeammatesBaseRequestProps): an admin is given every scope, and persona and scopes are two
  // ways of granting the same thing; SendGrid refuses either mix.
  const grants = [patch.persona && "--persona", patch.scopes && "--scopes"].filter(Boolean);
  if (patch.isAdmin === true && grants.length > 0)
    throw new RefusedError(
      `--admin true gives every scope; it cannot be combined with ${grants.join(" or ")}`,
    );
  if (grants.length > 1) throw new RefusedError("give either --persona or --scopes, not both");
  return patch;
}

const SUBJECT_WIDTH = 60;

/** One row per certificate: what an operator compares, never the PEM. */
function certificateTable(certificates: readonly ApiCertificate[], now: Date): string {
  const rows = certificates.map((c) => {
    const parsed = parseCertificate(c.pem);
    const notAfter = c.notAfter ?? (parsed.ok ? parsed.certificate.notAfter : null);
    const state = c.enabled === null ? "not reported" : c.enabled ? "enabled" : "disabled";
    const expired = notAfter !== null && notAfter.getTime() <= now.getTime();
    const subject = parsed.ok ? parsed.certificate.subject : `unreadable: ${parsed.failure.message}`;
    return [
      c.id,
      expired ? `${state}, expired` : state,
      notAfter?.toISOString() ?? "-",
      parsed.ok ? parsed.certificate.fingerprintSha256 : "-",
      subject.length > SUBJECT_WIDTH ? `${subject.slice(0, SUBJECT_WIDTH - 1)}…` : subject,
    ];
  });
  if (rows.length === 0) return "no certificates\n";
  return renderTable(["ID", "STATUS", "NOT AFTER", "FINGERPRINT (SHA-256)", "SUBJECT"], rows);
}

// The commands' implementations; their names and options are in specs.ts.

export function listIntegrations(args: ParsedArgs, io: Io): Promise<number> {
  return withApi(args, io, (api) => api.listIntegrations({ si: Boolean(args.values.si) }));
}

export function getIntegration(args: ParsedArgs, io: Io): Promise<number> {
  return withApi(args, io, (api) =>
    api.getIntegration(args.positionals[0]!, { si: Boolean(args.values.si) }),
  );
}

export function createIntegration(args: ParsedArgs, io: Io): Promise<number> {
  const command = "integrations create";
  const input = {
    name: requiredOption(args, "name", command),
    entityId: requiredOption(args, "entity-id", command),
    signinUrl: requiredOption(args, "signin-url", command),
    signoutUrl: requiredOption(args, "signout-url", command),
    enabled: booleanOption(args, "enabled") ?? true,
    completedIntegration: booleanOption(args, "completed"),
  };
  return withApi(args, io, (api) => api.createIntegration(input));
}

export function updateIntegration(args: ParsedArgs, io: Io): Promise<number> {
  return withApi(args, io, (api) =>
    api.updateIntegration(args.positionals[0]!, integrationPatch(args), { si: Boolean(args.values.si) }),
  );
}

export function deleteIntegration(args: ParsedArgs, io: Io): Promise<number> {
  return withApi(args, io, (api) => api.deleteIntegration(args.positionals[0]!));
}

export function listCertificates(args: ParsedArgs, io: Io): Promise<number> {
  const integration = requiredOption(args, "integration", "certificates list");
  return withApi(
    args,
    io,
    (api) => api.listCertificates(integration),
    (certificates) => certificateTable(certificates, new Date()),
  );
}

export function getCertificate(args: ParsedArgs, io: Io): Promise<number> {
  return withApi(args, io, (api) => api.getCertificate(args.positionals[0]!));
}

export async function createCertificate(args: ParsedArgs, io: Io): Promise<number> {
  const integrationId = requiredOption(args, "integration", "certificates create");
  const pem = await readCertificateFile(requiredOption(args, "cert", "certificates create"));
  const enabled = booleanOption(args, "enabled") ?? true;
  return withApi(args, io, (api) => api.createCertificate({ integrationId, pem, enabled }));
}

export async function updateCertificate(args: ParsedArgs, io: Io): Promise<number> {
  const file = stringOption(args, "cert");
  const patch = {
    enabled: booleanOption(args, "enabled"),
    pem: file === undefined ? undefined : await readCertificateFile(file),
    integrationId: stringOption(args, "integration"),
  };
  const id = args.positionals[0]!;
  // Any 2xx applied the change; an answer without the certificate is read back.
  return withApi(args, io, async (api) => (await api.updateCertificate(id, patch)) ?? api.getCertificate(id));
}

export function deleteCertificate(args: ParsedArgs, io: Io): Promise<number> {
  return withApi(args, io, (api) => api.deleteCertificate(args.positionals[0]!));
}

export function createTeammate(args: ParsedArgs, io: Io): Promise<number> {
  const command = "teammates create";
  const input = {
    ...teammatePatch(args),
    email: requiredOption(args, "email", command),
    firstName: requiredOption(args, "first-name", command),
    lastName: requiredOption(args, "last-name", command),
  };
  return withApi(args, io, (api) => api.createTeammate(input));
}

export function updateTeammate(args: ParsedArgs, io: Io): Promise<number> {
  return withApi(args, io, (api) => api.updateTeammate(args.positionals[0]!, teammatePatch(args)));
}
