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
import { Tensor, unscoped } from './tensor.ts';
import { shapeText } from './errors.ts';
import type { ColumnAffine, OutputTransform } from './mlp-engine.ts';

const RELU = 1;
const SIGMOID = 3;

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

interface Workspace {
  capacity: number;
  f: [Tensor<'f32'>, Tensor<'f32'>];
  q: [Tensor<'u8'>, Tensor<'u8'>];
  scratch: Tensor<'u8'>;
  params: Tensor<'f32'>;
}

export class QuantEngine {
  readonly layers: readonly QuantLayerSpec[];
  readonly activations: ActivationQuant;
  readonly inputs: number;
  readonly outputs: number;
  #device: DeviceLayer[];
  #ws: Workspace | undefined;
  #width: number;
  #disposed = false;

  /** The specs must be valid (src/compress/quant checks them); this only checks that the layers chain. */
  constructor(layers: readonly QuantLayerSpec[], activations: ActivationQuant) {
    if (layers.length === 0) throw new RangeError('QuantEngine: no layers');
    layers.forEach((l, i) => {
      if (i > 0 && l.inputs !== layers[i - 1]!.units) throw new RangeError(`QuantEngine: layer ${i} takes ${l.inputs} inputs, layer ${i - 1} gives ${layers[i - 1]!.units}`);
      if (l.codes.length !== l.units * l.inputs) throw new RangeError(`QuantEngine: layer ${i} has ${l.codes.length} codes for [${l.units}, ${l.inputs}]`);
      if (activations === 'static' && !l.input) throw new RangeError(`QuantEngine: layer ${i} has no input quantisation for static activations`);
      if ((l.bits === 4) !== (activations === 'none')) throw new RangeError(`QuantEngine: ${l.bits}-bit weights with ${activations} activations`);
    });
    this.layers = layers;
    this.activations = activations;
    this.inputs = layers[0]!.inputs;
    this.outputs = layers.at(-1)!.units;
    this.#width = Math.max(this.inputs, ...layers.map((l) => l.units));
    this.#device = unscoped(() => layers.map((spec) => upload(spec)));
  }

