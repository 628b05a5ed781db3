// The shape of a module that trial workers run (see optimizeParallel).
import type { Trial } from '../trial.ts';

/** What an objective module exports. `context` is the value given to `optimizeParallel`, and
 *  `emit` sends progress to its `onProgress`. Return the value(s), or `{ values, artifact }` to
 *  hand the study's thread something that is not stored (a trained model's bytes). */
export type WorkerObjective = (trial: Trial, context: unknown, emit: (data: unknown) => void) => unknown;
