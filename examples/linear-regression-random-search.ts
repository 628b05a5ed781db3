// Random search for linear regression (the design note's section 4.1), done right: sample
// (slope, intercept) candidates from kiln's seeded generator, keep the best by mean squared
// error, and narrow the sampling box around the best so far (a local random search), which
// converges to the least-squares line instead of stopping at the luck of the first draws.
// Run: npx tsx examples/linear-regression-random-search.ts
import { Rng } from '../src/index.ts';
import { leastSquares, linearData } from './linear-data.ts';

export function randomSearchExample(seed = 0, rounds = 60, perRound = 200) {
  const data = linearData(seed);
  const xs = data.features,
    ys = data.targets;
  const mse = (a: number, b: number) => {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += (a * xs[i]! + b - ys[i]!) ** 2;
    return s / xs.length;
  };
  const rng = new Rng(seed + 1);
  let best = { slope: 0, intercept: 0, mse: mse(0, 0) };
  let radius = 5;
  for (let r = 0; r < rounds; r++) {
    const u = rng.uniform64(2 * perRound);
    for (let j = 0; j < perRound; j++) {
      const slope = best.slope + radius * (2 * u[2 * j]! - 1);
      const intercept = best.intercept + radius * (2 * u[2 * j + 1]! - 1);
      const value = mse(slope, intercept);
      if (value < best.mse) best = { slope, intercept, mse: value };
    }
    radius *= 0.7;
  }
  rng.dispose();
  return { found: best, exact: leastSquares(data) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { found, exact } = randomSearchExample();
  console.log(`random search: slope ${found.slope.toFixed(6)}, intercept ${found.intercept.toFixed(6)}, mse ${found.mse.toFixed(5)}`);
  console.log(`least squares: slope ${exact.slope.toFixed(6)}, intercept ${exact.intercept.toFixed(6)}`);
}
