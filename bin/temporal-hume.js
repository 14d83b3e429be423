#!/usr/bin/env node
// In a checkout the TypeScript sources run (through tsx), so a stale build is never what runs;
// the published package and the Docker image ship only dist/, which runs then.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import(new URL('../dist/cli.js', import.meta.url).href);
}
