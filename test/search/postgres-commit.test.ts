// PostgreSQL appends that do not wait for the disk (a trial's claim) and the check that keeps a
// process from building on history the database lost in a crash: the events a crash can lose are
// simulated by deleting them, and the next append of the process that read them must refuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStorage, StudyLogLostError } from '../../src/search/storage/postgres.ts';
import type { StudyEvent } from '../../src/search/events.ts';
import { service, uniqueName } from '../helpers/services.ts';

const pgUrl = await service('PostgreSQL', 'the PostgreSQL commit tests');

const claim = (study: string, claim: string): StudyEvent => ({ op: 'trial', study, claim, at: 1, queued: true });
const finish = (study: string, number: number): StudyEvent => ({
  op: 'finish',
  study,
  number,
  at: 2,
  state: 'complete',
  values: [1],
  constraints: null,
  error: null,
});

test('PostgreSQL: an append after the database lost events this process read is refused, naming the study', { skip: !pgUrl }, async () => {
  const study = uniqueName('pg-lost');
  const a = new PostgresStorage(pgUrl!);
  const b = new PostgresStorage(pgUrl!);
  const admin = new PostgresStorage(pgUrl!);
  try {
    const first = await a.appendAndRead(study, [claim(study, 'a/1')], 0);
    assert.equal(first.cursor, 1);
    // Both claims commit without waiting for the disk; a crash could lose them.
    const second = await a.appendAndRead(study, [claim(study, 'a/2')], first.cursor);
    assert.equal(second.cursor, 2);
    // Neither the check nor the asynchronous commit changes what a healthy log returns.
    const third = await a.appendAndRead(study, [finish(study, 0)], second.cursor);
    assert.deepEqual(
      third.events.map((e) => e.op),
      ['finish'],
    );
    // The crash: the last event (a finish would not be lost, but the check does not care which)
    // and the study's counter go back, then another process appends in its place.
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query('DELETE FROM kiln_events WHERE study = $1 AND seq = 3', [study]);
    await client.query('UPDATE kiln_studies SET next_seq = 2 WHERE study = $1', [study]);
    await client.end();
    const other = await b.appendAndRead(study, [claim(study, 'b/1')], 0);
    assert.equal(other.cursor, 3);
    await assert.rejects(
      a.appendAndRead(study, [finish(study, 1)], third.cursor),
      (e: Error) => e instanceof StudyLogLostError && new RegExp(`study '${study}'.*no longer holds event 3`).test(e.message),
    );
    // Refused means not appended: the log is what b left.
    const log = await a.readSince(study, 0);
    assert.equal(log.cursor, 3);
    assert.deepEqual(
      log.events.map((e) => (e.op === 'trial' ? e.claim : e.op)),
      ['a/1', 'a/2', 'b/1'],
    );
    // A process that reads afresh builds on the log as it now is.
    const again = await a.appendAndRead(study, [finish(study, 1)], log.cursor);
    assert.equal(again.cursor, 4);
  } finally {
    await admin.deleteStudy(study);
    await Promise.all([a.close(), b.close(), admin.close()]);
  }
});
