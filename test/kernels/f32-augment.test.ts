// Augmentation kernels and the soft-target losses: each against its _ref twin (same bits) and an
// independent JS reference written here (pixel moves, mixup in f64, cross-entropy in f64).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { kernelByName } from '../../src/core/wasm.ts';
import { assertClose } from '../helpers/close.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

type Arg = Float32Array | Int32Array | number;
// Calls a kernel with arrays copied into WASM memory; returns every array argument as left.
function run(name: string, args: readonly Arg[]): (Float32Array | Int32Array)[] {
  return scope(() => {
    const ts = args.map((a) =>
      typeof a === 'number'
        ? a
        : Tensor.from(a.length ? a : new Float32Array(1), [Math.max(1, a.length)], a instanceof Int32Array ? 'i32' : 'f32'),
    );
    const r = kernelByName(name)(...ts.map((t) => (typeof t === 'number' ? t : t.ptr)));
    const out = ts.flatMap((t, i) => (typeof t === 'number' ? [] : [t.read().slice(0, (args[i] as Float32Array).length)]));
    return Object.assign(out, { result: r as number });
  });
}
const ints = (rand: () => number, n: number, lo: number, hi: number) =>
  Int32Array.from({ length: n }, () => lo + Math.floor(rand() * (hi - lo + 1)));
const at = (b: number, c: number, i: number, j: number, C: number, H: number, W: number) => ((b * C + c) * H + i) * W + j;

const SHAPES: [number, number, number, number][] = [
  [1, 1, 1, 1],
  [2, 1, 5, 3],
  [3, 2, 4, 7],
  [4, 1, 28, 28],
  [0, 1, 3, 3],
];

test('f32_image_shift moves pixels by (dy, dx) with zeros shifted in, as its _ref and a JS reference', () => {
  const rand = mulberry32(1);
  for (const [B, C, H, W] of SHAPES) {
    const x = uniform(rand, B * C * H * W, -1, 1);
    const shifts = ints(rand, 2 * B, -Math.max(H, W) - 1, Math.max(H, W) + 1);
    const expected = new Float32Array(B * C * H * W);
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < H; i++)
          for (let j = 0; j < W; j++) {
            const si = i - shifts[2 * b]!,
              sj = j - shifts[2 * b + 1]!;
            if (si >= 0 && si < H && sj >= 0 && sj < W) expected[at(b, c, i, j, C, H, W)] = x[at(b, c, si, sj, C, H, W)]!;
          }
    for (const k of ['f32_image_shift', 'f32_image_shift_ref']) {
      const [out] = run(k, [new Float32Array(x.length).fill(7), x, B, C, H, W, shifts]);
      assert.deepEqual(Array.from(out!), Array.from(expected), `${k} [${B},${C},${H},${W}]`);
    }
  }
});

test('f32_image_flip mirrors flagged images left-right, as its _ref and a JS reference', () => {
  const rand = mulberry32(2);
  for (const [B, C, H, W] of SHAPES) {
    const x = uniform(rand, B * C * H * W, -1, 1);
    const flags = ints(rand, B, 0, 1);
    const expected = new Float32Array(x.length);
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < H; i++)
          for (let j = 0; j < W; j++) expected[at(b, c, i, j, C, H, W)] = x[at(b, c, i, flags[b] ? W - 1 - j : j, C, H, W)]!;
    const [fast] = run('f32_image_flip', [x, B, C, H, W, flags]);
    const [ref] = run('f32_image_flip_ref', [x, B, C, H, W, flags, new Float32Array(W)]);
    assert.deepEqual(Array.from(fast!), Array.from(expected));
    assert.deepEqual(Array.from(ref!), Array.from(expected));
  }
});

