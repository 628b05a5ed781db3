// Timing helpers shared by the benchmarks: medians of repetitions, contestants alternated.
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Runs each contestant once per round, `rounds` times, in alternating order; returns the
 *  median of each one's measurements (whatever unit `run` returns). */
export async function alternate(
  contestants: Record<string, () => Promise<number> | number>,
  rounds: number,
): Promise<Record<string, number>> {
  const names = Object.keys(contestants);
  const seen: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...names].reverse() : names;
    for (const name of order) seen[name]!.push(await contestants[name]!());
  }
  return Object.fromEntries(names.map((n) => [n, median(seen[n]!)]));
}

export const fmt = (x: number, digits = 1): string =>
  Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(x);
