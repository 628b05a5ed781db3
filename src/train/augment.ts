// The `augment` option of `fit`: which augmentations each training batch gets, checked against
// the model's row shape. The work itself runs in the core (src/core/ops/augment.ts) on the
// batch's raw rows, before standardisation, drawing from the fit's seeded stream; validation,
// evaluation and prediction never see it.
import { checkInteger, checkKnownKeys, checkNumber } from '../core/errors.ts';
import type { AugmentPlan } from '../core/layer-engine.ts';
import type { Sequential } from '../nn/sequential.ts';

/** Augmentation of each training batch (see `fit`). Image augmentations need image rows
 *  (`inputs: [c, h, w]`); mixup works on any rows.
 *  @example
 *  await fit(model, train, { augment: { shift: 2 }, epochs: 30 }); // digits moved up to 2 pixels each way
 *  await fit(student, train, { augment: { mixup: 0.2 }, distill: { teacher } }); */
export interface Augment {
  /** Mixup (Zhang et al. 2018): each row becomes λ·row + (1 − λ)·another row of the batch, its
   *  targets likewise (class labels as one-hot distributions), λ ~ Beta(α, α) per row. The value
   *  is α > 0; 0 or absent = off. */
  mixup?: number;
  /** Random translation of each image by up to this many pixels along each axis, zeros shifted
   *  in: a random crop of the image padded by `shift` on every side. */
  shift?: number;
  /** Mirror each image left-right with probability 1/2. */
  flip?: boolean;
  /** Zero a `cutout` × `cutout` square at a random centre of each image (DeVries & Taylor 2017). */
  cutout?: number;
  /** The image shape [c, h, w] of flat rows (a model built with `inputs: 784` for 28×28 digits);
   *  image rows (`inputs: [c, h, w]`) have it already. */
  shape?: readonly [number, number, number];
}

export const AUGMENT_KEYS = ['mixup', 'shift', 'flip', 'cutout', 'shape'] as const;

/** The checked plan for `model`, or undefined when nothing is asked. */
export function augmentPlan(where: string, a: Augment | undefined, model: Sequential): AugmentPlan | undefined {
  if (a === undefined) return undefined;
  if (a === null || typeof a !== 'object')
    throw new TypeError(`${where}: augment must be an object { mixup, shift, flip, cutout }, got ${String(a)}`);
  checkKnownKeys(`${where} augment`, a, AUGMENT_KEYS);
  const mixup = checkNumber(`${where} augment`, 'mixup', a.mixup ?? 0, 0, 1e6);
  if (mixup > 0 && !(Math.fround(mixup) > 0))
    throw new RangeError(`${where} augment: mixup must be 0 (off) or an α that does not round to 0 in f32, got ${mixup}`);
  const shift = checkInteger(`${where} augment`, 'shift', a.shift ?? 0, 0, 1 << 20);
  const cutout = checkInteger(`${where} augment`, 'cutout', a.cutout ?? 0, 0, 1 << 20);
  if (a.flip !== undefined && typeof a.flip !== 'boolean')
    throw new TypeError(`${where} augment: flip must be a boolean, got ${typeof a.flip}`);
  const flip = a.flip ?? false;
  const shape = a.shape === undefined ? model.inputShape : imageShape(where, a.shape, model);
  const image = shape.length === 3 ? ([shape[0]!, shape[1]!, shape[2]!] as const) : undefined;
  if (!image && (shift > 0 || flip || cutout > 0)) {
    const asked = [shift > 0 && 'shift', flip && 'flip', cutout > 0 && 'cutout'].filter(Boolean).join(', ');
    throw new RangeError(
      `${where} augment: ${asked} ${asked.includes(',') ? 'need' : 'needs'} image rows, but the model takes rows of shape [${shape.join(',')}]; build it with inputs: [channels, height, width] or give augment.shape`,
    );
  }
  if (mixup === 0 && shift === 0 && !flip && cutout === 0) return undefined;
  return { mixup, shift, flip, cutout, image };
}

function imageShape(where: string, shape: unknown, model: Sequential): readonly number[] {
  if (!Array.isArray(shape) || shape.length !== 3)
    throw new TypeError(`${where} augment: shape must be [channels, height, width], got ${JSON.stringify(shape)}`);
  const dims = shape.map((d, i) => checkInteger(`${where} augment`, `shape[${i}]`, d, 1, 1 << 20));
  const size = dims[0]! * dims[1]! * dims[2]!;
  if (size !== model.inputs)
    throw new RangeError(`${where} augment: shape [${dims.join(',')}] holds ${size} values, the model takes ${model.inputs} per row`);
  if (model.inputShape.length === 3 && model.inputShape.some((d, i) => d !== dims[i]))
    throw new RangeError(`${where} augment: shape [${dims.join(',')}] differs from the model's rows [${model.inputShape.join(',')}]`);
  return dims;
}
