// The public report API, named one by one (src/index.ts re-exports these names).
export { renderReport } from './report.ts';
export type { RenderReportOptions } from './report.ts';
