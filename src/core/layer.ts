// What the layer engine knows of a layer: shapes, parameter slots, per-row scratch buffers and
// the forward and backward passes as calls into kernels. The engine knows no layer by name; each
// kind is one file under src/nn/layers/ that builds one of these from its configuration.
import type { Tensor } from './tensor.ts';
import type { InitKind } from './ops/random.ts';

/** The shape of one row (one sample): [features], or [channels, height, width] for images. */
export type Shape = readonly number[];

/** Elements in one row of `shape`. */
export function shapeSize(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** How a parameter starts: drawn from an initialiser with its fans, or a constant. */
export type ParamInit = { readonly kind: InitKind; readonly fanIn: number; readonly fanOut: number } | 'zeros' | 'ones';

/** One parameter tensor of a layer, laid out in the engine's one parameter arena in order. */
export interface ParamSlot {
  /** Name within the layer, as files store it after `layers.<i>.`: 'weight', 'bias'. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: ParamInit;
  /** False for state the optimizer must not touch (batch norm's running statistics): it lives
   *  in a separate arena, is saved with the model and is written by the layer itself. */
  readonly trainable?: boolean;
}

/** Hooks into every hookable layer's passes (dense and conv2d layers), for quantisation-aware training:
 *  substitute weights (fake-quantised), rewrite a layer's input in place (fake-quantise
 *  activations) and its gradient (the straight-through estimator's mask). */
export interface LayerHooks {
  /** The weights layer `layer` runs with in this pass, or undefined for its parameters; `forward`
   *  is false in the backward pass, which must see the forward's weights. */
  weights(layer: number, forward: boolean): Tensor<'f32'> | undefined;
  /** The input [batch, inputs] of layer `layer`, just before the layer runs. */
  input(layer: number, x: Tensor<'f32'>, training: boolean): void;
  /** The gradient with respect to that input, just after the layer's backward pass. */
  inputGrad(layer: number, dx: Tensor<'f32'>): void;
  /** Called when the model is disposed with the hooks still installed: free what they hold. */
  dispose?(): void;
}

/** Everything one layer's pass works on. The engine makes one per layer when it sizes its
 *  workspace and sets `batch` and `training` before each pass; the tensors are [capacity, ...]
 *  and a pass uses the first `batch` rows. */
export interface Pass {
  /** Position of the layer in the stack. */
  readonly index: number;
  batch: number;
  training: boolean;
  /** The layer's input, [capacity, input size]. */
  readonly x: Tensor<'f32'>;
  /** The layer's output, [capacity, output size]. */
  readonly y: Tensor<'f32'>;
  /** The gradient at the output; the layer may overwrite it in its backward pass. */
  readonly dy: Tensor<'f32'>;
  /** Where the gradient at the input goes; undefined for the first layer (nobody needs it). */
  readonly dx: Tensor<'f32'> | undefined;
  /** The layer's trainable parameter and gradient views, in slot order (non-trainable slots left out). */
  readonly params: readonly Tensor<'f32'>[];
  readonly grads: readonly Tensor<'f32'>[];
  /** Views of the layer's non-trainable slots, in slot order. */
  readonly state: readonly Tensor<'f32'>[];
  /** One [capacity, n] buffer per entry of the layer's `scratch`, kept from forward to backward. */
  readonly scratch: readonly Tensor<'f32'>[];
  /** One buffer of a fixed size per entry of the layer's `workspace` (not per row), the layer's
   *  own and zeroed when allocated: temporary use within a pass (a column buffer processed chunk
   *  by chunk), per-batch values kept from forward to backward (batch norm's statistics) or
   *  values kept between calls (a convolution's transformed filters, keyed by the filters). */
  readonly workspace: readonly Tensor<'f32'>[];
  /** The engine's random stream (dropout). */
  readonly rng: Tensor<'u8'>;
  /** The hooks in force, if any (see LayerHooks). */
  hooks: LayerHooks | undefined;
}

/** A layer as the engine runs it. */
export interface Layer {
  /** How errors name it, e.g. 'dense(16, relu)'. */
  readonly name: string;
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  readonly params: readonly ParamSlot[];
  /** Elements per batch row of each scratch buffer the layer keeps between its passes. */
  readonly scratch: readonly number[];
  /** Elements of each fixed-size temporary buffer the layer needs (independent of the batch). */
  readonly workspace?: readonly number[];
  /** Reads p.x, writes p.y; in training keeps what backward needs in p.scratch. */
  forward(p: Pass): void;
  /** Reads p.dy (and may overwrite it), adds nothing: writes p.grads and, when given, p.dx. */
  backward(p: Pass): void;
}
