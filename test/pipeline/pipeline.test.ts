// The pipeline end to end on a small MNIST sample: every stage row checked against what the
// stage must do (fewer parameters, fewer bytes, accuracy above chance), the events in their
// documented order, the Pareto front against a brute-force dominance check, the final model
// file read back and scored again, reproducibility from the seed, cancellation, and the errors.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mnist, iris } from '../../src/data/builtin.ts';
import { Dataset } from '../../src/data/dataset.ts';
import { trainTestSplit } from '../../src/data/split.ts';
import { accuracy } from '../../src/metrics/classification.ts';
import { quantizedModelFromBytes } from '../../src/compress/quant/file.ts';
import { modelFromBytes } from '../../src/io/model-file.ts';
import { runPipeline } from '../../src/pipeline/pipeline.ts';
import { paretoFront, selectWithinBudget } from '../../src/pipeline/budget.ts';
import { renderReport } from '../../src/report/index.ts';
import { savePipeline } from '../../src/pipeline/save.ts';
import type { PipelineEvent, PipelineResult, StageRow } from '../../src/pipeline/types.ts';
import type { PipelineOptions } from '../../src/pipeline/options.ts';

let data: Dataset;
before(async () => {
  data = await mnist({ perDigit: 40 });
});

const OPTIONS: PipelineOptions = {
  seed: 3,
  search: { trials: 8, epochs: 6 },
  distill: { epochs: 12 },
  prune: { steps: 3, fineTuneEpochs: 2 },
  latencyRepeats: 8,
};

async function run(options: PipelineOptions = OPTIONS): Promise<{ result: PipelineResult; events: PipelineEvent[] }> {
  const events: PipelineEvent[] = [];
  const result = await runPipeline(data, options, { onEvent: (e) => events.push(e) });
  return { result, events };
}

const timeless = (r: StageRow) => {
  const { latencyUs: _l, speedup: _s, ...rest } = r;
  return rest;
};

function checkEventOrder(events: readonly PipelineEvent[], result: PipelineResult): void {
  assert.equal(events[0]!.type, 'start');
  assert.equal(events.at(-1)!.type, 'end');
  const latency = events.at(-2)!;
  assert.equal(latency.type, 'latency', 'the joint latency measurement comes last');
  assert.deepEqual((latency as Extract<PipelineEvent, { type: 'latency' }>).stages, result.stages);
  const start = events[0] as Extract<PipelineEvent, { type: 'start' }>;
  assert.deepEqual(
    start.stages,
    result.stages.map((r) => r.stage),
  );
  assert.deepEqual(start.rows, result.data.rows);
  let stage: string | null = null;
  let ended = 0;
  let lastTrial = -1;
  const epochsOf = new Map<number, number>();
  for (const e of events.slice(1, -2)) {
    if (e.type === 'stage-start') {
      assert.equal(stage, null, `${e.stage} started inside ${stage}`);
      assert.equal(e.stage, result.stages[ended]!.stage);
      stage = e.stage;
    } else if (e.type === 'stage-end') {
      assert.equal(e.stage, stage);
      assert.deepEqual(timeless(e.row), timeless(result.stages[ended]!), 'the streamed row is the final row but for its latency');
      assert.ok(e.row.latencyUs > 0 && e.row.speedup > 0);
      ended++;
      stage = null;
    } else if (e.type === 'trial-epoch') {
      assert.equal(stage, 'search');
      assert.ok(e.trial > lastTrial, `epoch of trial ${e.trial} after trial ${lastTrial} finished`);
      assert.equal(e.epoch, (epochsOf.get(e.trial) ?? 0) + 1, 'epochs count up from 1');
      epochsOf.set(e.trial, e.epoch);
    } else if (e.type === 'trial') {
      assert.equal(stage, 'search');
      assert.equal(e.trial.number, lastTrial + 1, 'trials in number order');
      assert.equal(e.trial.intermediate.length, epochsOf.get(e.trial.number) ?? 0, 'one reported value per epoch run');
      lastTrial = e.trial.number;
    } else if (e.type === 'epoch') {
      assert.equal(e.stage, stage);
    } else assert.fail(`unexpected ${e.type} event in the middle`);
  }
  assert.equal(ended, result.stages.length);
  assert.equal(lastTrial + 1, result.trials.length);
  // The epoch events of each stage are its curve.
  for (const c of result.curves.filter((c) => c.stage !== 'search')) {
    const streamed = events
      .filter((e): e is Extract<PipelineEvent, { type: 'epoch' }> => e.type === 'epoch' && e.stage === c.stage)
      .map((e) => e.point);
    assert.deepEqual(streamed, c.points, `${c.stage} curve`);
  }
}

