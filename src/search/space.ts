// A search space written as JSON (for the CLI and config files), mapped onto the same
// distributions and the same define-by-run suggestions as code. The format:
//
//   {
//     "lr":        { "float": [1e-4, 1e-1], "log": true },
//     "dropout":   { "float": [0, 0.5], "step": 0.05 },
//     "optimizer": { "categorical": ["adam", "sgd"] },
//     "momentum":  { "float": [0.8, 0.99], "if": { "optimizer": "sgd" } },
//     "layers":    { "int": [1, 3] },
//     "units_{i}": { "int": [16, 256], "log": true, "for": "layers" }
//   }
//
// - Each entry is one kind key — "float": [low, high], "int": [low, high] or "categorical":
//   [choices…] — plus options: "log" (float, int), "step" (float, int), "if", "for".
// - "if": { name: value | [values…], … } makes the parameter active only when every named
//   parameter is active and equals the value (or one of the values). Names must come earlier.
// - "for": "n" repeats the parameter for i = 0 … n−1, where n names an earlier int parameter; the
//   name must contain "{i}", replaced by the index ("units_0", "units_1", …).
// - Parameters are suggested in the order written; inactive ones are not suggested at all, so
//   samplers see them as absent (conditional parameters).
import {
  categoricalDistribution,
  floatDistribution,
  intDistribution,
  DISTRIBUTION_KINDS,
  type Choice,
  type Distribution,
  type ParamValue,
} from './distributions.ts';
import type { Trial } from './trial.ts';

/** A float parameter in a JSON space: `{ float: [low, high] }`. */
export interface FloatSpec {
  float: [number, number];
  log?: boolean;
  step?: number;
  if?: Condition;
  for?: string;
}
/** An integer parameter in a JSON space: `{ int: [low, high] }`. */
export interface IntSpec {
  int: [number, number];
  log?: boolean;
  step?: number;
  if?: Condition;
  for?: string;
}
/** A categorical parameter in a JSON space: `{ categorical: [...] }`. */
export interface CategoricalSpec {
  categorical: Choice[];
  if?: Condition;
  for?: string;
}
/** One parameter of a JSON search space. */
export type ParamSpec = FloatSpec | IntSpec | CategoricalSpec;
/** Suggest a parameter only when earlier parameters hold these values. */
export type Condition = Record<string, Choice | Choice[]>;
/** A JSON search space: parameter name → spec, in suggestion order. */
export type SpaceSpec = Record<string, ParamSpec>;

interface ParsedParam {
  readonly name: string;
  readonly distribution: Distribution;
  readonly when: readonly (readonly [string, readonly Choice[]])[];
  readonly repeat: string | null;
}

const parsed = new WeakMap<object, ParsedParam[]>();
const OPTION_KEYS: Record<string, string[]> = { float: ['log', 'step'], int: ['log', 'step'], categorical: [] };

/** Checks a JSON search space and returns it unchanged; errors name the parameter and the key. */
export function parseSpace(raw: unknown): SpaceSpec {
  parseParams(raw);
  return raw as SpaceSpec;
}

function parseParams(raw: unknown): ParsedParam[] {
  if (raw !== null && typeof raw === 'object' && parsed.has(raw)) return parsed.get(raw)!;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new TypeError(
      `space: must be an object of parameter specs, got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`,
    );
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) throw new RangeError('space: is empty; name at least one parameter');
  const out: ParsedParam[] = [];
  const seen = new Map<string, Distribution>();
  for (const [name, spec] of entries) {
    const where = `space.${name}`;
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec))
      throw new TypeError(`${where}: must be an object like { "float": [low, high] }, got ${JSON.stringify(spec)}`);
    const s = spec as Record<string, unknown>;
    const kinds = Object.keys(s).filter((k) => !['log', 'step', 'if', 'for'].includes(k));
    if (kinds.length !== 1 || !(DISTRIBUTION_KINDS as readonly string[]).includes(kinds[0]!)) {
      const unknown = kinds.find((k) => !(DISTRIBUTION_KINDS as readonly string[]).includes(k));
      throw new TypeError(
        unknown !== undefined
          ? `${where}: unknown parameter kind '${unknown}' (known: ${DISTRIBUTION_KINDS.join(', ')})`
          : `${where}: needs exactly one kind key (${DISTRIBUTION_KINDS.join(', ')}), got ${kinds.length ? kinds.join(', ') : 'none'}`,
      );
    }
    const kind = kinds[0]!;
    for (const key of ['log', 'step']) {
      if (key in s && !OPTION_KEYS[kind]!.includes(key))
        throw new TypeError(`${where}: option '${key}' does not apply to ${kind} parameters`);
    }
    const distribution = makeDistribution(where, kind, s);
    const repeat = parseRepeat(where, name, s.for, seen);
    const when = parseCondition(where, s.if, seen);
    seen.set(name, distribution);
    out.push({ name, distribution, when, repeat });
  }
  parsed.set(raw, out);
  return out;
}

