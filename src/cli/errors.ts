// How failures reach the user: one line on stderr, `kiln: error: <message>`, and an exit code
// (2 for command-line usage, 1 for everything else); the stack trace only with --debug.

import { FILE_REASONS, FileAccessError } from '../io/atomic-write.ts';

export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/** A problem with what the user asked for, found by the command line itself. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A flag missing, or flags that do not go together: exit code 2 like commander's own errors. */
export const usageError = (message: string): CliError => new CliError(message, EXIT_USAGE);

/** The message of any thrown value as one line: file-system errors name the path plainly. */
function oneLine(error: unknown): string {
  const e = error as { code?: unknown; path?: unknown; message?: unknown };
  let message: string;
  if (error instanceof FileAccessError) message = `${error.path}: ${error.reason}`;
  else if (typeof e?.code === 'string' && typeof e.path === 'string' && FILE_REASONS[e.code])
    message = `${e.path}: ${FILE_REASONS[e.code]}`;
  else if (error instanceof Error) message = error.message;
  else message = String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/** Writes the error line (and with `debug` the stack) to stderr. */
export function reportError(error: unknown, debug: boolean): void {
  process.stderr.write(`kiln: error: ${oneLine(error)}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
}
