// The public report API, named one by one (src/index.ts re-exports these names).
export { renderReport } from './report.ts';
export type { ReportOptions as PipelineReportOptions } from './report.ts';
