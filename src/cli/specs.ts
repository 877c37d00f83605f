// The table of commands: what args.ts needs of each (name, summary, positionals, options) and, in `run`,
// the one dynamic import of the module that does its work. `--version`, `--help`, a command's `--help`
// and every usage error are answered from this module alone; a command loads only what it runs (the
// daemon, the emulator, the rotation machinery, the API clients) once its arguments are parsed.

import { formatDuration } from "../core/durations.js";
import { JSON_OPTION, type CommandSpec, type OptionSpec } from "./args.js";
import type { Io } from "./context.js";

export const runCommand: CommandSpec<Io> = {
  name: "run",
  summary: "Run the daemon: scheduled scans, /metrics and the status page, rotation when enabled",
  run: async (args, io) => (await import("./commands/run.js")).runDaemon(args, io),
};

export const demoCommand: CommandSpec<Io> = {
  name: "demo",
  summary: "Run the daemon against the built-in emulator with sample integrations and a rotation to watch",
  options: {
    port: {
      type: "string",
      value: "N",
      description: "status page and /metrics port (default 9469; 0: any free)",
    },
    "emulator-port": { type: "string", value: "N", description: "emulator port (default: any free)" },
  },
  run: async (args, io) => (await import("./commands/demo.js")).runDemo(args, io),
};

/** Under the 10 s after which Nagios' check_nrpe gives up, so the check answers before it is killed. */
export const DEFAULT_CHECK_TIMEOUT_MS = 7_000;

export const checkCommand: CommandSpec<Io> = {
  name: "check",
  summary: "Scan once, print every integration's certificates, exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN)",
  options: {
    ...JSON_OPTION,
    timeout: {
      type: "string",
      value: "DURATION",
      description: `give up and say UNKNOWN after this long, retries included (default ${formatDuration(DEFAULT_CHECK_TIMEOUT_MS)})`,
    },
  },
  run: async (args, io) => (await import("./commands/check.js")).runCheck(args, io),
};

export const planCommand: CommandSpec<Io> = {
  name: "plan",
  summary: "Scan once and print the rotation steps `run` would take now, with their reasons; changes nothing",
  options: JSON_OPTION,
  run: async (args, io) => (await import("./commands/rotation.js")).runPlan(args, io),
};

const TARGET_OPTIONS: Record<string, OptionSpec> = {
  integration: {
    type: "string",
    value: "ID|NAME",
    description: "integration id, or its exact name when no other integration has it (required)",
  },
  account: { type: "string", value: "NAME", description: "account of the integration (default: any)" },
  "dry-run": { type: "boolean", description: "log what would be done; change nothing" },
  ...JSON_OPTION,
};

export const rotateCommand: CommandSpec<Io> = {
  name: "rotate",
  summary: "Rotate one integration now (ignoring rotate_before), with every safety rule of the daemon",
  options: {
    ...TARGET_OPTIONS,
    cert: {
      type: "string",
      value: "FILE",
      description: "the replacement certificate (default: the rule's source; required without a rule)",
    },
  },
  run: async (args, io) => (await import("./commands/rotation.js")).runRotate(args, io),
};

export const rollbackCommand: CommandSpec<Io> = {
  name: "rollback",
  summary: "Undo an integration's last rotation: re-enable what it disabled, disable what it uploaded",
  options: TARGET_OPTIONS,
  run: async (args, io) => (await import("./commands/rotation.js")).runRollback(args, io),
};

const ACCOUNT_OPTION: Record<string, OptionSpec> = {
  account: { type: "string", value: "NAME", description: "account from the config (default: the first)" },
};
const ID = [{ name: "id", required: true }] as const;

export const INTEGRATION_FIELDS: Record<string, OptionSpec> = {
  name: { type: "string", value: "NAME", description: "display name" },
  enabled: { type: "string", value: "true|false", description: "whether the integration is enabled" },
  "entity-id": { type: "string", value: "URL", description: "the IdP's entity ID (issuer)" },
  "signin-url": { type: "string", value: "URL", description: "the IdP's SAML sign-in URL" },
  "signout-url": { type: "string", value: "URL", description: "the IdP's sign-out URL" },
  completed: { type: "string", value: "true|false", description: "completed_integration" },
};
const SI_OPTION: Record<string, OptionSpec> = {
  si: { type: "boolean", description: "include completed_integration (si=true)" },
};

const TEAMMATE_FIELDS: Record<string, OptionSpec> = {
  "first-name": { type: "string", value: "NAME", description: "first name" },
  "last-name": { type: "string", value: "NAME", description: "last name" },
  admin: { type: "string", value: "true|false", description: "make the teammate an administrator" },
  persona: { type: "string", value: "NAME", description: "accountant, developer, marketer or observer" },
  scopes: { type: "string", value: "A,B", description: "comma-separated scopes" },
};

