// Lint rules: typescript-eslint's type-aware recommended set; floating promises are errors because
// an unawaited rejection in a daemon is a crash or a silently lost step.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".bench-build/", "bench/results.json"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
    },
  },
  {
    // Values from these two only through src/http/node-http.ts and src/http/undici.ts: undici's index and
    // Node 24's ES namespace of node:http both load Node's bundled undici (docs/performance.md).
    files: ["src/**/*.ts"],
    ignores: ["src/http/undici.ts", "src/http/node-http.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "undici", message: "Import from src/http/undici.ts.", allowTypeImports: true },
            { name: "node:http", message: "Import from src/http/node-http.ts.", allowTypeImports: true },
            { name: "http", message: "Import from src/http/node-http.ts.", allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