test('search, distill, prune and quantize on an MNIST sample', async (t) => {
  const { result, events } = await run();
  const rows = result.stages;
  const [search, distilled, pruned, quantized] = rows as [StageRow, StageRow, StageRow, StageRow];

  await t.test('one row per stage, each measured sanely', () => {
    assert.deepEqual(
      rows.map((r) => r.stage),
      ['search', 'distill', 'prune', 'quantize'],
    );
    for (const r of rows) {
      // Ten classes: chance is 0.1; the sample is small, so the bound is loose.
      assert.ok(r.accuracy >= 0.45 && r.accuracy <= 1, `${r.stage} accuracy ${r.accuracy}`);
      assert.ok(r.nonZeros <= r.parameters && r.nonZeros > 0, `${r.stage} non-zeros ${r.nonZeros} of ${r.parameters}`);
      assert.ok(Number.isFinite(r.latencyUs) && r.latencyUs > 0, `${r.stage} latency ${r.latencyUs}`);
      assert.ok(Number.isFinite(r.speedup) && r.speedup > 0, `${r.stage} speedup ${r.speedup}`);
      assert.ok(r.seconds >= 0);
    }
    assert.equal(search.speedup, 1);
    assert.ok(distilled.parameters < search.parameters, 'the student is smaller than the teacher');
    assert.ok(pruned.parameters < distilled.parameters, 'structured pruning removes neurons');
    assert.equal(quantized.parameters, pruned.parameters, 'quantisation keeps every parameter');
    assert.ok(
      distilled.bytes < search.bytes && pruned.bytes < distilled.bytes && quantized.bytes < pruned.bytes,
      `bytes shrink: ${rows.map((r) => r.bytes).join(' > ')}`,
    );
    assert.ok(
      quantized.bytes < pruned.bytes / 2,
      `int8 codes take about a quarter of the f32 bytes: ${quantized.bytes} vs ${pruned.bytes}`,
    );
    assert.match(quantized.model, /int8-per-channel$/);
  });

  await t.test("the final model's confusion matrix and scores, and every stage's settings", () => {
    const e = result.evaluation!;
    assert.equal(e.stage, 'quantize');
    assert.deepEqual(e.classNames, result.data.classes);
    const total = e.confusion.flat().reduce((a, b) => a + b, 0);
    assert.equal(total, result.data.rows.test, 'one count per test row');
    const hits = e.confusion.reduce((a, row, c) => a + row[c]!, 0);
    assert.equal(hits / total, quantized.accuracy, 'the diagonal is the stage table accuracy');
    e.confusion.forEach((row, c) => {
      const actual = row.reduce((a, b) => a + b, 0);
      const predicted = e.confusion.reduce((a, r) => a + r[c]!, 0);
      assert.equal(e.support[c], actual);
      assert.equal(e.recall[c], actual === 0 ? 0 : row[c]! / actual);
      assert.equal(e.precision[c], predicted === 0 ? 0 : row[c]! / predicted);
    });
    assert.deepEqual(
      result.stageSettings!.map((s) => s.stage),
      rows.map((r) => r.stage),
    );
    const [searched, distill, prune, quantize] = result.stageSettings!.map((s) => s.settings);
    assert.equal(searched!.trials, result.trials.length);
    assert.deepEqual(searched!.layers, result.settings.layers);
    assert.equal(distill!.temperature, 4);
    // The teacher is the ensemble of the search's three best complete trials (by validation accuracy).
    const top = result.trials
      .filter((t) => t.state === 'complete')
      .sort((a, b) => b.values![0]! - a.values![0]! || a.number - b.number)
      .slice(0, 3)
      .map((t) => t.number);
    assert.equal(top[0], result.bestTrial);
    assert.equal(distill!.teachers, top.length > 1 ? `trials ${top.join(', ')} (mean probabilities)` : 'the searched model');
    assert.equal(prune!.method, 'structured');
    assert.equal(quantize!.scheme, 'int8-per-channel');
    assert.ok(
      result.trials.every((t) => typeof t.startedAt === 'number'),
      'trials carry their start time',
    );
  });

  await t.test('the student and the pruned model have the widths asked for', () => {
    const hidden = (r: StageRow) => r.model.split(' ')[0]!.split('-').slice(1, -1).map(Number);
    const teacher = hidden(search);
    assert.deepEqual(teacher, result.settings.layers);
    const student = teacher.map((w) => Math.max(8, Math.round(w / 4)));
    assert.deepEqual(hidden(distilled), student);
    // Structured, layer scope: round(0.5 · units) of every hidden layer removed.
    assert.deepEqual(
      hidden(pruned),
      student.map((u) => u - Math.round(0.5 * u)),
    );
  });

  await t.test('events arrive in order and carry the final rows', () => checkEventOrder(events, result));

  await t.test('trials: budget, states, reports and the chosen one', () => {
    assert.equal(result.trials.length, 8);
    assert.deepEqual(result.objectives, ['accuracy']);
    assert.deepEqual(result.directions, ['maximize']);
    const complete = result.trials.filter((x) => x.state === 'complete');
    assert.ok(complete.length > 0);
    for (const x of result.trials) {
      assert.ok(x.state === 'complete' || x.state === 'pruned', `trial ${x.number} ${x.state}`);
      assert.ok(x.intermediate.length >= 1 && x.intermediate.length <= 6);
      assert.deepEqual(
        x.intermediate.map(([s]) => s),
        x.intermediate.map((_, i) => i),
        'steps 0, 1, 2, …',
      );
      if (x.state === 'complete') {
        assert.equal(x.intermediate.length, 6, 'a complete trial ran every epoch');
        assert.equal(x.values![0], x.intermediate.at(-1)![1], 'its value is its last validation accuracy');
        assert.equal(x.accuracy, x.values![0]);
        assert.ok(x.bytes! > 0 && x.parameters! > 0);
      } else {
        assert.ok(x.intermediate.length < 6, 'a pruned trial stopped early');
      }
    }
    const best = Math.max(...complete.map((x) => x.values![0]!));
    const chosen = result.trials.find((x) => x.number === result.bestTrial)!;
    assert.equal(chosen.values![0], best);
    assert.equal(chosen.number, complete.find((x) => x.values![0] === best)!.number, 'ties go to the earliest trial');
    assert.equal(chosen.parameters, search.parameters, 'the chosen trial is the search stage model');
  });

  await t.test('Pareto front: exactly the complete trials no other beats on accuracy and bytes', () => {
    const complete = result.trials.filter((x) => x.state === 'complete');
    const dominated = (a: (typeof complete)[0]) =>
      complete.some((b) => b.accuracy! >= a.accuracy! && b.bytes! <= a.bytes! && (b.accuracy! > a.accuracy! || b.bytes! < a.bytes!));
    const expected = complete
      .filter((a) => !dominated(a))
      .sort((a, b) => a.bytes! - b.bytes! || a.number - b.number)
      .map((a) => a.number);
    assert.deepEqual(
      result.paretoFront.map((p) => p.trial),
      expected,
    );
    for (const p of result.paretoFront) {
      const x = result.trials[p.trial]!;
      assert.equal(p.accuracy, x.accuracy);
      assert.equal(p.bytes, x.bytes);
    }
  });

  await t.test('curves: the chosen trial, then each training stage', () => {
    assert.deepEqual(
      result.curves.map((c) => c.stage),
      ['search', 'distill', 'prune'],
    );
    const [searchCurve, distillCurve, pruneCurve] = result.curves;
    assert.deepEqual(
      searchCurve!.points.map((p) => p.valAccuracy),
      result.trials[result.bestTrial!]!.intermediate.map(([, v]) => v),
    );
    assert.equal(distillCurve!.points.length, 12);
    assert.equal(pruneCurve!.points.length, 3 * 2, 'three pruning steps of two fine-tuning epochs');
    for (const c of result.curves)
      for (const p of c.points) assert.ok(Number.isFinite(p.loss) && p.valAccuracy! >= 0 && p.valAccuracy! <= 1);
  });

  await t.test('the final model file predicts what the quantize row measured', () => {
    assert.equal(result.model.format, 'kiln.quantized');
    assert.equal(result.model.bytes.length, quantized.bytes);
    const { test } = trainTestSplit(data, { testFraction: 0.2, validationFraction: 0.1, seed: 3 });
    const q = quantizedModelFromBytes(result.model.bytes);
    try {
      assert.equal(accuracy(test.labels, q.predictClasses(test.features)), quantized.accuracy);
    } finally {
      q.dispose();
    }
  });

  await t.test('savePipeline writes the model, the report and the JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-pipeline-'));
    try {
      const paths = await savePipeline(result, join(dir, 'nested', 'out'));
      assert.equal(statSync(paths.model).size, result.model.bytes.length);
      assert.match(readFileSync(paths.report, 'utf8'), /^<!doctype html>/);
      const json = JSON.parse(readFileSync(paths.json, 'utf8'));
      assert.deepEqual(json.stages, result.stages);
      assert.deepEqual(json.model, { stage: 'quantize', format: 'kiln.quantized', bytes: result.model.bytes.length });
      assert.equal(json.trials.length, 8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('the same seed gives the same stages, trials and model bytes', async () => {
  const options: PipelineOptions = {
    ...OPTIONS,
    seed: 11,
    search: { trials: 5, epochs: 4 },
    distill: { epochs: 5 },
    prune: { steps: 2, fineTuneEpochs: 1 },
  };
  const [a, b] = [await run(options), await run(options)].map((r) => r.result);
  const table = (r: PipelineResult) => r.stages.map(({ seconds: _, ...rest }) => timeless(rest as StageRow));
  assert.deepEqual(table(a!), table(b!));
  assert.deepEqual(
    a!.trials.map(({ durationMs: _, startedAt: __, ...rest }) => rest),
    b!.trials.map(({ durationMs: _, startedAt: __, ...rest }) => rest),
  );
  assert.deepEqual(a!.curves, b!.curves);
  assert.deepEqual(a!.model.bytes, b!.model.bytes);
  assert.deepEqual(a!.importances, b!.importances);
  const other = (await run({ ...options, seed: 12 })).result;
  assert.notDeepEqual(table(other), table(a!), 'another seed gives another run');
});

test('without search a baseline is trained; unstructured pruning leaves a sparse model', async () => {
  const sparsity = 0.8;
  const { result, events } = await run({
    seed: 1,
    stages: ['prune'],
    baseline: { layers: [32], epochs: 4 },
    prune: { method: 'unstructured', sparsity, steps: 2, fineTuneEpochs: 1 },
    latencyRepeats: 5,
  });
  assert.deepEqual(
    result.stages.map((r) => r.stage),
    ['train', 'prune'],
  );
  assert.deepEqual(result.trials, []);
  assert.equal(result.bestTrial, null);
  assert.deepEqual(result.paretoFront, []);
  const [trained, pruned] = result.stages as [StageRow, StageRow];
  assert.equal(trained.model, '784-32-10 f32');
  assert.equal(pruned.parameters, trained.parameters, 'unstructured pruning keeps the shape');
  // Layer scope: round(0.8 · n) weights of each layer are zero; biases are never pruned.
  const weights = [784 * 32, 32 * 10];
  const zeroed = weights.reduce((a, n) => a + Math.round(sparsity * n), 0);
  assert.ok(pruned.nonZeros <= trained.parameters - zeroed, `${pruned.nonZeros} non-zeros`);
  assert.ok(pruned.bytes < trained.bytes / 2, `sparse file ${pruned.bytes} vs ${trained.bytes}`);
  assert.equal(result.model.format, 'kiln.sequential.sparse');
  const back = modelFromBytes(result.model.bytes);
  try {
    assert.equal(back.parameterCount, pruned.parameters);
  } finally {
    back.dispose();
  }
  assert.equal(trained.nonZeros, trained.parameters, 'pruning a copy left the trained model whole');
  checkEventOrder(events, result);
});

test('maxDrop: compression is a study; the kept candidate is the smallest within budget and its stages are the rows', async () => {
  const { result, events } = await run({
    seed: 2,
    stages: ['distill', 'prune', 'quantize'],
    baseline: { layers: [32], epochs: 4 },
    distill: { epochs: 3 },
    prune: { steps: 1, fineTuneEpochs: 1, sparsity: [0.6, 0.3] },
    latencyRepeats: 4,
    maxDrop: 0.03,
  });
  const s = result.compression!;
  assert.ok(s, 'a study result');
  // The trained model, its int8 copy, its copies pruned by 30 % and then 60 % of its neurons and
  // their int8 copies; the same six for students of 16 and 8 units (½ of 32, then ¼ and ⅛ both
  // 8, at least 8, tried once).
  assert.equal(s.candidates.length, 3 * 6);
  assert.deepEqual(
    s.candidates.filter((c) => !c.distilled && c.format === 'f32').map((c) => [c.sparsity, c.widths, c.name]),
    [
      [0, [32], '784-32-10 f32'],
      [0.3, [32], '784-22-10 f32, structured 30%'],
      [0.6, [32], '784-13-10 f32, structured 60%'],
    ],
    'each share of the ladder prunes further from the one before, counted from the original widths',
  );
  assert.deepEqual(s.front, paretoFront(s.candidates));
  assert.equal(s.chosen, selectWithinBudget(s.candidates, s.reference, 0.03));
  const kept = s.candidates[s.chosen]!;
  assert.ok(kept.accuracy >= s.reference - 0.03 - 1e-9);
  for (const c of s.candidates) if (c.accuracy >= s.line - 1e-9) assert.ok(c.bytes >= kept.bytes, `${c.name} is smaller and within budget`);
  assert.equal(s.candidates[0]!.name, '784-32-10 f32');
  assert.deepEqual(
    s.candidates.filter((c) => c.distilled && c.pruning === 'none' && c.format === 'f32').map((c) => c.widths),
    [[16], [8]],
    'widths ½, ¼ (8) and ⅛ (8, the same) of 32',
  );
  // The rows follow the kept candidate's path and end with its file.
  const expected = [
    'train',
    ...(kept.distilled ? ['distill'] : []),
    ...(kept.pruning !== 'none' ? ['prune'] : []),
    ...(kept.format !== 'f32' ? ['quantize'] : []),
  ];
  assert.deepEqual(
    result.stages.map((r) => r.stage),
    expected,
  );
  assert.equal(result.stages.at(-1)!.bytes, kept.bytes);
  assert.match(renderReport(result), /Compression within the accuracy budget.*budget line/s);
  // The start event names the stages that may run; the kept path's stages end in order.
  assert.deepEqual((events[0] as Extract<PipelineEvent, { type: 'start' }>).stages, ['train', 'distill', 'prune', 'quantize']);
  assert.deepEqual(
    events.flatMap((e) => (e.type === 'stage-end' ? [e.stage] : [])),
    expected,
  );
  await assert.rejects(runPipeline(data, { optimizeFor: 'latency' }), /optimizeFor applies to the accuracy budget; give maxDrop too/);
  await assert.rejects(runPipeline(data, { maxDrop: 2 }), /maxDrop/);
});

test('a signal stops the run', async () => {
  const controller = new AbortController();
  const reason = new Error('stop now');
  const seen: string[] = [];
  await assert.rejects(
    runPipeline(
      data,
      { ...OPTIONS, search: { ...OPTIONS.search, trials: 50 } },
      {
        signal: controller.signal,
        onEvent: (e) => {
          seen.push(e.type);
          if (e.type === 'trial' && e.trial.number === 1) controller.abort(reason);
        },
      },
    ),
    (error) => error === reason,
  );
  assert.ok(!seen.includes('stage-end'), 'no stage finished');
});

test('two workers: the search runs on threads, streams its events and repeats for a seed', async () => {
  const options: PipelineOptions = {
    seed: 5,
    search: { trials: 4, epochs: 6, workers: 2 },
    distill: { epochs: 3 },
    prune: { steps: 1, fineTuneEpochs: 1 },
    latencyRepeats: 4,
  };
  const go = async () => {
    const events: PipelineEvent[] = [];
    const result = await runPipeline(iris(), options, { onEvent: (e) => events.push(e) });
    return { result, events };
  };
  const { result: a, events } = await go();
  assert.deepEqual(
    a.stages.map((r) => r.stage),
    ['search', 'distill', 'prune', 'quantize'],
  );
  assert.equal(a.trials.length, 4);
  // A batch's trials run at once, so their epochs interleave and they end in any order; each
  // trial's epochs still count up from 1 and all come before its 'trial' event.
  const inSearch = events.slice(
    events.findIndex((e) => e.type === 'stage-start'),
    events.findIndex((e) => e.type === 'stage-end'),
  );
  const epochsOf = new Map<number, number>();
  const ended: number[] = [];
  for (const e of inSearch) {
    if (e.type === 'trial-epoch') {
      assert.ok(!ended.includes(e.trial), `epoch of trial ${e.trial} after it ended`);
      assert.equal(e.epoch, (epochsOf.get(e.trial) ?? 0) + 1);
      epochsOf.set(e.trial, e.epoch);
    } else if (e.type === 'trial') {
      assert.equal(e.trial.intermediate.length, epochsOf.get(e.trial.number), 'one reported value per epoch streamed');
      ended.push(e.trial.number);
    }
  }
  assert.deepEqual(
    ended.slice().sort((x, y) => x - y),
    [0, 1, 2, 3],
  );
  const chosen = a.trials[a.bestTrial!]!;
  assert.equal(chosen.values![0], Math.max(...a.trials.filter((x) => x.state === 'complete').map((x) => x.values![0]!)));
  assert.equal(chosen.parameters, a.stages[0]!.parameters, 'the model a worker trained is the search stage model');
  const { result: b } = await go();
  const table = (r: PipelineResult) => r.stages.map(({ seconds: _, ...rest }) => timeless(rest as StageRow));
  assert.deepEqual(table(b), table(a));
  assert.deepEqual(
    b.trials.map(({ durationMs: _, startedAt: __, ...rest }) => rest),
    a.trials.map(({ durationMs: _, startedAt: __, ...rest }) => rest),
  );
  assert.deepEqual(b.model.bytes, a.model.bytes);
});

test('errors name the option and the constraint', async () => {
  const bad = (options: unknown, message: RegExp, kind: typeof Error = TypeError) =>
    assert.rejects(
      runPipeline(iris(), options as PipelineOptions),
      (e: Error) => e instanceof kind && message.test(e.message),
      String(message),
    );
  await bad({ trails: 3 }, /runPipeline: unknown option 'trails'/);
  await bad({ stages: ['prune', 'distill'] }, /stages must be in the order search, distill, prune, quantize/, RangeError);
  await bad({ stages: ['compile'] }, /stages\[0\] must be one of search, distill, prune, quantize, got "compile"/);
  await bad({ search: { trials: 0 } }, /search.trials/, RangeError);
  await bad({ search: { workers: 0 } }, /runPipeline: search.workers must be an integer in \[1, 1024\], got 0/, RangeError);
  await bad({ search: { workers: 1.5 } }, /search.workers must be an integer/, RangeError);
  await bad({ split: { testFraction: 0.5, validationFraction: 0.5 } }, /must leave training rows/, RangeError);
  await bad({ prune: { method: 'magnitude' } }, /prune.method must be 'structured' or 'unstructured'/);
  await bad({ quantize: { scheme: 'int2' } }, /quantize.scheme must be one of int8-per-tensor/);
  await bad({ distill: { widths: [] } }, /distill.widths must be a non-empty array/);
  await bad({ objectives: ['bytes'], search: { trials: 1 } }, /objectives need accuracy or loss/, RangeError);
  await bad({ objectives: ['speed'], search: { trials: 1 } }, /unknown objective "speed"/);
  const regression = new Dataset({ features: new Float32Array([1, 2, 3]), numFeatures: 1, targets: new Float32Array([1, 2, 3]) });
  await assert.rejects(runPipeline(regression), /runPipeline: the pipeline builds classifiers; this data set is regression/);
  await assert.rejects(
    runPipeline(iris(), {}, { onEvent: () => {}, onProgress: () => {} } as never),
    /runPipeline hooks: unknown option 'onProgress'/,
  );
});
