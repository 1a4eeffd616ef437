/**
 * Runs `fn` over `items` with at most `limit` calls in flight, and resolves with the results in
 * item order. Test setup uses it to make many users or bookings without starving the CPU
 * (password hashing is CPU-heavy) or exhausting the database pool.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
