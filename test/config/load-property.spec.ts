import fc from "fast-check";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { createWorkspace, type Workspace } from "../helpers/workspace.js";

// Keys the schema knows, plus prototype names, so random documents reach deep into the validation.
const KEYS = [
  "accounts name api_key_env api_key_file api_key base_url region on_behalf_of schedule listen",
  "thresholds warning critical http timeout max_concurrency max_retries state_dir log_level metrics",
  "expose_relative rotation enabled dry_run rotate_before overlap delete_disabled_after",
  "max_rotations_per_cycle integrations account match id source type path url __proto__ constructor",
].flatMap((line) => line.split(" "));
const PLAUSIBLE = [
  "30d 7d 0s global eu file metadata SENDGRID_API_KEY :9469 [::1]:80 33% never https://api.example",
  ". main info SG.looks-like-a-key",
]
  .flatMap((line) => line.split(" "))
  .concat("*/5 * * * *");
const SECRET = "SG.property-test-secret-value";

const scalar = fc.oneof(
  fc.string(),
  fc.constantFrom(...PLAUSIBLE),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const { node } = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    scalar,
    fc.array(tie("node"), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string()), tie("node"), { maxKeys: 5 }),
  ),
}));
const document = fc.oneof(fc.dictionary(fc.constantFrom(...KEYS), node, { maxKeys: 6 }), node, fc.anything());
const envName = fc.oneof(
  fc.constantFrom("SCHEDULE", "LISTEN", "STATE_DIR", "LOG_LEVEL", "SENDGRID_API_BASE_URL"),
  fc
    .array(fc.oneof(fc.constantFrom(...KEYS), fc.constantFrom("0", "1", "", "X")), {
      minLength: 1,
      maxLength: 4,
    })
    .map((path) => `SSO_CERTS__${path.join("__").toUpperCase()}`),
);
const environment = fc.dictionary(
  envName,
  fc.oneof(fc.string(), fc.constantFrom(...PLAUSIBLE, "[1, {a: b}]", "{")),
  {
    maxKeys: 4,
  },
);

let workspace: Workspace;
beforeAll(() => {
  workspace = createWorkspace();
});
afterAll(() => {
  workspace.remove();
});

describe("loadConfig on random input", () => {
  it("returns a config or problems, never throws, and never shows the API key", () => {
    fc.assert(
      fc.property(document, environment, (doc, env) => {
        const file = workspace.write("random.yaml", stringify(doc) ?? "");
        const result = loadConfig({ file, env: { ...env, SENDGRID_API_KEY: SECRET }, cwd: workspace.root });
        if (result.ok) {
          expect(result.config.accounts.length).toBeGreaterThan(0);
        } else {
          expect(result.problems.length).toBeGreaterThan(0);
          for (const problem of result.problems) {
            expect(problem).not.toContain(SECRET);
            expect(problem).not.toContain("SG.looks-like-a-key");
            expect(problem).toMatch(/^\S.*: \S/);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
