// The study API: ask/tell, optimize with budgets and errors, best trials, Pareto fronts and
// constraints on hand-made values, exports, enqueued trials, importances, and every validation
// message a user can meet.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createStudy } from '../../src/search/study.ts';
import { TrialPruned } from '../../src/search/trial.ts';
import { RandomSampler } from '../../src/search/samplers/random.ts';
import { TpeSampler } from '../../src/search/samplers/tpe.ts';
import { dominates, nonDominatedRanks, crowdingDistance } from '../../src/search/pareto.ts';
import { parseDistribution, floatDistribution, intDistribution, contains } from '../../src/search/distributions.ts';
import type { StudyStorage } from '../../src/search/storage/storage.ts';

const random = (seed = 0) => new RandomSampler({ seed });

test('ask/tell: values, explicit outcomes, NaN as failure, and trials that cannot be told twice', async () => {
  const study = await createStudy({ sampler: random() });
  const a = study.ask();
  const x = a.suggestFloat('x', 0, 1);
  assert.equal(a.suggestFloat('x', 0, 1), x, 'the same name and distribution give the same value');
  const done = await study.tell(a, x * 2);
  assert.equal(done.state, 'complete');
  assert.deepEqual(done.values, [x * 2]);
  assert.ok(done.durationMs !== null && done.durationMs >= 0);
  await assert.rejects(study.tell(a, 1), /tell: trial 0 is already complete/);
  const b = study.ask();
  b.report(3, 0);
  b.report(4, 0);
  assert.equal((await study.tell(b, { state: 'pruned' })).values![0], 3, 'a repeated step keeps its first value');
  const c = study.ask();
  const failed = await study.tell(c.number, { state: 'failed', error: 'out of memory' });
  assert.deepEqual([failed.state, failed.error], ['failed', 'out of memory']);
  const d = study.ask();
  assert.deepEqual([(await study.tell(d, NaN)).state, study.trials[3]!.error], ['failed', 'the objective returned NaN']);
  const e = study.ask();
  await assert.rejects(study.tell(e, [1, 2]), /tell\(trial 4\): got 2 value\(s\) for a study with 1 objective\(s\)/);
  await assert.rejects(study.tell(e, 'x' as never), /the result must be a number, an array of numbers or an object, got string/);
  await assert.rejects(study.tell(e, { state: 'done' } as never), /state must be 'complete', 'pruned' or 'failed', got "done"/);
  await assert.rejects(study.tell(99, 1), /there is no trial 99/);
  assert.throws(() => a.suggestInt('n', 1, 2), /trial 0 is already complete/);
});

test('optimize: trial and time budgets, pruned trials, failures that stop or are caught', async () => {
  const study = await createStudy({ sampler: random() });
  await study.optimize(
    (t) => {
      const v = t.suggestFloat('x', -1, 1);
      t.report(v, 0);
      if (v > 0.5) throw new TrialPruned();
      return v * v;
    },
    { trials: 12 },
  );
  assert.equal(study.trials.length, 12);
  assert.ok(study.trials.every((t) => t.state === ((t.params.x as number) > 0.5 ? 'pruned' : 'complete')));

  // The clock is mocked: each trial takes exactly 10 ms, so a 60 ms budget holds exactly six
  // (no trial starts once 60 ms have passed).
  mock.timers.enable({ apis: ['Date'] });
  try {
    const timed = await createStudy({ sampler: random() });
    await timed.optimize(
      (t) => {
        mock.timers.tick(10);
        return t.suggestFloat('x', 0, 1);
      },
      { timeBudgetMs: 60 },
    );
    assert.equal(timed.trials.length, 6);
    const longer = await createStudy({ sampler: random() });
    await longer.optimize(
      (t) => {
        mock.timers.tick(25);
        return t.suggestFloat('x', 0, 1);
      },
      { timeBudgetMs: 60, trials: 100 },
    );
    assert.equal(longer.trials.length, 3, 'trials start at 0, 25 and 50 ms; none at 75');
  } finally {
    mock.timers.reset();
  }

  const failing = await createStudy({ sampler: random() });
  await assert.rejects(
    failing.optimize(
      (t) => {
        if (t.suggestFloat('x', 0, 1) >= 0) throw new Error('diverged');
        return 0;
      },
      { trials: 5 },
    ),
    /diverged/,
  );
  assert.deepEqual(
    failing.trials.map((t) => [t.state, t.error]),
    [['failed', 'diverged']],
  );
  let calls = 0;
  await failing.optimize(
    () => {
      calls++;
      throw new RangeError('bad');
    },
    { trials: 3, catch: (err) => err instanceof RangeError, callbacks: [() => calls++] },
  );
  assert.equal(calls, 6);
  await assert.rejects(
    failing.optimize(() => 1),
    /give trials, timeBudgetMs or signal/,
  );
  await assert.rejects(
    failing.optimize(() => 1, { trails: 3 } as never),
    /unknown option 'trails'/,
  );
  const controller = new AbortController();
  controller.abort();
  await failing.optimize(() => 1, { signal: controller.signal });
  assert.equal(failing.trials.length, 4);
});

