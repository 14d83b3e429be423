/** Bounded concurrency, the way a script or a worker keeps a fixed number of calls in flight. */

/** Calls `fn(0 … count-1)` with at most `concurrency` calls at a time; results in index order. */
export async function pool<T>(count: number, concurrency: number, fn: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < count; i = next++) results[i] = await fn(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return results;
}
