// The stage table, a warning when a stage made the file larger (int8 after unstructured pruning
// does: the sparse file beats dense int8 codes), and the settings every stage ran with.
import type { PipelineResult, StageRow } from '../pipeline/types.ts';
import { escapeHtml } from './escape.ts';
import { bytesText, fixed, percent, tableHtml, valueText } from './format.ts';

function stageTable(stages: readonly StageRow[]): string {
  const first = stages[0];
  const header = [
    { text: 'stage' },
    { text: 'model' },
    { text: 'test accuracy', num: true },
    { text: 'parameters', num: true },
    { text: 'non-zeros', num: true },
    { text: 'file bytes', num: true },
    { text: 'smaller', num: true },
    { text: 'batch-1 latency (µs)', num: true },
    { text: 'speedup', num: true },
    { text: 'stage time (s)', num: true },
  ];
  const rows = stages.map((r) => [
    r.stage,
    r.model,
    percent(r.accuracy),
    String(r.parameters),
    String(r.nonZeros),
    `${r.bytes} (${bytesText(r.bytes)})`,
    first ? `${fixed(first.bytes / r.bytes, 2)}×` : '-',
    fixed(r.latencyUs, 1),
    `${fixed(r.speedup, 2)}×`,
    fixed(r.seconds, 1),
  ]);
  return tableHtml(header, rows, 'stage-table');
}

/** Stages whose file is larger than the stage before it, each as a sentence. */
export function growthWarnings(stages: readonly StageRow[]): string[] {
  const out: string[] = [];
  for (let i = 1; i < stages.length; i++) {
    const before = stages[i - 1]!,
      now = stages[i]!;
    if (now.bytes <= before.bytes) continue;
    const int8 = /int8|int4/.test(now.model);
    const why = int8
      ? before.nonZeros < before.parameters
        ? ` The ${before.stage} model's file stores only its ${before.nonZeros} non-zero weights; the integer codes store every weight. Prune with the structured method (whole neurons removed) before quantising, or keep the ${before.stage} model.`
        : ' Per-channel scales and zero points outweigh the bytes saved on a model this small; keep the float model or use per-tensor quantisation.'
      : '';
    out.push(
      `${int8 ? 'Quantisation' : `The ${now.stage} stage`} made the file larger: ${bytesText(before.bytes)} after ${before.stage}, ${bytesText(now.bytes)} after ${now.stage} (${fixed(now.bytes / before.bytes, 2)}×).${why}`,
    );
  }
  return out;
}

function settingsTable(r: PipelineResult): string {
  if (!r.stageSettings || r.stageSettings.length === 0) return '<p class="note">This result does not record the stages\' settings.</p>';
  const rows = r.stageSettings.map((s) => [
    s.stage,
    {
      html: `<ul class="settings">${Object.entries(s.settings)
        .map(([k, v]) => `<li><span class="key">${escapeHtml(k)}</span> ${escapeHtml(valueText(v))}</li>`)
        .join('')}</ul>`,
    },
  ]);
  return tableHtml([{ text: 'stage' }, { text: 'settings' }], rows, 'settings-table');
}

export function stagesSection(r: PipelineResult): string {
  const warnings = growthWarnings(r.stages)
    .map((w) => `<p class="warning" role="note"><strong>Warning:</strong> ${escapeHtml(w)}</p>`)
    .join('');
  return `<section id="stages"><h2>Stages</h2>${warnings}${stageTable(r.stages)}<p class="note">Every stage is measured on the same ${r.data.rows.test} test rows. Latency is the median of one-row predictions, every stage's model timed in turn within the same rounds so that machine load affects all alike.</p><h3>Settings of every stage</h3>${settingsTable(r)}</section>`;
}
