// Exhaustive search over a grid of given values.
import type { Seed } from '../../core/ops/random.ts';
import { Rng } from '../../core/ops/random.ts';
import { describeDistribution, type Choice, type Distribution, type ParamValue } from '../distributions.ts';
import { streamSeed } from '../random.ts';
import type { FrozenTrial } from '../trial-record.ts';
import type { Sampler, SamplerContext } from './sampler.ts';
import { checkSamplerOptions, optionalBoolean } from './options.ts';

/** Options of `GridSampler`: the grid and its visiting order. */
export interface GridSamplerOptions {
  /** Values per parameter name; the grid is their cartesian product. */
  space: Record<string, readonly Choice[]>;
  /** Visit grid points in a seeded random order instead of the documented one (default false). */
  shuffle?: boolean;
  seed?: Seed;
}

/**
 * Visits every point of a grid once. Point k of the product is the mixed-radix number k with the
 * first parameter (in the order `space` lists them) as the most significant digit: for
 * `{ a: [1, 2], b: ['x', 'y', 'z'] }` the order is (1,x) (1,y) (1,z) (2,x) (2,y) (2,z). Each new trial
 * takes the first point no complete, pruned or running trial holds; points of failed trials are
 * visited again. Once every point is taken, `optimize` stops; further asks repeat points from the
 * start of the order. With `shuffle`, the order is a seeded permutation of the above.
 *
 * @example
 * const study = await createStudy({ sampler: new GridSampler({ space: { lr: [0.1, 0.01], units: [32, 64] } }) });
 * await study.optimize((t) => train(t.suggestCategorical('lr', [0.1, 0.01]), t.suggestInt('units', 32, 64)));
 */
export class GridSampler implements Sampler {
  readonly names: readonly string[];
  readonly values: readonly (readonly Choice[])[];
  readonly size: number;
  #order: number[] | undefined;

  constructor(options: GridSamplerOptions) {
    const where = 'GridSampler';
    if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object with a space`);
    checkSamplerOptions(where, options, ['space', 'shuffle', 'seed']);
    const space = options.space;
    if (space === null || typeof space !== 'object' || Array.isArray(space))
      throw new TypeError(`${where}: space must be an object of value lists, got ${Array.isArray(space) ? 'an array' : typeof space}`);
    this.names = Object.keys(space);
    if (this.names.length === 0) throw new RangeError(`${where}: space must name at least one parameter`);
    this.values = this.names.map((name) => {
      const list = space[name];
      if (!Array.isArray(list)) throw new TypeError(`${where}: space.${name} must be an array of values, got ${typeof list}`);
      if (list.length === 0) throw new RangeError(`${where}: space.${name} must hold at least one value`);
      list.forEach((v, i) => {
        const ok = v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
        if (!ok) throw new TypeError(`${where}: space.${name}[${i}] must be a string, finite number, boolean or null`);
        if (list.indexOf(v) !== i) throw new RangeError(`${where}: space.${name} lists ${JSON.stringify(v)} twice`);
      });
      return list.slice();
    });
    this.size = this.values.reduce((s, v) => s * v.length, 1);
    if (optionalBoolean(where, 'shuffle', options.shuffle, false)) {
      const rng = new Rng(streamSeed(options.seed ?? 0, 0, 'grid'));
      const perm = rng.permutation(this.size);
      this.#order = Array.from(perm.read());
      perm.dispose();
      rng.dispose();
    }
  }

  /** The parameters of grid point `id` (0 <= id < size). */
  point(id: number): Record<string, Choice> {
    const out: Record<string, Choice> = {};
    let rest = this.#order ? this.#order[id]! : id;
    for (let i = this.names.length - 1; i >= 0; i--) {
      const n = this.values[i]!.length;
      out[this.names[i]!] = this.values[i]![rest % n]!;
      rest = Math.floor(rest / n);
    }
    return out;
  }

  // The grid position of a trial's parameters, or -1 when they are not a grid point.
  #idOf(params: Readonly<Record<string, ParamValue>>): number {
    let raw = 0;
    for (let i = 0; i < this.names.length; i++) {
      const k = this.values[i]!.indexOf(params[this.names[i]!] as Choice);
      if (k < 0) return -1;
      raw = raw * this.values[i]!.length + k;
    }
    return this.#order ? this.#order.indexOf(raw) : raw;
  }

  #taken(ctx: SamplerContext): Uint8Array {
    const taken = new Uint8Array(this.size);
    for (const t of ctx.trials) {
      if (t.state === 'failed') continue;
      const id = this.#idOf(t.params);
      if (id >= 0) taken[id] = 1;
    }
    return taken;
  }

  sampleRelative(ctx: SamplerContext, trial: FrozenTrial): Record<string, ParamValue> {
    const free = this.#taken(ctx).indexOf(0);
    return this.point(free >= 0 ? free : trial.number % this.size);
  }

  sampleIndependent(_ctx: SamplerContext, _trial: FrozenTrial, name: string, d: Distribution): ParamValue {
    const i = this.names.indexOf(name);
    if (i < 0)
      throw new RangeError(
        `GridSampler: the objective suggested '${name}', which is not in the grid (grid parameters: ${this.names.join(', ')})`,
      );
    throw new RangeError(
      `GridSampler: the grid values of '${name}' (${JSON.stringify(this.values[i])}) are not all inside its distribution ${describeDistribution(d)}`,
    );
  }

  isExhausted(ctx: SamplerContext): boolean {
    return this.#taken(ctx).indexOf(0) < 0;
  }
}
