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
  /** The token of the writer that asked the trial in a shared log. */
  claim: string | null;
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
  /** Whether the log holds the study's own event (later ones, from writers that created the
   *  study at the same moment, are ignored: the first wins). */
  created = false;
  /** The distribution each parameter name had when first suggested: a name keeps its kind. */
  readonly firstSeen = new Map<string, Distribution>();
  /** Trial number by claim token (shared logs). */
  readonly claims = new Map<string, number>();
  /** Last heartbeat (writer's clock, ms) by trial number, from beat events. */
  readonly beats = new Map<number, number>();
  /** Finish events that came after a trial had already finished (a zombie's late tell, a second
   *  reaper): the first terminal event wins and these are ignored. */
  ignoredFinishes = 0;
  /** Params and reports that arrived after their trial had finished (ignored). */
  ignoredEvents = 0;

  #trial(e: { number: number; op: string }): MutableTrial {
    const t = this.trials[e.number];
    if (!t) throw new RangeError(`study events: '${e.op}' refers to trial ${e.number}, which was never created`);
    return t;
  }

  apply(e: StudyEvent): void {
    switch (e.op) {
      case 'study':
        if (this.created) return;
        this.created = true;
        this.directions = e.directions.slice();
        this.seed = e.seed;
        this.createdAt = e.at;
        return;
      case 'enqueue':
        this.queue.push({ ...e.params });
        return;
      case 'trial': {
        const number = this.trials.length;
        if (e.claim === undefined && e.number !== number)
          throw new RangeError(`study events: trial ${e.number} created after ${this.trials.length} trials; numbers must count up from 0`);
        if (e.claim !== undefined) {
          if (this.claims.has(e.claim))
            throw new RangeError(`study events: claim '${e.claim}' used by trials ${this.claims.get(e.claim)} and ${number}`);
          this.claims.set(e.claim, number);
        }
        // A queued trial takes the head of the queue as it is at this point of the log, so two
        // writers asking at once never take the same enqueued parameters.
        const head = e.queued ? this.queue.shift() : undefined;
        this.trials.push({
          number,
          state: 'running',
          params: {},
          distributions: {},
          values: null,
          intermediate: {},
          constraints: null,
          userAttrs: {},
          systemAttrs: {},
          startedAt: e.at,
          finishedAt: null,
          durationMs: null,
          error: null,
          fixed: { ...(head ?? e.fixed ?? {}) },
          claim: e.claim ?? null,
          frozen: null,
        });
        return;
      }
      case 'beat':
        this.#trial(e);
        this.beats.set(e.number, Math.max(e.at, this.beats.get(e.number) ?? -Infinity));
        return;
      case 'param': {
        const t = this.#trial(e);
        if (t.state !== 'running') {
          this.ignoredEvents++;
          return;
        }
        t.params[e.name] = e.value;
        t.distributions[e.name] = e.distribution;
        if (!this.firstSeen.has(e.name)) this.firstSeen.set(e.name, e.distribution);
        break;
      }
      case 'report': {
        const t = this.#trial(e);
        if (t.state !== 'running') {
          this.ignoredEvents++;
          return;
        }
        t.intermediate[e.step] = e.value;
        break;
      }
      case 'attr': {
        const t = this.#trial(e);
        (e.system ? t.systemAttrs : t.userAttrs)[e.key] = e.value;
        break;
      }
      case 'finish': {
        const t = this.#trial(e);
        if (t.state !== 'running') {
          this.ignoredFinishes++;
          return;
        }
        t.state = e.state;
        if (e.requeue) this.queue.push({ ...t.fixed, ...t.params });
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
