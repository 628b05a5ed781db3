// gradientSearch end to end: recovery of the activation that generated the data, the size
// penalty's effect, the expected parameter count against brute-force enumeration and finite
// differences, discretisation, the record and the retrained model, reproducibility, abort and
// option validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset, Sequential, iris } from '../../src/index.ts';
import { gradientSearch } from '../../src/gradsearch/search.ts';
import {
  DEFAULT_CANDIDATES,
  discretize,
  expectedParameters,
  layerProbabilities,
  operationNames,
  parameterCount,
  resolveCandidates,
  superNetSpec,
  SKIP,
} from '../../src/gradsearch/space.ts';
import { numericGradient } from '../reference/mlp-ref.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32 } from '../helpers/rand.ts';

// Regression targets from a random one-hidden-layer tanh network with weights large enough to
// saturate: y = Σ_j v_j·tanh(w_j·x + b_j), x uniform in [-1, 1]^d.
function tanhTeacher(seed: number, n = 2000, d = 4, hidden = 8): Dataset {
  const r = mulberry32(seed);
  const u = (scale: number) => (r() * 2 - 1) * scale;
  const W = Array.from({ length: hidden * d }, () => u(2.5)),
    b = Array.from({ length: hidden }, () => u(1)),
    v = Array.from({ length: hidden }, () => u(1));
  const features = new Float32Array(n * d),
    targets = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) features[i * d + k] = u(1);
    let y = 0;
    for (let j = 0; j < hidden; j++) {
      let z = b[j]!;
      for (let k = 0; k < d; k++) z += W[j * d + k]! * features[i * d + k]!;
      y += v[j]! * Math.tanh(z);
    }
    targets[i] = y;
  }
  return new Dataset({ features, numFeatures: d, targets });
}

test('recovery: on data made by a tanh network the search picks tanh over relu and gelu, for every seed', async () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { architecture, record, model } = await gradientSearch(tanhTeacher(100 + seed), {
      candidates: { widths: [8, 16], activations: ['relu', 'tanh', 'gelu'], layers: 1 },
      epochs: 20,
      seed,
      retrain: false,
    });
    const p = record.epochs.at(-1)!.probabilities[0]!.operations;
    assert.equal(
      architecture.hidden[0]?.activation,
      'tanh',
      `seed ${seed}: chose ${JSON.stringify(architecture.hidden)}, operation weights ${p.map((x) => x.toFixed(2))}`,
    );
    assert.ok(p[1]! > 0.5, `seed ${seed}: tanh holds ${p[1]} of the mixture`);
    model.dispose();
  }
});

// Three classes by radius and sign: needs a nonlinear boundary.
function rings(n = 1200, d = 6): Dataset {
  const r = mulberry32(5);
  const features = new Float32Array(n * d),
    labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < d; k++) s += (features[i * d + k] = r() * 2 - 1) ** 2;
    labels[i] = s > 2 ? 1 : features[i * d]! > 0 ? 2 : 0;
  }
  return new Dataset({ features, numFeatures: d, labels });
}

test('sizePenalty: a larger λ never gives a larger network, expected or chosen', async () => {
  const data = rings();
  let expected = Infinity,
    chosen = Infinity;
  for (const sizePenalty of [0, 0.3, 3]) {
    const { architecture, record, model } = await gradientSearch(data, {
      candidates: { widths: [4, 16, 64], activations: ['relu', 'tanh', 'skip'], layers: 2 },
      epochs: 6,
      seed: 1,
      sizePenalty,
      retrain: false,
    });
    const e = record.epochs.at(-1)!.expectedParameters;
    assert.ok(e < expected, `λ=${sizePenalty}: E[parameters] ${e} after ${expected}`);
    assert.ok(architecture.parameterCount <= chosen, `λ=${sizePenalty}: ${architecture.parameterCount} parameters after ${chosen}`);
    [expected, chosen] = [e, architecture.parameterCount];
    model.dispose();
  }
  assert.ok(chosen < parameterCount(6, [{ units: 64, activation: 'relu' }], 3), `λ=3 still chose ${chosen} parameters`);
});

test('expectedParameters equals the expectation over every discrete network, and its gradient matches finite differences', () => {
  const rand = mulberry32(8);
  const c = resolveCandidates('test', { widths: [3, 7, 12], activations: ['relu', 'tanh', 'skip'], layers: 3 });
  const spec = superNetSpec(5, 4, 'softmax_xent', c);
  assert.deepEqual(
    spec.layers.map((l) => l.skip),
    [false, true, true],
    'identity only where the input is 12 wide',
  );
  const logits = Float64Array.from(
    { length: spec.layers.reduce((s, l) => s + l.widths.length + l.acts.length + (l.skip ? 1 : 0), 0) },
    () => rand() * 4 - 2,
  );
  const probsOf = (a: Float64Array) => {
    const out = new Float64Array(a.length);
    let at = 0;
    for (const l of spec.layers) {
      for (const len of [l.widths.length, l.acts.length + (l.skip ? 1 : 0)]) {
        const e = Array.from(a.subarray(at, at + len), Math.exp);
        const s = e.reduce((x, y) => x + y, 0);
        e.forEach((v, i) => (out[at + i] = v / s));
        at += len;
      }
    }
    return out;
  };
  const probs = probsOf(logits);
  // Enumerate width × operation per layer.
  const layers = layerProbabilities(spec, probs);
  let brute = 0;
  const walk = (l: number, weight: number, hidden: { units: number; activation: 'relu' }[]) => {
    if (l === spec.layers.length) return void (brute += weight * parameterCount(5, hidden, 4));
    const names = operationNames(c, spec.layers[l]!);
    layers[l]!.widths.forEach((pw, i) =>
      names.forEach((op, o) => {
        const p = weight * pw * layers[l]!.operations[o]!;
        walk(l + 1, p, op === SKIP ? hidden : [...hidden, { units: c.widths[i]!, activation: 'relu' }]);
      }),
    );
  };
  walk(0, 1, []);
  const { value, gradient } = expectedParameters(spec, probs);
  assertClose([value], [brute], { rtol: 1e-12 }, 'E[parameters]');
  const fd = numericGradient(Float64Array.from(probs), (p) => expectedParameters(spec, p).value, 1e-4);
  assertClose(gradient, fd, { rtol: 1e-7, atol: 1e-6 }, 'gradient');
});

