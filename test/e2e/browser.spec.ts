// The status page as a person sees it, in a real headless Chromium driven over the DevTools protocol,
// while the daemon rotates a certificate as in the demo: the header says why the status is what it is,
// rotations are listed by name with their next step, a disabled certificate reads "disabled", and no
// timestamp wraps mid-date. .ci/run installs Chromium, so in CI (CI set) a missing browser fails the test.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Daemon } from "../../src/daemon.js";
import { findBinary } from "../helpers/binaries.js";
import { makeCert } from "../helpers/make-cert.js";
import { startProcess, waitFor, type Background } from "../helpers/processes.js";
import { openBench, type Bench } from "../rotation/bench.js";

const chromium = findBinary("chromium", "chromium-browser", "google-chrome");
if (!chromium && process.env.CI) throw new Error("CI must run the browser test: .ci/run installs chromium");

/** A minimal DevTools protocol client: one page, commands answered by id. */
class Page {
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();
  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
      if (message.id !== undefined) this.pending.get(message.id)?.(message.error ?? message.result);
    });
  }

  static async connect(url: string): Promise<Page> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener("error", reject, { once: true });
    });
    return new Page(socket);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  async evaluate<T>(expression: string): Promise<T> {
    const answer = (await this.send("Runtime.evaluate", { expression, returnByValue: true })) as {
      result?: { value: T };
    };
    return answer.result!.value;
  }

  close(): void {
    this.socket.close();
  }
}

describe.skipIf(!chromium)("the status page in a browser, during a rotation", () => {
  let bench: Bench;
  let daemon: Daemon;
  let browser: Background;
  let profile: string;
  let page: Page;

  beforeAll(async () => {
    bench = await openBench();
    const now = bench.clock.now();
    const state = bench.emulator.state;
    const okta = await makeCert({ cn: "okta", now, fromDays: -65, toDays: 300 });
    const spare = await makeCert({ cn: "okta-spare", now, fromDays: -1, toDays: 200 });
    const entra = await makeCert({ cn: "entra", now, fromDays: -360, toDays: 5 });
    const duo = await makeCert({ cn: "duo", now, fromDays: -400, toDays: -3 });
    state.addIntegration({ id: "int-okta", name: "Okta" });
    state.addIntegration({ id: "int-entra", name: "Entra ID" });
    state.addIntegration({ id: "int-duo", name: "Duo" });
    state.addCertificate({ integrationId: "int-okta", pem: okta.pem, enabled: true });
    state.addCertificate({ integrationId: "int-okta", pem: spare.pem, enabled: false });
    state.addCertificate({ integrationId: "int-entra", pem: entra.pem, enabled: true });
    state.addCertificate({ integrationId: "int-duo", pem: duo.pem, enabled: true });
    const next = await makeCert({ cn: "entra-next", now, fromDays: -1, toDays: 730 });
    await bench.writeCert("entra-next.pem", next.pem);
    const config = bench.loadConfig(
      await bench.writeConfig({
        rotation: {
          enabled: true,
          overlap: "30s",
          integrations: [{ match: { name: "Entra ID" }, source: { type: "file", path: bench.certsDir } }],
        },
      }),
    );
    daemon = await bench.startDaemon(config);
    await daemon.tick();

    profile = mkdtempSync(join(tmpdir(), "sso-chromium-"));
    browser = startProcess(
      chromium!,
      [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "--window-size=1280,900",
        "about:blank",
      ],
      { env: { PATH: process.env.PATH, HOME: profile } },
    );
    const endpoint = await waitFor(
      "chromium's DevTools endpoint",
      () => /DevTools listening on (ws:\/\/\S+)/.exec(browser.output())?.[1] ?? null,
      { timeoutMs: 60_000, diagnostics: browser.output },
    );
    const port = new URL(endpoint).port;
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    page = await Page.connect(targets.find((t) => t.type === "page")!.webSocketDebuggerUrl);
    await page.send("Page.navigate", { url: `${daemon.url}/` });
    await waitFor(
      "the status page to load",
      async () =>
        (await page.evaluate<string>("document.readyState")) === "complete" &&
        (await page.evaluate<boolean>("!!document.getElementById('why')")),
      { timeoutMs: 60_000 },
    );
  }, 180_000);

  afterAll(async () => {
    page?.close();
    await browser?.stop();
    await daemon?.stop();
    await bench?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("says in the header why the status is critical", async () => {
    const why = await page.evaluate<string>("document.getElementById('why').innerText");
    expect(why).toMatch(/^critical: /);
    expect(why).toContain("Duo: no valid certificate");
  });

  it("lists the rotation under the integration's name, its id below, and the step it waits for", async () => {
    const rows = await page.evaluate<string[]>(
      "[...document.querySelectorAll('section')].find((s) => s.querySelector('h2')?.innerText === 'Rotations').querySelectorAll('tbody tr').values().map((r) => r.innerText).toArray()",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(
      /^main\tEntra ID\nint-entra\n\tverified\nnext: disable at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z\nin \d+s\n/,
    );
    expect(rows[0]).toMatch(/SHA-256 [0-9a-f]{16}/);
  });

  it("shows the uploaded certificate under its integration at once, not a scan later", async () => {
    const account = await page.evaluate<string>(
      "[...document.querySelectorAll('section')].find((s) => s.querySelector('h2')?.innerText.startsWith('Account')).innerText",
    );
    expect(account).toContain("\tentra-next\n");
  });

  it("once the overlap has passed, shows the replaced certificate as disabled, not by its expiry", async () => {
    bench.clock.advance(31_000);
    await daemon.tick();
    await page.send("Page.reload");
    await waitFor(
      "the reloaded page to show the disable",
      async () =>
        (await page.evaluate<string>("document.readyState")) === "complete" &&
        (await page.evaluate<string>("document.body.innerText")).includes("int-entra") &&
        (await page.evaluate<string | null>(
          "[...document.querySelectorAll('tr')].find((r) => r.innerText.includes('\\tentra\\n'))?.querySelector('.badge')?.innerText ?? null",
        )) === "disabled",
      { timeoutMs: 60_000, diagnostics: () => "" },
    );
  });

  it("never wraps a timestamp, and gives it relative and absolute", async () => {
    const times = await page.evaluate<{ lines: number; text: string }[]>(
      "[...document.querySelectorAll('main time')].map((t) => { const r = document.createRange(); r.selectNodeContents(t.firstChild); return { lines: new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size, text: t.innerText }; })",
    );
    expect(times.length).toBeGreaterThan(5);
    for (const time of times) {
      expect(time.lines, time.text).toBe(1);
      expect(time.text).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?Z\n(in .+|.+ ago|now)$/);
    }
  });
});
