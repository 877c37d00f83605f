// Builds src/ once per vitest run for the tests that run it as a separate program (the CLI killed with
// SIGKILL, lock races between processes, the packed runtime image) and hands them its path as
// inject("builtSrc"). Reuses dist/ when every output is newer than its source (`npm test` and CI have just
// built it, type-checked); otherwise transpiles src/ module by module into a throw-away directory (no type
// check: a few seconds, not a tsc build). Never writes into the project: other runs may be reading dist/.

import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /**
     * src/ as runnable JavaScript, mirroring its layout (`<it>/cli.js`, `<it>/rotation/lock.js`), with the
     * project's package.json one directory up and its node_modules resolvable.
     */
    builtSrc: string;
  }
}

const projectRoot = fileURLToPath(new URL("../../", import.meta.url));
const srcDir = join(projectRoot, "src");
const distDir = join(projectRoot, "dist");
/** A build older than these is stale even where its sources did not change. */
const BUILD_CONFIGS = ["tsconfig.json", "tsconfig.build.json"].map((file) => join(projectRoot, file));

interface Build {
  readonly dir: string;
  readonly dispose: () => Promise<void>;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let build = await buildOnce();
  project.provide("builtSrc", build.dir);
  // Watch mode: sources edited between reruns are built again.
  project.onTestsRerun(async () => {
    await build.dispose();
    build = await buildOnce();
    project.provide("builtSrc", build.dir);
  });
  return () => build.dispose();
}

async function buildOnce(): Promise<Build> {
  const sources = await sourceFiles();
  if (await distIsFresh(sources)) return { dir: distDir, dispose: async () => {} };
  const outDir = await mkdtemp(join(tmpdir(), "sso-built-"));
  try {
    const dir = await transpile(sources, outDir);
    console.info(`global setup: dist/ is older than src/; transpiled src/ into ${dir}`);
    return { dir, dispose: () => rm(outDir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(outDir, { recursive: true, force: true });
    throw error;
  }
}

/** Paths of src/'s modules, relative to src/. */
async function sourceFiles(): Promise<string[]> {
  return (await readdir(srcDir, { recursive: true })).filter(
    (file) => file.endsWith(".ts") && !file.endsWith(".d.ts"),
  );
}

const outputOf = (file: string) => file.replace(/\.ts$/, ".js");

const mtimeMs = async (path: string): Promise<number | null> => {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
};

/** True when every module has its output in dist/, written after the module and the build configs. */
async function distIsFresh(sources: readonly string[]): Promise<boolean> {
  const configs = await Promise.all(BUILD_CONFIGS.map(mtimeMs));
  const newestConfig = Math.max(...configs.map((time) => time ?? 0));
  const fresh = await Promise.all(
    sources.map(async (file) => {
      const [source, output] = await Promise.all([
        mtimeMs(join(srcDir, file)),
        mtimeMs(join(distDir, outputOf(file))),
      ]);
      return source !== null && output !== null && output >= Math.max(source, newestConfig);
    }),
  );
  return fresh.every(Boolean);
}

/** Transpiles each module on its own into `<outDir>/src`, with source maps as the build makes them. */
async function transpile(sources: readonly string[], outDir: string): Promise<string> {
  const builtDir = join(outDir, "src");
  for (const file of sources) {
    const output = join(builtDir, outputOf(file));
    const { outputText, sourceMapText } = ts.transpileModule(await readFile(join(srcDir, file), "utf8"), {
      fileName: join(srcDir, file),
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2023,
        verbatimModuleSyntax: true,
        sourceMap: true,
        inlineSources: true,
      },
    });
    await mkdir(dirname(output), { recursive: true });
    await writeFile(output, outputText);
    if (sourceMapText !== undefined) await writeFile(`${output}.map`, sourceMapText);
  }
  // The version is read from ../package.json, which also makes the output ES modules.
  await copyFile(join(projectRoot, "package.json"), join(outDir, "package.json"));
  await symlink(join(projectRoot, "node_modules"), join(outDir, "node_modules"), "dir");
  return builtDir;
}
