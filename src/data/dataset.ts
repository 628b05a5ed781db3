// A table of examples held in plain typed arrays: features row-major [n, d] as f32, and either
// class ids (classification) or f32 targets [n, k] (regression). Everything is checked once
// here, so training code downstream can trust shapes, finiteness and label ranges.
import { checkKnownKeys } from '../core/errors.ts';

/** Whether a data set has class labels or regression targets. */
export type Task = 'classification' | 'regression';

/** What a `Dataset` is made from. Give `labels` + `classNames` for classification, or
 *  `targets` for regression (never both). Arrays are kept, not copied. */
export interface DatasetInit {
  /** Row-major [numRows, numFeatures]. */
  features: Float32Array;
  /** d; may be left out when `featureNames` or `shape` is given. */
  numFeatures?: number;
  /** The shape of one row, e.g. [channels, height, width] for images (row-major, so a row holds
   *  channel 0's height×width pixels first); its product is d. Default [d]. */
  shape?: readonly number[];
  /** One name per feature column; defaults to `x0, x1, …`. */
  featureNames?: readonly string[];
  /** Class id per row, each an integer in [0, classNames.length). */
  labels?: Int32Array;
  /** Name of each class id; defaults to `'0', '1', …` up to the largest label. */
  classNames?: readonly string[];
  /** Row-major [numRows, numTargets] regression targets. */
  targets?: Float32Array;
  /** k; defaults to 1 or to `targetNames.length`. */
  numTargets?: number;
  /** One name per target column; defaults to `y` for one target, else `y0, y1, …`. */
  targetNames?: readonly string[];
}

const INIT_KEYS = [
  'features',
  'numFeatures',
  'shape',
  'featureNames',
  'labels',
  'classNames',
  'targets',
  'numTargets',
  'targetNames',
] as const;
const WHERE = 'Dataset';

/**
 * Features plus class labels or regression targets, validated on construction.
 *
 * @example
 * const ds = new Dataset({ features: new Float32Array([0, 1, 2, 3]), numFeatures: 2,
 *   labels: new Int32Array([0, 1]), classNames: ['no', 'yes'] });
 * ds.numRows; // 2
 * ds.subset([1]).labels; // Int32Array [1]
 */
export class Dataset {
  readonly task: Task;
  /** Row-major [numRows, numFeatures]; treat as read-only. */
  readonly features: Float32Array;
  readonly numRows: number;
  readonly numFeatures: number;
  /** The shape of one row: [numFeatures] for a table, [channels, height, width] for images. */
  readonly shape: readonly number[];
  readonly featureNames: readonly string[];
  /** Empty for regression. */
  readonly classNames: readonly string[];
  /** 0 for classification. */
  readonly numTargets: number;
  /** Empty for classification. */
  readonly targetNames: readonly string[];
  readonly #labels: Int32Array | undefined;
  readonly #targets: Float32Array | undefined;

  constructor(init: DatasetInit) {
    if (init === null || typeof init !== 'object')
      throw new TypeError(`${WHERE}: expected an options object, got ${init === null ? 'null' : typeof init}`);
    checkKnownKeys(WHERE, init, INIT_KEYS);
    const { features, labels, targets } = init;
    if (!(features instanceof Float32Array)) throw new TypeError(`${WHERE}: features must be a Float32Array, got ${kindOf(features)}`);
    if ((labels === undefined) === (targets === undefined)) {
      throw new TypeError(
        `${WHERE}: give exactly one of labels (classification) or targets (regression), got ${labels === undefined ? 'neither' : 'both'}`,
      );
    }

    const shape = init.shape === undefined ? undefined : checkShape(init.shape);
    const d = init.numFeatures ?? init.featureNames?.length ?? shape?.reduce((a, b) => a * b, 1);
    if (d === undefined) throw new TypeError(`${WHERE}: give numFeatures, featureNames or shape so the row width is known`);
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`${WHERE}: numFeatures must be an integer >= 1, got ${d}`);
    if (shape && shape.reduce((a, b) => a * b, 1) !== d)
      throw new RangeError(
        `${WHERE}: shape [${shape.join(', ')}] holds ${shape.reduce((a, b) => a * b, 1)} values per row, numFeatures is ${d}`,
      );
    this.shape = Object.freeze(shape ?? [d]);
    if (features.length % d !== 0)
      throw new RangeError(`${WHERE}: features has ${features.length} values, not a multiple of numFeatures=${d}`);
    const n = features.length / d;
    this.featureNames = names(init.featureNames, d, (j) => `x${j}`, 'featureNames');
    checkFinite(features, d, this.featureNames, 'features');

