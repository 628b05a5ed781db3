// kiln serve: an HTTP front on a shared storage, so browsers, edge functions and hosts without a
// route to the database join its studies (HttpStorage, or plain fetch with ask/tell).
import type { Command } from 'commander';
import { usageError } from '../errors.ts';
import { integer } from '../options.ts';
import { out } from '../print.ts';
import { searchApi } from '../library.ts';
import { openStorageFlag } from './study.ts';

interface ServeFlags {
  storage?: string;
  token?: string;
  port: number;
  host: string;
  corsOrigin: string;
  maxBody: number;
  grace: number;
  log?: boolean;
}

export function registerServe(program: Command): void {
  const api = searchApi;
  program
    .command('serve')
    .description('serve the studies of a storage over HTTP: kiln worker --storage http://…, browsers and edge workers join them')
    .option(
      '--storage <url>',
      'the storage served: a journal file, postgres://… or redis://… (default: $KILN_STORAGE)',
      process.env.KILN_STORAGE || undefined,
    )
    .option(
      '--token <token>',
      'the shared token clients send (Authorization: Bearer …; at least 16 characters; default: $KILN_SERVE_TOKEN)',
    )
    .option('--port <n>', 'port to listen on (0: any free one)', integer(0, 65535), 8080)
    .option('--host <address>', "address to listen on ('0.0.0.0': every interface)", '127.0.0.1')
    .option('--cors-origin <origin>', 'Access-Control-Allow-Origin for browser clients', '*')
    .option('--max-body <bytes>', 'largest request body', integer(1024, 1 << 30), 1 << 20)
    .option('--grace <ms>', 'fail a trial asked over HTTP whose client has not beaten for this long', integer(100, 86_400_000), 60_000)
    .option('--log', 'print one line per request')
    .addHelpText(
      'after',
      `
Examples:
  KILN_SERVE_TOKEN=$(openssl rand -hex 24) kiln serve --storage postgres://kiln@db/kiln --host 0.0.0.0 --port 8080
  kiln worker --storage http://search.example:8080 --study mnist --data mnist --trials 200   (token from $KILN_SERVE_TOKEN)
  curl -H "Authorization: Bearer $KILN_SERVE_TOKEN" http://search.example:8080/v1/studies`,
    )
    .action(async (o: ServeFlags) => {
      const token = o.token ?? process.env.KILN_SERVE_TOKEN;
      if (!token) throw usageError('--token (or KILN_SERVE_TOKEN) is required: clients authenticate with it');
      if (token.length < 16) throw usageError(`--token: at least 16 characters (e.g. openssl rand -hex 24), got ${token.length}`);
      if (o.storage !== undefined && /^https?:/i.test(o.storage))
        throw usageError('--storage: kiln serve fronts a journal file, PostgreSQL or Redis, not another server');
      const storage = openStorageFlag(api, o.storage, '--storage (or KILN_STORAGE) is required: the storage whose studies are served')!;
      const server = await api.serveStudies(storage, {
        token,
        port: o.port,
        host: o.host,
        corsOrigin: o.corsOrigin,
        maxBodyBytes: o.maxBody,
        graceMs: o.grace,
        ...(o.log ? { onRequest: (m: string, p: string, status: number, ms: number) => out(`${m} ${p} ${status} ${ms} ms`) } : {}),
      });
      out(`serving     ${server.url} (studies of ${o.storage!.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')}); Ctrl-C stops`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await storage.close();
    });
}
