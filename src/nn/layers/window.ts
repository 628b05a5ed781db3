// The sliding-window options convolution and pooling layers share (kernel size, stride, padding,
// dilation) and the output geometry they give on an input [channels, height, width].
import { checkInteger, shapeText } from '../../core/errors.ts';
import type { Shape } from '../../core/layer.ts';
import type { WindowGeometry } from '../../core/ops/image-ops.ts';

/** One size for both axes, or [height, width]. */
export type Size2 = number | readonly [number, number];

/** 'valid': no padding; 'same': an output of ⌈input/stride⌉ per axis, padded evenly with the odd
 *  one at the bottom/right (as Keras and TensorFlow do); a number or [height, width]: that many
 *  zeros on each side. */
export type Padding = 'valid' | 'same' | Size2;

const MAX_SIZE = 1 << 16;

/** Checks a Size2 option; returns it as [height, width]. */
export function checkSize2(where: string, name: string, value: unknown, min: number): [number, number] {
  if (typeof value === 'number') {
    const v = checkInteger(where, name, value, min, MAX_SIZE);
    return [v, v];
  }
  if (!Array.isArray(value) || value.length !== 2)
    throw new TypeError(`${where}: ${name} must be a number or [height, width], got ${JSON.stringify(value)}`);
  return [checkInteger(where, `${name}[0]`, value[0], min, MAX_SIZE), checkInteger(where, `${name}[1]`, value[1], min, MAX_SIZE)];
}

/** Checks a Padding option. */
export function checkPadding(where: string, value: unknown): void {
  if (value === 'same' || value === 'valid') return;
  if (typeof value === 'string')
    throw new TypeError(`${where}: padding must be 'same', 'valid', a number or [height, width], got '${value}'`);
  checkSize2(where, 'padding', value, 0);
}

/** The [C, H, W] an image layer reads, or a RangeError naming the layer. */
export function imageShape(where: string, inputShape: Shape, layer: string): [number, number, number] {
  if (inputShape.length !== 3)
    throw new RangeError(`${where}: ${layer} takes rows of shape [channels, height, width], got ${shapeText(inputShape)}`);
  return [inputShape[0]!, inputShape[1]!, inputShape[2]!];
}

/** Output size, top/left padding along one axis. */
function axis(
  where: string,
  axisName: string,
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  padding: 'valid' | 'same' | number,
): [number, number] {
  const span = (kernel - 1) * dilation + 1;
  if (padding === 'same') {
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + span - size, 0);
    return [out, Math.floor(total / 2)];
  }
  const pad = padding === 'valid' ? 0 : padding;
  const out = Math.floor((size + 2 * pad - span) / stride) + 1;
  if (out < 1)
    throw new RangeError(
      `${where}: the ${axisName} ${size}${pad ? ` padded by ${pad} on each side` : ''} is smaller than the kernel's span ${span}`,
    );
  return [out, pad];
}

/** The window geometry on an input [C, H, W]. */
export function windowGeometry(
  where: string,
  [C, H, W]: readonly [number, number, number],
  kernel: Size2,
  stride: Size2,
  padding: Padding,
  dilation: Size2 = 1,
): WindowGeometry {
  const [KH, KW] = checkSize2(where, 'kernel size', kernel, 1);
  const [sh, sw] = checkSize2(where, 'stride', stride, 1);
  const [dilh, dilw] = checkSize2(where, 'dilation', dilation, 1);
  const [padH, padW] = padding === 'same' || padding === 'valid' ? [padding, padding] : checkSize2(where, 'padding', padding, 0);
  const [OH, ph] = axis(where, 'height', H, KH, sh, dilh, padH);
  const [OW, pw] = axis(where, 'width', W, KW, sw, dilw, padW);
  return { C, H, W, OH, OW, KH, KW, sh, sw, ph, pw, dilh, dilw };
}

/** The name part shared by image layers: '5x5, stride 2, same'. */
export function windowText(kernel: Size2, stride: Size2 | undefined, padding: Padding | undefined): string {
  const two = (s: Size2) => (typeof s === 'number' ? `${s}x${s}` : `${s[0]}x${s[1]}`);
  const parts = [two(kernel)];
  if (stride !== undefined) parts.push(`stride ${typeof stride === 'number' ? stride : stride.join('x')}`);
  if (padding !== undefined)
    parts.push(typeof padding === 'string' ? padding : `padding ${typeof padding === 'number' ? padding : padding.join('x')}`);
  return parts.join(', ');
}
