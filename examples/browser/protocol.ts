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

/** What the digit pad's network trains on: MNIST digits per class, epochs and seed. */
export interface DigitBudget {
  perDigit: number;
  epochs: number;
  seed: number;
}

export type ToWorker =
  | { type: 'run'; data: DataChoice; budget: Budget }
  | { type: 'stop' }
  /** Train the digit pad's CNN and derive its pruned and int8 models. */
  | { type: 'train-digits'; budget: DigitBudget }
  /** A 28×28 MNIST-style image (784 values in [0, 1]) to classify with every stage's model. */
  | { type: 'predict'; pixels: Float32Array };

/** One stage of the digit pad's model: what it is and its test accuracy. */
export interface DigitStage {
  name: string;
  model: string;
  accuracy: number;
}

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
  | { type: 'error'; message: string; stopped: boolean }
  | { type: 'digit-status'; text: string }
  | { type: 'digit-model'; stages: DigitStage[]; seconds: number }
  /** Class probabilities of each stage, in the order of the digit-model message. */
  | { type: 'prediction'; probabilities: number[][] }
  | { type: 'digit-error'; message: string };
