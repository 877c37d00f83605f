import { describe, expect, it } from "vitest";
import { GraphEmulatorState, GraphStateError } from "../../../src/emulator/graph/state.js";

const DAY = 86_400_000;

describe("GraphEmulatorState history", () => {
  it("tells at every instant which certificate signed, across portal and API changes", async () => {
    let clock = new Date("2030-01-01T00:00:00Z");
    const state = new GraphEmulatorState(() => clock);
    const sp = state.addServicePrincipal({ displayName: "app" });
    const first = await state.addTokenSigningCertificate(sp.id, { displayName: "CN=first" });
    const t0 = clock;
    state.setPreferredThumbprint(sp.id, first.thumbprint);
    clock = new Date(clock.getTime() + DAY);
    const second = await state.addTokenSigningCertificate(sp.id, { displayName: "CN=second" }, "api");
    clock = new Date(clock.getTime() + DAY);
    const t2 = clock;
    state.setPreferredThumbprint(sp.id, second.thumbprint.toLowerCase(), "api");

    expect(state.signingCredentialAt(sp.id, new Date(t0.getTime() - 1))).toBeNull();
    expect(state.signingCredentialAt(sp.id, t0)?.customKeyIdentifier).toBe(first.customKeyIdentifier);
    expect(state.signingCredentialAt(sp.id, new Date(t2.getTime() - 1))?.customKeyIdentifier).toBe(
      first.customKeyIdentifier,
    );
    expect(state.signingCredentialAt(sp.id, t2)?.customKeyIdentifier).toBe(second.customKeyIdentifier);
    expect(state.signingThumbprint(sp.id)).toBe(second.thumbprint);
    expect(state.history.map((entry) => [entry.kind, entry.origin])).toEqual([
      ["certificate_added", "console"],
      ["activated", "console"],
      ["certificate_added", "api"],
      ["activated", "api"],
    ]);
  });

  it("signs with nothing when the preferred thumbprint names no certificate it holds", async () => {
    const state = new GraphEmulatorState(() => new Date("2030-01-01T00:00:00Z"));
    const sp = state.addServicePrincipal({ displayName: "app" });
    await state.addTokenSigningCertificate(sp.id, { displayName: "CN=held" });
    state.setPreferredThumbprint(sp.id, "00".repeat(20));
    expect(state.signingThumbprint(sp.id)).toBeNull();
  });

  it("refuses what Graph refuses, from the portal too", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const state = new GraphEmulatorState(() => now);
    const sp = state.addServicePrincipal({ displayName: "app" });
    await expect(state.addTokenSigningCertificate(sp.id, { displayName: "first" })).rejects.toBeInstanceOf(
      GraphStateError,
    );
    await expect(
      state.addTokenSigningCertificate(sp.id, {
        displayName: "CN=x",
        endDateTime: new Date("2033-01-01T00:00:01Z"),
      }),
    ).rejects.toThrow(/3 years/);
    await expect(state.addTokenSigningCertificate("nope", { displayName: "CN=x" })).rejects.toThrow(
      /no service principal/,
    );
    const exactlyThree = await state.addTokenSigningCertificate(sp.id, {
      displayName: "CN=x",
      endDateTime: new Date("2033-01-01T00:00:00Z"),
    });
    expect(exactlyThree.endDateTime.toISOString()).toBe("2033-01-01T00:00:00.000Z");
  });
});
