// The image-layer kernels layer passes call (convolution, pooling, batch normalisation), over the
// engine's preallocated NCHW tensors. Like layer-ops.ts, nothing is checked per call: the layer
// checked its geometry once when it was built.
import { kernels } from '../wasm.ts';
import type { Tensor } from '../tensor.ts';

/** Where a sliding window reads: input [C, H, W] → output [·, OH, OW], kernel KH×KW at strides
 *  sh, sw, top and left padding ph, pw (bottom and right implied by OH, OW), dilations dilh, dilw. */
export interface WindowGeometry {
  readonly C: number;
  readonly H: number;
  readonly W: number;
  readonly OH: number;
  readonly OW: number;
  readonly KH: number;
  readonly KW: number;
  readonly sh: number;
  readonly sw: number;
  readonly ph: number;
  readonly pw: number;
  readonly dilh: number;
  readonly dilw: number;
}

/** A convolution's geometry: a window plus O output channels in `groups` groups. */
export interface ConvGeometry extends WindowGeometry {
  readonly O: number;
  readonly groups: number;
}

/** A convolution reads its input as it lies (no im2col, no workspace): 1×1, stride 1, no padding. */
function isPointwise(g: ConvGeometry): boolean {
  return g.KH === 1 && g.KW === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0 && g.OH === g.H && g.OW === g.W;
}

/** Floats the batched im2col may use: the column buffer and the GEMM's output of a chunk of samples
 *  stay within this (4 MiB) unless one sample alone needs more. */
export const CONV_WORKSPACE_FLOATS = 1 << 20;
/** A chunk takes samples until its GEMM has this many columns (the GEMM's column block): a wider
 *  per-sample GEMM already runs at the GEMM's speed, a narrower one pays packing per sample. */
export const CONV_CHUNK_COLUMNS = 256;

/** Samples per chunk of the batched im2col: a function of the geometry alone, so that the weight
 *  gradient's summation order (chunk by chunk) is the same for every batch and runtime. */
export function conv2dChunk(g: ConvGeometry): number {
  const P = g.OH * g.OW;
  const perSample = P * ((g.C / g.groups) * g.KH * g.KW + g.O / g.groups);
  return Math.max(1, Math.min(Math.ceil(CONV_CHUNK_COLUMNS / P), Math.floor(CONV_WORKSPACE_FLOATS / perSample)));
}

/** Floats of a convolution's workspace: chunk·OH·OW·(Kc + O/groups) with Kc = (C/groups)·KH·KW
 *  (the columns of a chunk of samples and their GEMM output; one sample needs no output buffer),
 *  or 0 for a pointwise convolution. */
export function convColumnSize(g: ConvGeometry): number {
  if (isPointwise(g)) return 0;
  const chunk = conv2dChunk(g);
  return chunk * g.OH * g.OW * ((g.C / g.groups) * g.KH * g.KW + (chunk > 1 ? g.O / g.groups : 0));
}

/** Input channels from which a convolution's forward runs as Winograd: below, the 36 GEMMs over
 *  K = C channels are too thin to beat direct convolution (a first layer on grey or RGB images). */
export const WINOGRAD_MIN_CHANNELS = 8;

/** The most filter pairs (O·C) a forward runs as Winograd: its workspace keeps the transformed filters
 *  (36·O·C floats, 4x a 3×3 layer's weights) and a copy of the filters as their key, at most
 *  (36 + 25)·2^16 floats (16 MiB) per layer. */
export const WINOGRAD_MAX_FILTERS = 1 << 16;

/** The forward (training and inference) runs the convolution as Winograd F(m×m, r×r) on 6×6 tiles
 *  (assembly/kernels/f32-winograd.ts): one group of 3×3 or 5×5 filters, stride 1, no dilation,
 *  at least WINOGRAD_MIN_CHANNELS input channels, at most WINOGRAD_MAX_FILTERS filter pairs. A
 *  function of the geometry alone, so a sample takes the same path, and gets the same bits, in
 *  any batch. */
