// Progress of long work: a bar when a person watches a terminal, a plain per-epoch table in
// logs, nothing at all with --json (stdout then carries one JSON object only).
import cliProgress from 'cli-progress';
import type { EpochLog } from '../index.ts';
import { fmt, out } from './print.ts';

/** Progress is for a person at a terminal: never with --json (`quiet`), never in a pipe. */
export const interactive = (quiet: boolean | undefined): boolean => !quiet && process.stdout.isTTY === true;

export interface Progress {
  update(value: number, payload?: Record<string, string>): void;
  stop(): void;
}

const silent: Progress = { update() {}, stop() {} };

/** A bar on stdout counting to `total`; silent unless the run is interactive. */
export function progressBar(
  total: number,
  label: string,
  quiet: boolean | undefined,
  extra = '',
  initial: Record<string, string> = {},
): Progress {
  if (!interactive(quiet)) return silent;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {eta_formatted} left${extra}`,
      stream: process.stdout,
      clearOnComplete: true,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, initial);
  return { update: (value, payload) => bar.update(value, payload ?? {}), stop: () => bar.stop() };
}

export interface EpochReporter {
  onEpoch(log: EpochLog): void;
  stop(): void;
}

/** Reports training epochs: a bar (interactive), a table of (at most about 20) epochs in a pipe,
 *  or nothing when `quiet` (--json). */
export function epochReporter(epochs: number, label: string, quiet: boolean | undefined): EpochReporter {
  if (interactive(quiet)) {
    const bar = progressBar(epochs, label, quiet, '  loss {loss}{val}', { loss: '-', val: '' });
    return {
      onEpoch: (log) =>
        bar.update(log.epoch, {
          loss: fmt(log.loss),
          val:
            log.valLoss === undefined
              ? ''
              : `  val_loss ${fmt(log.valLoss)}${log.valAccuracy === undefined ? '' : `  val_acc ${fmt(log.valAccuracy)}`}`,
        }),
      stop: () => bar.stop(),
    };
  }
  if (quiet) return { onEpoch() {}, stop() {} };
  // Logs stay readable: about 20 rows however long the run, always the first epoch.
  const every = Math.ceil(epochs / 20);
  let header = false;
  return {
    onEpoch(log) {
      if (log.epoch !== 1 && log.epoch % every !== 0) return;
      if (!header) {
        out(
          `${'epoch'.padStart(6)}  ${'loss'.padStart(10)}  ${'val_loss'.padStart(10)}  ${'val_acc'.padStart(8)}  ${'lr'.padStart(10)}  ${'ms'.padStart(8)}`,
        );
        header = true;
      }
      out(
        `${String(log.epoch).padStart(6)}  ${fmt(log.loss, 6).padStart(10)}  ${fmt(log.valLoss, 6).padStart(10)}  ${fmt(log.valAccuracy).padStart(8)}  ${log.lr.toPrecision(4).padStart(10)}  ${log.ms.toFixed(1).padStart(8)}`,
      );
    },
    stop() {},
  };
}
