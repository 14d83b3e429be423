/**
 * Finds Temporal's time-skipping test server or fetches it once with Maven into the project cache, and
 * prints its path (`npm run temporal:install-test-server`; CI runs it so the fetch shows in the log).
 */
import { resolveTemporalTestServer } from '../src/devserver/index.js';

process.stdout.write(`${await resolveTemporalTestServer()}\n`);
