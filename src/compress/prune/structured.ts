// Structured pruning: whole hidden neurons removed and the model rebuilt smaller, so parameters,
// file bytes and latency all fall. Removing unit u of a dense layer drops row u of its weights and
// bias and column u of the next dense layer's weights (dropout layers in between follow along).
// In a convolutional network the conv2d filters go first, the same fraction from each layer (see
// channels.ts: the next layer's input channels and the batch-norm entries follow), then the
// hidden dense units of the head.
import { checkKnownKeys } from '../../core/errors.ts';
import type { DenseConfig } from '../../nn/layers/index.ts';
import { Sequential } from '../../nn/sequential.ts';
import { CHANNEL_CRITERIA, channelScores, keepHighest, prunableConvs, type ChannelCriterion } from './channels.ts';
import { neuronScores, type ImportanceOptions, type NeuronCriterion } from './importance.ts';
import { checkModel, denseSlots, checkScope, checkSparsity, lowestScores, prunedCount, type PruneScope } from './rank.ts';
import { maskBytes, setMask } from './unstructured.ts';

/** Options of `pruneNeurons`: share of hidden units to remove, scope and criterion. */
export interface PruneNeuronsOptions extends ImportanceOptions<NeuronCriterion> {
  /** Fraction of hidden units to remove, in [0, 1). */
  sparsity: number;
  /** 'layer': round(sparsity·units) from each hidden layer; 'global': round(sparsity·all hidden
   *  units) ranked together (scores of different layers must then be comparable). Default 'layer'.
   *  Conv2d filters always go per layer: round(sparsity·filters) from each. */
  scope?: PruneScope;
}

/** Units of each hidden dense layer, in order. */
export function hiddenUnits(model: Sequential): number[] {
  return model
    .denseLayers()
    .slice(0, -1)
    .map((o) => o.units);
}

/**
 * A new, smaller model without the least important hidden neurons (the model passed in is left as
 * it is). Ranked by ascending score with ties to the lower unit index; every hidden layer keeps
 * at least one unit, so 'global' may remove fewer than asked when a layer would empty.
 *
 * @example
 * const small = pruneNeurons(model, { sparsity: 0.5, criterion: 'apoz', data: train });
 * small.parameterCount < model.parameterCount; // true
 */
export function pruneNeurons(model: Sequential, options: PruneNeuronsOptions): Sequential {
  const where = 'pruneNeurons';
  checkModel(where, model);
  checkKnownKeys(where, options, ['sparsity', 'scope', 'criterion', 'data', 'batchSize']);
  const sparsity = checkSparsity(where, options?.sparsity);
  const scope = checkScope(where, options.scope ?? 'layer');
  const units = hiddenUnits(model);
  const removals =
    scope === 'layer'
      ? units.map((u) => prunedCount(sparsity, u))
      : prunedCount(
          sparsity,
          units.reduce((a, b) => a + b, 0),
        );
  const convs = pruneFilters(where, model, options, (filters) => filters - prunedCount(sparsity, filters));
  try {
    return removeLowest(
      convs,
      neuronScores(convs, { criterion: options.criterion, data: options.data, batchSize: options.batchSize }),
      removals,
    );
  } finally {
    if (convs !== model) convs.dispose();
  }
}

/**
 * @internal The model without its least important conv2d filters: `keep(filters, layer)` of each
 * prunable conv2d layer stay, ranked by the neuron criterion's channel counterpart. The model itself
 * when it has no prunable convolution.
 */
export function pruneFilters(
  where: string,
  model: Sequential,
  options: ImportanceOptions<NeuronCriterion>,
  keep: (filters: number, layer: number) => number,
): Sequential {
  if (prunableConvs(model).length === 0) return model;
  const criterion = options.criterion ?? 'l1';
  if (!(CHANNEL_CRITERIA as readonly string[]).includes(criterion))
    throw new TypeError(`${where}: criterion '${criterion}' does not rank conv2d filters; use one of ${CHANNEL_CRITERIA.join(', ')}`);
  return keepHighest(
    model,
    channelScores(model, { criterion: criterion as ChannelCriterion, data: options.data, batchSize: options.batchSize }),
    keep,
  );
}

