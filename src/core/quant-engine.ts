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
import { kernels, i32View, f32View } from './wasm.ts';
import type { CoreKernels } from './kernels.generated.ts';
import { Tensor, unscoped } from './tensor.ts';
import type { ColumnAffine, OutputTransform } from './layer-engine.ts';
import { predictInChunks, transformOutputs } from './ops/infer.ts';

const RELU = 1;

export type ActivationQuant = 'static' | 'dynamic' | 'dynamic-rows' | 'none';

/** One dense layer, quantised: y = act(x·Wᵀ + bias) with W [units, inputs] from codes. */
export interface QuantLayerSpec {
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

interface Workspace {
  capacity: number;
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
  #disposed = false;

  /** The specs must be valid (src/compress/quant checks them); this only checks that the layers chain. */
  constructor(layers: readonly QuantLayerSpec[], activations: ActivationQuant) {
    if (layers.length === 0) throw new RangeError('QuantEngine: no layers');
    layers.forEach((l, i) => {
      if (i > 0 && l.inputs !== layers[i - 1]!.units)
        throw new RangeError(`QuantEngine: layer ${i} takes ${l.inputs} inputs, layer ${i - 1} gives ${layers[i - 1]!.units}`);
      if (l.codes.length !== l.units * l.inputs)
        throw new RangeError(`QuantEngine: layer ${i} has ${l.codes.length} codes for [${l.units}, ${l.inputs}]`);
      if (activations === 'static' && !l.input)
        throw new RangeError(`QuantEngine: layer ${i} has no input quantisation for static activations`);
      if ((l.bits === 4) !== (activations === 'none'))
        throw new RangeError(`QuantEngine: ${l.bits}-bit weights with ${activations} activations`);
    });
    this.layers = layers;
    this.activations = activations;
    this.inputs = layers[0]!.inputs;
    this.outputs = layers.at(-1)!.units;
    this.#width = Math.max(this.inputs, ...layers.map((l) => l.units));
    this.#device = unscoped(() => layers.map((spec) => upload(spec)));
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
      q = 0;
    if (mode === 'static') k.f32_quantize(ws.qp[0], ws.fp[0], batch * this.inputs, steps[0]!.xs, steps[0]!.zx, 0, 255);
    for (let i = 0; i < steps.length; i++) {
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
      if (mode === 'none') {
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

  #workspace(batch: number): Workspace {
    const ws = this.#ws;
    if (ws && ws.capacity >= batch) return ws;
    this.#freeWorkspace();
    const capacity = Math.max(batch, ws?.capacity ?? 0);
    const k = kernels();
    const scratch = Math.max(
      16,
      ...this.layers.map((l) => (l.bits === 8 ? k.i8_gemm_scratch_bytes(capacity, l.inputs) : k.i4_gemm_scratch_bytes(capacity, l.inputs))),
    );
    const cells = capacity * this.#width;
    const t = unscoped(() => ({
      f: [Tensor.empty([cells]), Tensor.empty([cells])] as [Tensor<'f32'>, Tensor<'f32'>],
      q: [Tensor.empty([cells], 'u8'), Tensor.empty([cells], 'u8')] as [Tensor<'u8'>, Tensor<'u8'>],
      scratch: Tensor.empty([scratch], 'u8'),
      params: Tensor.empty([2 * capacity]),
    }));
    this.#ws = { capacity, ...t, fp: [t.f[0].ptr, t.f[1].ptr], qp: [t.q[0].ptr, t.q[1].ptr], sp: t.scratch.ptr, pp: t.params.ptr };
    return this.#ws;
  }

  #freeWorkspace(): void {
    const ws = this.#ws;
    if (!ws) return;
    for (const t of [...ws.f, ...ws.q, ws.scratch, ws.params]) t.dispose();
    this.#ws = undefined;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#freeWorkspace();
    for (const d of this.#device) for (const t of [d.packed, d.scales, d.bias]) t.dispose();
  }
}

function upload(spec: QuantLayerSpec): DeviceLayer {
  const k = kernels();
  const N = spec.units,
    K = spec.inputs;
  const codes = Tensor.from(spec.codes, [N, K], 'i8');
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