test('best trial: by direction, lowest number among ties, feasible only; not for several objectives', async () => {
  const study = await createStudy({ direction: 'maximize', constraints: (t) => [(t.params.x as number) - 5] });
  for (const [x, v] of [
    [1, 3],
    [9, 10],
    [2, 7],
    [3, 7],
  ]) {
    const t = study.ask({ x: x! });
    t.suggestInt('x', 0, 10);
    await study.tell(t, v!);
  }
  study.ask({ x: 0 }).suggestInt('x', 0, 10);
  assert.equal(study.bestTrial.number, 2, 'trial 1 has the highest value but is infeasible; 2 and 3 tie');
  assert.equal(study.bestValue, 7);
  assert.deepEqual(study.bestParams, { x: 2 });
  assert.deepEqual(study.best, { value: 7, params: { x: 2 }, trial: study.trials[2] });
  assert.deepEqual(study.trials[1]!.constraints, [4]);
  const mo = await createStudy({ directions: ['minimize', 'maximize'] });
  assert.throws(() => mo.bestTrial, /bestTrial is for single-objective studies; this one has 2 objectives, use paretoFront/);
  const empty = await createStudy();
  assert.throws(() => empty.bestTrial, /no complete trial yet/);
});

test('Pareto front on hand-made points, minimise × maximise, with duplicates and an infeasible point', async () => {
  const study = await createStudy({ directions: ['minimize', 'maximize'], constraints: (t) => [t.values![0]! === 0 ? 1 : 0] });
  // Points (f1 ↓, f2 ↑): A(1, 1) B(2, 3) C(2, 3) D(3, 2) E(4, 5) F(0, 9, infeasible) G(5, 4).
  // D is dominated by B; G by E; F would dominate all but is infeasible. Front: A, B, C, E.
  const pts = [
    [1, 1],
    [2, 3],
    [2, 3],
    [3, 2],
    [4, 5],
    [0, 9],
    [5, 4],
  ];
  for (const p of pts) await study.tell(study.ask(), p);
  assert.deepEqual(
    study.paretoFront.map((t) => t.number),
    [0, 1, 2, 4],
  );
  // Ranks when minimising both (f2 negated): fronts {A, B, C, E, F}… computed by hand.
  const minimised = pts.map(([a, b]) => [a!, -b!]);
  assert.deepEqual(Array.from(nonDominatedRanks(minimised)), [1, 1, 1, 2, 1, 0, 2]);
  assert.ok(dominates([1, 1], [1, 2]) && !dominates([1, 2], [2, 1]) && !dominates([1, 1], [1, 1]));
  // Crowding on a line: ends infinite, inner points (neighbour gap / range) summed over objectives.
  assert.deepEqual(
    Array.from(
      crowdingDistance([
        [0, 4],
        [1, 3],
        [3, 1],
        [4, 0],
      ]),
    ),
    [Infinity, 1.5, 1.5, Infinity],
  );
  assert.deepEqual(Array.from(nonDominatedRanks([])), []);
});

