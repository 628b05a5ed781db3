// Messages between the page (main.ts) and the worker that runs kiln (worker.ts). The worker turns
// kiln's progress into these few kinds, so the page only draws and never imports kiln.

export interface Budget {
  /** Model-search trials. */
  trials: number;
  /** Training epochs of each stage (search trials, the final model, distillation, fine-tuning). */
  epochs: number;
  seed: number;
}

export type DataChoice = { kind: 'mnist'; perDigit: number } | { kind: 'csv'; name: string; text: string; label?: string };

export type ToWorker = { type: 'run'; data: DataChoice; budget: Budget } | { type: 'stop' };

export interface Table {
  columns: string[];
  rows: string[][];
}
export interface OutputFile {
  name: string;
  type: string;
  bytes: Uint8Array;
}

export type FromWorker =
  | { type: 'status'; text: string }
  /** One epoch of one curve: a search trial (`trial: true`, drawn faint) or a pipeline stage. */
  | { type: 'epoch'; series: string; trial: boolean; epoch: number; loss: number; accuracy?: number }
  /** A finished search trial; `best` is the best value so far (whatever the direction). */
  | { type: 'trial'; number: number; value: number | undefined; pruned: boolean; best: number | undefined; objective: string }
  | { type: 'done'; table: Table; files: OutputFile[]; seconds: number }
  | { type: 'error'; message: string; stopped: boolean };