/** @internal Removes `removals` units per hidden layer (or that many in all), lowest scores first. */
export function removeLowest(model: Sequential, scores: Float32Array[], removals: number[] | number): Sequential {
  const removed = scores.map((s) => new Uint8Array(s.length));
  if (Array.isArray(removals)) {
    scores.forEach((s, l) => lowestScores(s, Math.min(removals[l]!, s.length - 1)).forEach((u) => (removed[l]![u] = 1)));
  } else {
    const all = new Float32Array(scores.reduce((n, s) => n + s.length, 0));
    const owner: [number, number][] = [];
    scores.forEach((s, l) => s.forEach((v, u) => ((all[owner.length] = v), owner.push([l, u]))));
    const left = scores.map((s) => s.length);
    let count = 0;
    for (const g of lowestScores(all, all.length)) {
      if (count === removals) break;
      const [l, u] = owner[g]!;
      if (left[l]! <= 1) continue;
      removed[l]![u] = 1;
      left[l]!--;
      count++;
    }
  }
  return keepUnits(
    model,
    removed.map((r) => Array.from({ length: r.length }, (_, u) => u).filter((u) => r[u] === 0)),
  );
}

/**
 * A new model with only the listed units of each hidden dense layer (ascending indices, at least
 * one per layer); weights, biases, masks and preprocessing carry over. The model passed in is left
 * as it is.
 *
 * @example
 * const smaller = keepUnits(model, [[0, 2, 5], [1]]); // a 784-3-1-10 from a 784-8-4-10
 */
export function keepUnits(model: Sequential, keep: readonly (readonly number[])[]): Sequential {
  const where = 'keepUnits';
  checkModel(where, model);
  const offsets = denseSlots(model);
  const hidden = offsets.length - 1;
  if (!Array.isArray(keep) || keep.length !== hidden)
    throw new RangeError(
      `${where}: expected one list of units per hidden dense layer (${hidden}), got ${Array.isArray(keep) ? keep.length : typeof keep}`,
    );
  keep.forEach((units, l) => {
    const n = offsets[l]!.units;
    if (!Array.isArray(units) || units.length === 0) throw new RangeError(`${where}: hidden layer ${l} must keep at least one unit`);
    units.forEach((u, i) => {
      if (!Number.isInteger(u) || u < 0 || u >= n || (i > 0 && u <= units[i - 1]!))
        throw new RangeError(`${where}: units of hidden layer ${l} must be ascending integers in [0, ${n - 1}], got ${u} at position ${i}`);
    });
  });
  // Rows kept per dense layer (all of the output layer's) and columns kept (the previous keep).
  const rows: (readonly number[])[] = offsets.map((o, l) => (l < hidden ? keep[l]! : Array.from({ length: o.units }, (_, u) => u)));
  const cols: (readonly number[])[] = offsets.map((o, l) => (l === 0 ? Array.from({ length: o.inputs }, (_, k) => k) : rows[l - 1]!));
  let d = 0;
  const layers = model.layers.map((layer) =>
    layer.type === 'dense' ? ({ ...layer, units: rows[d++]!.length } as DenseConfig) : { ...layer },
  );
  const smaller = new Sequential({
    inputs: model.toConfig().inputs,
    layers,
    task: model.task,
    seed: model.seed,
    preprocessing: model.preprocessing,
  });
  const params = model.parameterVector();
  const oldMask = model.pruningMask;
  const newMask = oldMask ? new Uint8Array(smaller.parameterCount) : undefined;
  const values: Record<string, Float32Array> = {};
  denseSlots(smaller).forEach((to, l) => {
    const from = offsets[l]!;
    const w = new Float32Array(to.units * to.inputs);
    const b = new Float32Array(to.units);
    rows[l]!.forEach((r, i) => {
      b[i] = params[from.bias + r]!;
      if (newMask) newMask[to.bias + i] = oldMask![from.bias + r]!;
      cols[l]!.forEach((c, j) => {
        w[i * to.inputs + j] = params[from.weight + r * from.inputs + c]!;
        if (newMask) newMask[to.weight + i * to.inputs + j] = oldMask![from.weight + r * from.inputs + c]!;
      });
    });
    values[`layers.${to.layer}.weight`] = w;
    values[`layers.${to.layer}.bias`] = b;
  });
  // Every other layer's parameters and state carry over; a batch norm between hidden dense layers
  // keeps the entries of the kept units.
  let kept: readonly number[] | undefined;
  let h = 0;
  for (const p of model.parameters()) {
    const layer = Number(p.name.split('.')[1]);
    if (model.layers[layer]!.type !== 'dense' && !(p.name in values)) values[p.name] = p.data;
  }
  model.layers.forEach((layer, i) => {
    if (layer.type === 'dense') kept = h < hidden ? rows[h++] : undefined;
    else if (kept && layer.type === 'batchNorm')
      for (const slot of ['weight', 'bias', 'running_mean', 'running_var'])
        values[`layers.${i}.${slot}`] = Float32Array.from(kept, (u) => values[`layers.${i}.${slot}`]![u]!);
    else if (kept && model.engine.locations.some((l) => l.layer === i))
      throw new RangeError(`${where}: layer ${i} (${layer.type}) between hidden dense layers cannot follow removed units`);
  });
  smaller.setParameters(values);
  if (newMask) {
    // Masks of the other layers' weights carry over (all kept where a batch norm shrank).
    const before = new Map(model.engine.locations.map((l) => [`${l.layer}.${l.name}`, l]));
    for (const l of smaller.engine.locations)
      if (l.trainable && smaller.layers[l.layer]!.type !== 'dense') {
        const o = before.get(`${l.layer}.${l.name}`)!;
        if (o.size === l.size) newMask.set(oldMask!.subarray(o.offset, o.offset + o.size), l.offset);
        else newMask.fill(1, l.offset, l.offset + l.size);
      }
    setMask(smaller, newMask);
  }
  return smaller;
}

