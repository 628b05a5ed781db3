// The entry of a trial worker when kiln runs from its TypeScript sources; the built package's
// is dist/kiln-worker.mjs, which calls the same function through kiln.mjs.
import { runTrialWorker } from './worker-main.ts';

await runTrialWorker();
