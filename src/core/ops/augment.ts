// Augmentation of a training batch in the core (assembly/kernels/f32-augment.ts): random shifts
// (crops of a zero-padded image), horizontal flips and cutout for image rows [C, H, W], and mixup
// between rows for any rows and their targets. Every random number comes from the stream given
// (the training engine's), so a seed gives the same augmented batches in every runtime.
import { kernels } from '../wasm.ts';
import { Tensor, unscoped } from '../tensor.ts';

/** What to do to each training batch; checked by the caller (src/train/augment.ts). */
export interface AugmentPlan {
  /** Mixup's α (λ ~ Beta(α, α) per row, the partner a random row of the batch); 0 = off. */
  readonly mixup: number;
  /** Largest shift in pixels along each axis (a random crop of the image padded by this); 0 = off. */
  readonly shift: number;
  /** Horizontal flips with probability 1/2. */
  readonly flip: boolean;
  /** Side of the square cutout zeroes at a random centre; 0 = off. */
  readonly cutout: number;
  /** Row shape [C, H, W]; required by shift, flip and cutout. */
  readonly image: readonly [number, number, number] | undefined;
}

/** True when the plan changes anything. */
export function augments(plan: AugmentPlan | undefined): plan is AugmentPlan {
  return plan !== undefined && (plan.mixup > 0 || plan.shift > 0 || plan.flip || plan.cutout > 0);
}

/** Scratch of one batch capacity: a copy of the rows, random parameters, mixed targets. */
export class AugmentBuffers {
  readonly capacity: number;
  readonly rows: Tensor<'f32'>;
  readonly ints: Tensor<'i32'>;
  readonly lambdas: Tensor<'f32'>;
  readonly targets: Tensor<'f32'>;
  readonly mixedTargets: Tensor<'f32'>;

  constructor(capacity: number, inputs: number, targetCols: number) {
    this.capacity = capacity;
    [this.rows, this.ints, this.lambdas, this.targets, this.mixedTargets] = unscoped(
      () =>
        [
          Tensor.empty([capacity, inputs]),
          Tensor.empty([capacity * 2], 'i32'),
          Tensor.empty([capacity]),
          Tensor.empty([capacity, targetCols]),
          Tensor.empty([capacity, targetCols]),
        ] as const,
    );
  }

  dispose(): void {
    for (const t of [this.rows, this.ints, this.lambdas, this.targets, this.mixedTargets]) t.dispose();
  }
}

/**
 * Augments `batch` rows at `x` (raw values, [batch, inputs]) in place, drawing from the stream
 * at `rngPtr`: shift, flip, cutout per image, then mixup between rows. `targetsPtr` holds the
 * batch's targets as f32 rows of `targetCols` values (a distribution per row for classifiers),
 * mixed along with the inputs in place. Returns nothing; the order of draws is fixed: shifts
 * (2 per row), flips (1 per row), cutout rows then columns (1 each per row), partners (a permutation), λ.
 */
export function augmentBatch(
  plan: AugmentPlan,
  buffers: AugmentBuffers,
  rngPtr: number,
  x: Tensor<'f32'>,
  batch: number,
  inputs: number,
  targetsPtr: number,
  targetCols: number,
): void {
  const k = kernels();
  const ints = buffers.ints.ptr;
  if (plan.image && (plan.shift > 0 || plan.flip || plan.cutout > 0)) {
    const [C, H, W] = plan.image;
    if (plan.shift > 0) {
      k.i32_rand_int(rngPtr, ints, 2 * batch, -plan.shift, plan.shift);
      k.f32_image_shift(buffers.rows.ptr, x.ptr, batch, C, H, W, ints);
      k.f32_copy(x.ptr, buffers.rows.ptr, batch * inputs);
    }
    if (plan.flip) {
      k.i32_rand_int(rngPtr, ints, batch, 0, 1);
      k.f32_image_flip(x.ptr, batch, C, H, W, ints);
    }
    if (plan.cutout > 0) {
      // Centres anywhere in the image, so squares near an edge are partly outside (as DeVries & Taylor).
      k.i32_rand_int(rngPtr, ints, batch, 0, H - 1);
      k.i32_rand_int(rngPtr, ints + batch * 4, batch, 0, W - 1);
      k.f32_image_cutout(x.ptr, batch, C, H, W, ints, ints + batch * 4, plan.cutout);
    }
  }
  if (plan.mixup > 0 && batch > 1) {
    k.i32_permutation(rngPtr, ints, batch);
    k.f32_rand_beta(rngPtr, buffers.lambdas.ptr, batch, plan.mixup, plan.mixup);
    k.f32_mixup_rows(buffers.rows.ptr, x.ptr, ints, buffers.lambdas.ptr, batch, inputs);
    k.f32_copy(x.ptr, buffers.rows.ptr, batch * inputs);
    k.f32_mixup_rows(buffers.mixedTargets.ptr, targetsPtr, ints, buffers.lambdas.ptr, batch, targetCols);
    k.f32_copy(targetsPtr, buffers.mixedTargets.ptr, batch * targetCols);
  }
}
