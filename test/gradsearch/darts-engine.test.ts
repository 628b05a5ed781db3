// The super-network engine against an independent f64 super-network written here: the loss, the
// architecture gradient ∂loss/∂α and the weight gradients against central finite differences,
// for classification and regression, identity candidates, one-candidate groups and no hidden
// layer at all; then the Adam step on α and the evaluation pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { DartsEngine, type SuperNetSpec } from '../../src/core/darts-engine.ts';
import { ACTIVATIONS } from '../../src/core/activation.ts';
import { act, softmaxXent, mse, numericGradient, type RefAct } from '../reference/mlp-ref.ts';
import { assertClose } from '../helpers/close.ts';
import { ints, mulberry32, uniform } from '../helpers/rand.ts';

const LEAKY = 0.01;

function softmax(v: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(v));
  const e = Array.from(v, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** The super-network's loss in f64, from the definition in darts-engine.ts's header. */
function refLoss(
  spec: SuperNetSpec,
  params: ArrayLike<number>,
  alpha: ArrayLike<number>,
  x: ArrayLike<number>,
  targets: ArrayLike<number>,
  B: number,
): number {
  let input = Array.from(x);
  let offset = 0,
    arch = 0;
  for (const layer of spec.layers) {
    const N = Math.max(...layer.widths),
      K = layer.inputs;
    const rho = softmax(Array.from({ length: layer.widths.length }, (_, i) => alpha[arch + i]!));
    arch += layer.widths.length;
    const ops = layer.acts.length + (layer.skip ? 1 : 0);
    const pi = softmax(Array.from({ length: ops }, (_, i) => alpha[arch + i]!));
    arch += ops;
    const mask = Array.from({ length: N }, (_, j) => layer.widths.reduce((s, w, i) => s + (j < w ? rho[i]! : 0), 0));
    const out = new Array<number>(B * N);
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < N; j++) {
        let z = params[offset + N * K + j]!;
        for (let k = 0; k < K; k++) z += input[b * K + k]! * params[offset + j * K + k]!;
        let s = 0;
        layer.acts.forEach((code, a) => (s += pi[a]! * act(ACTIVATIONS[code] as RefAct, z, LEAKY)));
        out[b * N + j] = mask[j]! * s + (layer.skip ? pi[layer.acts.length]! * input[b * K + j]! : 0);
      }
    }
    offset += N * K + N;
    input = out;
  }
  const K = spec.layers.length ? Math.max(...spec.layers.at(-1)!.widths) : spec.inputs;
  const C = spec.outputs;
  const logits = new Array<number>(B * C);
  for (let b = 0; b < B; b++) {
    for (let c = 0; c < C; c++) {
      let s = params[offset + C * K + c]!;
      for (let k = 0; k < K; k++) s += input[b * K + k]! * params[offset + c * K + k]!;
      logits[b * C + c] = s;
    }
  }
  return spec.loss === 'softmax_xent' ? softmaxXent(logits, targets, B, C) : mse(logits, targets);
}

const code = (name: string) => ACTIVATIONS.indexOf(name as RefAct);

const CASES: { name: string; spec: SuperNetSpec; B: number }[] = [
  {
    name: 'two mixed layers, identity in the second, classification',
    B: 7,
    spec: {
      inputs: 5,
      outputs: 3,
      loss: 'softmax_xent',
      layers: [
        { inputs: 5, widths: [3, 6, 8], acts: [code('relu'), code('tanh'), code('gelu')], skip: false },
        { inputs: 8, widths: [2, 8, 5], acts: [code('sigmoid'), code('linear'), code('leaky_relu')], skip: true },
      ],
    },
  },
  {
    name: 'one candidate per group, regression with two targets',
    B: 4,
    spec: { inputs: 3, outputs: 2, loss: 'mse', layers: [{ inputs: 3, widths: [5], acts: [code('tanh')], skip: false }] },
  },
  {
    name: 'identity beside a single activation, widths out of order, batch of one',
    B: 1,
    spec: {
      inputs: 4,
      outputs: 2,
      loss: 'softmax_xent',
      layers: [
        { inputs: 4, widths: [4, 1], acts: [code('gelu')], skip: true },
        { inputs: 4, widths: [4, 3, 1], acts: [code('tanh'), code('relu')], skip: true },
      ],
    },
  },
  { name: 'no hidden layer (softmax regression)', B: 5, spec: { inputs: 6, outputs: 4, loss: 'softmax_xent', layers: [] } },
];

