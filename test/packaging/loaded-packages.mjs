// Imports the module named by argv[2] and prints, one per line, the npm packages that loading it
// pulled in through CommonJS (every @temporalio package, fastify and the AWS SDK are CommonJS).
import { createRequire } from 'node:module';

await import(process.argv[2]);
const loaded = Object.keys(createRequire(import.meta.url).cache);
const packages = new Set(loaded.map((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1]).filter(Boolean));
process.stdout.write(`${[...packages].sort().join('\n')}\n`);
