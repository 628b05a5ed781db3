// layerNorm: the kernels against their scalar twins and an f64 reference, the layer's gradients
// in a network against finite differences of an independent f64 model, and a file round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernels } from '../../src/core/wasm.ts';
import { Sequential } from '../../src/nn/sequential.ts';
import { dense, layerNorm } from '../../src/nn/layers/index.ts';
import { modelFromBytes, modelToBytes } from '../../src/io/model-file.ts';
import { numericGradient, softmaxXent } from '../reference/mlp-ref.ts';
import { assertClose } from '../helpers/close.ts';
import { classifierGradients } from '../helpers/gradients.ts';
import { mulberry32, uniform, ints } from '../helpers/rand.ts';

// f64 layer norm of each row of x [B, D].
function layerNormRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  B: number,
  D: number,
  eps: number,
): number[] {
  const y: number[] = [];
  for (let b = 0; b < B; b++) {
    const row = Array.from({ length: D }, (_, j) => x[b * D + j]!);
    const mean = row.reduce((a, v) => a + v, 0) / D;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / D;
    row.forEach((v, j) => y.push(((v - mean) / Math.sqrt(variance + eps)) * gamma[j]! + beta[j]!));
  }
  return y;
}

test('f32_layer_norm_fwd equals its scalar twin bit for bit and the f64 reference to rounding', () => {
  const rand = mulberry32(17);
  for (const [B, D] of [
    [0, 4],
    [1, 1],
    [3, 3],
    [2, 4],
    [5, 17],
    [4, 64],
  ] as const) {
    scope(() => {
      const x = Tensor.from(uniform(rand, B * D, -3, 5));
      const gamma = Tensor.from(uniform(rand, D, 0.5, 2)),
        beta = Tensor.from(uniform(rand, D, -1, 1));
      const run = (name: 'f32_layer_norm_fwd' | 'f32_layer_norm_fwd_ref') => {
        const y = Tensor.empty([Math.max(1, B * D)]),
          xhat = Tensor.empty([Math.max(1, B * D)]),
          r = Tensor.empty([Math.max(1, B)]);
        kernels()[name](y.ptr, xhat.ptr, r.ptr, x.ptr, gamma.ptr, beta.ptr, B, D, 1e-5);
        return [y.read().slice(0, B * D), xhat.read().slice(0, B * D), r.read().slice(0, B)];
      };
      const simd = run('f32_layer_norm_fwd'),
        ref = run('f32_layer_norm_fwd_ref');
      simd.forEach((a, i) => assert.deepEqual(a, ref[i], `B=${B} D=${D} output ${i}`));
      assertClose(simd[0]!, layerNormRef(x.read(), gamma.read(), beta.read(), B, D, 1e-5), { atol: 1e-5, rtol: 1e-5 }, `B=${B} D=${D}`);
    });
  }
});

test('layerNorm in a network: gradients match finite differences of an independent f64 model', () => {
  const B = 5,
    D = 4,
    H = 6,
    C = 3;
  const model = new Sequential({ inputs: D, layers: [dense(H, 'tanh'), layerNorm({ eps: 1e-3 }), dense(C)], seed: 7 });
  assert.deepEqual(
    model.parameters().map((p) => `${p.name} ${p.shape.join('x')}`),
    ['layers.0.weight 6x4', 'layers.0.bias 6', 'layers.1.weight 6', 'layers.1.bias 6', 'layers.2.weight 3x6', 'layers.2.bias 3'],
  );
  const rand = mulberry32(3);
  // Move γ and β off their starting 1 and 0 so that their gradients are exercised in general.
  model.setParameters({ 'layers.1.weight': uniform(rand, H, 0.5, 1.5), 'layers.1.bias': uniform(rand, H, -0.5, 0.5) });
  const x = uniform(rand, B * D, -2, 2);
  const labels = ints(rand, B, C);
  const grads = classifierGradients(model, x, labels);
  const loss = (p: Float64Array) => {
    let at = 0;
    const take = (n: number) => p.subarray(at, (at += n));
    const w1 = take(H * D),
      b1 = take(H),
      gamma = take(H),
      beta = take(H),
      w2 = take(C * H),
      b2 = take(C);
    const h: number[] = [];
    for (let b = 0; b < B; b++)
      for (let u = 0; u < H; u++) {
        let s = b1[u]!;
        for (let k = 0; k < D; k++) s += w1[u * D + k]! * x[b * D + k]!;
        h.push(Math.tanh(s));
      }
    const n = layerNormRef(h, gamma, beta, B, H, 1e-3);
    const logits: number[] = [];
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) {
        let s = b2[c]!;
        for (let k = 0; k < H; k++) s += w2[c * H + k]! * n[b * H + k]!;
        logits.push(s);
      }
    return softmaxXent(logits, labels, B, C);
  };
  assertClose(
    grads,
    numericGradient(Float64Array.from(model.parameterVector()), loss),
    { atol: 3e-4, rtol: 3e-3 },
    'dense → layerNorm → dense',
  );
  model.dispose();
});

test('a model with layerNorm saves and loads to the same bits; bad options are named', () => {
  const model = new Sequential({ inputs: 3, layers: [dense(8, 'relu'), layerNorm(), dense(2)], seed: 1 });
  const again = modelFromBytes(modelToBytes(model));
  assert.deepEqual(again.toConfig(), model.toConfig());
  const rows = [
    [0.1, -2, 3],
    [4, 5, -6],
  ];
  assert.deepEqual(again.predict(rows), model.predict(rows));
  model.dispose();
  again.dispose();
  assert.throws(() => layerNorm({ eps: 0 }), { name: 'RangeError', message: /layerNorm: eps must be > 0, got 0/ });
  assert.throws(() => layerNorm({ axis: 1 } as never), { name: 'TypeError', message: /axis/ });
});
