// Activation names and the codes the kernels take (see assembly/KERNELS.md).
export const ACTIVATIONS = ['linear', 'relu', 'leaky_relu', 'sigmoid', 'tanh', 'gelu'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export function activationCode(where: string, name: unknown): number {
  const code = ACTIVATIONS.indexOf(name as Activation);
  if (code < 0) throw new TypeError(`${where}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(name)}`);
  return code;
}
