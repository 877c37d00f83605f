// Reads what each rotation rule's source offers this cycle (files re-read, metadata re-fetched): the
// I/O half of planning. Never throws: a source that fails is an offer that says so.

import type { RotationRule } from "../config/types.js";
import type { SourceOffer } from "../core/plan.js";
import { readFileSource } from "../sources/file.js";
import { fetchMetadata } from "../sources/metadata.js";

export async function readOffer(rule: RotationRule, timeoutMs: number): Promise<SourceOffer> {
  if (rule.source.type === "file") {
    const { inputs, problems } = await readFileSource(rule.source.path);
    return { type: "file", inputs, problems };
  }
  return { type: "metadata", result: await fetchMetadata(rule.source.url, { timeoutMs }) };
}

export async function readOffers(
  rules: readonly RotationRule[],
  timeoutMs: number,
  wanted: (index: number) => boolean = () => true,
): Promise<Map<number, SourceOffer>> {
  const offers = new Map<number, SourceOffer>();
  await Promise.all(
    rules.map(async (rule, index) => {
      if (wanted(index)) offers.set(index, await readOffer(rule, timeoutMs));
    }),
  );
  return offers;
}
