// Structured channel pruning of convolutional networks: whole filters of a conv2d layer removed,
// with the matching input channels of the next convolution (or the matching columns of the dense
// layer after flatten / globalAvgPool2d) and the batch-norm entries in between, and the model
// rebuilt smaller, so parameters, file bytes and FLOPs all fall. Grouped convolutions keep their
// filters (removing one would unbalance the groups).
// Importances per filter: 'l1' and 'l2' norms of its weights (Li et al., "Pruning Filters for
// Efficient ConvNets", arXiv:1608.08710), 'activation': the mean |value| of the channel where the
// next layer reads it (after batch norm, activation and pooling), over `data`; 'taylor': the
// first-order Taylor estimate of the loss change when the channel is zeroed, Σ |a·∂L/∂a| over the
// channel's values a where the next layer reads them, its rows and the batches (after Molchanov
// et al., "Pruning Convolutional Neural Networks for Resource Efficient Inference", arXiv:1611.06440,
// with the absolute value taken per value).
import { checkInteger, checkKnownKeys } from '../../core/errors.ts';
import { shapeSize } from '../../core/layer.ts';
import type { LayerConfig } from '../../nn/layers/index.ts';
import { Sequential } from '../../nn/sequential.ts';
import { Dataset } from '../../data/dataset.ts';
import { Tensor, scope } from '../../core/tensor.ts';
import { accumulateAbsProduct } from '../../core/ops/sparse.ts';
import { checkDataFits } from '../../train/fit.ts';
import { visitInputGradients } from '../../train/gradients.ts';
import { captureDenseInputs } from '../quant/quantize.ts';
import { checkSparsity, prunedCount } from './rank.ts';

/** Every `ChannelCriterion`. */
export const CHANNEL_CRITERIA = ['l1', 'l2', 'activation', 'taylor'] as const;
/** How a filter's importance is scored. */
export type ChannelCriterion = (typeof CHANNEL_CRITERIA)[number];

/** Options of `pruneChannels` and `channelScores`. */
export interface PruneChannelsOptions {
  /** Fraction of the filters of each prunable conv2d layer to remove, in [0, 1). */
  sparsity: number;
  /** Default 'l1'. */
  criterion?: ChannelCriterion;
  /** Rows to score 'activation' on; 'taylor' needs a Dataset (its labels give the loss). */
  data?: Dataset | Float32Array;
  /** Rows per batch of the 'taylor' gradients (default 64). */
  batchSize?: number;
}

const WHERE = 'pruneChannels';

/** The conv2d layers whose filters can go: groups 1 and a layer after them that reads their channels. */
export function prunableConvs(model: Sequential): number[] {
  const layers = model.layers;
  return layers.flatMap((l, i) =>
    l.type === 'conv2d' && (l.groups ?? 1) === 1 && layers.slice(i + 1).some((n) => n.type === 'conv2d' || n.type === 'dense') ? [i] : [],
  );
}

/**
 * Per prunable conv2d layer (groups 1, followed by a conv2d or dense layer), the importance of
 * each filter; higher is more important.
 * @example channelScores(model, { sparsity: 0.5, criterion: 'activation', data: train })
 */
