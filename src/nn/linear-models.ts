// Ready-made linear models: a single dense layer with the matching task (and so loss).
import { dense } from './layers/index.ts';
import { Sequential } from './sequential.ts';

/** y = x·Wᵀ + b, trained with mean squared error.
 *  @example const model = linearRegression(3); await fit(model, data, { optimizer: gd({ lr: 0.1 }), epochs: 200 }); */
export function linearRegression(inputs: number, outputs = 1, seed = 0): Sequential {
  return new Sequential({ inputs, layers: [dense(outputs, 'linear', { init: 'glorot_uniform' })], task: 'regression', seed });
}

/** Binary logistic regression: p(y = 1) = sigmoid(x·w + b), trained with binary cross-entropy. */
export function logisticRegression(inputs: number, seed = 0): Sequential {
  return new Sequential({ inputs, layers: [dense(1, 'linear', { init: 'glorot_uniform' })], task: 'binary', seed });
}

/** Multinomial logistic (softmax) regression over `classes` classes, with cross-entropy. */
export function softmaxRegression(inputs: number, classes: number, seed = 0): Sequential {
  return new Sequential({ inputs, layers: [dense(classes, 'linear', { init: 'glorot_uniform' })], task: 'classification', seed });
}
