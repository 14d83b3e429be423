/**
 * Dockerfile and docker-compose.yml (no Docker engine runs here): the compose file is loaded and
 * validated the way `docker compose config` does, by compose-go, the library Docker Compose uses;
 * then checked by structure: services and how they connect, secrets only from the environment,
 * and an image that runs our commands.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(`${root}${file}`, 'utf8');

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const { services } = compose;
const dependsOn = (s: Service) => (Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {}));

/** `docker compose config`, as compose-go runs it: schema validation and variable interpolation. */
function composeConfig(env: NodeJS.ProcessEnv) {
  return promisify(execFile)('go', ['run', '.', `${root}docker-compose.yml`], {
    cwd: `${root}tools/compose-check`,
    env: { ...process.env, HUME_API_KEY: '', HUME_WEBHOOK_SECRET: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', ...env },
  });
}

describe('docker-compose.yml', () => {
  it('is a valid compose file, as docker compose config loads it', async () => {
    const { stdout } = await composeConfig({ HUME_API_KEY: 'some-key', HUME_WEBHOOK_SECRET: 'some-webhook-secret-0123', AWS_ACCESS_KEY_ID: 'some-access-key', AWS_SECRET_ACCESS_KEY: 'some-secret-key' });
    expect(stdout.trim()).toBe('[postgresql s3 s3-bucket temporal temporal-ui webhook worker]');
  }, 300_000);

  it('refuses to start without the secrets, naming them', async () => {
    const refused = await composeConfig({}).catch((err: { stderr: string }) => err);
    expect((refused as { stderr: string }).stderr).toMatch(/required variable HUME_API_KEY is missing a value/);
    expect((refused as { stderr: string }).stderr).toMatch(/required variable HUME_WEBHOOK_SECRET is missing a value/);
    expect((refused as { stderr: string }).stderr).toMatch(/required variable AWS_SECRET_ACCESS_KEY is missing a value/);
  }, 300_000);

  it('runs Temporal on PostgreSQL with its UI, an S3 server with its bucket, plus our worker and webhook receiver', () => {
    expect(Object.keys(services).sort()).toEqual(['postgresql', 's3', 's3-bucket', 'temporal', 'temporal-ui', 'webhook', 'worker']);
    expect(services.s3?.image).toMatch(/^versity\/versitygw:/);
    expect(dependsOn(services['s3-bucket'] ?? {})).toContain('s3');
    const { postgresql, temporal, 'temporal-ui': ui } = services as Record<string, Service>;
    expect(postgresql?.image).toMatch(/^postgres:/);
    expect(postgresql?.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(temporal?.image).toMatch(/^temporalio\/auto-setup:/);
    expect(temporal?.depends_on).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(temporal?.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(temporal?.ports).toContain('7233:7233');
    expect(ui?.image).toMatch(/^temporalio\/ui:/);
    expect(ui?.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(ui?.ports).toContain('8080:8080');
  });

  it('builds worker and webhook from the Dockerfile, running commands the CLI has, against the temporal service', () => {
    const commands = buildProgram().commands.map((c) => c.name());
    for (const name of ['worker', 'webhook']) {
      const service = services[name];
      expect(service?.build, name).toBe('.');
      expect(service?.command, name).toEqual([name]);
      expect(commands).toContain(name);
      expect(dependsOn(service ?? {}), name).toContain('temporal');
      expect(service?.environment?.TEMPORAL_ADDRESS, name).toBe('temporal:7233');
    }
    expect(services.worker?.environment).toMatchObject({ HUME_API_KEY: expect.stringMatching(/^\$\{HUME_API_KEY:\?/) });
    // No shared volume: the workers see manifests and results only through S3.
    expect(services.worker?.volumes ?? []).toEqual([]);
    expect(dependsOn(services.worker ?? {})).toContain('s3-bucket');
    expect(services.worker?.environment).toMatchObject({ HUME_RESULTS_ROOT: expect.stringMatching(/s3:\/\//), TEMPORAL_HUME_S3_FORCE_PATH_STYLE: expect.stringMatching(/true/) });
  });

  it('exposes the receiver on the port it listens on, with a health check on /healthz', () => {
    const env = services.webhook?.environment ?? {};
    expect(env.HUME_WEBHOOK_HOST).toBe('0.0.0.0');
    const port = String(env.HUME_WEBHOOK_PORT);
    expect(services.webhook?.ports).toContain(`${port}:${port}`);
    expect(services.webhook?.healthcheck?.test.join(' ')).toContain(`127.0.0.1:${port}/healthz`);
  });

  it('takes every key and secret from the environment, never a literal', () => {
    const sensitive = Object.values(services).flatMap((s) =>
      Object.entries(s.environment ?? {}).filter(([name]) => /KEY|SECRET/.test(name)),
    );
    expect(sensitive.length).toBeGreaterThanOrEqual(5);
    // The S3 server's root keys are the workers' AWS keys: named by the variable they come from.
    const from: Record<string, string> = { ROOT_ACCESS_KEY_ID: 'AWS_ACCESS_KEY_ID', ROOT_SECRET_ACCESS_KEY: 'AWS_SECRET_ACCESS_KEY' };
    for (const [name, value] of sensitive) expect(String(value), name).toMatch(new RegExp(`^\\$\\{${from[name] ?? name}(:[-?].*)?\\}$`));
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds dist/ with the full dependencies, packs the package and installs it as a user would, as temporal-hume worker by default', () => {
    expect(dockerfile.match(/^FROM node:20-slim/gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^RUN npm ci --no-audit/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^RUN npm pack --ignore-scripts --pack-destination \/tmp\/pack /m);
    expect(dockerfile).toMatch(/^COPY --from=build \/tmp\/pack \/tmp\/pack$/m);
    expect(dockerfile).toMatch(/^RUN npm install -g --no-audit --no-fund \/tmp\/pack\/temporal-hume-\*\.tgz/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["temporal-hume"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["worker"\]$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('copies files that exist, and the build script compiles what the image copies', () => {
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'bin/temporal-hume.js', 'src/cli.ts', 'examples']) {
      expect(existsSync(`${root}${file}`), file).toBe(true);
    }
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
    expect(pkg.bin['temporal-hume']).toBe('bin/temporal-hume.js');
    // bin/ prefers the built CLI, so the image never compiles TypeScript at start.
    expect(read('bin/temporal-hume.js')).toContain("'../dist/cli.js'");
    const ignored = read('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.env']));
    // Every file the build copies from the context is in the context.
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    expect(copied.length).toBeGreaterThan(3);
    for (const source of copied) expect(ignored, source).not.toContain(source.replace(/\/$/, ''));
  });
});
