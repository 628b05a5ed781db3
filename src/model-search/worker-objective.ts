// The objective module searchModel's workers run (dist/kiln-mlp-objective.mjs in the package):
// one MLP trial on the rows of the context, returning the trained model as file bytes so the
// study's thread can keep the best one.
import { Dataset } from '../data/dataset.ts';
import { modelToBytes } from '../io/model-file.ts';
import type { Trial } from '../search/trial.ts';
import type { EpochLog } from '../train/fit.ts';
import { trainMlpTrial, type MlpArtifact, type MlpWorkerContext } from './objective.ts';

let rows: { context: MlpWorkerContext; data: Dataset; validation: Dataset } | undefined;

/** Trains one MLP trial in a worker and returns its validation values and its model file bytes. */
export async function objective(
  trial: Trial,
  context: MlpWorkerContext,
  emit: (log: EpochLog) => void,
): Promise<{ values: number[]; artifact: MlpArtifact }> {
  if (rows?.context !== context) rows = { context, data: new Dataset(context.data), validation: new Dataset(context.validation) };
  const run = await trainMlpTrial(trial, rows.data, rows.validation, context, emit);
  try {
    return { values: run.values, artifact: { bytes: modelToBytes(run.model), history: run.history, settings: run.settings } };
  } finally {
    run.model.dispose();
  }
}
