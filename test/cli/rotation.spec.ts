// The CLI as an operator at 3 a.m. meets it (main() in-process, against the emulator): `rotate --cert` and
// `rollback` need no rotation rule, `--integration` takes the name shown by `check` when it is unambiguous,
// a dry run names the certificates it would touch, and every command group explains itself.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeCert } from "../helpers/make-cert.js";
import { runCli } from "../helpers/run-cli.js";
import { openBench, type Bench } from "../rotation/bench.js";

const DUO = "int-duo";

let bench: Bench | null = null;

afterEach(async () => {
  await bench?.close();
  bench = null;
});

/** Duo, expiring in 5 days, and no rotation rule at all: monitor only, as after a fresh install. */
async function setup() {
  const b = (bench = await openBench());
  const now = new Date();
  const old = await makeCert({ cn: "duo-old", now, fromDays: -360, toDays: 5 });
  const next = await makeCert({ cn: "duo-next", now, fromDays: -1, toDays: 730 });
  b.emulator.state.addIntegration({ id: DUO, name: "Duo" });
  const oldId = String(
    b.emulator.state.addCertificate({ integrationId: DUO, pem: old.pem, enabled: true }).id,
  );
  const file = join(b.dir, "duo-next.pem");
  await writeFile(file, next.pem);
  const configFile = await b.writeConfig({ rotation: { overlap: "0s" } });
  const cli = (...argv: string[]) => runCli([...argv, "--config", configFile], { env: b.env, cwd: b.dir });
  const newId = () => String(b.certificates(DUO).find((c) => c.pem === next.pem)!.id);
  return { b, file, oldId, newId, cli };
}

describe("rotate and rollback without a rotation rule", () => {
  it("rotate --cert uploads, verifies and disables the old one, as the runbook says", async () => {
    const { b, file, oldId, newId, cli } = await setup();
    const run = await cli("rotate", "--integration", DUO, "--cert", file);
    expect(run.stderr).not.toContain("refusing");
    expect(run.code).toBe(0);
    expect(b.mutations().map((m) => `${m.method} ${m.path}`)).toEqual([
      "POST /v3/sso/certificates",
      `PATCH /v3/sso/certificates/${oldId}`,
    ]);
    expect(b.certificates(DUO).map((c) => [String(c.id), c.enabled])).toEqual([
      [oldId, false],
      [newId(), true],
    ]);
  });

  it("rotate --cert still applies every safety rule: a 1024-bit key is refused", async () => {
    const { b, cli } = await setup();
    const weak = await makeCert({ cn: "weak", toDays: 300, key: { kind: "rsa", bits: 1024 } });
    const file = join(b.dir, "weak.pem");
    await writeFile(file, weak.pem);
    const run = await cli("rotate", "--integration", DUO, "--cert", file);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/RSA key of 1024 bits; at least 2048 required/);
    expect(b.mutations()).toEqual([]);
  });

  it("rollback --dry-run names the certificates it would enable and disable; the real run does them", async () => {
    const { b, file, oldId, newId, cli } = await setup();
    expect((await cli("rotate", "--integration", DUO, "--cert", file)).code).toBe(0);
    b.emulator.clearLog();

    const dry = await cli("rollback", "--integration", DUO, "--dry-run");
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`^Duo\\s+enable\\s+${oldId}\\s+dry_run\\s`, "m"));
    expect(dry.stdout).toMatch(new RegExp(`^Duo\\s+disable\\s+${newId()}\\s+dry_run\\s`, "m"));
    expect(b.mutations()).toEqual([]);

    const real = await cli("rollback", "--integration", DUO);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(new RegExp(`^Duo\\s+enable\\s+${oldId}\\s+success\\s`, "m"));
    expect(real.stdout).toMatch(new RegExp(`^Duo\\s+disable\\s+${newId()}\\s+success\\s`, "m"));
    expect(b.certificates(DUO).map((c) => [String(c.id), c.enabled])).toEqual([
      [oldId, true],
      [newId(), false],
    ]);
  });
});

describe("--integration by name", () => {
  it("takes the name check shows when only one integration has it", async () => {
    const { b, file, cli } = await setup();
    const run = await cli("rotate", "--integration", "Duo", "--cert", file, "--dry-run");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Duo\s+upload\s+new\s+dry_run\s/m);
    expect(b.mutations()).toEqual([]);
  });

  it("lists the matches of an ambiguous name and touches nothing", async () => {
    const { b, file, cli } = await setup();
    b.emulator.state.addIntegration({ id: "int-duo-2", name: "Duo" });
    const run = await cli("rotate", "--integration", "Duo", "--cert", file);
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toBe(
      "sendgrid-sso-certs: --integration Duo matches 2 integrations: main/int-duo (Duo), main/int-duo-2 (Duo); give the id\n",
    );
    expect(b.mutations()).toEqual([]);
  });

  it("says in one line, without a usage text, when nothing has that id or name", async () => {
    const { cli } = await setup();
    const run = await cli("rollback", "--integration", "Okta");
    expect(run).toEqual({ code: 2, stdout: "", stderr: "sendgrid-sso-certs: integration Okta not found\n" });
  });
});

describe("usage and help", () => {
  const cli = (...argv: string[]) => runCli(argv, { env: {}, cwd: process.cwd() });

  it.each(["integrations", "certificates", "teammates"])("%s --help lists its commands", async (group) => {
    const help = await cli(group, "--help");
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout.split("\n")[0]).toMatch(
      new RegExp(`^Usage: sendgrid-sso-certs ${group} <[a-z|]+> \\[options\\]$`),
    );
    expect(help.stdout).toMatch(new RegExp(`^  ${group} create\\s`, "m"));
    expect(help.stdout).not.toMatch(/^ {2}check\s/m);
  });

  it("prints a subcommand's own usage for its --help", async () => {
    const help = await cli("certificates", "update", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout.split("\n")[0]).toMatch(/^Usage: sendgrid-sso-certs certificates update /);
  });

  it("answers a group without a command, or with an unknown one, with the group's usage", async () => {
    const help = (await cli("integrations", "--help")).stdout;
    expect(await cli("integrations")).toEqual({
      code: 2,
      stdout: "",
      stderr: `sendgrid-sso-certs: integrations needs a command\n\n${help}`,
    });
    const unknown = await cli("integrations", "frob");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(`sendgrid-sso-certs: unknown command 'integrations frob'\n\n${help}`);
  });

  it("prints the usage of the command that was misused, not the program's", async () => {
    const help = (await cli("rotate", "--help")).stdout;
    const run = await cli("rotate", "--cert");
    expect(run).toEqual({
      code: 2,
      stdout: "",
      stderr: `sendgrid-sso-certs: Option '--cert <value>' argument missing\n\n${help}`,
    });
  });
});