test('exports: CSV columns as Optuna names them, JSON with every field', async () => {
  const study = await createStudy({ name: 'exp', sampler: random(1) });
  await study.tell(study.ask({ lr: 0.01, act: 'relu' }), 0.5);
  const t = study.ask({ lr: 0.1 });
  t.suggestFloat('lr', 1e-3, 1, { log: true });
  t.setUserAttr('note', 'a, "quoted" value');
  await study.tell(t, { state: 'failed', error: 'nan loss' });
  const csv = study.toCSV().trimEnd().split('\n');
  assert.equal(csv[0], 'number,state,value,datetime_start,datetime_complete,duration_ms,params_lr,user_attrs_note,error');
  const cells = csv[2]!.split(',');
  assert.deepEqual([cells[0], cells[1], cells[2], cells[6]], ['1', 'failed', '', '0.1']);
  assert.ok(csv[2]!.endsWith(',"a, ""quoted"" value",nan loss'));
  assert.match(cells[3]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  const json = study.toJSON();
  assert.deepEqual([json.name, json.directions, json.seed, json.trials.length], ['exp', ['minimize'], 0, 2]);
  assert.deepEqual(json.trials[1]!.distributions.lr, { kind: 'float', low: 1e-3, high: 1, log: true, step: null });
  assert.deepEqual(JSON.parse(JSON.stringify(json)).trials[1].userAttrs, { note: 'a, "quoted" value' });
  const mo = await createStudy({ directions: ['minimize', 'maximize'] });
  await mo.tell(mo.ask(), [1, 2]);
  assert.match(mo.toCSV(), /^number,state,values_0,values_1,/);
});

test('enqueued trials come first; fixed values outside the distribution are an error', async () => {
  const study = await createStudy({ sampler: new TpeSampler({ seed: 1 }) });
  study.enqueueTrial({ x: 0.25, kind: 'b' });
  study.enqueueTrial({ x: 2 });
  const first = study.ask();
  assert.deepEqual(
    [first.suggestFloat('x', 0, 1), first.suggestCategorical('kind', ['a', 'b']), typeof first.suggestInt('n', 1, 3)],
    [0.25, 'b', 'number'],
  );
  await study.tell(first, 1);
  const second = study.ask();
  assert.throws(() => second.suggestFloat('x', 0, 1), /suggestFloat\('x'\): the fixed value 2 of trial 1 is outside float \[0, 1\]/);
});

test('importances credit the parameter the objective depends on', async () => {
  const study = await createStudy({ sampler: random(3) });
  await study.optimize(
    (t) => {
      const x = t.suggestFloat('x', -3, 3);
      const y = t.suggestFloat('y', -3, 3);
      const c = t.suggestCategorical('c', ['p', 'q']);
      return 10 * x * x + 3 * y + (c === 'p' ? 0.01 : 0);
    },
    { trials: 80 },
  );
  const imp = study.importances({ seed: 1 });
  assert.deepEqual(Object.keys(imp), ['x', 'y', 'c']);
  assert.ok(imp.x! > 0.8, JSON.stringify(imp));
  assert.ok(Math.abs(Object.values(imp).reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.deepEqual(study.importances({ seed: 1 }), imp, 'seeded');
  assert.throws(() => study.importances({ params: ['z'] }), /no complete trial has parameter 'z'/);
  assert.throws(() => study.importances({ tree: 3 } as never), /unknown option 'tree'/);
});

test('bad input: ranges, log bounds, kinds, distributions that change under a name', async () => {
  const study = await createStudy({ sampler: random() });
  const t = study.ask();
  assert.throws(() => t.suggestFloat('x', 2, 1), /suggestFloat\('x'\): low must be <= high, got low=2 high=1/);
  assert.throws(() => t.suggestFloat('x', 0, 1, { log: true }), /suggestFloat\('x'\): a log range needs low > 0, got low=0/);
  assert.throws(() => t.suggestInt('n', 0, 10, { log: true }), /suggestInt\('n'\): a log range needs low >= 1, got low=0/);
  assert.throws(() => t.suggestInt('n', 1, 10, { log: true, step: 2 }), /a log range needs step 1, got step=2/);
  assert.throws(() => t.suggestInt('n', 1.5, 10), /low and high must be integers, got low=1.5 high=10/);
  assert.throws(() => t.suggestFloat('x', 0, NaN), /suggestFloat\('x'\): high must be finite, got NaN/);
  assert.throws(() => t.suggestFloat('x', 0.1, 1, { step: 0.1, log: true }), /step and log cannot be combined/);
  assert.throws(() => t.suggestFloat('x', '0' as never, 1), /TypeError|low must be a number, got string/);
  assert.throws(() => t.suggestFloat('x', 0, 1, { steps: 2 } as never), /unknown option 'steps'/);
  assert.throws(() => t.suggestCategorical('c', []), /choices must not be empty/);
  assert.throws(() => t.suggestCategorical('c', ['a', 'a']), /choices must be distinct, "a" appears twice/);
  assert.throws(() => t.suggestCategorical('c', [{}] as never), /choices\[0\] must be a string, finite number, boolean or null/);
  assert.throws(() => t.suggestFloat('', 0, 1), /the parameter name must be a non-empty string/);
  assert.throws(() => t.suggest('d', { kind: 'normal' } as never), /unknown distribution kind 'normal' \(known: float, int, categorical\)/);
  t.suggestFloat('x', 0, 1);
  assert.throws(
    () => t.suggestFloat('x', 0, 2),
    /trial 0 already suggested 'x' from float \[0, 1\]; it cannot be suggested again from float \[0, 2\]/,
  );
  assert.throws(() => t.suggestInt('x', 0, 1), /cannot be suggested again from int \[0, 1\]/);
  t.suggestCategorical('c', ['a', 'b']);
  await study.tell(t, 1);
  const u = study.ask();
  assert.throws(
    () => u.suggestCategorical('x', ['a']),
    /'x' was float \[0, 1\] in earlier trials; a parameter keeps its kind across trials/,
  );
  assert.equal(typeof u.suggestFloat('x', 0, 5), 'number', 'a float range may change between trials');
  assert.throws(() => u.suggestCategorical('c', ['a', 'b', 'z']), /a parameter keeps its choices across trials/);
  assert.throws(() => u.report(1, -1), /step must be an integer >= 0, got -1/);
  await assert.rejects(createStudy({ directions: ['up'] as never }), /directions\[0\] must be 'minimize' or 'maximize', got "up"/);
  await assert.rejects(createStudy({ direction: 'minimize', directions: ['minimize'] }), /give direction or directions, not both/);
  await assert.rejects(createStudy({ sampler: {} as never }), /sampler must implement sampleIndependent/);
  await assert.rejects(createStudy({ seeds: 1 } as never), /unknown option 'seeds'/);
});

test('distribution grids: high snaps to the last step, decimal steps stay exact enough', () => {
  assert.deepEqual(floatDistribution('f', 0, 1, { step: 0.3 }), { kind: 'float', low: 0, high: 0.8999999999999999, log: false, step: 0.3 });
  assert.equal(floatDistribution('f', 0, 1, { step: 0.1 }).high, 1);
  assert.equal(intDistribution('i', 1, 10, { step: 3 }).high, 10);
  assert.equal(intDistribution('i', 1, 9, { step: 3 }).high, 7);
  const d = floatDistribution('f', 0, 1, { step: 0.1 });
  assert.ok(contains(d, 0.30000000000000004) && contains(d, 0.7) && !contains(d, 0.75) && !contains(d, 1.1));
  assert.deepEqual(parseDistribution('p', { kind: 'int', low: 1, high: 4, log: false, step: 1 }), {
    kind: 'int',
    low: 1,
    high: 4,
    log: false,
    step: 1,
  });
});

test('a storage that fails to write surfaces the error on tell and stops later asks', async () => {
  let fail = false;
  const flaky: StudyStorage = {
    load: () => [],
    append: async () => {
      if (fail) throw new Error('disk full');
    },
  };
  const study = await createStudy({ storage: flaky, sampler: random() });
  await study.tell(study.ask(), 1);
  fail = true;
  const t = study.ask();
  await assert.rejects(study.tell(t, 2), /writing to the storage failed: disk full/);
  assert.throws(() => study.ask(), /writing to the storage failed: disk full/);
});

test('model limits become relative constraint values read from user attributes', async () => {
  const { modelLimits } = await import('../../src/search/limits.ts');
  const study = await createStudy({ constraints: modelLimits({ maxParams: 1000, maxLatencyMs: 2 }), sampler: random() });
  for (const [params, latency, loss] of [
    [500, 1, 0.5],
    [4000, 1, 0.1],
    [900, 3, 0.2],
    [1000, 2, 0.4],
  ]) {
    const t = study.ask();
    t.setUserAttr('parameters', params);
    t.setUserAttr('latencyMs', latency);
    await study.tell(t, loss!);
  }
  assert.deepEqual(
    study.trials.map((t) => t.constraints),
    [
      [-0.5, -0.5],
      [3, -0.5],
      [-0.1, 0.5],
      [0, 0],
    ],
  );
  assert.equal(study.bestTrial.number, 3, 'trials 1 and 2 break a limit; 3 sits exactly on both');
  const bare = study.ask();
  await assert.rejects(
    study.tell(bare, 1),
    /trial 4 has no numeric user attribute 'parameters' for maxParams; record it with trial.setUserAttr\('parameters', value\)/,
  );
  assert.throws(() => modelLimits({}), /give at least one of maxParams, maxBytes, maxLatencyMs/);
  assert.throws(() => modelLimits({ maxParams: 0 }), /maxParams must be a finite number in/);
});
