// The Winograd convolution (inference only) against its _ref twin bit for bit and against a direct
// f64 convolution within a bound relative to Σ|w·x| (its transforms round differently from a
// direct sum), on 3×3 and 5×5 filters with 'same', 'valid' and explicit padding, outputs that tiles
// do not divide, images narrower than four tiles (the scalar path), chunks of one and of several
// samples, a sample's bits alone against the same sample in a batch, and the transformed filters
// kept in the workspace (reuse) for the same filter bytes only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelByName } from '../../src/core/wasm.ts';
import { Tensor, scope } from '../../src/core/tensor.ts';
import { ACT_LINEAR, ACT_RELU } from '../../assembly/codes.ts';
import { conv2dRef, refAxis } from '../reference/cnn-ref.ts';
import { bits } from '../helpers/kernel-call.ts';
import { mulberry32, uniform } from '../helpers/rand.ts';

interface Case {
  label: string;
  B: number;
  C: number;
  H: number;
  W: number;
  O: number;
  K: 3 | 5;
  padding: 'same' | 'valid' | number;
}

const CASES: Case[] = [
  { label: '5x5 same on 14x14 (LeNet second layer)', B: 3, C: 8, H: 14, W: 14, O: 12, K: 5, padding: 'same' },
  { label: '3x3 same on 13x11 (tiles cut by both edges)', B: 2, C: 5, H: 13, W: 11, O: 6, K: 3, padding: 'same' },
  { label: '5x5 valid on 17x23', B: 2, C: 3, H: 17, W: 23, O: 5, K: 5, padding: 'valid' },
  { label: '3x3 padding 2 on 9x30', B: 2, C: 4, H: 9, W: 30, O: 7, K: 3, padding: 2 },
  { label: '5x5 same on 5x6 (fewer than four tiles a row)', B: 3, C: 6, H: 5, W: 6, O: 4, K: 5, padding: 'same' },
  { label: '3x3 one filter of one channel', B: 2, C: 1, H: 8, W: 8, O: 1, K: 3, padding: 'same' },
  { label: '5x5 same on 28x28, 32 channels', B: 1, C: 32, H: 28, W: 28, O: 16, K: 5, padding: 'same' },
];

function geometry(c: Case) {
  const [OH, ph] = refAxis(c.H, c.K, 1, 1, c.padding);
  const [OW, pw] = refAxis(c.W, c.K, 1, 1, c.padding);
  return { OH, OW, ph, pw };
}

function data(c: Case, seed: number) {
  const r = mulberry32(seed);
  return {
    x: uniform(r, c.B * c.C * c.H * c.W),
    w: uniform(r, c.O * c.C * c.K * c.K, -0.5, 0.5),
    bias: uniform(r, c.O, -0.2, 0.2),
  };
}

function run(
  kernel: string,
  c: Case,
  d: ReturnType<typeof data>,
  opts: { B?: number; chunk?: number; act?: number; bias?: boolean; reuse?: number; ws?: Tensor<'f32'>; pre?: Float32Array } = {},
): Float32Array {
  const { OH, OW, ph, pw } = geometry(c);
  const B = opts.B ?? c.B,
    chunk = opts.chunk ?? 2;
  const k = kernelByName;
  const floats = k('f32_conv2d_winograd_floats')(c.C, c.O, OH, OW, c.K, chunk) as number;
  return scope(() => {
    const y = Tensor.from(new Float32Array(B * c.O * OH * OW).fill(NaN));
    const ws = opts.ws ?? Tensor.from(new Float32Array(floats).fill(NaN));
    const pre = opts.pre ? Tensor.from(new Float32Array(y.size).fill(NaN)) : undefined;
    const x = Tensor.from(d.x.subarray(0, B * c.C * c.H * c.W)),
      w = Tensor.from(d.w),
      bias = Tensor.from(d.bias);
    k(kernel)(
      y.ptr,
      pre ? pre.ptr : 0,
      x.ptr,
      w.ptr,
      opts.bias === false ? 0 : bias.ptr,
      ws.ptr,
      B,
      c.C,
      c.H,
      c.W,
      c.O,
      OH,
      OW,
      c.K,
      ph,
      pw,
      chunk,
      opts.reuse ?? 0,
      opts.act ?? ACT_LINEAR,
      0.1,
    );
    if (pre) opts.pre!.set(pre.read());
    return y.read();
  });
}