export function channelScores(model: Sequential, options: Omit<PruneChannelsOptions, 'sparsity'>): Map<number, Float64Array> {
  const criterion = options.criterion ?? 'l1';
  if (!CHANNEL_CRITERIA.includes(criterion))
    throw new TypeError(`${WHERE}: criterion must be one of ${CHANNEL_CRITERIA.join(', ')}, got ${String(criterion)}`);
  const convs = prunableConvs(model);
  const params = new Map(model.parameters().map((p) => [p.name, p.data]));
  const out = new Map<number, Float64Array>();
  if (criterion === 'l1' || criterion === 'l2') {
    for (const i of convs) {
      const w = params.get(`layers.${i}.weight`)!;
      const O = params.get(`layers.${i}.bias`)!.length,
        per = w.length / O;
      const s = new Float64Array(O);
      for (let o = 0; o < O; o++) {
        let acc = 0;
        for (let k = o * per; k < (o + 1) * per; k++) acc += criterion === 'l1' ? Math.abs(w[k]!) : w[k]! * w[k]!;
        s[o] = criterion === 'l1' ? acc : Math.sqrt(acc);
      }
      out.set(i, s);
    }
    return out;
  }
  const data = options.data;
  if (criterion === 'taylor') {
    if (!(data instanceof Dataset)) throw new TypeError(`${WHERE}: criterion 'taylor' needs data: a Dataset (its labels give the loss)`);
    checkDataFits(WHERE, model, data);
    return taylorScores(model, data, convs, checkInteger(WHERE, 'batchSize', options.batchSize ?? 64, 1, 1 << 24));
  }
  if (data === undefined) throw new TypeError(`${WHERE}: criterion 'activation' needs data (rows to measure the channels on)`);
  const rows = data instanceof Dataset ? data.features : data;
  if (!(rows instanceof Float32Array) || rows.length === 0 || rows.length % model.inputs !== 0)
    throw new RangeError(`${WHERE}: data must hold rows of ${model.inputs} values, got ${rows?.length} values`);
  const hooked = model.layers.flatMap((l, i) => (l.type === 'dense' || l.type === 'conv2d' ? [i] : []));
  const captured = captureDenseInputs(model, rows);
  const n = rows.length / model.inputs;
  for (const i of convs) {
    // The next hooked layer reads this convolution's channels, row-major [C, …] per row.
    const j = hooked.indexOf(i) + 1;
    const values = captured[j]!;
    const O = model.engine.layers[i]!.outputShape[0]!;
    const per = values.length / n / O;
    const s = new Float64Array(O);
    for (let r = 0; r < n; r++)
      for (let c = 0; c < O; c++) {
        const base = (r * O + c) * per;
        for (let k = 0; k < per; k++) s[c]! += Math.abs(values[base + k]!);
      }
    for (let c = 0; c < O; c++) s[c]! /= n * per;
    out.set(i, s);
  }
  return out;
}

// Σ |a·∂L/∂a| per channel of each conv in `convs`, where the next dense or conv2d layer reads it.
function taylorScores(model: Sequential, data: Dataset, convs: number[], batchSize: number): Map<number, Float64Array> {
  const hooked = model.layers.flatMap((l, i) => (l.type === 'dense' || l.type === 'conv2d' ? [i] : []));
  const reader = new Map(convs.map((i) => [hooked[hooked.indexOf(i) + 1]!, i]));
  return scope(() => {
    const rows = Math.min(batchSize, data.numRows);
    const acc = new Map(
      [...reader.keys()].map((j) => [j, Tensor.zeros([rows, model.engine.layers[j]!.inputShape.reduce((a, b) => a * b, 1)])]),
    );
    visitInputGradients(model, data, batchSize, (j, x, dx) => {
      const a = acc.get(j);
      if (a) accumulateAbsProduct(a.slice(0, x.shape), x, dx);
    });
    const out = new Map<number, Float64Array>();
    for (const [j, i] of reader) {
      const values = acc.get(j)!.read();
      const O = model.engine.layers[i]!.outputShape[0]!;
      const per = values.length / rows / O;
      const s = new Float64Array(O);
      for (let k = 0; k < values.length; k++) s[Math.floor(k / per) % O]! += values[k]!;
      out.set(i, s);
    }
    return out;
  });
}

/**
 * A new, smaller model without the least important filters of every prunable conv2d layer
 * (round(sparsity·filters) each, at least one kept; ties go to the lower index). The model passed
 * in is left as it is; fine-tune the result with `fit`.
 *
 * @example
 * const small = pruneChannels(model, { sparsity: 0.5, criterion: 'l1' });
 * await fit(small, train, { epochs: 2, optimizer: adam({ lr: 5e-4 }), standardize: false });
 */
export function pruneChannels(model: Sequential, options: PruneChannelsOptions): Sequential {
  if (!(model instanceof Sequential)) throw new TypeError(`${WHERE}: model must be a Sequential`);
  checkKnownKeys(WHERE, options, ['sparsity', 'criterion', 'data', 'batchSize']);
  const sparsity = checkSparsity(WHERE, options.sparsity);
  return keepHighest(model, channelScores(model, options), (filters) => filters - prunedCount(sparsity, filters));
}

/**
 * @internal The model with, in each scored conv2d layer, the `count(filters, layer)` highest-scoring
 * filters (at least one; ties keep the lower index).
 */
export function keepHighest(
  model: Sequential,
  scores: Map<number, Float64Array>,
  count: (filters: number, layer: number) => number,
): Sequential {
  const keep = new Map<number, Int32Array>();
  for (const [i, s] of scores) {
    const drop = Math.min(Math.max(0, s.length - count(s.length, i)), s.length - 1);
    const order = Array.from(s.keys()).sort((a, b) => s[a]! - s[b]! || a - b);
    const gone = new Set(order.slice(0, drop));
    keep.set(i, Int32Array.from(Array.from(s.keys()).filter((c) => !gone.has(c))));
  }
  return keepChannels(model, keep);
}

