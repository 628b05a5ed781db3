// Per-column standardisation, fitted on training rows only so that nothing about the test rows
// leaks into the model. Statistics are computed in f64; the transform itself is the f32 affine
// map x·scale + shift, written so that the core's column kernel gives the same bits.
import { checkKnownKeys } from '../core/errors.ts';
import { Dataset } from './dataset.ts';

/** The saved form of a fitted scaler, as kept in model metadata. */
export interface StandardScalerJSON {
  kind: 'StandardScaler';
  mean: number[];
  std: number[];
}

const WHERE = 'StandardScaler';
const f32 = Math.fround;

/**
 * z = (x − mean) / std per feature column, with the population standard deviation (divide by
 * n, like scikit-learn). A column whose std is at most 1e-7·max(1, |mean|) (constant up to f32
 * rounding) gets std 1, so it maps to ≈0 instead of dividing by zero or amplifying noise.
 *
 * The transform computes, in f32, x·scale + shift with scale = f32(1/std) and
 * shift = f32(−mean·scale): the same arithmetic as a column-affine kernel given `affine()`.
 *
 * @example
 * const scaler = StandardScaler.fit(train);
 * const trainZ = scaler.transform(train), testZ = scaler.transform(test);
 * const saved = JSON.stringify(scaler.toJSON()); // StandardScaler.fromJSON(JSON.parse(saved))
 */
export class StandardScaler {
  /** Column means (f64). */
  readonly mean: readonly number[];
  /** Column standard deviations after the floor (f64). */
  readonly std: readonly number[];
  readonly #scale: Float32Array;
  readonly #shift: Float32Array;

  private constructor(mean: number[], std: number[]) {
    this.mean = Object.freeze(mean);
    this.std = Object.freeze(std);
    this.#scale = Float32Array.from(std, (s) => 1 / s);
    this.#shift = Float32Array.from(mean, (m, j) => -m * this.#scale[j]!);
  }

  /** Fits on a Dataset or on row-major features with `numFeatures` columns. Needs >= 1 row. */
  static fit(data: Dataset | Float32Array, numFeatures?: number): StandardScaler {
    const { x, d } = features(data, numFeatures, 'fit');
    const n = x.length / d;
    if (n < 1) throw new RangeError(`${WHERE}.fit: needs at least one row, got 0`);
    const mean = new Array<number>(d).fill(0);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
    for (let j = 0; j < d; j++) mean[j]! /= n;
    // Two passes: Σ(x − mean)² avoids the cancellation of Σx² − n·mean².
    const sq = new Array<number>(d).fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const dev = x[i * d + j]! - mean[j]!;
        sq[j]! += dev * dev;
      }
    }
    const std = sq.map((s, j) => {
      const sd = Math.sqrt(s / n);
      return sd > 1e-7 * Math.max(1, Math.abs(mean[j]!)) ? sd : 1;
    });
    return new StandardScaler(mean, std);
  }

  get numFeatures(): number {
    return this.mean.length;
  }

  /** The f32 column map the transform applies: z = x·scale + shift. */
  affine(): { scale: Float32Array; shift: Float32Array } {
    return { scale: this.#scale.slice(), shift: this.#shift.slice() };
  }

  /** Standardised copy: a Dataset keeps its labels or targets; raw features stay raw. */
  transform(data: Dataset): Dataset;
  transform(data: Float32Array): Float32Array;
  transform(data: Dataset | Float32Array): Dataset | Float32Array {
    const { x, d } = features(data, this.numFeatures, 'transform');
    if (d !== this.numFeatures)
      throw new RangeError(`${WHERE}.transform: data has ${d} features, the scaler was fitted on ${this.numFeatures}`);
    const out = new Float32Array(x.length);
    const scale = this.#scale,
      shift = this.#shift;
    for (let i = 0; i < x.length; i += d) {
      for (let j = 0; j < d; j++) out[i + j] = f32(f32(x[i + j]! * scale[j]!) + shift[j]!);
    }
    if (data instanceof Float32Array) return out;
    return data.task === 'classification'
      ? new Dataset({ features: out, shape: data.shape, featureNames: data.featureNames, labels: data.labels, classNames: data.classNames })
      : new Dataset({
          features: out,
          shape: data.shape,
          featureNames: data.featureNames,
          targets: data.targets,
          targetNames: data.targetNames,
        });
  }

  toJSON(): StandardScalerJSON {
    return { kind: 'StandardScaler', mean: this.mean.slice(), std: this.std.slice() };
  }

  /** Rebuilds a scaler saved with `toJSON`, checking every field. */
  static fromJSON(json: unknown): StandardScaler {
    const where = `${WHERE}.fromJSON`;
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw new TypeError(`${where}: expected an object, got ${json === null ? 'null' : typeof json}`);
    checkKnownKeys(where, json, ['kind', 'mean', 'std']);
    const { kind, mean, std } = json as Record<string, unknown>;
    if (kind !== 'StandardScaler') throw new TypeError(`${where}: kind must be 'StandardScaler', got ${JSON.stringify(kind)}`);
    const m = numbers(where, 'mean', mean);
    const s = numbers(where, 'std', std);
    if (m.length !== s.length || m.length === 0)
      throw new RangeError(`${where}: mean and std must have the same non-zero length, got ${m.length} and ${s.length}`);
    s.forEach((v, j) => {
      if (!(v > 0)) throw new RangeError(`${where}: std[${j}] must be > 0, got ${v}`);
      // x·(1/std) − mean/std in f32: a reciprocal or shift beyond f32 would make every output NaN or ±Inf.
      const scale = f32(1 / v);
      if (!Number.isFinite(scale) || !Number.isFinite(f32(-m[j]! * scale)))
        throw new RangeError(
          `${where}: std[${j}] is ${v} (mean ${m[j]}): 1/std or mean/std overflows f32, so standardisation would give non-finite inputs`,
        );
    });
    return new StandardScaler(m, s);
  }
}

function features(data: Dataset | Float32Array, numFeatures: number | undefined, method: string): { x: Float32Array; d: number } {
  if (data instanceof Dataset) return { x: data.features, d: data.numFeatures };
  if (!(data instanceof Float32Array))
    throw new TypeError(`${WHERE}.${method}: data must be a Dataset or a Float32Array, got ${typeof data}`);
  const d = numFeatures;
  if (d === undefined || !Number.isInteger(d) || d < 1)
    throw new RangeError(`${WHERE}.${method}: numFeatures must be an integer >= 1 for raw features, got ${d}`);
  if (data.length % d !== 0) throw new RangeError(`${WHERE}.${method}: ${data.length} values are not whole rows of ${d} features`);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) throw new RangeError(`${WHERE}.${method}: data must be finite, got ${v} at row ${Math.floor(i / d)}, column ${i % d}`);
  }
  return { x: data, d };
}

function numbers(where: string, name: string, value: unknown): number[] {
  if (!Array.isArray(value)) throw new TypeError(`${where}: ${name} must be an array of numbers, got ${typeof value}`);
  return value.map((v, j) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new TypeError(`${where}: ${name}[${j}] must be a finite number, got ${String(v)}`);
    return v;
  });
}
