/**
 * Cuts one top-level member's value out of a JSON byte stream, leaving `null` in its place, at the
 * speed of a byte loop. Hume's callback puts all of a job's predictions (gigabytes) in
 * `predictions`; a tokenizing parser crawls through such a value at a few tens of MB/s, this
 * skips it at hundreds. The skipped bytes are only scanned for strings and brackets, never
 * validated: we drop them anyway, and the parser downstream still checks everything that remains.
 */
import { Transform, type TransformCallback } from 'node:stream';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const isOpen = (b: number) => b === 0x7b || b === 0x5b; // { [
const isClose = (b: number) => b === 0x7d || b === 0x5d; // } ]
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

type Mode =
  /** Copying; `key` collects a depth-1 key's bytes while inside one. */
  | 'copy'
  /** After the chosen key's `:`, before its value. */
  | 'before-value'
  /** Inside the skipped value (a container, string or scalar). */
  | 'skip';

export function dropTopLevelValue(key: string): Transform {
  const wanted = Buffer.from(key);
  let mode: Mode = 'copy';
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** At depth 1, the next string is a key (after `{` or `,`). */
  let expectKey = false;
  /** Bytes of the depth-1 key being read, while it can still equal `wanted`. */
  let keyBytes: number[] | undefined;
  /** The last depth-1 key read was `wanted` and its `:` has not come yet. */
  let matched = false;
  /** Depth of the skipped value's own brackets; for a string value, `skipString`. */
  let skipDepth = 0;
  let skipString = false;
  let skipScalar = false;

  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      const out: Buffer[] = [];
      let copyFrom = 0;
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i] as number;
        if (mode === 'skip') {
          if (skipScalar) {
            if (b === COMMA || isClose(b) || isSpace(b)) {
              mode = 'copy';
              copyFrom = i;
              i--; // this byte belongs to the object again
            }
            continue;
          }
          if (inString) {
            if (escaped) escaped = false;
            else if (b === BACKSLASH) escaped = true;
            else if (b === QUOTE) {
              inString = false;
              if (skipString) {
                mode = 'copy';
                copyFrom = i + 1;
              }
            }
          } else if (b === QUOTE) inString = true;
          else if (isOpen(b)) skipDepth++;
          else if (isClose(b) && --skipDepth === 0) {
            mode = 'copy';
            copyFrom = i + 1;
          }
          continue;
        }
        if (mode === 'before-value') {
          if (isSpace(b)) continue;
          out.push(Buffer.from('null'));
          mode = 'skip';
          skipString = b === QUOTE;
          inString = skipString;
          skipScalar = !skipString && !isOpen(b);
          skipDepth = isOpen(b) ? 1 : 0;
          if (skipScalar) i--;
          continue;
        }
        // copy
        if (inString) {
          if (escaped) escaped = false;
          else if (b === BACKSLASH) {
            escaped = true;
            keyBytes = undefined; // an escaped key is never the one we look for
          } else if (b === QUOTE) {
            inString = false;
            if (keyBytes) matched = keyBytes.length === wanted.length;
            keyBytes = undefined;
          } else if (keyBytes) {
            if (wanted[keyBytes.length] === b) keyBytes.push(b);
            else keyBytes = undefined;
          }
          continue;
        }
        if (b === QUOTE) {
          inString = true;
          if (depth === 1 && expectKey) keyBytes = [];
          expectKey = false;
          matched = false;
        } else if (isOpen(b)) {
          depth++;
          expectKey = depth === 1 && b === 0x7b;
        } else if (isClose(b)) depth--;
        else if (b === COMMA) expectKey = depth === 1;
        else if (b === COLON && depth === 1 && matched) {
          matched = false;
          out.push(chunk.subarray(copyFrom, i + 1));
          mode = 'before-value';
        }
      }
      if (mode === 'copy' && copyFrom < chunk.length) out.push(chunk.subarray(copyFrom));
      done(null, out.length === 1 ? out[0] : Buffer.concat(out));
    },
  });
}
