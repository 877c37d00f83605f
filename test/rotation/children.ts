// Child processes for the tests that kill or race real processes. buildSources() makes a runnable copy of
// src/: every module transpiled on its own by TypeScript (no type check, so well under a second rather than
// a tsc build), node_modules linked in so that packages resolve as they do in the project.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const projectRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Transpiles src/ into `outDir`; returns the directory that mirrors src/ (e.g. `<it>/rotation/store.js`). */
export async function buildSources(outDir: string): Promise<string> {
  const srcDir = join(projectRoot, "src");
  const builtDir = join(outDir, "src");
  const files = (await readdir(srcDir, { recursive: true })).filter(
    (file) => file.endsWith(".ts") && !file.endsWith(".d.ts"),
  );
  for (const file of files) {
    const source = await readFile(join(srcDir, file), "utf8");
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2023,
        verbatimModuleSyntax: true,
      },
    });
    const target = join(builtDir, file.replace(/\.ts$/, ".js"));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
  }
  await writeFile(join(outDir, "package.json"), '{ "type": "module" }\n');
  await symlink(join(projectRoot, "node_modules"), join(outDir, "node_modules"), "dir");
  return builtDir;
}

export interface Child {
  readonly process: ChildProcess;
  /** Complete stdout lines so far. */
  readonly lines: string[];
  /** Resolves with the first line (past or future) that satisfies `match`; rejects if the child ends first. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  /** Resolves once the child has exited and its stdout is drained. */
  readonly closed: Promise<void>;
}

/** Runs `node test/rotation/fixtures/<fixture> ...args`. */
export function startChild(fixture: string, args: readonly string[]): Child {
  const child = spawn(process.execPath, [join(projectRoot, "test/rotation/fixtures", fixture), ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = "";
  let stderr = "";
  let ended = false;
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const closed = new Promise<void>((resolve) => {
    child.on("close", () => {
      ended = true;
      for (const wake of waiters) wake();
      resolve();
    });
  });
  const waitForLine = (match: (line: string) => boolean): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.find(match);
        if (found !== undefined) {
          waiters.delete(check);
          resolve(found);
        } else if (ended) {
          waiters.delete(check);
          reject(new Error(`child ${fixture} ended without the expected line; stderr: ${stderr}`));
        }
      };
      waiters.add(check);
      check();
    });
  return { process: child, lines, waitForLine, closed };
}
