// Gradient descent for linear regression (the design note's section 3.2), done right: full-batch
// GD on mean squared error converges to the least-squares line.
// Run: npx tsx examples/linear-regression-gd.ts
import { fit, gd, linearRegression } from '../src/index.ts';
import { leastSquares, linearData } from './linear-data.ts';

export async function gradientDescentExample(seed = 0) {
  const data = linearData(seed);
  const model = linearRegression(1, 1, seed);
  const history = await fit(model, data, { optimizer: gd({ lr: 0.5 }), epochs: 3000, standardize: false });
  const [weight, bias] = model.parameters();
  model.dispose();
  return { found: { slope: weight!.data[0]!, intercept: bias!.data[0]! }, exact: leastSquares(data), loss: history.epochs.at(-1)!.loss };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { found, exact, loss } = await gradientDescentExample();
  console.log(`gradient descent: slope ${found.slope.toFixed(7)}, intercept ${found.intercept.toFixed(7)}, mse ${loss.toFixed(5)}`);
  console.log(`least squares:    slope ${exact.slope.toFixed(7)}, intercept ${exact.intercept.toFixed(7)}`);
}