export function takesWinograd(g: ConvGeometry): boolean {
  return (
    g.groups === 1 &&
    g.KH === g.KW &&
    (g.KH === 3 || g.KH === 5) &&
    g.sh === 1 &&
    g.sw === 1 &&
    g.dilh === 1 &&
    g.dilw === 1 &&
    g.C >= WINOGRAD_MIN_CHANNELS &&
    g.O * g.C <= WINOGRAD_MAX_FILTERS
  );
}

/** Samples per chunk of the Winograd forward: as conv2dChunk, enough for its GEMMs' columns (the
 *  chunk's tiles) to fill one column block, within the same workspace bound. */
export function winogradChunk(g: ConvGeometry): number {
  const m = 7 - g.KH;
  const tiles = Math.ceil(g.OH / m) * Math.ceil(g.OW / m);
  const perSample = 36 * tiles * (g.C + g.O);
  return Math.max(1, Math.min(Math.ceil(CONV_CHUNK_COLUMNS / tiles), Math.floor(CONV_WORKSPACE_FLOATS / perSample)));
}

/** Floats of the Winograd forward's workspace (its filters' key and transforms, then the buffers of
 *  a chunk of samples), or 0 when the convolution does not take Winograd. */
export function winogradWorkspaceSize(g: ConvGeometry): number {
  return takesWinograd(g) ? kernels().f32_conv2d_winograd_floats(g.C, g.O, g.OH, g.OW, g.KH, winogradChunk(g)) : 0;
}

type ConvKernelGeometry = [
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
  number,
];

/** The geometry arguments the conv kernels take after the batch size, in their order, ending with the chunk. */
function convKernelGeometry(g: ConvGeometry): ConvKernelGeometry {
  return [g.C, g.H, g.W, g.O, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw, g.dilh, g.dilw, g.groups, conv2dChunk(g)];
}

/** y[B,O,OH,OW] = act(conv(x, w) + b); keeps the pre-activations in `pre` when given (training).
 *  Takes Winograd when given its workspace (takesWinograd), else direct convolution. */
export function conv2dForwardRows(
  y: Tensor<'f32'>,
  pre: Tensor<'f32'> | undefined,
  x: Tensor<'f32'>,
  w: Tensor<'f32'>,
  b: Tensor<'f32'>,
  col: Tensor<'f32'> | undefined,
  winograd: Tensor<'f32'> | undefined,
  B: number,
  g: ConvGeometry,
  act: number,
  alpha: number,
): void {
  if (winograd) {
    // The layer's own workspace, zeroed when allocated: it may keep the transformed filters.
    kernels().f32_conv2d_winograd(
      y.ptr,
      pre ? pre.ptr : 0,
      x.ptr,
      w.ptr,
      b.ptr,
      winograd.ptr,
      B,
      g.C,
      g.H,
      g.W,
      g.O,
      g.OH,
      g.OW,
      g.KH,
      g.ph,
      g.pw,
      winogradChunk(g),
      1,
      act,
      alpha,
    );
    return;
  }
  kernels().f32_conv2d_fwd(y.ptr, pre ? pre.ptr : 0, x.ptr, w.ptr, b.ptr, col ? col.ptr : 0, B, ...convKernelGeometry(g), act, alpha);
}

/** Overwrites dy with dy ⊙ act′(pre), then writes dw, db and, when given, dx. */
export function conv2dBackwardRows(
  dx: Tensor<'f32'> | undefined,
  dw: Tensor<'f32'>,
  db: Tensor<'f32'>,
  dy: Tensor<'f32'>,
  x: Tensor<'f32'>,
  w: Tensor<'f32'>,
  pre: Tensor<'f32'>,
  y: Tensor<'f32'>,
  col: Tensor<'f32'> | undefined,
  B: number,
  g: ConvGeometry,
  act: number,
  alpha: number,
): void {
  kernels().f32_conv2d_bwd(
    dx ? dx.ptr : 0,
    dw.ptr,
    db.ptr,
    dy.ptr,
    x.ptr,
    w.ptr,
    pre.ptr,
    y.ptr,
    col ? col.ptr : 0,
    B,
    ...convKernelGeometry(g),
    act,
    alpha,
  );
}

