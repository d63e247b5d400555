/**
 * Runs `fn` over `items` with at most `limit` calls in flight; results in input order. The one
 * worker pool of the code base: drivers and core use it wherever they fan out.
 *
 * @example
 * const results = await mapLimit(keys, 8, (key) => deleteOne(key));
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}