test('f32_image_cutout zeroes the clipped size×size square around each centre, as its _ref and a JS reference', () => {
  const rand = mulberry32(3);
  for (const [B, C, H, W] of SHAPES)
    for (const size of [1, 2, 3, 8]) {
      const x = uniform(rand, B * C * H * W, 0.5, 1);
      const cy = ints(rand, B, -2, H + 1),
        cx = ints(rand, B, -2, W + 1);
      const expected = Float32Array.from(x);
      for (let b = 0; b < B; b++) {
        const top = cy[b]! - Math.floor(size / 2),
          left = cx[b]! - Math.floor(size / 2);
        for (let c = 0; c < C; c++)
          for (let i = Math.max(0, top); i < Math.min(H, top + size); i++)
            for (let j = Math.max(0, left); j < Math.min(W, left + size); j++) expected[at(b, c, i, j, C, H, W)] = 0;
      }
      for (const k of ['f32_image_cutout', 'f32_image_cutout_ref']) {
        const [out] = run(k, [x, B, C, H, W, cy, cx, size]);
        assert.deepEqual(Array.from(out!), Array.from(expected), `${k} size ${size}`);
      }
    }
});

test('f32_mixup_rows: λ·x[i] + (1 − λ)·x[p_i] rounded once from f64, as its _ref', () => {
  const rand = mulberry32(4);
  for (const [B, D] of [
    [1, 1],
    [2, 3],
    [5, 17],
    [8, 784],
  ] as const) {
    const x = uniform(rand, B * D, -3, 3);
    const partners = ints(rand, B, 0, B - 1);
    const lambdas = uniform(rand, B, 0, 1);
    const expected = new Float32Array(B * D);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < D; j++) expected[i * D + j] = lambdas[i]! * x[i * D + j]! + (1 - lambdas[i]!) * x[partners[i]! * D + j]!;
    for (const k of ['f32_mixup_rows', 'f32_mixup_rows_ref']) {
      const [out] = run(k, [new Float32Array(B * D), x, partners, lambdas, B, D]);
      assert.deepEqual(Array.from(out!), Array.from(expected), k);
    }
  }
});

test('f32_one_hot: (1 − ε)·one-hot + ε/C', () => {
  const [out] = run('f32_one_hot', [new Float32Array(6), Int32Array.from([2, 0]), 2, 3, 0.3]);
  assertClose(out!, [0.1, 0.1, 0.8, 0.8, 0.1, 0.1], { atol: 1e-7 });
});

function softXentRef(z: Float32Array, q: Float32Array, B: number, C: number): { loss: number; grad: Float64Array } {
  let loss = 0;
  const grad = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    const row = Array.from(z.subarray(i * C, (i + 1) * C));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    const mass = Array.from(q.subarray(i * C, (i + 1) * C)).reduce((s, v) => s + v, 0);
    for (let j = 0; j < C; j++) {
      loss -= q[i * C + j]! * (row[j]! - lse);
      grad[i * C + j] = (Math.exp(row[j]! - lse) * mass - q[i * C + j]!) / B;
    }
  }
  return { loss: loss / B, grad };
}

test('f32_softmax_xent_soft: loss and gradient against f64, equal to f32_softmax_xent on one-hot targets, and finite differences', () => {
  const rand = mulberry32(5);
  for (const [B, C] of [
    [1, 2],
    [3, 5],
    [7, 10],
  ] as const) {
    const z = uniform(rand, B * C, -4, 4);
    const q = uniform(rand, B * C, 0, 1);
    for (let i = 0; i < B; i++) {
      let s = 0;
      for (let j = 0; j < C; j++) s += q[i * C + j]!;
      for (let j = 0; j < C; j++) q[i * C + j]! /= s;
    }
    const ref = softXentRef(z, q, B, C);
    for (const k of ['f32_softmax_xent_soft', 'f32_softmax_xent_soft_ref']) {
      const r = run(k, [new Float32Array(B * C), z, q, B, C]) as Float32Array[] & { result: number };
      assertClose([r.result], [ref.loss], { rtol: 1e-6, atol: 1e-7 }, `${k} loss`);
      assertClose(r[0]!, ref.grad, { rtol: 1e-5, atol: 1e-8 }, `${k} grad`);
    }
    // Central differences of the returned loss.
    const h = 1e-2;
    const [grad] = run('f32_softmax_xent_soft', [new Float32Array(B * C), z, q, B, C]);
    for (let e = 0; e < B * C; e++) {
      const zp = Float32Array.from(z),
        zm = Float32Array.from(z);
      zp[e]! += h;
      zm[e]! -= h;
      const fd = (softXentRef(zp, q, B, C).loss - softXentRef(zm, q, B, C).loss) / (zp[e]! - zm[e]!);
      assertClose([grad![e]!], [fd], { atol: 1e-4, rtol: 1e-3 }, `finite difference ${e}`);
    }
    // One-hot targets give the hard cross-entropy's bits.
    const labels = ints(rand, B, 0, C - 1);
    const [onehot] = run('f32_one_hot', [new Float32Array(B * C), labels, B, C, 0]);
    const soft = run('f32_softmax_xent_soft', [new Float32Array(B * C), z, onehot!, B, C]) as Float32Array[] & { result: number };
    const hard = run('f32_softmax_xent', [new Float32Array(B * C), z, labels, B, C, 0, 0]) as Float32Array[] & { result: number };
    assertClose([soft.result], [hard.result], { rtol: 1e-6 });
    assertClose(soft[0]!, hard[0]!, { atol: 1e-7, rtol: 1e-6 });
  }
});

