// The inference engine of a quantised MLP: per dense layer the weights packed once for the int8 or
// int4 GEMM, f32 scales and biases, all in WASM memory; activation buffers sized for the largest
// chunk seen. One kernel call per layer and step, nothing allocated per call.
//   static   u8 activations between layers with calibrated (scale, zero point) per layer input:
//            quantise the input once, then each layer requantises its output straight into the
//            next layer's codes (ReLU and linear fused); other activations go through f32
//   dynamic  each layer quantises its f32 input to u8 with the range of the current chunk, runs
//            the int8 GEMM and dequantises to f32 (bias and ReLU fused)
//   dynamic-rows  the same with one range per row: a row's result no longer depends on the
//            other rows of its chunk, and one outlying row cannot coarsen the others' grid
//   weight-only (int4) f32 activations, int4 weights dequantised inside the GEMM
// The last layer always produces f32 (then softmax or sigmoid as the task asks).
// Image models (int8 schemes): convolutions and the pooling after them run on u8 codes in NHWC
// order (assembly/kernels/i8-conv.ts): a static convolution requantises straight into the next
// layer's input codes; a dynamic one writes f32 and quantises it with the chunk's (or each
// row's) range, and pooling works on those codes (max pooling commutes with quantisation). The
// first dense layer after the image reads the codes as they are: its weight columns are permuted
// from the model's [C, H, W] order to the engine's [H, W, C] once, at upload. Image models run in
// chunks of 64 rows, so the f32 and u8 buffers hold 64 images of the largest activation.
import { kernels, i32View, f32View } from './wasm.ts';
import type { CoreKernels } from './kernels.generated.ts';
import { Tensor, unscoped } from './tensor.ts';
import type { ColumnAffine, OutputTransform } from './layer-engine.ts';
import { u8ConvScratch } from './ops/u8-conv-scratch.ts';
import { predictInChunks, transformOutputs } from './ops/infer.ts';

const RELU = 1;

export type ActivationQuant = 'static' | 'dynamic' | 'dynamic-rows' | 'none';

/** A convolution's geometry: input [C, H, W], output [O, OH, OW], window, top/left padding. */
export interface QuantConvSpec {
  readonly inputShape: readonly [number, number, number];
  readonly outputShape: readonly [number, number, number];
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

/** A pooling window over [C, H, W] → [C, OH, OW] (a global average pool is the whole image). */
export interface QuantPoolSpec {
  readonly kind: 'max' | 'avg';
  readonly inputShape: readonly [number, number, number];
  readonly outputShape: readonly [number, number, number];
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
}

/** One dense layer, quantised: y = act(x·Wᵀ + bias) with W [units, inputs] from codes; or, with
 *  `conv`, a convolution whose codes are [units = O, inputs = (C/groups)·KH·KW] in PyTorch's
 *  [O, C/groups, KH, KW] order. `pools` follow the layer, in order. */
export interface QuantLayerSpec {
  readonly conv?: QuantConvSpec;
  readonly pools?: readonly QuantPoolSpec[];
  readonly inputs: number;
  readonly units: number;
  /** Activation code (see activation.ts) and leaky slope. */
  readonly act: number;
  readonly alpha: number;
  readonly bits: 8 | 4;
  /** Codes [units, inputs]: int8 in [-128, 127]; int4 in [-8, 7] (symmetric) or [0, 15]. */
  readonly codes: Int8Array;
  /** [1] (per tensor, int8 only), [units] (per channel) or [units, ceil(inputs / groupSize)] (int4). */
  readonly scales: Float32Array;
  /** Shaped like scales; undefined when symmetric (all zero). */
  readonly zeroPoints: Int32Array | undefined;
  /** int4 only. */
  readonly groupSize?: number;
  readonly bias: Float32Array;
  /** Static activations: the quint8 parameters of this layer's input. */
  readonly input?: { readonly scale: number; readonly zeroPoint: number };
}

interface DeviceLayer {
  spec: QuantLayerSpec;
  packed: Tensor<'u8'>;
  /** int8: scale per output (a per-tensor scale repeated). int4: the packed group parameters. */
  scales: Tensor;
  bias: Tensor<'f32'>;
}

// What the forward pass needs of a layer, as plain numbers: addresses of tensors that live as long
// as the engine (an address survives memory growth), read once instead of per call.
interface Step {
  N: number;
  K: number;
  act: number;
  alpha: number;
  relu: number;
  packed: number;
  scales: number;
  bias: number;
  groupSize: number;
  /** Static: this layer's input parameters, and the next layer's when it requantises straight
   *  into them (fused) or through f32 (next only). */
  xs: number;
  zx: number;
  next: { readonly scale: number; readonly zeroPoint: number } | undefined;
  fused: boolean;
}

// A convolution or pooling step of an image model, its geometry as plain numbers.
interface ImageStep {
  conv: boolean;
  /** conv: the layer's step; pooling: undefined. */
  step: Step | undefined;
  maxPool: boolean;
  geo: number[];
  /** conv: its packing's byte sizes. */
  col: number;
  ap: number;
  tmp: number;
  cells: number;
}

interface Workspace {
  capacity: number;
  col: Tensor<'u8'> | undefined;
  tmp: Tensor<'u8'> | undefined;
  f: [Tensor<'f32'>, Tensor<'f32'>];
  q: [Tensor<'u8'>, Tensor<'u8'>];
  scratch: Tensor<'u8'>;
  params: Tensor<'f32'>;
  /** The addresses of the tensors above. */
  fp: [number, number];
  qp: [number, number];
  sp: number;
  pp: number;
}

export class QuantEngine {
  readonly layers: readonly QuantLayerSpec[];
  readonly activations: ActivationQuant;
  readonly inputs: number;
  readonly outputs: number;
  #device: DeviceLayer[];
  #steps: Step[];
  #ws: Workspace | undefined;
  #width: number;
  #image: boolean;
  #imageSteps: ImageStep[];
  #disposed = false;

