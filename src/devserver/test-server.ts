/**
 * Finds Temporal's time-skipping test server, fetching it with Maven when nothing else is there.
 *
 * `TestWorkflowEnvironment.createTimeSkipping()` downloads a native build from temporal.download, which CI
 * cannot reach. The same server ships on Maven Central as the Java artifact io.temporal:temporal-test-server,
 * so we fetch that jar and its runtime dependencies into the project's cache and write a shell wrapper that
 * takes the native build's arguments (`<port> [--enable-time-skipping]`), for
 * `createTimeSkipping({ server: { executable: { type: 'existing-path', path } } })`.
 * Order: TEMPORAL_TEST_SERVER_PATH, the project's cache, `mvn` into the cache. Needs Java 8+ at run time.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { cacheRoot, findOnPath, isExecutable } from './cli-path.js';
import { freePort } from './server.js';

export const TEMPORAL_TEST_SERVER_VERSION = '1.38.0';
/** The jar's Main-Class; it reads `<port> [--enable-time-skipping]`, the same arguments as the native build. */
const MAIN_CLASS = 'io.temporal.testserver.TestServer';
/** Matches the slf4j-api that temporal-sdk brings; without a binding SLF4J prints a warning on every start. */
const SLF4J_NOP_VERSION = '1.7.36';
/** Pinned so the fetch does not depend on the Maven version's default plugin (2.8 for Maven 3.8). */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const WRAPPER = 'temporal-test-server';
/** Class data archive written at fetch time: cuts the JVM's start from ~2.5 s to ~0.6 s on 2 cores. */
const CLASS_ARCHIVE = 'app.jsa';
const LOCK_WAIT_MS = 10 * 60_000;

export interface ResolveTemporalTestServerOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the fetched server is cached. @default `<package root>/.cache/temporal-test-server/<version>` */
  cacheDir?: string;
  /** Fetch with Maven when no server is found. @default true */
  fetch?: boolean;
  /** Progress messages. @default stderr */
  log?: (message: string) => void;
}

export class TemporalTestServerNotFoundError extends Error {
  override readonly name = 'TemporalTestServerNotFoundError';
}

export function defaultTestServerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), 'temporal-test-server', TEMPORAL_TEST_SERVER_VERSION);
}

/** Returns a path to a runnable time-skipping test server, or throws with install instructions. */
export async function resolveTemporalTestServer(options: ResolveTemporalTestServerOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const fromEnv = env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new TemporalTestServerNotFoundError(`TEMPORAL_TEST_SERVER_PATH=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const cacheDir = options.cacheDir ?? defaultTestServerCacheDir(env);
  // Written last, so its presence means the whole fetch finished.
  const wrapper = join(cacheDir, WRAPPER);
  if (isExecutable(wrapper)) return wrapper;

  const mvn = findOnPath('mvn', env);
  if (options.fetch === false || !mvn) {
    throw new TemporalTestServerNotFoundError(
      [
        'Temporal time-skipping test server not found.',
        `It is fetched from Maven Central (io.temporal:temporal-test-server:${TEMPORAL_TEST_SERVER_VERSION}) with \`mvn\`,`,
        'which is not on PATH: install Maven and a JDK (e.g. `apt-get install maven openjdk-17-jdk-headless`),',
        'or set TEMPORAL_TEST_SERVER_PATH to an existing temporal-test-server executable.',
      ].join('\n'),
    );
  }
  // Test files run in parallel workers: one fetches, the others wait for it and take its result.
  mkdirSync(dirname(cacheDir), { recursive: true });
  return withLock(`${cacheDir}.lock`, async () => {
    if (isExecutable(wrapper)) return wrapper;
    log(`Fetching Temporal test server ${TEMPORAL_TEST_SERVER_VERSION} with Maven into ${cacheDir} (one time, under a minute)…`);
    await fetchInto(cacheDir, mvn, env, log);
    log(`Temporal test server ready: ${wrapper}`);
    return wrapper;
  });
}

async function fetchInto(cacheDir: string, mvn: string, env: NodeJS.ProcessEnv, log: (m: string) => void): Promise<void> {
  // Leftovers of an interrupted fetch would mix jar versions.
  rmSync(cacheDir, { recursive: true, force: true });
  const lib = join(cacheDir, 'lib');
  mkdirSync(lib, { recursive: true });
  const pom = join(cacheDir, 'pom.xml');
  writeFileSync(pom, pomXml());
  await run(
    mvn,
    ['-B', '-q', '-f', pom, `${DEPENDENCY_PLUGIN}:copy-dependencies`, '-DincludeScope=runtime', `-DoutputDirectory=${lib}`],
    env,
    log,
  );
  const jars = readdirSync(lib)
    .filter((name) => name.endsWith('.jar'))
    .sort();
  if (!jars.includes(`temporal-test-server-${TEMPORAL_TEST_SERVER_VERSION}.jar`)) {
    throw new TemporalTestServerNotFoundError(`mvn finished but ${lib} has no temporal-test-server jar`);
  }
  const partial = join(cacheDir, `${WRAPPER}.partial`);
  writeFileSync(partial, wrapperScript(jars), { mode: 0o755 });
  await startOnceForClassArchive(partial, cacheDir, env);
  renameSync(partial, join(cacheDir, WRAPPER));
}

