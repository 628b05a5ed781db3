// Writing a pipeline run to a folder (Node, Deno, Bun): the final model, the HTML report and the
// result as JSON. node:fs is imported on first use, so browser bundles still load this module.
import { writeFileAtomic } from '../io/atomic-write.ts';
import { renderReport } from '../report/index.ts';
import type { PipelineResult } from './types.ts';

/** Paths of the files `savePipeline` wrote. */
export interface SavedPipeline {
  model: string;
  report: string;
  json: string;
}

/** The result without the model's bytes (their size stays): what `pipeline.json` holds. */
export function pipelineJson(result: PipelineResult): Record<string, unknown> {
  const { model, ...rest } = result;
  return { ...rest, model: { stage: model.stage, format: model.format, bytes: model.bytes.length } };
}

/**
 * Writes `model.safetensors`, `report.html` and `pipeline.json` into `dir` (created if missing),
 * each atomically, and returns their paths.
 *
 * @example
 * const paths = await savePipeline(await runPipeline(iris()), 'out');
 */
export async function savePipeline(result: PipelineResult, dir: string): Promise<SavedPipeline> {
  if (typeof dir !== 'string' || dir.length === 0)
    throw new TypeError(`savePipeline: dir must be a non-empty path, got ${typeof dir === 'string' ? "''" : typeof dir}`);
  const { mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });
  const paths = { model: join(dir, 'model.safetensors'), report: join(dir, 'report.html'), json: join(dir, 'pipeline.json') };
  const text = new TextEncoder();
  await writeFileAtomic(paths.model, result.model.bytes);
  await writeFileAtomic(paths.report, text.encode(renderReport(result)));
  await writeFileAtomic(paths.json, text.encode(`${JSON.stringify(pipelineJson(result), null, 1)}\n`));
  return paths;
}