  /** The specs must be valid (src/compress/quant checks them); this only checks that the layers chain. */
  constructor(layers: readonly QuantLayerSpec[], activations: ActivationQuant) {
    if (layers.length === 0) throw new RangeError('QuantEngine: no layers');
    const shapes = chainShapes(layers);
    if (layers.some((l) => l.conv) && (activations === 'none' || layers.at(-1)!.conv))
      throw new RangeError('QuantEngine: an image model runs int8 activations and ends in a dense layer');
    layers.forEach((l, i) => {
      if (l.pools?.length && !l.conv) throw new RangeError(`QuantEngine: layer ${i} is dense; pooling follows convolutions only`);
      if (l.conv && i > 0 && !layers[i - 1]!.conv) throw new RangeError(`QuantEngine: layer ${i} is a convolution after a dense layer`);
    });
    layers.forEach((l, i) => {
      if (l.codes.length !== l.units * l.inputs)
        throw new RangeError(`QuantEngine: layer ${i} has ${l.codes.length} codes for [${l.units}, ${l.inputs}]`);
      if (activations === 'static' && !l.input)
        throw new RangeError(`QuantEngine: layer ${i} has no input quantisation for static activations`);
      if ((l.bits === 4) !== (activations === 'none'))
        throw new RangeError(`QuantEngine: ${l.bits}-bit weights with ${activations} activations`);
    });
    this.layers = layers;
    this.activations = activations;
    this.inputs = size(shapes[0]!);
    this.outputs = layers.at(-1)!.units;
    // Buffers hold every activation: inputs and outputs of layers, and convolutions' outputs before their pooling.
    this.#width = Math.max(...shapes.map(size), ...layers.map((l) => (l.conv ? size(l.conv.outputShape) : 0)));
    this.#image = layers.some((l) => l.conv);
    // The dense layer right after an image reads NHWC codes: its columns follow [H, W, C].
    this.#device = unscoped(() =>
      layers.map((spec, i) => upload(spec, i > 0 && layers[i - 1]!.conv && !spec.conv ? shapes[2 * i] : undefined)),
    );
    this.#steps = this.#device.map((d, i) => {
      const { spec } = d;
      const next = activations === 'static' ? layers[i + 1]?.input : undefined;
      return {
        N: spec.units,
        K: spec.inputs,
        act: spec.act,
        alpha: spec.alpha,
        relu: spec.act === RELU ? 1 : 0,
        packed: d.packed.ptr,
        scales: d.scales.ptr,
        bias: d.bias.ptr,
        groupSize: spec.groupSize ?? 0,
        xs: spec.input?.scale ?? 0,
        zx: spec.input?.zeroPoint ?? 0,
        next,
        fused: next !== undefined && (spec.act === RELU || spec.act === 0),
      };
    });
    this.#imageSteps = imageSteps(layers, this.#steps);
  }

  /** Runs the rows of x (n × inputs values, row-major, any array of numbers) in chunks of `chunk`
   *  rows (dynamic ranges are per chunk) and returns the outputs [n, outputs], raw or through
   *  softmax / sigmoid; `input` standardises x first. Rows are copied straight into the
   *  workspace: no tensor is made per call. With `where`, a NaN or ±Inf among the copied rows is a
   *  RangeError naming it (as checkFiniteData words it), found in the core. */
  predictArray(x: ArrayLike<number>, output: OutputTransform = 'raw', input?: ColumnAffine, where?: string, chunk = 1024): Float32Array {
    if (this.#disposed) throw new Error('QuantEngine: used after dispose()');
    if (!Number.isInteger(x.length / this.inputs))
      throw new RangeError(`QuantEngine.predictArray: ${x.length} values are not rows of ${this.inputs} features`);
    const k = kernels();
    if (this.#image) chunk = Math.min(chunk, IMAGE_CHUNK);
    return predictInChunks(x, this.inputs, this.outputs, chunk, where, (batch) => {
      const ws = this.#workspace(batch);
      return {
        input: () => ws.fp[0]!,
        run: () => {
          if (input) k.f32_affine_cols(ws.fp[0]!, input.scale.ptr, input.shift.ptr, batch, this.inputs);
          const f = this.#forward(k, ws, batch);
          const y = ws.fp[f]!,
            to = ws.fp[1 - f]!;
          if (output === 'raw') return y;
          transformOutputs(to, y, batch, this.outputs, output);
          return to;
        },
      };
    });
  }

  // Runs every layer on ws.f[0][0:batch]; returns which f32 buffer holds the output.
  #forward(k: CoreKernels, ws: Workspace, batch: number): number {
    const steps = this.#steps;
    const mode = this.activations;
    const scratch = ws.sp,
      params = ws.pp;
    let f = 0,
      q = 0,
      start = 0;
    // Dynamic: the codes and parameters an image part leaves for the first dense layer.
    let pre: { xs: number; zx: number; rows: boolean } | undefined;
    if (this.#image) {
      ({ q, pre } = this.#forwardImage(k, ws, batch));
      start = this.#imageSteps.filter((s) => s.conv).length;
    } else if (mode === 'static') k.f32_quantize(ws.qp[0], ws.fp[0], batch * this.inputs, steps[0]!.xs, steps[0]!.zx, 0, 255);
    for (let i = start; i < steps.length; i++) {
      const s = steps[i]!;
      const N = s.N,
        K = s.K;
      const fIn = ws.fp[f]!,
        fOut = ws.fp[1 - f]!;
      const qIn = ws.qp[q]!,
        qOut = ws.qp[1 - q]!;
      if (mode === 'static') {
        const next = s.next;
        if (s.fused) {
          k.i8_gemm_u8(qOut, qIn, 0, s.zx, s.xs, s.packed, scratch, batch, N, K, s.scales, s.bias, s.relu, next!.scale, next!.zeroPoint);
          q = 1 - q;
          continue;
        }
        k.i8_gemm_f32(fOut, qIn, 0, s.zx, s.xs, s.packed, scratch, batch, N, K, s.scales, s.bias, s.relu);
        if (s.act > RELU) k.f32_act_fwd(fOut, fOut, batch * N, s.act, s.alpha);
        if (next) {
          k.f32_quantize(qOut, fOut, batch * N, next.scale, next.zeroPoint, 0, 255);
          q = 1 - q;
        }
        f = 1 - f;
        continue;
      }
      if (pre) {
        if (pre.rows) k.i8_gemm_f32_rows(fOut, qIn, 0, params, s.packed, scratch, batch, N, K, s.scales, s.bias, s.relu);
        else k.i8_gemm_f32(fOut, qIn, 0, pre.zx, pre.xs, s.packed, scratch, batch, N, K, s.scales, s.bias, s.relu);
        pre = undefined;
      } else if (mode === 'none') {
        k.i4_gemm_f32(fOut, fIn, s.packed, s.scales, scratch, batch, N, K, s.groupSize, s.bias, s.relu);
      } else if (mode === 'dynamic-rows' || batch === 1) {
        // One row: the chunk's range is the row's range, and the per-row GEMM reads its scale and
        // zero point from memory, the same values the one-range GEMM would take as arguments.
        if (mode === 'dynamic-rows') k.f32_quantize_dynamic_rows(qIn, params, fIn, batch, K);
        else k.f32_quantize_dynamic(qIn, params, fIn, K);
        k.i8_gemm_f32_rows(fOut, qIn, 0, params, s.packed, scratch, batch, N, K, s.scales, s.bias, s.relu);
      } else {
        k.f32_quantize_dynamic(qIn, params, fIn, batch * K);
        const scale = f32View(params, 1)[0]!,
          zp = i32View(params + 4, 1)[0]!;
        k.i8_gemm_f32(fOut, qIn, 0, zp, scale, s.packed, scratch, batch, N, K, s.scales, s.bias, s.relu);
      }
      if (s.act > RELU) k.f32_act_fwd(fOut, fOut, batch * N, s.act, s.alpha);
      f = 1 - f;
    }
    return f;
  }

  // The convolutions and pooling in front of the first dense layer, on u8 codes; the f32 input
  // is in ws.f[0]. Returns the u8 buffer holding the last codes and, for dynamic activations,
  // their parameters (per row in ws.params).
  #forwardImage(k: CoreKernels, ws: Workspace, batch: number): { q: number; pre: { xs: number; zx: number; rows: boolean } | undefined } {
    const mode = this.activations;
    const rows = mode === 'dynamic-rows';
    const params = ws.pp;
    let q = 0,
      xs = 0,
      zx = 0,
      nchw = 1;
    const quantize = (from: number, to: number, cells: number) => {
      if (rows) return k.f32_quantize_dynamic_rows(to, params, from, batch, cells);
      k.f32_quantize_dynamic(to, params, from, batch * cells);
      xs = f32View(params, 1)[0]!;
      zx = i32View(params + 4, 1)[0]!;
    };
    if (mode === 'static') {
      xs = this.#steps[0]!.xs;
      zx = this.#steps[0]!.zx;
      k.f32_quantize(ws.qp[0], ws.fp[0], batch * this.inputs, xs, zx, 0, 255);
    } else quantize(ws.fp[0], ws.qp[0], this.inputs);
    for (const st of this.#imageSteps) {
      const qIn = ws.qp[q]!,
        qOut = ws.qp[1 - q]!;
      if (!st.conv) {
        const run = st.maxPool ? k.u8_maxpool2d_nhwc : k.u8_avgpool2d_nhwc;
        const [C, H, W, OH, OW, KH, KW, sh, sw, ph, pw] = st.geo as [
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
          number,
        ];
        run(qOut, qIn, batch, C, H, W, OH, OW, KH, KW, sh, sw, ph, pw);
        q = 1 - q;
        continue;
      }
      const s = st.step!;
      const [C, H, W, O, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw, groups] = st.geo as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const col = ws.col!.ptr,
        tmp = ws.tmp?.ptr ?? 0,
        xq = rows ? params : 0;
      // Static: u8 codes in the next layer's input parameters (every image model ends in a dense
      // layer). Dynamic: f32 outputs, quantised afterwards with parameters of their own.
      const next = mode === 'static' ? s.next! : undefined;
      const out = next ? qOut : ws.fp[1]!;
      k.u8_conv2d(
        out,
        qIn,
        xq,
        s.packed,
        ws.sp,
        col,
        tmp,
        batch,
        C,
        H,
        W,
        O,
        OH,
        OW,
        KH,
        KW,
        sh,
        sw,
        ph,
        pw,
        dilh,
        dilw,
        groups,
        nchw,
        zx,
        xs,
        s.scales,
        s.bias,
        s.relu,
        next?.scale ?? 0,
        next?.zeroPoint ?? 0,
      );
      if (next) {
        xs = next.scale;
        zx = next.zeroPoint;
      } else quantize(out, qOut, st.cells);
      nchw = 0;
      q = 1 - q;
    }
    return { q, pre: mode === 'static' ? undefined : { xs, zx, rows } };
  }

  #workspace(batch: number): Workspace {
    const ws = this.#ws;
    if (ws && ws.capacity >= batch) return ws;
    this.#freeWorkspace();
    const capacity = Math.max(batch, ws?.capacity ?? 0);
    const k = kernels();
    const scratch = Math.max(
      16,
      ...this.layers.map((l) =>
        l.conv ? 0 : l.bits === 8 ? k.i8_gemm_scratch_bytes(capacity, l.inputs) : k.i4_gemm_scratch_bytes(capacity, l.inputs),
      ),
      ...this.#imageSteps.map((s) => s.ap),
    );
    const col = Math.max(0, ...this.#imageSteps.map((s) => s.col));
    const tmp = Math.max(0, ...this.#imageSteps.map((s) => s.tmp));
    const cells = capacity * this.#width;
    const t = unscoped(() => ({
      f: [Tensor.empty([cells]), Tensor.empty([cells])] as [Tensor<'f32'>, Tensor<'f32'>],
      q: [Tensor.empty([cells], 'u8'), Tensor.empty([cells], 'u8')] as [Tensor<'u8'>, Tensor<'u8'>],
      scratch: Tensor.empty([scratch], 'u8'),
      params: Tensor.empty([2 * capacity]),
      col: col > 0 ? Tensor.empty([col], 'u8') : undefined,
      tmp: tmp > 0 ? Tensor.empty([tmp], 'u8') : undefined,
    }));
    this.#ws = { capacity, ...t, fp: [t.f[0].ptr, t.f[1].ptr], qp: [t.q[0].ptr, t.q[1].ptr], sp: t.scratch.ptr, pp: t.params.ptr };
    return this.#ws;
  }

  #freeWorkspace(): void {
    const ws = this.#ws;
    if (!ws) return;
    for (const t of [...ws.f, ...ws.q, ws.scratch, ws.params, ws.col, ws.tmp]) t?.dispose();
    this.#ws = undefined;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#freeWorkspace();
    for (const d of this.#device) for (const t of [d.packed, d.scales, d.bias]) t.dispose();
  }
}

const IMAGE_CHUNK = 64;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

// The row shapes in and out of every layer and pool, in order: [input, layer 0 out, pools…,
// layer 1 in = previous out, …]; at 2·i the input of layer i. Throws when the layers do not chain.
function chainShapes(layers: readonly QuantLayerSpec[]): (readonly number[])[] {
  let shape: readonly number[] = layers[0]!.conv?.inputShape ?? [layers[0]!.inputs];
  const out: (readonly number[])[] = [];
  layers.forEach((l, i) => {
    const fail = (what: string, got: readonly number[]) => {
      throw new RangeError(`QuantEngine: layer ${i} ${what} [${got}], the previous layer gives [${shape}]`);
    };
    if (l.conv) {
      if (l.conv.inputShape.join() !== shape.join()) fail('takes', l.conv.inputShape);
    } else if (l.inputs !== size(shape)) fail(`takes ${l.inputs} inputs, not`, shape);
    out.push(l.conv ? l.conv.inputShape : shape);
    shape = l.conv ? l.conv.outputShape : [l.units];
    for (const p of l.pools ?? []) {
      if (p.inputShape.join() !== shape.join()) fail('pools', p.inputShape);
      shape = p.outputShape;
    }
    out.push(shape);
  });
  return out;
}

function imageSteps(layers: readonly QuantLayerSpec[], steps: readonly Step[]): ImageStep[] {
  const k = kernels();
  const out: ImageStep[] = [];
  for (let i = 0; i < layers.length && layers[i]!.conv; i++) {
    const c = layers[i]!.conv!;
    const [C, H, W] = c.inputShape,
      [O, OH, OW] = c.outputShape,
      [KH, KW] = c.kernel;
    const P = OH * OW;
    out.push({
      conv: true,
      step: steps[i],
      maxPool: false,
      geo: [C, H, W, O, OH, OW, KH, KW, ...c.stride, ...c.padding, ...c.dilation, c.groups],
      ...u8ConvScratch(k, C, O, OH, OW, KH, KW, ...c.stride, ...c.dilation, c.groups),
      cells: O * P,
    });
    for (const p of layers[i]!.pools ?? []) {
      const [PC, PH, PW] = p.inputShape,
        [, POH, POW] = p.outputShape;
      out.push({
        conv: false,
        step: undefined,
        maxPool: p.kind === 'max',
        geo: [PC, PH, PW, POH, POW, ...p.kernel, ...p.stride, ...p.padding],
        col: 0,
        ap: 0,
        tmp: 0,
        cells: PC * POH * POW,
      });
    }
  }
  return out;
}

// Codes [O, Cg, KH, KW] → [O, KH, KW, Cg], the order u8_im2row_packed writes a window in.
function convOrder(codes: Int8Array, c: QuantConvSpec): Int8Array {
  const O = c.outputShape[0],
    Cg = c.inputShape[0] / c.groups,
    [KH, KW] = c.kernel,
    T = KH * KW;
  const out = new Int8Array(codes.length);
  for (let o = 0; o < O; o++)
    for (let ci = 0; ci < Cg; ci++) for (let t = 0; t < T; t++) out[(o * T + t) * Cg + ci] = codes[(o * Cg + ci) * T + t]!;
  return out;
}

// Columns of a dense layer's codes from [C, H, W] order to [H, W, C].
function hwcOrder(codes: Int8Array, units: number, [C, H, W]: readonly number[]): Int8Array {
  const S = H! * W!,
    K = C! * S;
  const out = new Int8Array(codes.length);
  for (let n = 0; n < units; n++)
    for (let c = 0; c < C!; c++) for (let s = 0; s < S; s++) out[n * K + s * C! + c] = codes[n * K + c * S + s]!;
  return out;
}

function upload(spec: QuantLayerSpec, imageIn: readonly number[] | undefined): DeviceLayer {
  const k = kernels();
  const N = spec.units,
    K = spec.inputs;
  if (spec.conv) return uploadConv(spec, spec.conv);
  const codes = Tensor.from(imageIn && imageIn[0]! > 1 ? hwcOrder(spec.codes, N, imageIn) : spec.codes, [N, K], 'i8');
  const zeros = spec.zeroPoints ? Tensor.from(spec.zeroPoints, [spec.zeroPoints.length], 'i32') : undefined;
  try {
    const bias = Tensor.from(spec.bias);
    if (spec.bits === 8) {
      const packed = Tensor.empty([k.i8_gemm_packed_bytes(N, K)], 'u8');
      const perRow = (v: ArrayLike<number>) => (v.length === 1 ? Array.from({ length: N }, () => v[0]!) : v);
      const zw = zeros && spec.zeroPoints!.length === 1 ? Tensor.from(perRow(spec.zeroPoints!), [N], 'i32') : undefined;
      k.i8_gemm_pack_w(packed.ptr, codes.ptr, (zw ?? zeros)?.ptr ?? 0, N, K);
      zw?.dispose();
      return { spec, packed, scales: Tensor.from(perRow(spec.scales)), bias };
    }
    const G = spec.groupSize!;
    const symmetric = !spec.zeroPoints;
    const packed = Tensor.empty([k.i4_gemm_packed_bytes(N, K)], 'u8');
    const params = Tensor.empty([k.i4_gemm_params_bytes(N, K, G)], 'u8');
    const scales = Tensor.from(spec.scales);
    k.i4_gemm_pack_w(packed.ptr, codes.ptr, symmetric ? 8 : 0, N, K);
    k.i4_gemm_pack_params(params.ptr, scales.ptr, zeros?.ptr ?? 0, symmetric ? 8 : 0, N, K, G);
    scales.dispose();
    return { spec, packed, scales: params, bias };
  } finally {
    codes.dispose();
    zeros?.dispose();
  }
}

function uploadConv(spec: QuantLayerSpec, c: QuantConvSpec): DeviceLayer {
  const k = kernels();
  const N = spec.units,
    K = spec.inputs,
    G = c.groups,
    Ng = N / G;
  const perRow = (v: ArrayLike<number>) => (v.length === 1 ? Array.from({ length: N }, () => v[0]!) : Array.from(v));
  const codes = Tensor.from(convOrder(spec.codes, c), [N, K], 'i8');
  const zeros = spec.zeroPoints ? Tensor.from(perRow(spec.zeroPoints), [N], 'i32') : undefined;
  try {
    const panel = k.i8_gemm_packed_bytes(Ng, K);
    const packed = Tensor.empty([panel * G], 'u8');
    for (let g = 0; g < G; g++) k.i8_gemm_pack_w(packed.ptr + g * panel, codes.ptr + g * Ng * K, zeros ? zeros.ptr + 4 * g * Ng : 0, Ng, K);
    return { spec, packed, scales: Tensor.from(perRow(spec.scales)), bias: Tensor.from(spec.bias) };
  } finally {
    codes.dispose();
    zeros?.dispose();
  }
}
