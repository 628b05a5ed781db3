// kiln study list|show|export|import: look into the studies a storage keeps, and move them in and
// out as Optuna journal files (optuna-dashboard opens an export; an Optuna study warm-starts kiln).
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../index.ts';
import type { SharedStudyStorage } from '../../search/storage/storage.ts';
import type { StudyEvent } from '../../search/events.ts';
import type { StudySummary } from '../../search/export.ts';
import { usageError, CliError } from '../errors.ts';
import { emitJson, fmt, out, table } from '../print.ts';
import { searchApi, type SearchApi } from '../library.ts';

interface StudyFlags {
  storage?: string;
  json?: boolean;
}

const STORAGE_HELP = 'a journal file, postgres://user@host/db, redis://host:6379 or http://host:8080 (kiln serve) (default: $KILN_STORAGE)';

/** What the command line passes to openStorage: warnings to stderr, and for http:// storages the
 *  token from $KILN_SERVE_TOKEN unless the URL carries one. */
export function storageOptions(): { onWarning: (m: string) => void; token?: string } {
  const token = process.env.KILN_SERVE_TOKEN;
  return { onWarning: (m) => process.stderr.write(`kiln: warning: ${m}\n`), ...(token ? { token } : {}) };
}

/** Opens --storage, a usage error naming the flag when it is wrong. */
export function openStorageFlag(api: SearchApi, url: string | undefined, required: string): SharedStudyStorage | undefined {
  if (url === undefined) {
    if (required) throw usageError(required);
    return undefined;
  }
  try {
    const withToken = /^https?:\/\/[^/]*:[^@/]*@/i.test(url) ? { onWarning: storageOptions().onWarning } : storageOptions();
    return api.openStorage(url, withToken);
  } catch (error) {
    throw usageError(`--storage: ${(error as Error).message}`);
  }
}

function open(api: SearchApi, o: StudyFlags): SharedStudyStorage {
  return openStorageFlag(api, o.storage, '--storage (or KILN_STORAGE) is required')!;
}

async function withStorage<T>(api: SearchApi, o: StudyFlags, run: (storage: SharedStudyStorage) => Promise<T>): Promise<T> {
  const storage = open(api, o);
  try {
    return await run(storage);
  } finally {
    await storage.close();
  }
}

async function replay(api: SearchApi, storage: SharedStudyStorage, name: string): Promise<{ summary: StudySummary; events: StudyEvent[] }> {
  const { events } = await storage.readSince(name, 0);
  const summary = api.summarizeStudy(name, events);
  if (!summary) throw new CliError(`study '${name}' is not in the storage (kiln study list shows what is)`);
  return { summary, events };
}

export function registerStudy(program: Command): void {
  const api = searchApi;
  const study = program.command('study').description('list, show, export and import the studies a storage keeps');
  const storageFlag = (cmd: Command) =>
    cmd.option('--storage <url>', STORAGE_HELP, process.env.KILN_STORAGE || undefined).option('--json', 'print JSON');
  study.addHelpText(
    'after',
    `
Examples:
  kiln study list --storage postgres://kiln@db.example/kiln
  kiln study show mnist --storage runs/search.jsonl
  kiln study export mnist --storage redis://cache:6379 --out mnist.optuna.log   (optuna-dashboard mnist.optuna.log)
  kiln study import optuna.log --study mlp --as mlp-warm --storage runs/search.jsonl`,
  );

  storageFlag(study.command('list').description('the studies in the storage, with trial counts and best values')).action((o: StudyFlags) =>
    withStorage(api, o, async (storage) => {
      const rows = [];
      for (const name of await storage.studies()) {
        const { trialList: _, seed: __, ...row } = (await replay(api, storage, name)).summary;
        rows.push(row);
      }
      if (o.json) return emitJson({ command: 'study list', studies: rows });
      if (rows.length === 0) return out('no studies');
      for (const line of table(
        ['study', 'trials', 'complete', 'pruned', 'failed', 'running', 'queued', 'best'],
        rows.map((r) => [
          r.study,
          String(r.trials),
          String(r.complete),
          String(r.pruned),
          String(r.failed),
          String(r.running),
          String(r.queued),
          r.best ? `${fmt(r.best.value)} (trial ${r.best.number})` : '-',
        ]),
      ))
        out(line);
    }),
  );

  storageFlag(study.command('show').argument('<name>', 'the study').description('one study: counts, best trial and every trial')).action(
    (name: string, o: StudyFlags) =>
      withStorage(api, o, async (storage) => {
        const { trialList: trials, seed, ...s } = (await replay(api, storage, name)).summary;
        if (o.json) return emitJson({ command: 'study show', ...s, trialList: trials });
        out(`study       ${name}: ${s.directions.join(', ')}, seed ${seed}`);
        out(
          `trials      ${s.trials} (${s.complete} complete, ${s.pruned} pruned, ${s.failed} failed, ${s.running} running), ${s.queued} queued${s.ignoredTells ? `, ${s.ignoredTells} late tells ignored` : ''}`,
        );
        if (s.best) out(`best        trial ${s.best.number}: ${fmt(s.best.value)}  ${JSON.stringify(s.best.params)}`);
        out();
        for (const line of table(
          ['trial', 'state', 'values', 'params'],
          trials.map((t) => [
            String(t.number),
            t.state,
            t.values ? t.values.map((v) => fmt(v)).join(', ') : (t.error ?? '-'),
            JSON.stringify(t.params),
          ]),
        ))
          out(line);
      }),
  );

  storageFlag(
    study
      .command('export')
      .argument('<name>', 'the study')
      .description('write a study as an Optuna journal file (optuna-dashboard and Optuna open it)'),
  )
    .requiredOption('--out <file>', 'the Optuna journal file to write (atomically)')
    .action((name: string, o: StudyFlags & { out: string }) =>
      withStorage(api, o, async (storage) => {
        const { events, summary } = await replay(api, storage, name);
        const text = api.toOptunaJournal(name, events);
        await writeFileAtomic(o.out, new TextEncoder().encode(text));
        if (o.json) return emitJson({ command: 'study export', study: name, trials: summary.trials, out: o.out });
        out(`exported    ${name}: ${summary.trials} trials to ${o.out} (Optuna journal format)`);
      }),
    );

  storageFlag(
    study
      .command('import')
      .argument('<file>', 'an Optuna journal file')
      .description('read a study from an Optuna journal file into the storage'),
  )
    .option('--study <name>', 'the study to read from the file (default: its only one)')
    .option('--as <name>', 'the name it gets in the storage (default: its own)')
    .action((file: string, o: StudyFlags & { study?: string; as?: string }) =>
      withStorage(api, o, async (storage) => {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (error) {
          throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
        }
        let events: StudyEvent[];
        try {
          events = api.fromOptunaJournal(text, { ...(o.study ? { study: o.study } : {}), ...(o.as ? { as: o.as } : {}) });
        } catch (error) {
          throw new CliError(`${file}: ${(error as Error).message}`);
        }
        const name = events[0]!.study;
        if ((await storage.readSince(name, 0)).events.length > 0)
          throw new CliError(`the storage already holds a study named '${name}'; give --as another name`);
        await storage.append(events);
        const trials = events.filter((e) => e.op === 'trial').length;
        if (o.json) return emitJson({ command: 'study import', study: name, trials, from: file });
        out(`imported    ${name}: ${trials} trials from ${file}`);
      }),
    );
}
