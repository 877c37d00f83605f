// `plan`, `rotate` and `rollback`: one scan, then the rotation machinery of the daemon with every one
// of its safety rules. `plan` only reads; the other two take the state_dir lock like the daemon does.

import { mkdir, readFile } from "node:fs/promises";
import type { Config } from "../../config/types.js";
import type { Inventory } from "../../core/inventory.js";
import { reconcile } from "../../core/journal.js";
import type { Offer } from "../../core/offer.js";
import { plan, type Action, type Note } from "../../core/plan.js";
import { matchRule } from "../../core/rules.js";
import { idpSettleMs, type CycleReport } from "../../rotation/rotator.js";
import { fileOffer } from "../../sources/file.js";
import { sourcesFor } from "../../sources/registry.js";
import { openRotation } from "../../rotation/setup.js";
import { scanAll } from "../../scan/inventory.js";
import { targetsFor } from "../../scan/targets.js";
import { UsageError, type CommandSpec, type OptionSpec, type ParsedArgs } from "../args.js";
import { configFrom, loggerFor, type Io } from "../context.js";
import { renderTable } from "../table.js";

const clock = { now: () => new Date() };

const TARGET_OPTIONS: Record<string, OptionSpec> = {
  integration: { type: "string", value: "ID", description: "integration id (required)" },
  account: { type: "string", value: "NAME", description: "account of the integration (default: any)" },
  "dry-run": { type: "boolean", description: "log what would be done; change nothing" },
};

function actionJson(action: Action) {
  const idp = "rollover" in action ? action.rollover : null;
  return {
    kind: action.kind,
    account: action.account,
    integration_id: action.integrationId,
    integration_name: action.integrationName,
    certificate_id:
      "certificateId" in action
        ? action.certificateId
        : "rotation" in action
          ? action.rotation.certificateId
          : null,
    fingerprint_sha256:
      "fingerprint" in action
        ? action.fingerprint
        : "rotation" in action
          ? action.rotation.fingerprint
          : (idp?.key?.fingerprint ?? null),
    idp_key_id: idp?.key?.id ?? null,
    reason: action.reason,
  };
}

function noteJson(note: Note) {
  return {
    level: note.level,
    account: note.account,
    integration_id: note.integrationId,
    message: note.message,
  };
}

function renderActions(actions: readonly Action[], notes: readonly Note[]): string {
  const table =
    actions.length === 0
      ? "Nothing to do now.\n"
      : renderTable(
          ["INTEGRATION", "ACTION", "CERTIFICATE", "REASON"],
          actions.map((a) => {
            const json = actionJson(a);
            const subject = json.idp_key_id ? `IdP key ${json.idp_key_id}` : (json.certificate_id ?? "new");
            return [`${a.integrationName} (${a.integrationId})`, a.kind, subject, a.reason];
          }),
        );
  const lines = notes.map((n) => `${n.level === "warn" ? "! " : "- "}${n.integrationName}: ${n.message}`);
  return lines.length > 0 ? `${table}\n${lines.join("\n")}\n` : table;
}

function scanFailures(inventory: Inventory): string[] {
  return inventory.accounts.filter((a) => a.error).map((a) => `${a.account}: ${a.error!.message}`);
}

export const planCommand: CommandSpec<Io> = {
  name: "plan",
  summary: "Scan once and print the rotation steps `run` would take now, with their reasons; changes nothing",
  async run(args, io) {
    const config = configFrom(args, io);
    const logger = loggerFor(config, io, "stderr");
    const { targets, close } = targetsFor(config);
    const sources = sourcesFor(config);
    try {
      const rotation = await openRotation({
        config,
        targets,
        sources,
        logger,
        clock,
        lock: false,
        dryRun: true,
      });
      const [scanned, offers] = await Promise.all([scanAll(targets, clock.now), sources.readAll()]);
      for (const failure of scanFailures(scanned)) logger.error(failure);
      const planned = plan({
        scanned,
        offers,
        rotation: config.rotation,
        journal: reconcile(rotation.rotator.current, scanned, clock.now()),
        now: clock.now(),
        idpSettleMs: idpSettleMs(config),
      });
      io.stdout.write(
        args.values.json
          ? JSON.stringify(
              {
                generated_at: clock.now().toISOString(),
                rotation_enabled: config.rotation.enabled,
                actions: planned.actions.map(actionJson),
                notes: planned.notes.map(noteJson),
              },
              null,
              2,
            ) + "\n"
          : (config.rotation.enabled ? "" : "(rotation.enabled is false: `run` only monitors)\n") +
              renderActions(planned.actions, planned.notes),
      );
      return scanFailures(scanned).length > 0 ? 1 : 0;
    } finally {
      await sources.close();
      await close();
    }
  },
};

