// The docs stay true and navigable: the README stays a short entry point that links every page of docs/,
// every relative link and anchor in them resolves, every metric the daemon exposes is in docs/metrics.md,
// and every key of the example configuration is in the configuration reference.

import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { exposedMetricNames } from "./exposed-metrics.js";
import { PROJECT_ROOT, projectFile, readProjectText } from "./files.js";

const PAGES = ["README.md", ...readdirSync(projectFile("docs")).map((name) => `docs/${name}`)];

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    anchors.add(
      heading!
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-"),
    );
  }
  return anchors;
}

/** Fenced blocks hold shell comments and YAML, not headings or links. */
function withoutCode(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "");
}

function linksOf(markdown: string): string[] {
  return [...withoutCode(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
}

describe("docs", () => {
  it("keeps the README a newcomer's page of under 250 lines that links every docs page", () => {
    const readme = readProjectText("README.md");
    expect(readme.split("\n").length).toBeLessThan(250);
    expect(readme).toContain("npm ci && npm run demo");
    expect(readme).toContain("npm test");
    for (const page of PAGES.filter((page) => page.startsWith("docs/")))
      expect(readme).toContain(`](${page})`);
    // One heading per subject: the README once had two "Prometheus" sections.
    const headings = [...withoutCode(readme).matchAll(/^#+\s+(.+)$/gm)].map((match) => match[1]);
    expect(new Set(headings).size).toBe(headings.length);
  });

  it.each(PAGES)("%s: every relative link and anchor resolves", (page) => {
    const broken: string[] = [];
    for (const link of linksOf(readProjectText(page))) {
      if (/^[a-z]+:/.test(link)) continue;
      const [path, anchor] = link.split("#") as [string, string | undefined];
      const target = path === "" ? page : relative(PROJECT_ROOT, join(PROJECT_ROOT, dirname(page), path));
      if (!existsSync(projectFile(target))) broken.push(`${link}: no file ${target}`);
      else if (anchor !== undefined && !anchorsOf(readProjectText(target)).has(anchor))
        broken.push(`${link}: no heading #${anchor} in ${target}`);
    }
    expect(broken).toEqual([]);
  });

  it("lists every metric the daemon exposes in docs/metrics.md", async () => {
    const documented = readProjectText("docs/metrics.md");
    const missing = [...(await exposedMetricNames())]
      .filter((name) => name.startsWith("sendgrid_sso_") && !/_(bucket|sum|count)$/.test(name))
      .filter((name) => !documented.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it("names every key of the example configuration in the reference", () => {
    const reference = ["docs/configuration.md", "docs/rotation.md", "docs/security.md", "docs/idp-sources.md"]
      .map(readProjectText)
      .join("\n");
    const keys = new Set<string>();
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === "object")
        for (const [key, child] of Object.entries(value)) {
          keys.add(key);
          walk(child);
        }
    };
    walk(parse(readProjectText("config/config.example.yaml")));
    expect(keys.size).toBeGreaterThan(10);
    const missing = [...keys].filter((key) => !new RegExp(`\\b${key}\\b`).test(reference));
    expect(missing).toEqual([]);
  });
});