/**
 * The model with only the filters `keep.get(i)` (ascending indices) of each conv2d layer i named,
 * the next layer's matching input channels or columns and the batch-norm entries between.
 * @example keepChannels(model, new Map([[0, Int32Array.of(0, 2, 5)]]))
 */
export function keepChannels(model: Sequential, keep: ReadonlyMap<number, Int32Array>): Sequential {
  if (model.pruningMask) throw new RangeError(`${WHERE}: the model has a pruning mask; prune channels before unstructured pruning`);
  const ok = new Set(prunableConvs(model));
  for (const [i, k] of keep) {
    if (!ok.has(i)) throw new RangeError(`${WHERE}: layer ${i} is not a conv2d layer (groups 1) followed by a conv2d or dense layer`);
    const O = model.engine.layers[i]!.outputShape[0]!;
    if (k.length === 0 || k.some((c, j) => c < 0 || c >= O || (j > 0 && c <= k[j - 1]!)))
      throw new RangeError(`${WHERE}: layer ${i} keeps filters ${Array.from(k)}: they must be ascending, distinct and in [0, ${O})`);
  }
  const values = new Map(model.parameters().map((p) => [p.name, p.data]));
  const params: Record<string, Float32Array> = {};
  const layers: LayerConfig[] = [];
  // The channels of the current activation that survive (undefined: all), and, after flatten,
  // the surviving features with their count before.
  let kept: Int32Array | undefined;
  model.layers.forEach((config, i) => {
    const get = (slot: string) => values.get(`layers.${i}.${slot}`)!;
    const set = (slot: string, v: Float32Array) => (params[`layers.${i}.${slot}`] = v);
    const inShape = model.engine.layers[i]!.inputShape;
    for (const slot of model.engine.locations.filter((l) => l.layer === i)) set(slot.name, get(slot.name));
    switch (config.type) {
      case 'conv2d': {
        const w = get('weight');
        const C = inShape[0]!,
          O = get('bias').length,
          T = w.length / O / (C / (config.groups ?? 1));
        if (kept && (config.groups ?? 1) !== 1) throw new RangeError(`${WHERE}: layer ${i} is a grouped convolution after pruned channels`);
        const cin = kept ?? Int32Array.from({ length: C / (config.groups ?? 1) }, (_, c) => c);
        const cout = keep.get(i) ?? Int32Array.from({ length: O }, (_, o) => o);
        const Cg = C / (config.groups ?? 1);
        const nw = new Float32Array(cout.length * cin.length * T);
        cout.forEach((o, a) => cin.forEach((c, b) => nw.set(w.subarray((o * Cg + c) * T, (o * Cg + c + 1) * T), (a * cin.length + b) * T)));
        set('weight', nw);
        set(
          'bias',
          Float32Array.from(cout, (o) => get('bias')[o]!),
        );
        layers.push({ ...config, filters: cout.length });
        kept = keep.has(i) ? cout : undefined;
        return;
      }
      case 'batchNorm':
        if (kept)
          for (const slot of ['weight', 'bias', 'running_mean', 'running_var'])
            set(
              slot,
              Float32Array.from(kept, (c) => get(slot)[c]!),
            );
        layers.push(config);
        return;
      case 'flatten':
        if (kept) {
          const S = shapeSize(inShape) / inShape[0]!;
          kept = Int32Array.from(Array.from(kept).flatMap((c) => Array.from({ length: S }, (_, s) => c * S + s)));
        }
        layers.push(config);
        return;
      case 'dense': {
        if (kept) {
          const w = get('weight');
          const K = inShape[0]!,
            N = w.length / K;
          const nw = new Float32Array(N * kept.length);
          for (let n = 0; n < N; n++) kept.forEach((c, j) => (nw[n * kept!.length + j] = w[n * K + c]!));
          set('weight', nw);
        }
        kept = undefined;
        layers.push(config);
        return;
      }
      case 'maxPool2d':
      case 'avgPool2d':
      case 'globalAvgPool2d':
      case 'dropout':
        layers.push(config);
        return;
      default:
        if (kept) throw new RangeError(`${WHERE}: layer ${i} (${config.type}) cannot follow pruned channels`);
        layers.push(config);
    }
  });
  const { inputs, task, seed } = model.toConfig();
  const small = new Sequential({ inputs, layers, task, seed, preprocessing: model.preprocessing });
  small.setParameters(params);
  return small;
}
