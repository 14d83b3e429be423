/** Reading a Prometheus text exposition the way a scraper would. */

/** The value of the first sample of `name` (or `name_total`) whose labels include `labels`. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{([^}]*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!match || (match[1] !== name && match[1] !== `${name}_total`)) continue;
    const has = Object.entries(labels).every(([key, value]) => (match[3] ?? '').includes(`${key}="${value}"`));
    if (has) return Number(match[4]);
  }
  return undefined;
}
