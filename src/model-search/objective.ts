// The one objective of the model search: build the MLP a trial's settings describe, train it on
// the training rows, report the validation metric after every epoch so a pruner can stop it, and
// score it on the validation rows (never on test rows). Runs in this thread or in a worker.
import type { Dataset, DatasetInit } from '../data/dataset.ts';
import { modelFile } from '../metrics/measure.ts';
import { Sequential, type Task } from '../nn/sequential.ts';
import { parseSpace, sampleSpace, type SpaceSpec } from '../search/space.ts';
import { TrialPruned, type Trial } from '../search/trial.ts';
import { fit, type EpochLog, type History } from '../train/fit.ts';
import { mlpFitOptions, mlpLayers, mlpSettings, type MlpSettings } from './settings.ts';
import type { SearchObjective } from './space.ts';

/** What one trial needs besides its rows: the same in this thread and in the workers. */
export interface MlpJob {
  task: Task;
  /** Output units: classes, 1 for binary, targets for regression. */
  outputs: number;
  seed: number;
  defaults: MlpSettings;
  objectives: SearchObjective[];
  /** The validation metric reported per epoch for pruning (single accuracy or loss objective). */
  reported: 'accuracy' | 'loss' | undefined;
  space: SpaceSpec;
}

/** The structured-cloneable context searchModel hands its workers. */
export interface MlpWorkerContext extends MlpJob {
  data: DatasetInit;
  validation: DatasetInit;
}

/** What a worker sends back with a complete trial's values. */
export interface MlpArtifact {
  bytes: Uint8Array;
  history: History;
  settings: MlpSettings;
}

/** A trained trial: its objective values, model (the caller owns it), history and settings. */
export interface MlpRun {
  values: number[];
  model: Sequential;
  history: History;
  settings: MlpSettings;
}

/** The rows of a Dataset as plain data, for a worker. */
export function datasetInit(d: Dataset): DatasetInit {
  const common = { features: d.features, numFeatures: d.numFeatures, shape: d.shape, featureNames: d.featureNames };
  return d.task === 'regression'
    ? { ...common, targets: d.targets, numTargets: d.numTargets, targetNames: d.targetNames }
    : { ...common, labels: d.labels, classNames: d.classNames };
}

/** Builds and trains the model of `settings` on `data`, validating on `validation` each epoch.
 *  On error the model is disposed. */
export async function trainMlp(
  settings: MlpSettings,
  data: Dataset,
  validation: Dataset,
  job: Pick<MlpJob, 'task' | 'outputs' | 'seed'>,
  onEpoch?: (log: EpochLog) => void,
  signal?: AbortSignal,
): Promise<{ model: Sequential; history: History }> {
  const inputs = settings.convBlocks?.length ? data.shape : data.numFeatures;
  const model = new Sequential({ inputs, layers: mlpLayers(settings, job.outputs, data.shape), task: job.task, seed: job.seed });
  try {
    const history = await fit(model, data, {
      ...mlpFitOptions(settings),
      validation,
      seed: job.seed,
      ...(signal ? { signal } : {}),
      ...(onEpoch ? { onEpoch } : {}),
    });
    return { model, history };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** Trains one trial's MLP. Pruning steps are 0-based epochs: step s is reported at the end of
 *  epoch s + 1 as fit counts them. The values are those of the epoch whose weights the model
 *  holds (the last one, or the best with early stopping). The trial records the user attributes
 *  'parameters', 'bytes' and (for classifiers) 'accuracy'. The caller owns the returned model. */
export async function trainMlpTrial(
  trial: Trial,
  data: Dataset,
  validation: Dataset,
  job: MlpJob,
  onEpoch?: (log: EpochLog) => void,
  signal?: AbortSignal,
): Promise<MlpRun> {
  const settings = mlpSettings(sampleSpace(trial, parseSpace(job.space)), job.defaults);
  const { model, history } = await trainMlp(
    settings,
    data,
    validation,
    job,
    (log) => {
      onEpoch?.(log);
      if (!job.reported) return;
      trial.report(job.reported === 'accuracy' ? log.valAccuracy! : log.valLoss!, log.epoch - 1);
      if (trial.shouldPrune()) throw new TrialPruned(`pruned after epoch ${log.epoch}`);
    },
    signal,
  );
  try {
    const kept = history.epochs[history.bestEpoch - 1] ?? history.epochs.at(-1)!;
    const bytes = modelFile(model).bytes.length;
    trial.setUserAttr('parameters', model.parameterCount);
    trial.setUserAttr('bytes', bytes);
    if (kept.valAccuracy !== undefined) trial.setUserAttr('accuracy', kept.valAccuracy);
    const values = job.objectives.map((o) =>
      o === 'accuracy' ? kept.valAccuracy! : o === 'loss' ? kept.valLoss! : o === 'parameters' ? model.parameterCount : bytes,
    );
    return { values, model, history, settings };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
