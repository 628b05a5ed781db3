// The design note's data, with its shape bug fixed: 100 points x ~ U(0, 1), y = 1.5·x − 0.8 + ε,
// ε ~ N(0, 1), drawn from kiln's seeded generator; plus the least-squares answer in closed form.
import { Dataset, Rng, Tensor } from '../src/index.ts';

export function linearData(seed = 0, n = 100) {
  const rng = new Rng(seed);
  const x = Tensor.empty([n]);
  const noise = Tensor.empty([n]);
  rng.uniform(x, 0, 1);
  rng.normal(noise, 0, 1);
  const features = x.read();
  const targets = Float32Array.from(features, (v, i) => 1.5 * v - 0.8 + noise.view()[i]!);
  for (const t of [x, noise, rng]) t.dispose();
  return new Dataset({ features, numFeatures: 1, featureNames: ['x'], targets });
}

/** Ordinary least squares for y = a·x + b, solved from the 2×2 normal equations in f64. */
export function leastSquares(data: Dataset): { slope: number; intercept: number } {
  let sx = 0,
    sy = 0,
    sxx = 0,
    sxy = 0;
  const n = data.numRows;
  for (let i = 0; i < n; i++) {
    const x = data.features[i]!,
      y = data.targets[i]!;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  return { slope, intercept: (sy - slope * sx) / n };
}