for (const { name, spec, B } of CASES) {
  test(`super-network gradients match finite differences of the f64 network: ${name}`, () => {
    const rand = mulberry32(name.length);
    const engine = new DartsEngine(spec, 11);
    try {
      const alpha = uniform(rand, engine.alpha.size, -1, 1);
      engine.alpha.view().set(alpha);
      engine.refreshProbabilities();
      const params = engine.params.read();
      const x = uniform(rand, B * spec.inputs, -2, 2);
      const targets = spec.loss === 'softmax_xent' ? ints(rand, B, spec.outputs) : uniform(rand, B * spec.outputs);
      const { archLoss, weightLoss, dalpha, grads } = scope(() => {
        const tx = Tensor.from(x, [B, spec.inputs]);
        const tt = spec.loss === 'softmax_xent' ? Tensor.from(targets, [B], 'i32') : Tensor.from(targets, [B, spec.outputs]);
        const order = Tensor.from(
          Int32Array.from({ length: B }, (_, i) => i),
          [B],
          'i32',
        );
        const archLoss = engine.computeArchGradients(tx, tt, order, 0, B);
        const weightLoss = engine.computeWeightGradients(tx, tt, order, 0, B);
        return { archLoss, weightLoss, dalpha: engine.dalpha.read(), grads: engine.grads.read() };
      });
      const loss = refLoss(spec, params, alpha, x, targets, B);
      assertClose([archLoss, weightLoss], [loss, loss], { rtol: 1e-5, atol: 1e-6 }, 'loss');
      const fdAlpha = numericGradient(Float64Array.from(alpha), (a) => refLoss(spec, params, a, x, targets, B));
      assertClose(dalpha, fdAlpha, { atol: 2e-5, rtol: 1e-3 }, 'dα');
      const fdW = numericGradient(Float64Array.from(params), (p) => refLoss(spec, p, alpha, x, targets, B));
      assertClose(grads, fdW, { atol: 2e-5, rtol: 1e-3 }, 'dW');
    } finally {
      engine.dispose();
    }
  });
}

test('an extra probability gradient (a penalty) enters through the softmax backward', () => {
  const spec = CASES[0]!.spec;
  const engine = new DartsEngine(spec, 3);
  try {
    const rand = mulberry32(9);
    const x = uniform(rand, 4 * 5),
      labels = ints(rand, 4, 3);
    const run = (extra?: Float32Array) =>
      scope(() => {
        const order = Tensor.from([0, 1, 2, 3], [4], 'i32');
        engine.computeArchGradients(Tensor.from(x, [4, 5]), Tensor.from(labels, [4], 'i32'), order, 0, 4, extra);
        return engine.dalpha.read();
      });
    const base = run();
    const extra = uniform(rand, engine.alpha.size);
    const probs = engine.probs.read();
    const expected = Float64Array.from(base);
    for (const [at, len] of engine.groups()) {
      let dot = 0;
      for (let i = at; i < at + len; i++) dot += probs[i]! * extra[i]!;
      for (let i = at; i < at + len; i++) expected[i] = expected[i]! + probs[i]! * (extra[i]! - dot);
    }
    assertClose(run(extra), expected, { atol: 1e-6, rtol: 1e-5 });
  } finally {
    engine.dispose();
  }
});

test('updateArch takes one Adam step on α (bias-corrected, L2 decay) and refreshes the probabilities', () => {
  const spec = CASES[0]!.spec;
  const engine = new DartsEngine(spec, 4);
  try {
    const rand = mulberry32(10);
    const alpha = uniform(rand, engine.alpha.size);
    const dalpha = uniform(rand, engine.alpha.size);
    engine.alpha.view().set(alpha);
    engine.dalpha.view().set(dalpha);
    const lr = 0.01,
      wd = 1e-3;
    engine.updateArch({ lr, beta1: 0.5, beta2: 0.999, eps: 1e-8, weightDecay: wd });
    // First Adam step: m̂ = d, v̂ = d², so the move is lr·d/(|d| + ε) with d = g + wd·α.
    const expected = Array.from(alpha, (a, i) => {
      const d = dalpha[i]! + wd * a;
      return a - (lr * d) / (Math.abs(d) + 1e-8);
    });
    assertClose(engine.alpha.read(), expected, { atol: 1e-6, rtol: 1e-5 }, 'α');
    const probs = engine.probs.read();
    for (const [at, len] of engine.groups())
      assertClose(probs.slice(at, at + len), softmax(expected.slice(at, at + len)), { atol: 1e-6, rtol: 1e-5 }, `group at ${at}`);
  } finally {
    engine.dispose();
  }
});

test('evaluate: mean loss and correct argmax count over chunks equal the f64 network', () => {
  const spec = CASES[0]!.spec;
  const engine = new DartsEngine(spec, 5);
  try {
    const rand = mulberry32(12);
    const n = 23;
    const x = uniform(rand, n * 5, -2, 2),
      labels = ints(rand, n, 3);
    const result = scope(() => engine.evaluate(Tensor.from(x, [n, 5]), Tensor.from(labels, [n], 'i32'), 8));
    const params = engine.params.read(),
      alpha = engine.alpha.read();
    assertClose([result.loss], [refLoss(spec, params, alpha, x, labels, n)], { rtol: 1e-5 });
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const losses = [0, 1, 2].map((c) => refLoss(spec, params, alpha, x.subarray(i * 5, i * 5 + 5), [c], 1));
      if (losses.indexOf(Math.min(...losses)) === labels[i]) correct++;
    }
    assert.equal(result.correct, correct);
  } finally {
    engine.dispose();
  }
});
