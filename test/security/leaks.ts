// Looking for an API key wherever the program writes: a recognisable key, the shapes it could take on the
// way out (as is, URL-encoded, base64 at every alignment, hex), and a collector of named texts that fails
// naming every place one of them turned up.

import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { expect } from "vitest";

/** Characters at the end of a key that are random enough to identify it alone. */
const RANDOM_TAIL = 40;

/** Shaped like a SendGrid key, unique to the run so nothing else can contain it by chance. */
export function leakCheckKey(label: string): string {
  return `SG.LEAKCHECK-${label}-${randomBytes(12).toString("hex")}.${randomBytes(24).toString("base64url")}`;
}

/** Every form of `secret` a careless encoder could write. */
export function leakForms(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString("hex")]);
  // The random tail alone: a key cut short at its start or re-prefixed is still that key.
  forms.add(secret.slice(-RANDOM_TAIL));
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.from("\0".repeat(shift) + secret).toString("base64");
    // The first and last groups also hold bits of whatever surrounds the key: only the middle is certain.
    const middle = encoded.slice(4, -4);
    forms.add(middle);
    forms.add(middle.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return [...forms];
}

/** Named texts gathered during a scenario, checked at its end. */
export class Outputs {
  readonly #texts: { where: string; text: string }[] = [];

  add(where: string, text: string): void {
    this.#texts.push({ where, text });
  }

  /** Every regular file under `dir`, by its relative path. */
  addFilesUnder(dir: string, label: string): void {
    const visit = (path: string) => {
      for (const entry of readdirSync(path)) {
        const full = join(path, entry);
        if (statSync(full).isDirectory()) visit(full);
        else this.add(`${label}/${relative(dir, full)}`, readFileSync(full, "latin1"));
      }
    };
    visit(dir);
  }

  get places(): readonly string[] {
    return this.#texts.map((t) => t.where);
  }

  /** Fails listing each place where a form of a secret appears; also fails if nothing was gathered. */
  expectFreeOf(...secrets: string[]): void {
    expect(this.#texts.length).toBeGreaterThan(0);
    const found: string[] = [];
    for (const secret of secrets) {
      const forms = leakForms(secret);
      for (const { where, text } of this.#texts) {
        const form = forms.find((f) => text.includes(f));
        if (form !== undefined)
          found.push(`${where}: ${form === secret ? "the key" : `a form of it (${form})`}`);
      }
    }
    expect(found).toEqual([]);
  }
}