/** Units of the lane sums of f32_gemm_nt, which a dense layer's inputs are summed in (see
 *  assembly/kernels/f32-gemm.ts): inputs k ≡ r (mod 4) of each block of 256 share a sum. */
const LANES = 4;
const BLOCK = 256;

/**
 * A new model without the hidden units whose outgoing weights are all zero (they cannot change
 * any output); each layer keeps at least one unit. With `exact` (the default), predictions stay
 * bit-identical: the next layer sums its inputs in four lanes by position mod 4 within blocks of
 * 256, so only dead units whose removal moves no live input to another lane or block go: every
 * dead unit after the last live one, and, when the next layer has at most 256 inputs, runs of
 * dead units between live ones in multiples of four. `exact: false` removes every dead unit;
 * the regrouped sums then agree to rounding (a few ulp), not bit for bit.
 *
 * @example
 * const compact = removeDeadNeurons(prunedModel); // same predictions, fewer parameters
 */
export function removeDeadNeurons(model: Sequential, options: { exact?: boolean } = {}): Sequential {
  checkModel('removeDeadNeurons', model);
  checkKnownKeys('removeDeadNeurons', options, ['exact']);
  const exact = options.exact ?? true;
  const offsets = denseSlots(model);
  const params = model.parameterVector();
  const keep = offsets.slice(0, -1).map((o, l) => {
    const next = offsets[l + 1]!;
    const dead = Array.from({ length: o.units }, (_, u) => {
      for (let r = 0; r < next.units; r++) if (params[next.weight + r * next.inputs + u] !== 0) return false;
      return true;
    });
    const removable = exact ? exactlyRemovable(dead) : dead;
    const alive = Array.from({ length: o.units }, (_, u) => u).filter((u) => !removable[u]);
    return alive.length > 0 ? alive : [0];
  });
  return keepUnits(model, keep);
}

// Dead units whose removal keeps every live unit in its lane (position mod 4) and block.
function exactlyRemovable(dead: boolean[]): boolean[] {
  const out = dead.map(() => false);
  const last = dead.lastIndexOf(false);
  for (let u = last + 1; u < dead.length; u++) out[u] = true;
  if (dead.length > BLOCK) return out;
  for (let u = 0; u < last;) {
    if (!dead[u]) {
      u++;
      continue;
    }
    let end = u;
    while (dead[end]) end++;
    for (let v = u; v < u + Math.floor((end - u) / LANES) * LANES; v++) out[v] = true;
    u = end;
  }
  return out;
}
