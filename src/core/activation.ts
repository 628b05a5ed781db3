// Activation names and the codes the kernels take (assembly/codes.ts, the table both sides share).
import { ACT_GELU, ACT_LEAKY_RELU, ACT_LINEAR, ACT_RELU, ACT_SIGMOID, ACT_TANH } from '../../assembly/codes.ts';

/** Activation function names a dense layer accepts. */
export const ACTIVATIONS = ['linear', 'relu', 'leaky_relu', 'sigmoid', 'tanh', 'gelu'] as const;
/** One of `ACTIVATIONS`. */
export type Activation = (typeof ACTIVATIONS)[number];

const CODES: Readonly<Record<Activation, number>> = {
  linear: ACT_LINEAR,
  relu: ACT_RELU,
  leaky_relu: ACT_LEAKY_RELU,
  sigmoid: ACT_SIGMOID,
  tanh: ACT_TANH,
  gelu: ACT_GELU,
};

export function activationCode(where: string, name: unknown): number {
  if (!ACTIVATIONS.includes(name as Activation))
    throw new TypeError(`${where}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(name)}`);
  return CODES[name as Activation];
}
