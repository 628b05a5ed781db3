// Activation names and the codes the kernels take (see assembly/KERNELS.md).
/** Activation function names a dense layer accepts. */
export const ACTIVATIONS = ['linear', 'relu', 'leaky_relu', 'sigmoid', 'tanh', 'gelu'] as const;
/** One of `ACTIVATIONS`. */
export type Activation = (typeof ACTIVATIONS)[number];

export function activationCode(where: string, name: unknown): number {
  const code = ACTIVATIONS.indexOf(name as Activation);
  if (code < 0) throw new TypeError(`${where}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(name)}`);
  return code;
}