  /** Runs x [n, inputs] in chunks of `chunk` rows (dynamic ranges are per chunk) and returns
   *  the outputs [n, outputs], raw or through softmax / sigmoid; `input` standardises x first. */
  predict(x: Tensor<'f32'>, output: OutputTransform = 'raw', input?: ColumnAffine, chunk = 1024): Tensor<'f32'> {
    if (this.#disposed) throw new Error('QuantEngine: used after dispose()');
    const n = x.shape[0] ?? 0;
    if (x.size !== n * this.inputs) throw new RangeError(`QuantEngine.predict: input ${shapeText(x.shape)} does not have ${this.inputs} features`);
    const out = Tensor.empty([n, this.outputs]);
    const k = kernels();
    for (let start = 0; start < n; start += chunk) {
      const batch = Math.min(chunk, n - start);
      const ws = this.#workspace(batch);
      k.f32_copy!(ws.f[0].ptr, x.ptr + start * this.inputs * 4, batch * this.inputs);
      if (input) k.f32_affine_cols!(ws.f[0].ptr, input.scale.ptr, input.shift.ptr, batch, this.inputs);
      const y = this.#forward(ws, batch);
      const to = out.ptr + start * this.outputs * 4;
      if (output === 'softmax') k.f32_softmax_rows!(to, y, batch, this.outputs, 1);
      else if (output === 'sigmoid') k.f32_act_fwd!(to, y, batch * this.outputs, SIGMOID, 0);
      else k.f32_copy!(to, y, batch * this.outputs);
    }
    return out;
  }

  // Runs every layer on ws.f[0][0:batch]; returns the address of the f32 output.
  #forward(ws: Workspace, batch: number): number {
    const k = kernels();
    const last = this.#device.length - 1;
    let f = 0, q = 0;
    if (this.activations === 'static') {
      const p = this.layers[0]!.input!;
      k.f32_quantize!(ws.q[0].ptr, ws.f[0].ptr, batch * this.inputs, p.scale, p.zeroPoint, 0, 255);
    }
    this.#device.forEach((d, i) => {
      const { spec } = d;
      const N = spec.units, K = spec.inputs;
      const relu = spec.act === RELU ? 1 : 0;
      const bias = d.bias.ptr;
      const fIn = ws.f[f]!.ptr, fOut = ws.f[1 - f]!.ptr;
      const qIn = ws.q[q]!.ptr, qOut = ws.q[1 - q]!.ptr;
      if (this.activations === 'none') {
        k.i4_gemm_f32!(fOut, fIn, d.packed.ptr, d.scales.ptr, ws.scratch.ptr, batch, N, K, spec.groupSize!, bias, relu);
      } else if (this.activations === 'dynamic-rows') {
        k.f32_quantize_dynamic_rows!(qIn, ws.params.ptr, fIn, batch, K);
        k.i8_gemm_f32_rows!(fOut, qIn, 0, ws.params.ptr, d.packed.ptr, ws.scratch.ptr, batch, N, K, d.scales.ptr, bias, relu);
      } else if (this.activations === 'dynamic') {
        k.f32_quantize_dynamic!(qIn, ws.params.ptr, fIn, batch * K);
        const scale = f32View(ws.params.ptr, 1)[0]!, zp = i32View(ws.params.ptr + 4, 1)[0]!;
        k.i8_gemm_f32!(fOut, qIn, 0, zp, scale, d.packed.ptr, ws.scratch.ptr, batch, N, K, d.scales.ptr, bias, relu);
      } else {
        const p = spec.input!;
        const next = i < last ? this.layers[i + 1]!.input! : undefined;
        if (next && (spec.act === RELU || spec.act === 0)) {
          k.i8_gemm_u8!(qOut, qIn, 0, p.zeroPoint, p.scale, d.packed.ptr, ws.scratch.ptr, batch, N, K, d.scales.ptr, bias, relu, next.scale, next.zeroPoint);
          q = 1 - q;
          return;
        }
        k.i8_gemm_f32!(fOut, qIn, 0, p.zeroPoint, p.scale, d.packed.ptr, ws.scratch.ptr, batch, N, K, d.scales.ptr, bias, relu);
        if (spec.act > RELU) k.f32_act_fwd!(fOut, fOut, batch * N, spec.act, spec.alpha);
        if (next) {
          k.f32_quantize!(qOut, fOut, batch * N, next.scale, next.zeroPoint, 0, 255);
          q = 1 - q;
        }
        f = 1 - f;
        return;
      }
      if (spec.act > RELU) k.f32_act_fwd!(fOut, fOut, batch * N, spec.act, spec.alpha);
      f = 1 - f;
    });
    return ws.f[f]!.ptr;
  }

  #workspace(batch: number): Workspace {
    const ws = this.#ws;
    if (ws && ws.capacity >= batch) return ws;
    this.#freeWorkspace();
    const capacity = Math.max(batch, ws?.capacity ?? 0);
    const k = kernels();
    const scratch = Math.max(16, ...this.layers.map((l) => (l.bits === 8 ? k.i8_gemm_scratch_bytes!(capacity, l.inputs) : k.i4_gemm_scratch_bytes!(capacity, l.inputs))));
    const cells = capacity * this.#width;
    this.#ws = unscoped(() => ({
      capacity,
      f: [Tensor.empty([cells]), Tensor.empty([cells])],
      q: [Tensor.empty([cells], 'u8'), Tensor.empty([cells], 'u8')],
      scratch: Tensor.empty([scratch], 'u8'),
      params: Tensor.empty([2 * capacity]),
    }));
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
  const N = spec.units, K = spec.inputs;
  const codes = Tensor.from(spec.codes, [N, K], 'i8');
  const zeros = spec.zeroPoints ? Tensor.from(spec.zeroPoints, [spec.zeroPoints.length], 'i32') : undefined;
  try {
    const bias = Tensor.from(spec.bias);
    if (spec.bits === 8) {
      const packed = Tensor.empty([k.i8_gemm_packed_bytes!(N, K)], 'u8');
      const perRow = (v: ArrayLike<number>) => (v.length === 1 ? Array.from({ length: N }, () => v[0]!) : v);
      const zw = zeros && spec.zeroPoints!.length === 1 ? Tensor.from(perRow(spec.zeroPoints!), [N], 'i32') : undefined;
      k.i8_gemm_pack_w!(packed.ptr, codes.ptr, (zw ?? zeros)?.ptr ?? 0, N, K);
      zw?.dispose();
      return { spec, packed, scales: Tensor.from(perRow(spec.scales)), bias };
    }
    const G = spec.groupSize!;
    const symmetric = !spec.zeroPoints;
    const packed = Tensor.empty([k.i4_gemm_packed_bytes!(N, K)], 'u8');
    const params = Tensor.empty([k.i4_gemm_params_bytes!(N, K, G)], 'u8');
    const scales = Tensor.from(spec.scales);
    k.i4_gemm_pack_w!(packed.ptr, codes.ptr, symmetric ? 8 : 0, N, K);
    k.i4_gemm_pack_params!(params.ptr, scales.ptr, zeros?.ptr ?? 0, symmetric ? 8 : 0, N, K, G);
    scales.dispose();
    return { spec, packed, scales: params, bias };
  } finally {
    codes.dispose();
    zeros?.dispose();
  }
}
