// The page: reads the settings (form or URL query), starts a worker per run, draws its progress
// and offers the results. Everything numeric happens in worker.ts; this file never loads kiln.
//   ?trials=3&epochs=2&perDigit=50&seed=1&label=species&run=1   (run=1 starts at once)
import { Chart } from './chart.ts';
import { setUpPad } from './pad.ts';
import type { Budget, DataChoice, FromWorker, OutputFile, Table, ToWorker } from './protocol.ts';

const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#setup');
const input = (id: string) => $<HTMLInputElement>(`#${id}`);
const button = (id: string) => $<HTMLButtonElement>(`#${id}`);
const status = $('#status');
const results = $('#results');
const fileInput = input('csv-file');
const drop = $('#drop');

const STAGE_COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];
const TRIAL_STYLE = { color: '#64748b', faint: true, label: 'search trials' };

const charts = {
  loss: new Chart($<SVGSVGElement>('#loss-chart'), { x: 'epoch', y: 'training loss' }),
  accuracy: new Chart($<SVGSVGElement>('#accuracy-chart'), { x: 'epoch', y: 'validation accuracy' }),
  trials: new Chart($<SVGSVGElement>('#trial-chart'), { x: 'trial', y: 'objective' }),
};
const stageColors = new Map<string, string>();

let csv: { name: string; text: string } | undefined;
let worker: Worker | undefined;
let downloads: string[] = [];

function setState(state: 'idle' | 'running' | 'done' | 'error' | 'stopped', text: string): void {
  document.body.dataset.state = state;
  status.textContent = text;
  button('run').disabled = state === 'running';
  button('stop').disabled = state !== 'running';
}

// Settings from the query string fill the form, so a link can carry a whole configuration.
function applyQuery(query: URLSearchParams): void {
  const fields: Record<string, string> = { trials: 'trials', epochs: 'epochs', perDigit: 'per-digit', seed: 'seed', label: 'label' };
  for (const [key, id] of Object.entries(fields)) {
    const value = query.get(key);
    if (value !== null) input(id).value = value;
  }
  if (query.get('data') === 'csv') input('data-csv').checked = true;
}

function integer(id: string, min: number, max: number): number {
  const field = input(id);
  const value = Number(field.value);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${field.dataset.name ?? id} must be a whole number from ${min} to ${max}, got ${field.value || 'nothing'}`);
  return value;
}

function settings(): { data: DataChoice; budget: Budget } {
  const budget = { trials: integer('trials', 1, 200), epochs: integer('epochs', 1, 200), seed: integer('seed', 0, 2 ** 31 - 1) };
  if (!input('data-csv').checked) return { data: { kind: 'mnist', perDigit: integer('per-digit', 5, 1000) }, budget };
  if (!csv) throw new RangeError('choose or drop a CSV file first');
  const label = input('label').value.trim();
  return { data: { kind: 'csv', ...csv, ...(label ? { label } : {}) }, budget };
}

async function takeFile(file: File | undefined): Promise<void> {
  if (!file) return;
  csv = { name: file.name, text: await file.text() };
  input('data-csv').checked = true;
  $('#csv-name').textContent = `${file.name} (${(file.size / 1024).toFixed(1)} KiB)`;
}

function reset(): void {
  for (const chart of Object.values(charts)) chart.clear();
  stageColors.clear();
  for (const url of downloads) URL.revokeObjectURL(url);
  downloads = [];
  results.hidden = true;
  $('#stages').replaceChildren();
  $('#downloads').replaceChildren();
}

function showTable(table: Table): void {
  const head = document.createElement('thead');
  head.append(row('th', table.columns));
  const body = document.createElement('tbody');
  for (const cells of table.rows) body.append(row('td', cells));
  $('#stages').replaceChildren(head, body);
}

function row(tag: 'th' | 'td', cells: string[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const text of cells) {
    const cell = document.createElement(tag);
    cell.textContent = text;
    tr.append(cell);
  }
  return tr;
}

function showDownloads(files: OutputFile[]): void {
  const links = files.map((f) => {
    const url = URL.createObjectURL(new Blob([f.bytes as BlobPart], { type: f.type }));
    downloads.push(url);
    const a = document.createElement('a');
    Object.assign(a, { href: url, download: f.name, className: 'download' });
    a.textContent = `${f.name} (${(f.bytes.length / 1024).toFixed(1)} KiB)`;
    return a;
  });
  $('#downloads').replaceChildren(...links);
}

function onMessage(m: FromWorker): void {
  switch (m.type) {
    case 'status':
      status.textContent = m.text;
      break;
    case 'epoch': {
      let style = TRIAL_STYLE;
      if (!m.trial) {
        if (!stageColors.has(m.series)) stageColors.set(m.series, STAGE_COLORS[stageColors.size % STAGE_COLORS.length]!);
        style = { color: stageColors.get(m.series)!, faint: false, label: m.series };
      }
      charts.loss.add(m.series, m.epoch, m.loss, style);
      if (m.accuracy !== undefined) charts.accuracy.add(m.series, m.epoch, m.accuracy, style);
      break;
    }
    case 'trial':
      if (m.value !== undefined)
        charts.trials.add(m.pruned ? 'pruned' : 'completed', m.number, m.value, {
          color: m.pruned ? '#94a3b8' : '#2563eb',
          line: false,
          markers: true,
        });
      if (m.best !== undefined) charts.trials.add('best so far', m.number, m.best, { color: '#16a34a' });
      $('#trial-caption').textContent = `Search trials (${m.objective})`;
      break;
    case 'done':
      showTable(m.table);
      showDownloads(m.files);
      results.hidden = false;
      setState('done', `Done in ${m.seconds.toFixed(1)} s.`);
      break;
    case 'error':
      if (!m.stopped) console.error(`kiln worker: ${m.message}`);
      setState(m.stopped ? 'stopped' : 'error', m.stopped ? 'Stopped.' : `Failed: ${m.message}`);
      break;
  }
}

function start(): void {
  let request: ToWorker;
  try {
    request = { type: 'run', ...settings() };
  } catch (error) {
    setState('error', (error as Error).message);
    return;
  }
  reset();
  worker?.terminate();
  // A fresh worker per run: its own kiln core and memory, nothing left over from the last run.
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'kiln' });
  worker.addEventListener('message', (e: MessageEvent<FromWorker>) => onMessage(e.data));
  worker.addEventListener('error', (e) => {
    console.error(`kiln worker: ${e.message}`);
    setState('error', `Failed: ${e.message}`);
  });
  setState('running', 'Starting…');
  worker.postMessage(request);
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  start();
});
button('stop').addEventListener('click', () => worker?.postMessage({ type: 'stop' } satisfies ToWorker));
fileInput.addEventListener('change', () => void takeFile(fileInput.files?.[0]));
// The whole window takes a dropped file (a file dropped beside the zone would otherwise make the
// browser navigate to it); the zone only shows where to aim.
window.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
window.addEventListener('dragleave', (e) => {
  if (e.relatedTarget === null) drop.classList.remove('over');
});
window.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  void takeFile(e.dataTransfer?.files[0]);
});

const query = new URLSearchParams(location.search);
applyQuery(query);
// The digit pad trains on the MNIST digits with the form's images per digit, epochs and seed.
setUpPad(() => ({ perDigit: integer('per-digit', 5, 1000), epochs: integer('epochs', 1, 200), seed: integer('seed', 0, 2 ** 31 - 1) }));
setState('idle', 'Ready.');
if (query.get('run') === '1') start();
