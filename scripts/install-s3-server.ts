/**
 * Finds versitygw (the S3 server the store tests run against) or builds it once with `go install`
 * into the project cache, and prints its path (`npm run s3:install`; CI runs it so the build shows in the log).
 */
import { resolveS3Server } from '../src/devserver/s3-server.js';

process.stdout.write(`${await resolveS3Server()}\n`);
