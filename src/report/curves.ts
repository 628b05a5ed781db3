// The training curves of the stages, one after another on the epoch axis.
import type { PipelineResult } from '../pipeline/types.ts';
import { plot, type ChartSeries } from './chart.ts';
import { formatNumber } from './scale.ts';

function stageCurves(r: PipelineResult, key: 'valAccuracy' | 'valLoss', id: string, title: string, label: string): string {
  let offset = 0;
  const series: ChartSeries[] = r.curves.map((c) => {
    const points = c.points
      .filter((p) => p[key] !== undefined)
      .map((p) => ({ x: offset + p.epoch, y: p[key]!, title: `${c.stage}, epoch ${p.epoch}: ${label} ${formatNumber(p[key]!)}` }));
    offset += c.points.length;
    return { name: c.stage, points, style: 'line+points', marker: 'circle' };
  });
  return plot({
    id,
    title,
    xLabel: 'epoch (stages one after another)',
    yLabel: label,
    series,
    robustY: true,
    note: 'On the validation rows; the prune stage shows its fine-tuning epochs after each pruning step.',
  });
}

export function curvesSection(r: PipelineResult): string | null {
  if (r.curves.length === 0) return null;
  return `<section id="curves"><h2>Training curves</h2><div class="charts">${stageCurves(r, 'valAccuracy', 'curves-accuracy', 'Validation accuracy by epoch', 'validation accuracy')}${stageCurves(r, 'valLoss', 'curves-loss', 'Validation loss by epoch', 'validation loss')}</div></section>`;
}
