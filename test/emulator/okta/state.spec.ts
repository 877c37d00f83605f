// The emulated org's key store as an admin in the console changes it: keys made and activated with a
// history that tells, at any instant, which key the app signed with; and the refusals a console would give.
import { describe, expect, it } from "vitest";
import { OktaEmulatorState, UnknownAppError, UnknownKeyError } from "../../../src/emulator/okta/state.js";

function clock(start: string) {
  let time = Date.parse(start);
  return {
    now: () => new Date(time),
    advance: (ms: number) => {
      time += ms;
    },
  };
}

describe("OktaEmulatorState", () => {
  it("records every generation and activation, so signingKeyAt answers for any instant", async () => {
    const c = clock("2026-03-01T10:00:00Z");
    const state = new OktaEmulatorState(c.now, "dev-1");
    const app = await state.addApp({ id: "0oaapp", label: "App", keys: 1 });
    const first = app.activeKid!;
    c.advance(60_000);
    const second = await state.generateKey("0oaapp", 2);
    const generatedAt = c.now();
    c.advance(60_000);
    state.activateKey("0oaapp", second.kid, "api");
    const activatedAt = c.now();

    expect(state.history.map((e) => [e.kind, e.kid, e.origin])).toEqual([
      ["generate", first, "console"],
      ["activate", first, "console"],
      ["generate", second.kid, "console"],
      ["activate", second.kid, "api"],
    ]);
    expect(state.signingKeyAt("0oaapp", new Date(Date.parse("2026-03-01T09:00:00Z")))).toBeNull();
    expect(state.signingKeyAt("0oaapp", generatedAt)).toBe(first);
    expect(state.signingKeyAt("0oaapp", new Date(activatedAt.getTime() - 1))).toBe(first);
    expect(state.signingKeyAt("0oaapp", activatedAt)).toBe(second.kid);
    expect(state.app("0oaapp")!.activeKid).toBe(second.kid);
  });

  it("activating the active key again adds no history", async () => {
    const state = new OktaEmulatorState(() => new Date(), "dev-1");
    const app = await state.addApp({ label: "App" });
    const events = state.history.length;
    state.activateKey(app.id, app.activeKid!);
    expect(state.history).toHaveLength(events);
  });

  it("gives each key its own certificate, valid for the years asked", async () => {
    const state = new OktaEmulatorState(() => new Date("2026-03-01T10:00:00.500Z"), "dev-1");
    const app = await state.addApp({ label: "App", keys: 2, validityYears: 4 });
    const [a, b] = app.keys;
    expect(a!.kid).not.toBe(b!.kid);
    expect(a!.x5tS256).not.toBe(b!.x5tS256);
    expect(a!.created.toISOString()).toBe("2026-03-01T10:00:00.000Z");
    expect(a!.expiresAt.toISOString()).toBe("2030-03-01T10:00:00.000Z");
    expect(app.activeKid).toBe(b!.kid);
  });

  it("refuses unknown apps and keys, and validity outside 2..10 years", async () => {
    const state = new OktaEmulatorState(() => new Date(), "dev-1");
    const app = await state.addApp({ label: "App" });
    await expect(state.generateKey("0oanone", 2)).rejects.toBeInstanceOf(UnknownAppError);
    expect(() => state.activateKey(app.id, "nope")).toThrow(UnknownKeyError);
    await expect(state.generateKey(app.id, 1)).rejects.toBeInstanceOf(RangeError);
    await expect(state.generateKey(app.id, 11)).rejects.toBeInstanceOf(RangeError);
    expect(state.app(app.id)!.keys).toHaveLength(1);
  });
});
