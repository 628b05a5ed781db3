// The one closeness check for tests: |actual − expected| <= atol + rtol·|expected| per element.
// NaN must sit exactly where the expected array has NaN; infinities must match exactly.
import assert from 'node:assert/strict';

export interface Tolerance {
  atol?: number;
  rtol?: number;
}

export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 0, rtol = 0 }: Tolerance = {},
  label = '',
): void {
  const where = label ? `${label}: ` : '';
  assert.equal(actual.length, expected.length, `${where}length ${actual.length}, expected ${expected.length}`);
  const bad: number[] = [];
  let maxDiff = 0;
  let maxAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    let ok: boolean;
    if (Number.isNaN(e) || Number.isNaN(a)) ok = Number.isNaN(e) && Number.isNaN(a);
    else if (!Number.isFinite(e) || !Number.isFinite(a)) ok = a === e;
    else {
      const diff = Math.abs(a - e);
      if (diff > maxDiff) ((maxDiff = diff), (maxAt = i));
      ok = diff <= atol + rtol * Math.abs(e);
    }
    if (!ok) bad.push(i);
  }
  if (bad.length === 0) return;
  const pairs = bad
    .slice(0, 5)
    .map((i) => `  [${i}] actual ${actual[i]} expected ${expected[i]}`)
    .join('\n');
  assert.fail(
    `${where}${bad.length} of ${expected.length} values differ beyond atol=${atol} rtol=${rtol}; first bad index ${bad[0]}\n${pairs}\n  max |diff| ${maxDiff} at index ${maxAt}`,
  );
}
