import { beforeAll, describe, expect, it } from "vitest";
import { carryForward } from "../../src/core/carry-forward.js";
import type { ScannedCertificate } from "../../src/core/inventory.js";
import {
  account,
  integration,
  inventoryOf,
  parsedCert,
  scanned,
  scannedIntegration,
} from "../helpers/inventory.js";

const NOW = new Date("2030-01-01T00:00:00Z");
const LATER = new Date("2030-01-01T00:05:00Z");
const DOWN = { reason: "http_5xx", message: "HTTP 503" } as const;

let okta: ScannedCertificate;
let entra: ScannedCertificate;
let replacement: ScannedCertificate;

beforeAll(async () => {
  okta = scanned({ id: "1", pem: (await parsedCert({ now: NOW, cn: "okta" })).pem });
  entra = scanned({ id: "2", pem: (await parsedCert({ now: NOW, cn: "entra" })).pem });
  replacement = scanned({ id: "3", pem: (await parsedCert({ now: NOW, cn: "okta-next" })).pem });
});

describe("carryForward", () => {
  it("returns the current scan when there is no previous one", () => {
    const current = inventoryOf(account("main", [scannedIntegration(integration("a"), null, DOWN)]));
    expect(carryForward(null, current)).toBe(current);
  });

  it("takes a fully successful scan as it is: changes and removals show at once", () => {
    const previous = inventoryOf(
      account("main", [
        scannedIntegration(integration("a"), [okta]),
        scannedIntegration(integration("b"), [entra]),
      ]),
    );
    const current = inventoryOf(
      account("main", [scannedIntegration(integration("a"), [replacement])], { at: LATER }),
    );
    expect(carryForward(previous, current)).toEqual(current);
  });

  it("keeps the last certificates of an integration whose listing failed, and its error", () => {
    const previous = inventoryOf(
      account("main", [
        scannedIntegration(integration("a"), [okta]),
        scannedIntegration(integration("b"), [entra]),
      ]),
    );
    const current = inventoryOf(
      account(
        "main",
        [
          scannedIntegration(integration("a", { name: "Okta renamed" }), null, DOWN),
          scannedIntegration(integration("b"), []),
        ],
        { at: LATER },
      ),
    );
    const carried = carryForward(previous, current).accounts[0]!;
    expect(carried.finishedAt).toEqual(LATER);
    expect(carried.integrations[0]).toEqual({
      integration: integration("a", { name: "Okta renamed" }),
      certificates: [okta],
      error: DOWN,
    });
    // b was read fine and has no certificates any more: nothing is carried.
    expect(carried.integrations[1]!.certificates).toEqual([]);
  });

  it("leaves a failed integration without certificates when it was never read before", () => {
    const previous = inventoryOf(account("main", [scannedIntegration(integration("a"), [okta])]));
    const current = inventoryOf(account("main", [scannedIntegration(integration("new"), null, DOWN)]));
    expect(carryForward(previous, current).accounts[0]!.integrations).toEqual([
      { integration: integration("new"), certificates: null, error: DOWN },
    ]);
  });

  it("keeps every integration of an account that could not be listed, with the account's error", () => {
    const previous = inventoryOf(
      account("main", [
        scannedIntegration(integration("a"), [okta]),
        scannedIntegration(integration("b"), [entra]),
      ]),
    );
    const current = inventoryOf(account("main", [], { error: DOWN, at: LATER }));
    const carried = carryForward(previous, current).accounts[0]!;
    expect(carried.error).toEqual(DOWN);
    expect(carried.startedAt).toEqual(LATER);
    expect(carried.integrations).toEqual(previous.accounts[0]!.integrations);
  });

  it("keeps what a failure in a chain of scans carried: two outages in a row still show the last data", () => {
    const first = inventoryOf(account("main", [scannedIntegration(integration("a"), [okta])]));
    const second = carryForward(first, inventoryOf(account("main", [], { error: DOWN })));
    const third = carryForward(
      second,
      inventoryOf(account("main", [scannedIntegration(integration("a"), null, DOWN)])),
    );
    expect(third.accounts[0]!.integrations[0]!.certificates).toEqual([okta]);
  });

  it("carries per account: one account's outage does not touch another", () => {
    const previous = inventoryOf(
      account("main", [scannedIntegration(integration("a"), [okta])]),
      account("eu", [scannedIntegration(integration("b"), [entra])]),
    );
    const current = inventoryOf(
      account("main", [], { error: DOWN }),
      account("eu", [scannedIntegration(integration("b"), [replacement])]),
      account("new", [], { error: DOWN }),
    );
    const carried = carryForward(previous, current);
    expect(carried.accounts.map((a) => [a.account, a.integrations.map((i) => i.certificates)])).toEqual([
      ["main", [[okta]]],
      ["eu", [[replacement]]],
      ["new", []],
    ]);
  });
});
