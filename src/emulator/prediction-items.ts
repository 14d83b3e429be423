/**
 * Reads a predictions file (hume-batch-api.md §4) as a stream and hands over each prediction
 * item (`…grouped_predictions[k].predictions[l]`) with what places it: the source, the file
 * and the group id. A structural scan of the JSON that parses only the items, so memory holds
 * one item at a time however large the file.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { ModelName } from '../hume/schemas.js';

export interface PlacedItem {
  /** The source's URL or file name, `text` for a raw text. */
  source: string;
  file: string;
  model: ModelName;
  id: string;
  item: Record<string, unknown>;
}

/** A container being read, with the key it sits under in its parent object (`''` in an array). */
interface Frame { array: boolean; name: string }

/*
 * Where the scan stands, by the names of the open containers:
 *   [0] sources array, [1] source result, [2] `results`, [3] `predictions`, [4] a prediction,
 *   [5] `models`, [6] `<model>`, [7] `grouped_predictions`, [8] a group, [9] `predictions` → items.
 */
const isItemsArray = (s: Frame[]): boolean =>
  s.length === 10 && s[9]!.name === 'predictions' && s[7]!.name === 'grouped_predictions' && s[5]!.name === 'models' && s[2]!.name === 'results';

export async function* predictionItems(path: string): AsyncGenerator<PlacedItem> {
  const stack: Frame[] = [];
  let key = '';
  let expectKey = false;
  let string: string[] | undefined; // raw text of the string being read, outside items
  let item: { parts: string[]; depth: number; inString: boolean } | undefined;
  let escaped = false;
  let source = 'text';
  let file = '';
  let id = '';
  const found: PlacedItem[] = [];
  const STRING_STOP = /["\\]/g;

  const endString = (raw: string): void => {
    const value = JSON.parse(`"${raw}"`) as string;
    if (expectKey) {
      key = value;
      return;
    }
    if (stack.length === 3 && stack[2]!.name === 'source' && (key === 'url' || key === 'filename')) source = value;
    else if (stack.length === 5 && key === 'file') file = value;
    else if (stack.length === 9 && key === 'id') id = value;
  };

  /** Reads the rest of a string from `i`; returns where scanning resumes. */
  const scanString = (s: string, i: number): number => {
    let from = i;
    if (escaped) {
      escaped = false;
      from++;
    }
    for (;;) {
      STRING_STOP.lastIndex = from;
      const m = STRING_STOP.exec(s);
      if (!m) break;
      if (m[0] === '\\') {
        if (m.index + 1 >= s.length) {
          escaped = true;
          break;
        }
        from = m.index + 2;
        continue;
      }
      string!.push(s.slice(i, m.index));
      endString(string!.join(''));
      string = undefined;
      return m.index + 1;
    }
    string!.push(s.slice(i));
    return s.length;
  };

  /** Reads the rest of an item from `i` (its opening brace included); a plain loop beats regex here, stops being dense. */
  const scanItem = (s: string, i: number): number => {
    const it = item!;
    let j = i;
    if (escaped) {
      escaped = false;
      j++;
    }
    for (; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (it.inString) {
        if (c === 0x22) it.inString = false;
        else if (c === 0x5c) {
          if (j + 1 >= s.length) {
            escaped = true;
            break;
          }
          j++;
        }
      } else if (c === 0x22) it.inString = true;
      else if (c === 0x7b || c === 0x5b) it.depth++; // { [
      else if ((c === 0x7d || c === 0x5d) && --it.depth === 0) { // } ]
        it.parts.push(s.slice(i, j + 1));
        found.push({ source, file, model: stack[6]!.name as ModelName, id, item: JSON.parse(it.parts.join('')) as Record<string, unknown> });
        item = undefined;
        return j + 1;
      }
    }
    it.parts.push(s.slice(i));
    return s.length;
  };

  const scan = (s: string): void => {
    let i = 0;
    while (i < s.length) {
      if (item) {
        i = scanItem(s, i);
        continue;
      }
      if (string) {
        i = scanString(s, i);
        continue;
      }
      const c = s[i];
      const top = stack.at(-1);
      if (c === '{' && top?.array && isItemsArray(stack)) {
        item = { parts: [], depth: 0, inString: false };
        continue;
      }
      if (c === '{' || c === '[') {
        const name = top && !top.array ? key : '';
        if (stack.length === 2 && name === 'source') source = 'text'; // a text source has no other field
        stack.push({ array: c === '[', name });
        expectKey = c === '{';
      } else if (c === '}' || c === ']') {
        stack.pop();
        expectKey = false;
      } else if (c === ',') expectKey = top !== undefined && !top.array;
      else if (c === ':') expectKey = false;
      else if (c === '"') string = [];
      i++;
    }
  };

  const decoder = new StringDecoder('utf8');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    scan(decoder.write(chunk as Buffer));
    yield* found.splice(0);
  }
  scan(decoder.end());
  yield* found.splice(0);
  if (stack.length > 0 || item || string) throw new Error(`${path}: predictions file ends before its JSON does`);
}