test('discretize: the most probable width and operation per layer, ties to the earlier candidate, skip drops the layer', () => {
  const c = resolveCandidates('test', { widths: [8, 32], activations: ['relu', 'tanh', 'skip'], layers: 3 });
  const spec = superNetSpec(10, 2, 'softmax_xent', c);
  const hidden = discretize(spec, c, [
    { widths: [0.5, 0.5], operations: [0.2, 0.8] },
    { widths: [0.1, 0.9], operations: [0.3, 0.3, 0.4] },
    { widths: [0.6, 0.4], operations: [0.5, 0.1, 0.4] },
  ]);
  assert.deepEqual(hidden, [
    { units: 8, activation: 'tanh' },
    { units: 8, activation: 'relu' },
  ]);
  assert.equal(parameterCount(10, hidden, 2), 11 * 8 + 9 * 8 + 9 * 2);
  assert.deepEqual(resolveCandidates('test', undefined), DEFAULT_CANDIDATES);
});

test('the record, the chosen network retrained from scratch, and the same seed giving the same search', async () => {
  const data = iris();
  const options = {
    candidates: { widths: [4, 8], activations: ['relu', 'tanh', 'skip'] as const, layers: 2 },
    epochs: 3,
    batchSize: 16,
    seed: 7,
    retrain: { epochs: 4 },
  };
  const first = await gradientSearch(data, {
    ...options,
    candidates: { ...options.candidates, activations: [...options.candidates.activations] },
  });
  const { model, architecture, record } = first;
  assert.ok(model instanceof Sequential);
  assert.deepEqual(model.toConfig().layers, architecture.layers);
  assert.equal(model.parameterCount, architecture.parameterCount);
  assert.equal(architecture.layers.at(-1)!.units, 3);
  assert.deepEqual(record.operations, [
    ['relu', 'tanh'],
    ['relu', 'tanh', 'skip'],
  ]);
  assert.equal(record.epochs.length, 3);
  for (const e of record.epochs) {
    for (const p of e.probabilities) {
      assertClose(
        [p.widths.reduce((a, b) => a + b, 0), p.operations.reduce((a, b) => a + b, 0)],
        [1, 1],
        { atol: 1e-6 },
        `epoch ${e.epoch}`,
      );
    }
    assert.ok(e.valAccuracy! >= 0 && e.valAccuracy! <= 1 && Number.isFinite(e.trainLoss) && Number.isFinite(e.valLoss));
  }
  assert.deepEqual(record.architecture, architecture);
  assert.equal(record.retrain!.epochs.length, 4);
  assert.ok(record.searchMs > 0 && record.retrainMs > 0 && record.totalMs >= record.searchMs + record.retrainMs);
  const again = await gradientSearch(data, {
    ...options,
    candidates: { ...options.candidates, activations: [...options.candidates.activations] },
  });
  assert.deepEqual(
    again.record.epochs.map((e) => e.probabilities),
    record.epochs.map((e) => e.probabilities),
  );
  assert.deepEqual(again.model.parameters(), model.parameters());
  model.dispose();
  again.model.dispose();
});

test('abort: a signal stops the search with its reason', async () => {
  const controller = new AbortController();
  controller.abort(new Error('stop now'));
  await assert.rejects(gradientSearch(iris(), { signal: controller.signal }), { message: 'stop now' });
});

test('options: validation names the problem and the value', async () => {
  const data = iris();
  const cases: [object, string | RegExp][] = [
    [{ budget: 1 }, /gradientSearch: unknown option 'budget'/],
    [{ candidates: { widths: [] } }, 'gradientSearch: candidates.widths must be a non-empty array of integers, got []'],
    [{ candidates: { widths: [8, 8] } }, 'gradientSearch: candidates.widths must not repeat a width, got [8,8]'],
    [
      { candidates: { activations: ['skip'] } },
      `gradientSearch: candidates.activations needs at least one activation besides 'skip', got ["skip"]`,
    ],
    [{ candidates: { activations: ['swish'] } }, /gradientSearch candidates.activations\[0\]: activation must be one of/],
    [{ epochs: 3, warmupEpochs: 3 }, 'gradientSearch: warmupEpochs must be an integer in [0, 2], got 3'],
    [{ validation: data, validationFraction: 0.2 }, 'gradientSearch: give validation or validationFraction, not both'],
    [{ validationFraction: 1 }, 'gradientSearch: validationFraction must lie strictly between 0 and 1, got 1'],
    [{ sizePenalty: -1 }, 'gradientSearch: sizePenalty must be a finite number in [0, Infinity], got -1'],
    [{ arch: { lr: 1, momentum: 0.9 } }, /gradientSearch arch: unknown option 'momentum'/],
  ];
  for (const [options, message] of cases)
    await assert.rejects(gradientSearch(data, options as never), { message }, JSON.stringify(options));
});