test('f32_log_mean_softmax: log of the mean of K softmaxes against f64, as its _ref', () => {
  const rand = mulberry32(6);
  for (const [K, B, C] of [
    [1, 1, 2],
    [2, 3, 10],
    [5, 4, 7],
  ] as const) {
    const z = uniform(rand, K * B * C, -6, 6);
    const expected = new Float64Array(B * C);
    for (let i = 0; i < B; i++)
      for (let j = 0; j < C; j++) {
        let p = 0;
        for (let k = 0; k < K; k++) {
          const row = Array.from(z.subarray((k * B + i) * C, (k * B + i + 1) * C));
          const s = row.reduce((a, v) => a + Math.exp(v), 0);
          p += Math.exp(row[j]!) / s;
        }
        expected[i * C + j] = Math.log(p / K);
      }
    for (const k of ['f32_log_mean_softmax', 'f32_log_mean_softmax_ref']) {
      const [out] = run(k, [new Float32Array(B * C), z, K, B, C, new Float32Array(2 * K)]);
      assertClose(out!, expected, { atol: 1e-6, rtol: 1e-6 }, k);
    }
  }
});

test('i32_rand_int stays in [lo, hi] and hits every value; f32_rand_beta has the Beta(a, b) mean and variance', () => {
  scope(() => {
    const state = Tensor.zeros([16], 'u8');
    const k = kernelByName;
    k('rng_seed')(state.ptr, 9, 0);
    const n = 20000;
    const out = Tensor.empty([n], 'i32');
    k('i32_rand_int')(state.ptr, out.ptr, n, -3, 3);
    const v = out.read();
    const counts = new Map<number, number>();
    for (const x of v) counts.set(x, (counts.get(x) ?? 0) + 1);
    assert.deepEqual(
      [...counts.keys()].sort((a, b) => a - b),
      [-3, -2, -1, 0, 1, 2, 3],
    );
    for (const c of counts.values()) assert.ok(Math.abs(c / n - 1 / 7) < 0.01, `frequency ${c / n}`);
    for (const [a, b] of [
      [0.2, 0.2],
      [1, 1],
      [2, 5],
    ]) {
      const f = Tensor.empty([n]);
      k('f32_rand_beta')(state.ptr, f.ptr, n, a!, b!);
      const xs = f.read();
      const mean = xs.reduce((s, x) => s + x, 0) / n;
      const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
      const m = a! / (a! + b!),
        vr = (a! * b!) / ((a! + b!) ** 2 * (a! + b! + 1));
      assert.ok(xs.every((x) => x >= 0 && x <= 1));
      assert.ok(Math.abs(mean - m) < 4 * Math.sqrt(vr / n), `Beta(${a}, ${b}) mean ${mean}, expected ${m}`);
      assert.ok(Math.abs(variance - vr) < 0.1 * vr, `Beta(${a}, ${b}) variance ${variance}, expected ${vr}`);
    }
  });
});
