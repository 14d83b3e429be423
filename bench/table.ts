/** The bench's output: one row per figure, printed as aligned columns (or as JSON). */

export interface Row {
  bench: string;
  case: string;
  figure: string;
  value: string;
  /** The target, when it sets one. */
  target?: string;
  /** Whether the value meets the target. */
  met?: boolean;
}

/** Rows of one benchmark case: `row(figure, value, target?, met?)`. */
export function rowsOf(bench: string, name: string) {
  return (figure: string, value: string, target?: string, met?: boolean): Row => ({ bench, case: name, figure, value, target, met });
}

const COLUMNS: Array<[keyof Row, string]> = [
  ['bench', 'Benchmark'],
  ['case', 'Case'],
  ['figure', 'Figure'],
  ['value', 'Value'],
  ['target', 'Target'],
  ['met', 'Met'],
];

const cell = (row: Row, key: keyof Row): string => {
  const value = row[key];
  if (key === 'met') return value === undefined ? '' : value ? 'yes' : 'NO';
  return value === undefined ? '' : String(value);
};

export function formatTable(rows: Row[]): string {
  const lines = [COLUMNS.map(([, title]) => title), ...rows.map((row) => COLUMNS.map(([key]) => cell(row, key)))];
  const widths = COLUMNS.map((_, i) => Math.max(...lines.map((line) => line[i]?.length ?? 0)));
  const format = (line: string[]) => line.map((text, i) => text.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [format(lines[0] ?? []), rule, ...lines.slice(1).map(format)].join('\n');
}