function pomXml(): string {
  const dependency = (group: string, artifact: string, version: string) =>
    `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId><version>${version}</version></dependency>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by temporal-hume (src/devserver/test-server.ts) to fetch the test server's jars; not a build. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.temporal-hume</groupId>
  <artifactId>temporal-test-server-fetch</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
${dependency('io.temporal', 'temporal-test-server', TEMPORAL_TEST_SERVER_VERSION)}
${dependency('org.slf4j', 'slf4j-nop', SLF4J_NOP_VERSION)}
  </dependencies>
</project>
`;
}

function wrapperScript(jars: string[]): string {
  const classpath = jars.map((jar) => `$dir/lib/${jar}`).join(':');
  return `#!/bin/sh
# Temporal's time-skipping test server ${TEMPORAL_TEST_SERVER_VERSION} (io.temporal:temporal-test-server), written by
# temporal-hume (src/devserver/test-server.ts). Arguments as the native build's: <port> [--enable-time-skipping].
dir=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
java="\${JAVA_HOME:+$JAVA_HOME/bin/}java"
cp="${classpath}"
# The SDK gives the server 5 s to answer: C1 only, and the class archive when the fetch made one.
# exec, because the SDK stops the server by killing this process: it must be the JVM itself.
if [ -f "$dir/${CLASS_ARCHIVE}" ]; then
  exec "$java" -XX:TieredStopAtLevel=1 -XX:SharedArchiveFile="$dir/${CLASS_ARCHIVE}" -cp "$cp" ${MAIN_CLASS} "$@"
fi
exec "$java" -XX:TieredStopAtLevel=1 -cp "$cp" ${MAIN_CLASS} "$@"
`;
}

/**
 * Starts the server once, which proves the install works, and has the JVM dump the classes it loaded
 * into an archive that later starts map instead of loading again. The archive is an optimisation only:
 * a JVM that cannot write one (Java < 13 ignores the option) still passes.
 */
async function startOnceForClassArchive(script: string, cacheDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const archive = join(cacheDir, CLASS_ARCHIVE);
  const port = await freePort();
  const javaOptions = `-XX:+IgnoreUnrecognizedVMOptions "-XX:ArchiveClassesAtExit=${archive}.tmp"`;
  const child = spawn(script, [String(port)], {
    env: { ...env, JDK_JAVA_OPTIONS: [env.JDK_JAVA_OPTIONS, javaOptions].filter(Boolean).join(' ') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-4000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = once(child, 'exit');
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new TemporalTestServerNotFoundError(`the fetched test server exited at start:\n${output}`);
      try {
        await (await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 1_000 })).close();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw new TemporalTestServerNotFoundError(`the fetched test server did not answer: ${(err as Error).message}\n${output}`);
        await sleep(250);
      }
    }
  } finally {
    // SIGTERM, not SIGKILL: the archive is written when the JVM exits normally.
    if (child.exitCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
  // Renamed into place only when complete, so a JVM starting meanwhile never maps half a file.
  if (existsSync(`${archive}.tmp`)) renameSync(`${archive}.tmp`, archive);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, log: (m: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer) => void (tail = (tail + chunk.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) return resolve();
      log(tail);
      reject(new TemporalTestServerNotFoundError(`${command} ${args.join(' ')} failed (exit ${code}):\n${tail}`));
    });
  });
}

/**
 * A directory as a lock between processes (mkdir is atomic). A lock whose holder died is taken over:
 * the holder writes its pid right after taking it, so a lock with a dead pid, or without one after a
 * few seconds, was left by a crash.
 */
async function withLock<T>(lockDir: string, body: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (lockIsStale(lockDir)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new TemporalTestServerNotFoundError(`gave up waiting for ${lockDir} (remove it if no fetch is running)`);
    await sleep(500);
  }
  try {
    writeFileSync(join(lockDir, 'pid'), String(process.pid));
    return await body();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function lockIsStale(lockDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
  } catch {
    try {
      return Date.now() - statSync(lockDir).mtimeMs > 10_000;
    } catch {
      return false; // just released
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
