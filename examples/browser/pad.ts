// The digit pad: trains the digit models in a worker of their own (kept while the page lives, so
// pipeline runs do not disturb it), lets the user draw with mouse, pen or finger, turns the
// drawing into an MNIST-style 28×28 image (digit.ts) and shows each stage's prediction while the
// stroke is drawn. One prediction is in flight at a time; strokes drawn meanwhile are sent with
// the next one.
import { SIDE, toMnist } from './digit.ts';
import type { DigitBudget, DigitStage, FromWorker, ToWorker } from './protocol.ts';

const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector(selector) as T;

export function setUpPad(budget: () => DigitBudget): void {
  const pad = $<HTMLCanvasElement>('#pad');
  const preview = $<HTMLCanvasElement>('#preview');
  const status = $('#digit-status');
  const train = $<HTMLButtonElement>('#train-digits');
  const body = $('#predictions tbody');
  const ink = pad.getContext('2d', { willReadFrequently: true })!;
  let worker: Worker | undefined;
  let stages: DigitStage[] = [];
  let inFlight = false;
  let dirty = false;
  let last: [number, number] | null = null;

  const setState = (state: 'none' | 'training' | 'ready' | 'error', text: string) => {
    document.body.dataset.digits = state;
    status.textContent = text;
    train.disabled = state === 'training';
  };

  function clear(): void {
    ink.save();
    ink.fillStyle = '#fff';
    ink.fillRect(0, 0, pad.width, pad.height);
    ink.restore();
    preview.getContext('2d')!.clearRect(0, 0, SIDE, SIDE);
    for (const cell of Array.from(body.querySelectorAll('.digit, .confidence'))) cell.textContent = '';
    for (const bars of Array.from(body.querySelectorAll('.bars'))) bars.replaceChildren();
  }

  /** The drawing's ink (1 for black, 0 for white) as MNIST's 28×28 image, or null when blank. */
  function image(): Float32Array | null {
    const { data } = ink.getImageData(0, 0, pad.width, pad.height);
    const out = new Float32Array(pad.width * pad.height);
    for (let i = 0; i < out.length; i++) out[i] = 1 - data[4 * i]! / 255;
    return toMnist({ width: pad.width, height: pad.height, ink: out });
  }

  function showPreview(pixels: Float32Array): void {
    const ctx = preview.getContext('2d')!;
    const img = ctx.createImageData(SIDE, SIDE);
    for (let i = 0; i < pixels.length; i++) {
      const v = 255 - Math.round(255 * pixels[i]!);
      img.data.set([v, v, v, 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
  }

  function send(): void {
    if (!worker || stages.length === 0) return;
    if (inFlight) {
      dirty = true;
      return;
    }
    const pixels = image();
    if (!pixels) return;
    showPreview(pixels);
    inFlight = true;
    dirty = false;
    worker.postMessage({ type: 'predict', pixels } satisfies ToWorker);
  }

  function showStages(list: DigitStage[]): void {
    stages = list;
    body.replaceChildren(
      ...list.map((s) => {
        const tr = document.createElement('tr');
        tr.dataset.stage = s.name;
        const cell = (text: string, className = '') => {
          const td = document.createElement('td');
          td.textContent = text;
          if (className) td.className = className;
          tr.append(td);
          return td;
        };
        cell(s.name);
        cell(s.model, 'model');
        cell(`${(100 * s.accuracy).toFixed(1)}%`);
        cell('', 'digit');
        cell('', 'confidence');
        cell('', 'bars');
        return tr;
      }),
    );
  }

  function showPrediction(probabilities: (number[] | null)[]): void {
    probabilities.forEach((p, i) => {
      const row = body.children[i];
      if (!p || !row) return;
      let best = 0;
      for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
      row.querySelector('.digit')!.textContent = String(best);
      row.querySelector('.confidence')!.textContent = `${(100 * p[best]!).toFixed(1)}%`;
      const bars = p.map((v, c) => {
        const bar = document.createElement('span');
        bar.style.height = `${Math.max(1, Math.round(v * 28))}px`;
        bar.title = `${c}: ${(100 * v).toFixed(1)}%`;
        if (c === best) bar.className = 'best';
        return bar;
      });
      row.querySelector('.bars')!.replaceChildren(...bars);
    });
  }

  function onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'digit-status':
        setState('training', m.text);
        break;
      case 'digit-model':
        showStages(m.stages);
        setState('ready', `Trained in ${m.seconds.toFixed(1)} s. Draw a digit in the box.`);
        send();
        break;
      case 'prediction':
        inFlight = false;
        showPrediction(m.probabilities);
        if (dirty) send();
        break;
      case 'digit-error':
        console.error(`kiln digit worker: ${m.message}`);
        setState('error', `Failed: ${m.message}`);
        break;
    }
  }

  train.addEventListener('click', () => {
    let request: ToWorker;
    try {
      request = { type: 'train-digits', budget: budget() };
    } catch (error) {
      setState('error', (error as Error).message);
      return;
    }
    worker?.terminate();
    stages = [];
    inFlight = false;
    body.replaceChildren();
    worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'kiln digits' });
    worker.addEventListener('message', (e: MessageEvent<FromWorker>) => onMessage(e.data));
    worker.addEventListener('error', (e) => {
      console.error(`kiln digit worker: ${e.message}`);
      setState('error', `Failed: ${e.message}`);
    });
    setState('training', 'Starting…');
    worker.postMessage(request);
  });

  // Pointer events cover mouse, pen and touch; positions are scaled from the canvas's CSS size to
  // its pixels. A stroke is a round-capped line as wide as an MNIST stroke relative to the digit.
  const at = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    pad.setPointerCapture(e.pointerId);
    last = at(e);
    ink.beginPath();
    ink.arc(last[0], last[1], ink.lineWidth / 2, 0, 2 * Math.PI);
    ink.fill();
  });
  pad.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    ink.beginPath();
    ink.moveTo(last[0], last[1]);
    ink.lineTo(p[0], p[1]);
    ink.stroke();
    last = p;
    send();
  });
  const end = () => {
    if (!last) return;
    last = null;
    send();
  };
  pad.addEventListener('pointerup', end);
  pad.addEventListener('pointercancel', end);
  $('#clear').addEventListener('click', clear);

  Object.assign(ink, { lineWidth: 22, lineCap: 'round', lineJoin: 'round', strokeStyle: '#111', fillStyle: '#111' });
  clear();
  setState('none', 'Not trained yet.');
}