function makeDistribution(where: string, kind: string, s: Record<string, unknown>): Distribution {
  const range = s[kind];
  if (kind === 'categorical') return categoricalDistribution(`${where}.categorical`, range);
  if (!Array.isArray(range) || range.length !== 2)
    throw new TypeError(`${where}.${kind}: must be [low, high], got ${JSON.stringify(range)}`);
  const options = {
    ...(s.log !== undefined ? { log: s.log as boolean } : {}),
    ...(s.step !== undefined ? { step: s.step as number } : {}),
  };
  return kind === 'float' ? floatDistribution(where, range[0], range[1], options) : intDistribution(where, range[0], range[1], options);
}

function parseRepeat(where: string, name: string, raw: unknown, seen: Map<string, Distribution>): string | null {
  const templated = name.includes('{i}');
  if (raw === undefined) {
    if (templated) throw new TypeError(`${where}: a name with {i} needs "for": "<int parameter>" saying how many copies`);
    return null;
  }
  if (typeof raw !== 'string') throw new TypeError(`${where}.for: must name an earlier int parameter, got ${JSON.stringify(raw)}`);
  if (!templated) throw new TypeError(`${where}.for: a repeated parameter's name must contain {i}, got '${name}'`);
  const count = seen.get(raw);
  if (!count) throw new RangeError(`${where}.for: '${raw}' is not a parameter defined before this one`);
  if (count.kind !== 'int' || count.low < 0)
    throw new TypeError(`${where}.for: '${raw}' must be an int parameter with low >= 0, got ${count.kind}`);
  return raw;
}

function parseCondition(where: string, raw: unknown, seen: Map<string, Distribution>): [string, Choice[]][] {
  if (raw === undefined) return [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new TypeError(`${where}.if: must be an object { parameter: value | [values] }, got ${JSON.stringify(raw)}`);
  return Object.entries(raw as Record<string, unknown>).map(([ref, want]) => {
    if (!seen.has(ref)) throw new RangeError(`${where}.if: '${ref}' is not a parameter defined before this one`);
    const values = (Array.isArray(want) ? want : [want]) as Choice[];
    if (values.length === 0)
      throw new RangeError(`${where}.if.${ref}: the list of values is empty, so the parameter could never be active`);
    return [ref, values];
  });
}

/**
 * Suggests every active parameter of a JSON space on `trial`, in order, and returns them.
 *
 * @example
 * const space = parseSpace(JSON.parse(readFileSync('space.json', 'utf8')));
 * await study.optimize((trial) => train(sampleSpace(trial, space)), { trials: 40 });
 */
export function sampleSpace(trial: Trial, space: SpaceSpec): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const p of parseParams(space)) {
    const active = p.when.every(([ref, values]) => ref in out && values.includes(out[ref] as Choice));
    if (!active) continue;
    if (p.repeat === null) {
      out[p.name] = trial.suggest(p.name, p.distribution);
      continue;
    }
    if (!(p.repeat in out)) continue;
    const copies = out[p.repeat] as number;
    for (let i = 0; i < copies; i++) {
      const name = p.name.replaceAll('{i}', String(i));
      out[name] = trial.suggest(name, p.distribution);
    }
  }
  return out;
}