export type PoolKind = 'max' | 'avg';

/** Pools every channel plane of B rows: y[B,C,OH,OW] from x[B,C,H,W]. */
export function pool2dForwardRows(kind: PoolKind, y: Tensor<'f32'>, x: Tensor<'f32'>, B: number, g: WindowGeometry): void {
  const k = kernels();
  const run = kind === 'max' ? k.f32_maxpool2d_fwd : k.f32_avgpool2d_fwd;
  run(y.ptr, x.ptr, B * g.C, g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw);
}

/** dx[B,C,H,W] from dy (max pooling re-finds each window's largest input in x). */
export function pool2dBackwardRows(
  kind: PoolKind,
  dx: Tensor<'f32'>,
  dy: Tensor<'f32'>,
  x: Tensor<'f32'>,
  B: number,
  g: WindowGeometry,
): void {
  const k = kernels();
  if (kind === 'max') k.f32_maxpool2d_bwd(dx.ptr, dy.ptr, x.ptr, B * g.C, g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw);
  else k.f32_avgpool2d_bwd(dx.ptr, dy.ptr, B * g.C, g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.ph, g.pw);
}

/** Batch normalisation of x[B,C,S] with the batch's statistics (kept in mean and invstd [C]),
 *  moving the running statistics by `momentum`. */
export function batchNormTrainRows(
  y: Tensor<'f32'>,
  x: Tensor<'f32'>,
  gamma: Tensor<'f32'>,
  beta: Tensor<'f32'>,
  mean: Tensor<'f32'>,
  invstd: Tensor<'f32'>,
  runMean: Tensor<'f32'>,
  runVar: Tensor<'f32'>,
  B: number,
  C: number,
  S: number,
  eps: number,
  momentum: number,
): void {
  kernels().f32_batchnorm_train_fwd(
    y.ptr,
    x.ptr,
    gamma.ptr,
    beta.ptr,
    mean.ptr,
    invstd.ptr,
    runMean.ptr,
    runVar.ptr,
    B,
    C,
    S,
    eps,
    momentum,
  );
}

/** Batch normalisation of x[B,C,S] with the running statistics (inference). */
export function batchNormEvalRows(
  y: Tensor<'f32'>,
  x: Tensor<'f32'>,
  gamma: Tensor<'f32'>,
  beta: Tensor<'f32'>,
  runMean: Tensor<'f32'>,
  runVar: Tensor<'f32'>,
  B: number,
  C: number,
  S: number,
  eps: number,
): void {
  kernels().f32_batchnorm_eval_fwd(y.ptr, x.ptr, gamma.ptr, beta.ptr, runMean.ptr, runVar.ptr, B, C, S, eps);
}

/** dγ, dβ and, when given, dx of a training forward whose statistics are in mean and invstd. */
export function batchNormBackwardRows(
  dx: Tensor<'f32'> | undefined,
  dgamma: Tensor<'f32'>,
  dbeta: Tensor<'f32'>,
  dy: Tensor<'f32'>,
  x: Tensor<'f32'>,
  gamma: Tensor<'f32'>,
  mean: Tensor<'f32'>,
  invstd: Tensor<'f32'>,
  B: number,
  C: number,
  S: number,
): void {
  kernels().f32_batchnorm_bwd(dx ? dx.ptr : 0, dgamma.ptr, dbeta.ptr, dy.ptr, x.ptr, gamma.ptr, mean.ptr, invstd.ptr, B, C, S);
}

/** y = act(z) over n values (y may be z). */
export function activationForward(y: Tensor<'f32'>, z: Tensor<'f32'>, n: number, act: number, alpha: number): void {
  kernels().f32_act_fwd(y.ptr, z.ptr, n, act, alpha);
}

/** dy ⊙= act′(z) over n values in place (y, the forward's output, is read by sigmoid and tanh). */
export function activationBackward(dy: Tensor<'f32'>, z: Tensor<'f32'>, y: Tensor<'f32'>, n: number, act: number, alpha: number): void {
  kernels().f32_act_bwd(dy.ptr, dy.ptr, z.ptr, y.ptr, n, act, alpha);
}
