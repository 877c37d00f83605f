import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, SERVICE_NAME } from "../src/log.js";

function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { stream, lines };
}

const SECRETS = {
  authorization: "Bearer SG.top-level",
  headers: { authorization: "Bearer SG.in-headers", Authorization: "Bearer SG.capitalised" },
  request: { headers: { authorization: "Bearer SG.nested-headers" }, authorization: "Bearer SG.one-level" },
  apiKey: "SG.camel",
  account: { apiKey: "SG.camel-nested", api_key: "SG.snake-nested", name: "main" },
  api_key: "SG.snake",
};

describe("createLogger", () => {
  it("writes JSON lines with the service, a level name and an ISO time", () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: "info", destination: stream });
    logger.info({ account: "main" }, "scan finished");
    logger.debug("not at info");

    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({
      level: "info",
      service: SERVICE_NAME,
      account: "main",
      msg: "scan finished",
    });
    expect(new Date(entry.time as string).toISOString()).toBe(entry.time);
    expect(entry).not.toHaveProperty("pid");
  });

  it("redacts API keys and Authorization headers wherever the usual shapes put them", () => {
    const { stream, lines } = capture();
    createLogger({ level: "trace", destination: stream }).warn(SECRETS, "request failed");
    const output = lines.join("");
    expect(output).not.toContain("SG.");
    const entry = JSON.parse(output) as typeof SECRETS;
    expect(entry.headers.authorization).toBe("[redacted]");
    expect(entry.request.headers.authorization).toBe("[redacted]");
    expect(entry.account).toEqual({ apiKey: "[redacted]", api_key: "[redacted]", name: "main" });
  });

  it("writes readable lines when pretty, still redacted and filtered by level", () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: "debug", pretty: true, destination: stream });
    logger.debug({ account: "main" }, "scanning");
    logger.trace("too detailed");
    logger.error(SECRETS, "boom");

    const output = lines.join("");
    expect(output).toMatch(/DEBUG.*: scanning/);
    expect(output).toMatch(/ERROR.*: boom/);
    expect(output).not.toContain("too detailed");
    expect(output).not.toContain("SG.");
    expect(output).not.toMatch(/^\{/m);
    expect(output).not.toContain(SERVICE_NAME);
  });
});
