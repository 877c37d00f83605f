// Logs are JSON lines unless asked otherwise (--log-format pretty, or a terminal): log_level debug
// changes how much is logged, never the format a log collector parses. pino-pretty is loaded only for a
// pretty logger.

import { createRequire } from "node:module";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { parseCommandArgs } from "../../src/cli/args.js";
import { runCommand } from "../../src/cli/specs.js";
import { ConfigError } from "../../src/cli/config-error.js";
import { configFrom, loggerFor, type Io } from "../../src/cli/context.js";

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const prettyLoaded = () =>
  Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes("/pino-pretty/"));

function logOnce(argv: string[], isTty: boolean): string {
  const stdout = new Collector();
  const io: Io = {
    stdout,
    stderr: new Collector(),
    env: { SENDGRID_API_KEY: "SG.test-key-0000000000000", LOG_LEVEL: "debug" },
    cwd: "/",
    isTty,
  };
  const config = configFrom(parseCommandArgs("sendgrid-sso-certs", runCommand, argv), io);
  loggerFor(config, io, "stdout").debug({ step: "test" }, "hello");
  return stdout.text;
}

describe("log format", () => {
  it("is JSON with log_level debug when not at a terminal, without loading pino-pretty", () => {
    const text = logOnce([], false);
    expect(JSON.parse(text)).toMatchObject({ level: "debug", msg: "hello", step: "test" });
    expect(prettyLoaded()).toBe(false);
    expect(JSON.parse(logOnce(["--log-format", "json"], true))).toMatchObject({ msg: "hello" });
    expect(prettyLoaded()).toBe(false);
  });

  it("is pretty when asked, or at a terminal", () => {
    const text = logOnce(["--log-format", "pretty"], false);
    expect(() => JSON.parse(text) as unknown).toThrow();
    expect(text).toContain("hello");
    expect(prettyLoaded()).toBe(true);
    expect(() => JSON.parse(logOnce([], true)) as unknown).toThrow();
  });

  it("refuses an unknown format", () => {
    expect(() => logOnce(["--log-format", "xml"], false)).toThrow(ConfigError);
  });
});
