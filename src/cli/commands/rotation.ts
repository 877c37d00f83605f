// `plan`, `rotate` and `rollback`: one scan, then the rotation machinery of the daemon with every one
// of its safety rules. `plan` only reads; the other two take the state_dir lock like the daemon does.

import { mkdir, readFile } from "node:fs/promises";
import type { Config, RotationRule } from "../../config/types.js";
import type { Inventory } from "../../core/inventory.js";
import type { Integration } from "../../core/model.js";
import { reconcile } from "../../core/journal.js";
import type { Offer } from "../../core/offer.js";
import { plan, type Action, type Note } from "../../core/plan.js";
import { matchRule } from "../../core/rules.js";
import { settleMs, type CycleReport } from "../../rotation/rotator.js";
import { fileOffer } from "../../sources/file.js";
import { sourcesFor, type Sources } from "../../sources/registry.js";
import { openRotation } from "../../rotation/setup.js";
import { scanAll } from "../../scan/inventory.js";
import { targetsFor } from "../../scan/targets.js";
import { RefusedError, UsageError, type ParsedArgs } from "../args.js";
import { configFrom, loggerFor, type Io } from "../context.js";
import { renderTable } from "../table.js";

const clock = { now: () => new Date() };

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

function stepSubject(json: ReturnType<typeof actionJson>): string {
  return json.idp_key_id ? `IdP key ${json.idp_key_id}` : (json.certificate_id ?? "new");
}

function renderActions(actions: readonly Action[], notes: readonly Note[]): string {
  const table =
    actions.length === 0
      ? "Nothing to do now.\n"
      : renderTable(
          ["INTEGRATION", "ACTION", "CERTIFICATE", "REASON"],
          actions.map((a) => {
            return [
              `${a.integrationName} (${a.integrationId})`,
              a.kind,
              stepSubject(actionJson(a)),
              a.reason,
            ];
          }),
        );
  const lines = notes.map((n) => `${n.level === "warn" ? "! " : "- "}${n.integrationName}: ${n.message}`);
  return lines.length > 0 ? `${table}\n${lines.join("\n")}\n` : table;
}

function scanFailures(inventory: Inventory): string[] {
  return inventory.accounts.filter((a) => a.error).map((a) => `${a.account}: ${a.error!.message}`);
}

export async function runPlan(args: ParsedArgs, io: Io): Promise<number> {
  const config = configFrom(args, io);
  const logger = loggerFor(config, io, "stderr");
  const sources = await sourcesFor(config);
  const { targets, close } = targetsFor(config);
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
      settleMs: settleMs(config),
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
}

function required(args: ParsedArgs, name: string, command: string): string {
  const value = args.values[name];
  if (typeof value !== "string")
    throw new UsageError(
      `missing --${name}`,
      `Usage: sendgrid-sso-certs ${command} --${name} ID|NAME [options]`,
    );
  return value;
}

interface Located {
  readonly account: string;
  readonly integration: Integration;
  /** The rotation rule that matches it, if any: `rotate --cert` and `rollback` need none. */
  readonly rule: number | null;
}

/**
 * Finds the integration by id, or by its exact name when that names one integration only: ids are what
 * the API takes, names are what people see in `check` and on the status page.
 */
function locate(config: Config, scanned: Inventory, reference: string, accountName: string | null): Located {
  const found: Located[] = [];
  for (const account of scanned.accounts) {
    if (accountName !== null && account.account !== accountName) continue;
    for (const { integration } of account.integrations) {
      if (integration.id === reference || integration.name === reference) {
        const rule = matchRule(config.rotation.integrations, account.account, integration);
        found.push({ account: account.account, integration, rule });
      }
    }
  }
  const byId = found.filter((f) => f.integration.id === reference);
  if (byId.length === 1) return byId[0]!;
  if (byId.length === 0 && found.length === 1) return found[0]!;
  if (found.length > 1) {
    const listed = found.map((f) => `${f.account}/${f.integration.id} (${f.integration.name})`).join(", ");
    throw new RefusedError(
      `--integration ${reference} matches ${found.length} integrations: ${listed}; give the id${
        byId.length > 1 ? " and --account" : ""
      }`,
    );
  }
  const failed = scanFailures(scanned);
  throw new RefusedError(
    `integration ${reference} not found${failed.length > 0 ? ` (scan failures: ${failed.join("; ")})` : ""}`,
  );
}

/**
 * A rule for an integration no rule matches, only for this one command: `rotate --cert` and `rollback`
 * need no configured source (the certificate comes from --cert, a rollback reads none), and every safety
 * rule of the planner still applies. Rules are matched in order, so the appended one never shadows a
 * configured rule.
 */
