// A made-up customer table with every kind of column kiln reads, drawn from kiln's seeded
// generator, so `examples/data/customers.csv` is reproducible byte for byte:
//   node --import tsx examples/customers-data.ts > examples/data/customers.csv
//
// Rule: each customer has a plan, a region, a tenure, a fee, support calls, autopay and a hidden
// satisfaction (happy / neutral / unhappy) that only shows in the words of `feedback`. The label
// `churned` is yes when
//   score = 1.2·[plan = basic] − 0.04·tenure + 0.4·calls − 0.8·[autopay] + 0.5·[region = north-east]
//           + 1.6·[unhappy] − 1.6·[happy] + (u1 + u2 + u3 − 1.5)·1.5
// is above 0 (u1..u3 uniform on [0, 1): noise without transcendental functions). Gaps: tenure 8 %
// 'NA', fee 5 % '?', autopay 5 % empty, region 3 % empty, feedback 6 % empty, label 3 % empty.
import { Rng, init } from '../src/index.ts';

const PLANS = ['basic', 'standard', 'premium'];
const FEES = [19, 39, 69];
const REGIONS = ['north', 'north-east', 'east', 'south-east', 'south', 'south-west', 'west', 'north-west'];
const HAPPY = ['great', 'helpful', 'fast', 'love', 'reliable', 'easy', 'friendly', 'recommend'];
const UNHAPPY = ['slow', 'expensive', 'outage', 'rude', 'cancel', 'broken', 'waiting', 'refund'];
const NEUTRAL = ['the', 'service', 'app', 'internet', 'price', 'support', 'plan', 'month', 'and', 'was', 'my', 'this'];

/** The table as CSV text: `rows` customers from `seed`. */
export function customersCsv(seed = 12, rows = 2000): string {
  const rng = new Rng(seed);
  const u = () => rng.nextU32() / 2 ** 32;
  const pick = <T>(list: readonly T[]) => list[Math.floor(u() * list.length)]!;
  const lines = ['customer_id,plan,region,tenure_months,monthly_fee,support_calls,autopay,feedback,churned'];
  for (let i = 0; i < rows; i++) {
    const plan = Math.floor(u() * 3);
    const region = pick(REGIONS);
    const tenure = 1 + Math.floor(u() * 72);
    const fee = FEES[plan]! + Math.round(u() * 1000) / 100;
    const calls = Math.floor(u() * u() * 10);
    const autopay = u() < 0.55;
    const mood = u();
    const satisfaction = mood < 0.35 ? 'happy' : mood < 0.7 ? 'neutral' : 'unhappy';
    const words: string[] = [];
    const sentiment = satisfaction === 'happy' ? HAPPY : satisfaction === 'unhappy' ? UNHAPPY : [];
    const count = 4 + Math.floor(u() * 5);
    for (let k = 0; k < count; k++) {
      const r = u();
      // Mostly neutral words; a sentiment word now and then, sometimes from the other side.
      if (sentiment.length > 0 && r < 0.35) words.push(pick(u() < 0.15 ? (sentiment === HAPPY ? UNHAPPY : HAPPY) : sentiment));
      else words.push(pick(NEUTRAL));
    }
    const noise = (u() + u() + u() - 1.5) * 1.5;
    const score =
      1.2 * Number(plan === 0) -
      0.04 * tenure +
      0.4 * calls -
      0.8 * Number(autopay) +
      0.5 * Number(region === 'north-east') +
      (satisfaction === 'unhappy' ? 1.6 : satisfaction === 'happy' ? -1.6 : 0) +
      noise;
    const churned = score > 0 ? 'yes' : 'no';
    const cells = [
      `C${String(100001 + i)}`,
      PLANS[plan]!,
      u() < 0.03 ? '' : region,
      u() < 0.08 ? 'NA' : String(tenure),
      u() < 0.05 ? '?' : fee.toFixed(2),
      String(calls),
      u() < 0.05 ? '' : autopay ? 'yes' : 'no',
      u() < 0.06 ? '' : words.join(' '),
      u() < 0.03 ? '' : churned,
    ];
    lines.push(cells.join(','));
  }
  rng.dispose();
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await init();
  process.stdout.write(customersCsv());
}