function required(args: ParsedArgs, name: string, command: string): string {
  const value = args.values[name];
  if (typeof value !== "string")
    throw new UsageError(`missing --${name}`, `Usage: sendgrid-sso-certs ${command} --${name} ID [options]`);
  return value;
}

/** Finds the integration in the scan and the rule that allows touching it. */
function locate(config: Config, scanned: Inventory, integrationId: string, accountName: string | null) {
  for (const account of scanned.accounts) {
    if (accountName !== null && account.account !== accountName) continue;
    const found = account.integrations.find((i) => i.integration.id === integrationId);
    if (!found) continue;
    const rule = matchRule(config.rotation.integrations, account.account, found.integration);
    if (rule === null) {
      throw new UsageError(
        `no rotation.integrations rule matches integration ${integrationId} (${found.integration.name}); refusing to touch it`,
        "",
      );
    }
    return { account: account.account, rule };
  }
  const failed = scanFailures(scanned);
  throw new UsageError(
    `integration ${integrationId} not found${failed.length > 0 ? ` (scan failures: ${failed.join("; ")})` : ""}`,
    "",
  );
}

function report(io: Io, args: ParsedArgs, result: CycleReport): number {
  if (args.values.json) {
    io.stdout.write(
      JSON.stringify(
        {
          steps: result.steps.map((s) => ({ ...actionJson(s.action), result: s.result, message: s.message })),
          notes: result.notes.map(noteJson),
        },
        null,
        2,
      ) + "\n",
    );
  } else {
    const rows = result.steps.map((s) => [s.action.integrationName, s.action.kind, s.result, s.message]);
    io.stdout.write(
      rows.length > 0 ? renderTable(["INTEGRATION", "STEP", "RESULT", "DETAIL"], rows) : "No step taken.\n",
    );
    for (const note of result.notes)
      io.stdout.write(`${note.level === "warn" ? "! " : "- "}${note.message}\n`);
  }
  const failed = result.steps.some((s) => s.result === "failure");
  return failed || result.steps.length === 0 ? 1 : 0;
}

async function withRotator(
  args: ParsedArgs,
  io: Io,
  command: string,
  act: (context: {
    config: Config;
    scanned: Inventory;
    rotation: Awaited<ReturnType<typeof openRotation>>;
    integrationId: string;
    account: string;
    rule: number;
  }) => Promise<CycleReport>,
): Promise<number> {
  const config = configFrom(args, io);
  const integrationId = required(args, "integration", command);
  const accountName = typeof args.values.account === "string" ? args.values.account : null;
  // rotation.dry_run in the config makes every change a dry run, by hand as in the daemon.
  const dryRun = Boolean(args.values["dry-run"]) || config.rotation.dryRun;
  const logger = loggerFor(config, io, "stderr");
  const { targets, close } = targetsFor(config);
  const sources = sourcesFor(config);
  try {
    // A dry run takes no lock (the lock is what creates state_dir), yet audits what it would do there.
    if (dryRun) await mkdir(config.stateDir, { recursive: true });
    const rotation = await openRotation({ config, targets, sources, logger, clock, lock: !dryRun, dryRun });
    try {
      const scanned = await scanAll(targets, clock.now);
      const { account, rule } = locate(config, scanned, integrationId, accountName);
      return report(io, args, await act({ config, scanned, rotation, integrationId, account, rule }));
    } finally {
      await rotation.close();
    }
  } finally {
    await sources.close();
    await close();
  }
}

async function certificateOffer(path: string): Promise<Offer> {
  try {
    return fileOffer({ inputs: [{ origin: path, text: await readFile(path, "utf8") }], problems: [] });
  } catch (error) {
    throw new UsageError(
      `cannot read --cert ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      "",
    );
  }
}

export const rotateCommand: CommandSpec<Io> = {
  name: "rotate",
  summary: "Rotate one integration now (ignoring rotate_before), with every safety rule of the daemon",
  options: {
    ...TARGET_OPTIONS,
    cert: {
      type: "string",
      value: "FILE",
      description: "the replacement certificate (default: the rule's source)",
    },
  },
  run: (args, io) =>
    withRotator(args, io, "rotate", async ({ scanned, rotation, integrationId, account, rule }) => {
      const cert = typeof args.values.cert === "string" ? args.values.cert : null;
      const offers = cert ? new Map([[rule, await certificateOffer(cert)]]) : undefined;
      return rotation.rotator.cycle(scanned, {
        only: { account, integrationId, force: true },
        ...(offers ? { offers } : {}),
      });
    }),
};

export const rollbackCommand: CommandSpec<Io> = {
  name: "rollback",
  summary: "Undo an integration's last rotation: re-enable what it disabled, disable what it uploaded",
  options: TARGET_OPTIONS,
  run: (args, io) =>
    withRotator(args, io, "rollback", ({ scanned, rotation, integrationId, account, rule }) =>
      rotation.rotator.rollback(scanned, account, integrationId, rule),
    ),
};