/** Thin admin commands over every endpoint of the SSO API (src/cli/commands/admin.ts). */
export const adminCommands: readonly CommandSpec<Io>[] = [
  {
    name: "integrations list",
    summary: "List SSO integrations (GET /v3/sso/integrations)",
    options: { ...SI_OPTION, ...ACCOUNT_OPTION },
    run: async (args, io) => (await import("./commands/admin.js")).listIntegrations(args, io),
  },
  {
    name: "integrations get",
    summary: "Show one SSO integration",
    positionals: ID,
    options: { ...SI_OPTION, ...ACCOUNT_OPTION },
    run: async (args, io) => (await import("./commands/admin.js")).getIntegration(args, io),
  },
  {
    name: "integrations create",
    summary: "Create an SSO integration",
    options: { ...INTEGRATION_FIELDS, ...ACCOUNT_OPTION },
    run: async (args, io) => (await import("./commands/admin.js")).createIntegration(args, io),
  },
  {
    name: "integrations update",
    summary: "Change fields of an SSO integration (only those given are sent)",
    positionals: ID,
    options: { ...INTEGRATION_FIELDS, ...SI_OPTION, ...ACCOUNT_OPTION },
    run: async (args, io) => (await import("./commands/admin.js")).updateIntegration(args, io),
  },
  {
    name: "integrations delete",
    summary: "Delete an SSO integration",
    positionals: ID,
    options: ACCOUNT_OPTION,
    run: async (args, io) => (await import("./commands/admin.js")).deleteIntegration(args, io),
  },
  {
    name: "certificates list",
    summary: "List the certificates of an integration",
    options: {
      integration: { type: "string", value: "ID", description: "integration id (required)" },
      ...JSON_OPTION,
      ...ACCOUNT_OPTION,
    },
    run: async (args, io) => (await import("./commands/admin.js")).listCertificates(args, io),
  },
  {
    name: "certificates get",
    summary: "Show one certificate",
    positionals: ID,
    options: ACCOUNT_OPTION,
    run: async (args, io) => (await import("./commands/admin.js")).getCertificate(args, io),
  },
  {
    name: "certificates create",
    summary:
      "Upload a certificate to an integration (no safety checks beyond refusing private keys; see `rotate`)",
    options: {
      integration: { type: "string", value: "ID", description: "integration id (required)" },
      cert: { type: "string", value: "FILE", description: "PEM file (required)" },
      enabled: { type: "string", value: "true|false", description: "enable it at once (default true)" },
      ...ACCOUNT_OPTION,
    },
    run: async (args, io) => (await import("./commands/admin.js")).createCertificate(args, io),
  },
  {
    name: "certificates update",
    summary: "Enable/disable a certificate or replace its PEM (only the fields given are sent)",
    positionals: ID,
    options: {
      enabled: { type: "string", value: "true|false", description: "enable or disable" },
      cert: { type: "string", value: "FILE", description: "new PEM" },
      integration: { type: "string", value: "ID", description: "move to another integration" },
      ...ACCOUNT_OPTION,
    },
    run: async (args, io) => (await import("./commands/admin.js")).updateCertificate(args, io),
  },
  {
    name: "certificates delete",
    summary: "Delete a certificate",
    positionals: ID,
    options: ACCOUNT_OPTION,
    run: async (args, io) => (await import("./commands/admin.js")).deleteCertificate(args, io),
  },
  {
    name: "teammates create",
    summary: "Create an SSO teammate",
    options: {
      email: { type: "string", value: "EMAIL", description: "email (required)" },
      ...TEAMMATE_FIELDS,
      ...ACCOUNT_OPTION,
    },
    run: async (args, io) => (await import("./commands/admin.js")).createTeammate(args, io),
  },
  {
    name: "teammates update",
    summary: "Change an SSO teammate's name or permissions",
    positionals: [{ name: "username", required: true }],
    options: { ...TEAMMATE_FIELDS, ...ACCOUNT_OPTION },
    run: async (args, io) => (await import("./commands/admin.js")).updateTeammate(args, io),
  },
];

export const emulatorCommand: CommandSpec<Io> = {
  name: "emulator",
  summary: "Serve the SendGrid SSO API emulator (in-memory) for trying the tool without an account",
  options: {
    port: { type: "string", value: "N", description: "port (default 3030; 0 picks a free one)" },
    host: { type: "string", value: "HOST", description: "address to bind (default 127.0.0.1)" },
    seed: { type: "string", value: "demo|empty|FILE", description: "initial data (default demo)" },
  },
  run: async (args, io) => (await import("./commands/emulator.js")).runEmulator(args, io),
};

/** Every command, in the order of the program's help. */
export const COMMANDS: readonly CommandSpec<Io>[] = [
  runCommand,
  demoCommand,
  checkCommand,
  planCommand,
  rotateCommand,
  rollbackCommand,
  ...adminCommands,
  emulatorCommand,
];
