// The answer channel between the study's thread and a trial worker. A worker blocked on its
// question must get the answer to that question: not a second answer written for an earlier one,
// and not an earlier answer re-read because a late notify woke it (Atomics.wait returns on any
// notify, whatever the value).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnWorker } from '../../src/platform/workers.ts';
import { AnswerChannel, type Question } from '../../src/search/parallel/protocol.ts';

test('answer channel: each question is answered once, and stale answers and late notifies do not reach a later question', async () => {
  const answers = new AnswerChannel();
  const ctrl = new Int32Array(answers.shared, 0, 2);
  const asked: Question[] = [];
  let settle!: (v: unknown) => void;
  const got = new Promise<unknown>((resolve, reject) => {
    settle = resolve;
    void spawnWorker(
      new URL('./fixtures/question-worker.ts', import.meta.url),
      {
        message: (data) => {
          const m = data as Question | { kind: 'got'; answers: unknown[] };
          if (m.kind === 'got') return settle(m.answers);
          asked.push(m);
          answers.asked(m.seq);
          if (m.kind === 'suggest') {
            assert.equal(answers.answer(m.seq, { value: 14.8 }), true);
            // A second answer to the same question is dropped.
            assert.equal(answers.answer(m.seq, { value: 99 }), false);
            return;
          }
          // The worker now waits on its report. The suggestion's answer again, and notifies as a
          // late one from that answer would send: the worker must sleep on.
          assert.equal(answers.answer(m.seq - 1, { value: 14.8 }), false);
          for (let i = 0; i < 5; i++) Atomics.notify(ctrl, 0);
          setTimeout(() => {
            for (let i = 0; i < 5; i++) Atomics.notify(ctrl, 0);
            setTimeout(() => assert.equal(answers.answer(m.seq, { value: { prune: false } }), true), 50);
          }, 50);
        },
        error: reject,
        exit: (code) => reject(new Error(`question worker exited with code ${code}`)),
      },
      { typescript: true },
    ).then((handle) => {
      handle.post({ shared: answers.shared });
      void got.finally(() => handle.terminate());
    }, reject);
  });
  assert.deepEqual(await got, [14.8, { prune: false }]);
  assert.deepEqual(
    asked.map((q) => [q.kind, q.seq]),
    [
      ['suggest', 1],
      ['report', 2],
    ],
  );
  // An answer nobody waits for is not written at all.
  assert.equal(answers.answer(3, { value: 1 }), false);
});
