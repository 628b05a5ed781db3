// A study's trials rebuilt from its events. The study applies each event here as it emits it,
// and replays the stored events the same way when a study is reopened.
import type { StudyEvent } from './events.ts';
import type { Distribution, ParamValue } from './distributions.ts';
import type { Direction, FrozenTrial, TrialState } from './trial-record.ts';

export interface MutableTrial {
  number: number;
  state: TrialState;
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  values: number[] | null;
  intermediate: Record<number, number>;
  constraints: number[] | null;
  userAttrs: Record<string, unknown>;
  systemAttrs: Record<string, unknown>;
  startedAt: number;
  finishedAt: number | null;
  durationMs: number | null;
  error: string | null;
  fixed: Record<string, ParamValue>;
  frozen: FrozenTrial | null;
}

export function freeze(t: MutableTrial): FrozenTrial {
  if (t.frozen) return t.frozen;
  const copy: FrozenTrial = Object.freeze({
    number: t.number,
    state: t.state,
    params: Object.freeze({ ...t.params }),
    distributions: Object.freeze({ ...t.distributions }),
    values: t.values ? Object.freeze(t.values.slice()) : null,
    intermediate: Object.freeze({ ...t.intermediate }),
    constraints: t.constraints ? Object.freeze(t.constraints.slice()) : null,
    userAttrs: Object.freeze({ ...t.userAttrs }),
    systemAttrs: Object.freeze({ ...t.systemAttrs }),
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
    durationMs: t.durationMs,
    error: t.error,
  });
  t.frozen = copy;
  return copy;
}

export class StudyState {
  directions: Direction[] = [];
  seed = 0;
  createdAt = 0;
  readonly trials: MutableTrial[] = [];
  readonly queue: Record<string, ParamValue>[] = [];

  #trial(e: { number: number; op: string }): MutableTrial {
    const t = this.trials[e.number];
    if (!t) throw new RangeError(`study events: '${e.op}' refers to trial ${e.number}, which was never created`);
    return t;
  }

  apply(e: StudyEvent): void {
    switch (e.op) {
      case 'study':
        this.directions = e.directions.slice();
        this.seed = e.seed;
        this.createdAt = e.at;
        return;
      case 'enqueue':
        this.queue.push({ ...e.params });
        return;
      case 'trial': {
        if (e.number !== this.trials.length) throw new RangeError(`study events: trial ${e.number} created after ${this.trials.length} trials; numbers must count up from 0`);
        if (e.queued) this.queue.shift();
        this.trials.push({
          number: e.number, state: 'running', params: {}, distributions: {}, values: null, intermediate: {},
          constraints: null, userAttrs: {}, systemAttrs: {}, startedAt: e.at, finishedAt: null, durationMs: null,
          error: null, fixed: { ...(e.fixed ?? {}) }, frozen: null,
        });
        return;
      }
      case 'param': {
        const t = this.#trial(e);
        t.params[e.name] = e.value;
        t.distributions[e.name] = e.distribution;
        break;
      }
      case 'report':
        this.#trial(e).intermediate[e.step] = e.value;
        break;
      case 'attr': {
        const t = this.#trial(e);
        (e.system ? t.systemAttrs : t.userAttrs)[e.key] = e.value;
        break;
      }
      case 'finish': {
        const t = this.#trial(e);
        if (t.state !== 'running') throw new RangeError(`study events: trial ${e.number} finished twice (${t.state}, then ${e.state})`);
        t.state = e.state;
        t.values = e.values ? e.values.slice() : null;
        t.constraints = e.constraints ? e.constraints.slice() : null;
        t.error = e.error;
        t.finishedAt = e.at;
        t.durationMs = e.at - t.startedAt;
        break;
      }
    }
    this.trials[e.number]!.frozen = null;
  }
}
