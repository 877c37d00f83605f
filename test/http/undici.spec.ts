// The transport takes undici's Pool and request() from their files, not from undici's index
// (src/http/undici.ts). This fails when an undici upgrade moves those files or makes them something else
// than what the index exports.

import { createRequire } from "node:module";
import { Dispatcher, Pool as IndexPool, getGlobalDispatcher } from "undici";
import { describe, expect, it } from "vitest";
import { Pool, UNDICI_FILES, getGlobalDispatcher as globalDispatcherOfFile } from "../../src/http/undici.js";

const require = createRequire(import.meta.url);

describe("undici's Pool and request(), loaded from their own files", () => {
  it("are the very class and function undici's index exports", () => {
    expect(Pool).toBe(IndexPool);
    const onPrototype = Object.getOwnPropertyDescriptor(Dispatcher.prototype, "request")?.value as unknown;
    expect(require(UNDICI_FILES.request)).toBe(onPrototype);
    expect(require(UNDICI_FILES.global)).toHaveProperty("getGlobalDispatcher", getGlobalDispatcher);
    expect(globalDispatcherOfFile()).toBe(getGlobalDispatcher());
  });

  it.each(Object.values(UNDICI_FILES))("%s resolves inside the undici package", (file) => {
    expect(require.resolve(file).replaceAll("\\", "/")).toContain(`/node_modules/${file}`);
  });
});
