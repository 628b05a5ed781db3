// Budget selection and the compression front on a synthetic set of candidates whose answers are
// worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paretoFront, selectWithinBudget } from '../../src/pipeline/budget.ts';

// reference accuracy 0.950
const C = [
  { accuracy: 0.95, bytes: 100_000, latencyUs: 50 }, // 0 the searched model
  { accuracy: 0.945, bytes: 26_000, latencyUs: 20 }, // 1 drop 0.5 pt
  { accuracy: 0.942, bytes: 7_000, latencyUs: 12 }, // 2 drop 0.8 pt, int8
  { accuracy: 0.93, bytes: 4_000, latencyUs: 9 }, // 3 drop 2 pt
  { accuracy: 0.941, bytes: 7_000, latencyUs: 11 }, // 4 as 2, a little less accurate but faster
  { accuracy: 0.94, bytes: 30_000, latencyUs: 25 }, // 5 dominated by 1
  { accuracy: 0.94, bytes: 6_500, latencyUs: 30 }, // 6 exactly 1 pt, smallest within 1 pt, slow
];

test('paretoFront keeps what nothing beats on accuracy, bytes and latency together', () => {
  assert.deepEqual(paretoFront(C), [0, 1, 2, 3, 4, 6]);
  assert.deepEqual(paretoFront([]), []);
  assert.deepEqual(paretoFront([C[0]!, C[0]!]), [0, 1], 'equal candidates do not dominate each other');
});

test('selectWithinBudget: the smallest (or fastest) candidate within the drop, a drop of exactly maxDrop included', () => {
  assert.equal(selectWithinBudget(C, 0.95, 0.01), 6, 'exactly 1 pt counts as within');
  assert.equal(selectWithinBudget(C, 0.95, 0.01, 'latency'), 4);
  assert.equal(selectWithinBudget(C, 0.95, 0.009), 2, 'ties on bytes go to the more accurate');
  assert.equal(selectWithinBudget(C, 0.95, 0.005), 1);
  assert.equal(selectWithinBudget(C, 0.95, 0.0), 0);
  assert.equal(selectWithinBudget(C, 0.95, 0.05), 3);
  assert.equal(selectWithinBudget(C, 0.99, 0.001), -1, 'nothing within budget');
});