    if (labels !== undefined) {
      if (!(labels instanceof Int32Array)) throw new TypeError(`${WHERE}: labels must be an Int32Array, got ${kindOf(labels)}`);
      if (init.numTargets !== undefined || init.targetNames !== undefined)
        throw new TypeError(`${WHERE}: numTargets and targetNames belong to regression; this data set has labels`);
      if (labels.length !== n) throw new RangeError(`${WHERE}: labels has ${labels.length} entries, features has ${n} rows`);
      let max = -1;
      for (let i = 0; i < n; i++) if (labels[i]! > max) max = labels[i]!;
      const classNames = names(init.classNames, init.classNames?.length ?? max + 1, (c) => String(c), 'classNames');
      if (classNames.length < 1) throw new RangeError(`${WHERE}: classification needs at least one class, got classNames of length 0`);
      for (let i = 0; i < n; i++) {
        const c = labels[i]!;
        if (c < 0 || c >= classNames.length)
          throw new RangeError(
            `${WHERE}: labels[${i}] (row ${i}) is ${c}, outside [0, ${classNames.length}) for ${classNames.length} classes`,
          );
      }
      this.task = 'classification';
      this.classNames = classNames;
      this.numTargets = 0;
      this.targetNames = Object.freeze([]);
    } else {
      if (!(targets instanceof Float32Array)) throw new TypeError(`${WHERE}: targets must be a Float32Array, got ${kindOf(targets)}`);
      if (init.classNames !== undefined) throw new TypeError(`${WHERE}: classNames belongs to classification; this data set has targets`);
      const k = init.numTargets ?? init.targetNames?.length ?? 1;
      if (!Number.isInteger(k) || k < 1) throw new RangeError(`${WHERE}: numTargets must be an integer >= 1, got ${k}`);
      if (targets.length !== n * k)
        throw new RangeError(`${WHERE}: targets has ${targets.length} values, expected ${n} rows × ${k} targets = ${n * k}`);
      this.targetNames = names(init.targetNames, k, (j) => (k === 1 ? 'y' : `y${j}`), 'targetNames');
      checkFinite(targets, k, this.targetNames, 'targets');
      this.task = 'regression';
      this.classNames = Object.freeze([]);
      this.numTargets = k;
    }
    this.features = features;
    this.numRows = n;
    this.numFeatures = d;
    this.#labels = labels;
    this.#targets = targets;
  }

  /** Class id per row (classification only). */
  get labels(): Int32Array {
    if (!this.#labels) throw new TypeError(`${WHERE}: labels exist only for classification; this data set is regression (use targets)`);
    return this.#labels;
  }

  /** Row-major [numRows, numTargets] (regression only). */
  get targets(): Float32Array {
    if (!this.#targets) throw new TypeError(`${WHERE}: targets exist only for regression; this data set is classification (use labels)`);
    return this.#targets;
  }

  /** Number of classes (0 for regression). */
  get numClasses(): number {
    return this.classNames.length;
  }

  /** A new data set of the given rows, in the given order (copies; repeats allowed). */
  subset(indices: ArrayLike<number>): Dataset {
    const n = this.numRows,
      d = this.numFeatures;
    const m = indices.length;
    const features = new Float32Array(m * d);
    for (let r = 0; r < m; r++) {
      const i = indices[r]!;
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`${WHERE}.subset: indices[${r}] is ${i}, outside [0, ${n})`);
      features.set(this.features.subarray(i * d, i * d + d), r * d);
    }
    const common = { features, numFeatures: d, shape: this.shape, featureNames: this.featureNames };
    if (this.task === 'classification') {
      const labels = new Int32Array(m);
      for (let r = 0; r < m; r++) labels[r] = this.#labels![indices[r]!]!;
      return new Dataset({ ...common, labels, classNames: this.classNames });
    }
    const k = this.numTargets;
    const targets = new Float32Array(m * k);
    for (let r = 0; r < m; r++) targets.set(this.#targets!.subarray(indices[r]! * k, indices[r]! * k + k), r * k);
    return new Dataset({ ...common, targets, numTargets: k, targetNames: this.targetNames });
  }
}

function checkShape(shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length === 0)
    throw new TypeError(`${WHERE}: shape must be a non-empty array of positive integers, got ${kindOf(shape)}`);
  shape.forEach((n, i) => {
    if (!Number.isInteger(n) || (n as number) < 1)
      throw new RangeError(`${WHERE}: shape[${i}] must be a positive integer, got ${String(n)}`);
  });
  return shape.slice() as number[];
}

function names(given: readonly string[] | undefined, count: number, fallback: (j: number) => string, what: string): readonly string[] {
  if (given === undefined) return Object.freeze(Array.from({ length: count }, (_, j) => fallback(j)));
  if (!Array.isArray(given)) throw new TypeError(`${WHERE}: ${what} must be an array of strings, got ${kindOf(given)}`);
  if (given.length !== count) throw new RangeError(`${WHERE}: ${what} has ${given.length} names, expected ${count}`);
  given.forEach((s, j) => {
    if (typeof s !== 'string') throw new TypeError(`${WHERE}: ${what}[${j}] must be a string, got ${typeof s}`);
  });
  return Object.freeze(given.slice());
}

function checkFinite(data: Float32Array, width: number, columns: readonly string[], what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {
      const row = Math.floor(i / width),
        col = i % width;
      throw new RangeError(`${WHERE}: ${what} must be finite, got ${v} at row ${row}, column ${col} ('${columns[col]}')`);
    }
  }
}

function kindOf(x: unknown): string {
  return x === null ? 'null' : typeof x === 'object' ? Object.prototype.toString.call(x).slice(8, -1) : typeof x;
}
