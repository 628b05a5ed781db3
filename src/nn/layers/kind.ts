// What a layer file declares: how its configuration is checked and how it becomes a layer the
// engine runs for a given input shape. src/nn/layers/index.ts lists the kinds.
import type { Layer, Shape } from '../../core/layer.ts';

export interface LayerKind<C extends { readonly type: string }> {
  readonly type: C['type'];
  /** Validates a configuration (written in code or read from a file) and returns it typed. */
  check(where: string, config: Record<string, unknown>): C;
  /** The engine layer for rows of `inputShape`; a RangeError naming `where` when they do not fit. */
  build(config: C, inputShape: Shape, where: string): Layer;
}
