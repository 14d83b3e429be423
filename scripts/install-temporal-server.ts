/**
 * Finds the full Temporal server and its `sql` schema tool, or builds them once with `go install` into the
 * project cache (~9 minutes, 2.6 GB), and prints their paths and the PostgreSQL schema folder
 * (`npm run temporal:install-server`; CI runs it so the build shows in the log). For test/cluster/.
 */
import { resolveTemporalServer } from '../src/devserver/index.js';

const { server, sqlTool, postgresSchemaDir } = await resolveTemporalServer();
process.stdout.write(`${server}\n${sqlTool}\n${postgresSchemaDir}\n`);
