/**
 * The README's commands and snippets are real: every `temporal-hume` command line names a command
 * and flags the CLI has, every `npm` script exists, and every TypeScript snippet type-checks
 * against the package's sources.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/spawn.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, lang, body]) => ({ lang: lang!, body: body! }));
const shellLines = blocks
  .filter((b) => b.lang === 'sh')
  .flatMap((b) => b.body.split('\n'))
  .map((line) => line.replace(/\s+#.*$/, '').trim())
  .filter(Boolean);

describe('README', () => {
  const commands = shellLines.filter((line) => line.startsWith('temporal-hume '));

  it.each(commands)('`%s` uses a command and flags the CLI has', async (line) => {
    const [, command] = line.split(/\s+/);
    const help = await runCli([command!, '--help']);
    expect(help.code, help.stderr).toBe(0);
    for (const flag of line.match(/(?<=\s)--[a-z][a-z-]*/g) ?? []) expect(help.stdout).toContain(flag);
  });

  it('names only npm scripts that exist', () => {
    const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
    const used = shellLines.flatMap((line) => [...line.matchAll(/npm (?:run )?([a-z:]+)/g)].map((m) => m[1]!));
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) if (name !== 'ci') expect(Object.keys(scripts)).toContain(name);
  });

  it('has TypeScript snippets that type-check against the package', () => {
    const dir = join(root, 'test', 'docs', '.snippets');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const snippets = blocks.filter((b) => b.lang === 'ts');
    expect(snippets.length).toBeGreaterThan(0);
    const files = snippets.map((snippet, i) => {
      const file = join(dir, `snippet-${i}.ts`);
      // Imports of the package resolve to its sources, as they would to dist/ once published.
      const body = snippet.body
        .replaceAll("'temporal-hume/workflows'", "'../../../src/workflows/index.js'")
        .replaceAll("'temporal-hume/worker'", "'../../../src/worker-api.js'")
        .replaceAll("'temporal-hume/testing'", "'../../../src/testing.js'")
        .replaceAll("'temporal-hume'", "'../../../src/index.js'");
      writeFileSync(file, `${body}\nexport {};\n`);
      return file;
    });
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    const program = ts.createProgram(files, { ...config!.options, noEmit: true });
    const errors = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.includes(d.file.fileName))
      .map((d) => `${d.file!.fileName.split('/').pop()}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    rmSync(dir, { recursive: true, force: true });
    expect(errors).toEqual([]);
  });
});