function withAdHocRule(config: Config, sources: Sources, target: Located, offer: Offer, path: string) {
  const index = config.rotation.integrations.length;
  const rule: RotationRule = {
    account: target.account,
    match: { id: target.integration.id },
    source: { type: "file", path },
    rotateBefore: config.rotation.rotateBefore,
    overlapMs: config.rotation.overlapMs,
  };
  const rules = [...config.rotation.integrations, rule];
  const extended: Sources = {
    rules,
    read: (i) => (i === index ? Promise.resolve(offer) : sources.read(i)),
    async readAll(wanted = () => true) {
      const offers = await sources.readAll(wanted);
      if (wanted(index)) offers.set(index, offer);
      return offers;
    },
    port: (i) => (i === index ? null : sources.port(i)),
    close: () => sources.close(),
  };
  return { config: { ...config, rotation: { ...config.rotation, integrations: rules } }, sources: extended };
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
    // The certificate of each step, named the same in a dry run as in the real one.
    const rows = result.steps.map((s) => [
      s.action.integrationName,
      s.action.kind,
      stepSubject(actionJson(s.action)),
      s.result,
      s.message,
    ]);
    io.stdout.write(
      rows.length > 0
        ? renderTable(["INTEGRATION", "STEP", "CERTIFICATE", "RESULT", "DETAIL"], rows)
        : "No step taken.\n",
    );
    for (const note of result.notes)
      io.stdout.write(`${note.level === "warn" ? "! " : "- "}${note.message}\n`);
  }
  const failed = result.steps.some((s) => s.result === "failure");
  return failed || result.steps.length === 0 ? 1 : 0;
}

interface RotatorContext {
  readonly scanned: Inventory;
  readonly rotation: Awaited<ReturnType<typeof openRotation>>;
  readonly integrationId: string;
  readonly account: string;
  readonly rule: number;
}

async function withRotator(
  args: ParsedArgs,
  io: Io,
  command: "rotate" | "rollback",
  /** The offer for an integration no rule matches; null refuses it, with the reason. */
  adHoc: (target: Located) => Promise<{ offer: Offer; path: string } | string>,
  act: (context: RotatorContext) => Promise<CycleReport>,
): Promise<number> {
  const loaded = configFrom(args, io, { stateDir: true });
  const reference = required(args, "integration", command);
  const accountName = typeof args.values.account === "string" ? args.values.account : null;
  // rotation.dry_run in the config makes every change a dry run, by hand as in the daemon.
  const dryRun = Boolean(args.values["dry-run"]) || loaded.rotation.dryRun;
  const logger = loggerFor(loaded, io, "stderr");
  let sources = await sourcesFor(loaded);
  const { targets, close } = targetsFor(loaded);
  try {
    const scanned = await scanAll(targets, clock.now);
    const target = locate(loaded, scanned, reference, accountName);
    let config = loaded;
    let rule = target.rule;
    if (rule === null) {
      const offered = await adHoc(target);
      if (typeof offered === "string") throw new RefusedError(offered);
      ({ config, sources } = withAdHocRule(loaded, sources, target, offered.offer, offered.path));
      rule = config.rotation.integrations.length - 1;
    }
    // A dry run takes no lock (the lock is what creates state_dir), yet audits what it would do there.
    if (dryRun) await mkdir(config.stateDir, { recursive: true });
    const rotation = await openRotation({ config, targets, sources, logger, clock, lock: !dryRun, dryRun });
    try {
      const integrationId = target.integration.id;
      return report(io, args, await act({ scanned, rotation, integrationId, account: target.account, rule }));
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
    throw new RefusedError(
      `cannot read --cert ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}

const certPath = (args: ParsedArgs) => (typeof args.values.cert === "string" ? args.values.cert : null);

export function runRotate(args: ParsedArgs, io: Io): Promise<number> {
  return withRotator(
    args,
    io,
    "rotate",
    async ({ integration }) => {
      const cert = certPath(args);
      if (cert === null)
        return `no rotation.integrations rule matches integration ${integration.id} (${integration.name}), so there is no source to take a certificate from: give --cert FILE`;
      return { offer: await certificateOffer(cert), path: cert };
    },
    async ({ scanned, rotation, integrationId, account, rule }) => {
      const cert = certPath(args);
      const offers = cert ? new Map([[rule, await certificateOffer(cert)]]) : undefined;
      return rotation.rotator.cycle(scanned, {
        only: { account, integrationId, force: true },
        ...(offers ? { offers } : {}),
      });
    },
  );
}

/** Undoing a SendGrid-side rotation reads no source; only an IdP rollover needs its rule's IdP. */
export function runRollback(args: ParsedArgs, io: Io): Promise<number> {
  return withRotator(
    args,
    io,
    "rollback",
    () => Promise.resolve({ offer: fileOffer({ inputs: [], problems: [] }), path: "(none)" }),
    ({ scanned, rotation, integrationId, account, rule }) =>
      rotation.rotator.rollback(scanned, account, integrationId, rule),
  );
}