test('f32_conv2d_winograd matches its _ref twin bit for bit, with and without bias, ReLU, pre-activations, any chunk', () => {
  for (const [i, c] of CASES.entries()) {
    const d = data(c, 900 + i);
    const { OH, OW } = geometry(c);
    for (const chunk of [1, 2, 5])
      for (const act of [ACT_LINEAR, ACT_RELU])
        for (const bias of [true, false]) {
          const label = `${c.label} chunk ${chunk} act ${act} bias ${bias}`;
          const fast = run('f32_conv2d_winograd', c, d, { chunk, act, bias }),
            ref = run('f32_conv2d_winograd_ref', c, d, { chunk, act, bias });
          assert.ok(!fast.some(Number.isNaN), `${label}: every output written`);
          assert.deepEqual(bits(fast), bits(ref), label);
          // Training keeps the pre-activations: y is act(pre), with the bits of y alone.
          const pre = new Float32Array(c.B * c.O * OH * OW),
            preRef = new Float32Array(pre.length);
          const y = run('f32_conv2d_winograd', c, d, { chunk, act, bias, pre }),
            yRef = run('f32_conv2d_winograd_ref', c, d, { chunk, act, bias, pre: preRef });
          assert.deepEqual(bits(y), bits(fast), `${label}: y with pre`);
          assert.deepEqual(bits(yRef), bits(fast), `${label}: twin's y with pre`);
          assert.deepEqual(bits(pre), bits(preRef), `${label}: pre`);
          if (act === ACT_LINEAR) assert.deepEqual(bits(pre), bits(fast), `${label}: pre = y`);
          else assert.deepEqual(bits(y), bits(pre.map((v) => Math.max(v, 0))), `${label}: y = relu(pre)`);
        }
  }
});

// Measured: at most 1.0e-6 (F(2×2, 5×5)) and 4.8e-6 (F(4×4, 3×3), whose output transform
// multiplies by 8) of Σ|w·x|; a direct f32 sum of the same terms stays near 1e-7.
test('f32_conv2d_winograd is within 2e-6 (5×5) or 1e-5 (3×3) of Σ|w·x| of a direct f64 convolution', () => {
  for (const [i, c] of CASES.entries()) {
    const d = data(c, 950 + i);
    const { OH, OW, ph, pw } = geometry(c);
    const z = conv2dRef(d.x, d.w, d.bias, c.B, c.C, c.H, c.W, c.O, OH, OW, c.K, c.K, 1, 1, ph, pw, 1, 1, 1);
    const mag = conv2dRef(
      d.x.map(Math.abs),
      d.w.map(Math.abs),
      undefined,
      c.B,
      c.C,
      c.H,
      c.W,
      c.O,
      OH,
      OW,
      c.K,
      c.K,
      1,
      1,
      ph,
      pw,
      1,
      1,
      1,
    );
    const y = run('f32_conv2d_winograd', c, d);
    let worst = 0;
    for (let j = 0; j < z.length; j++)
      worst = Math.max(worst, Math.abs(y[j]! - z[j]!) / (mag[j]! + Math.abs(d.bias[Math.floor(j / (OH * OW)) % c.O]!)));
    const bound = c.K === 5 ? 2e-6 : 1e-5;
    assert.ok(worst <= bound, `${c.label}: error ${worst.toExponential(2)} of Σ|w·x|`);
  }
});

test("a sample's Winograd output has the same bits alone and inside a batch", () => {
  const c = CASES[0]!;
  const d = data(c, 990);
  const { OH, OW } = geometry(c);
  const batch = run('f32_conv2d_winograd', c, d, { chunk: 2 });
  const alone = run('f32_conv2d_winograd', c, d, { B: 1, chunk: 1 });
  assert.deepEqual(bits(alone), bits(batch.subarray(0, c.O * OH * OW)));
});

test('with reuse, the workspace keeps the transformed filters for the same filter bytes and only for them', () => {
  const c = CASES[1]!;
  const d = data(c, 995);
  const { OH, OW } = geometry(c);
  const chunk = 2;
  const floats = kernelByName('f32_conv2d_winograd_floats')(c.C, c.O, OH, OW, c.K, chunk) as number;
  const fresh = (w: Float32Array) => run('f32_conv2d_winograd_ref', c, { ...d, w });
  const changed = d.w.slice();
  changed[changed.length - 1] = -changed[changed.length - 1]!; // the last byte the key compares
  const nan = d.w.slice();
  nan[7] = NaN;
  scope(() => {
    // A workspace kept across calls, zeroed as the engine allocates it.
    const ws = Tensor.zeros([floats]);
    const call = (w: Float32Array, cc = c) => bits(run('f32_conv2d_winograd', cc, { ...d, w }, { chunk, reuse: 1, ws }));
    // Same filters twice (the second reuses), changed filters, back, NaN filters, then fewer
    // filters whose bytes are a prefix of the kept ones (the key's header tells them apart).
    for (const w of [d.w, d.w, changed, d.w, nan, nan, d.w]) assert.deepEqual(call(w), bits(fresh(w)));
    const fewer = { ...c, O: c.O - 1 };
    const prefix = d.w.subarray(0, fewer.O * c.C * c.K * c.K);
    assert.deepEqual(call(prefix, fewer), bits(run('f32_conv2d_winograd_ref', fewer, { ...d, w: prefix })));
  });
});
