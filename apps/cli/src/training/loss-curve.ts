import type { TrainingLogEntry } from '@tsformer/training';

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { left: 64, right: 16, top: 28, bottom: 40 };

/**
 * A self-contained SVG of the run's losses by optimizer step: the training loss as a line, the
 * evaluation loss as dots, with the step and loss ranges on the axes. Any browser opens it.
 */
export function lossCurveSvg(log: readonly TrainingLogEntry[], title: string): string {
  const train = log
    .filter((entry) => entry.kind === 'train')
    .map((entry) => [entry.step, entry.loss] as const);
  const evaluations = log
    .filter((entry) => entry.kind === 'eval')
    .map((entry) => [entry.step, entry.loss] as const);
  const points = [...train, ...evaluations];
  const steps = points.map(([step]) => step);
  const losses = points.map(([, loss]) => loss);
  const [minStep, maxStep] = [Math.min(0, ...steps), Math.max(1, ...steps)];
  const [low, high] = losses.length ? [Math.min(...losses), Math.max(...losses)] : [0, 1];
  const span = high - low || 1;
  const x = (step: number) =>
    MARGIN.left + ((step - minStep) / (maxStep - minStep)) * (WIDTH - MARGIN.left - MARGIN.right);
  const y = (loss: number) => MARGIN.top + ((high - loss) / span) * (HEIGHT - MARGIN.top - MARGIN.bottom);
  const at = ([step, loss]: readonly [number, number]) => `${x(step).toFixed(1)},${y(loss).toFixed(1)}`;
  const bottom = HEIGHT - MARGIN.bottom;
  const right = WIDTH - MARGIN.right;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle">${escapeXml(title)}</text>`,
    `<path d="M${MARGIN.left},${MARGIN.top} V${bottom} H${right}" fill="none" stroke="#444"/>`,
    `<text x="${MARGIN.left - 6}" y="${MARGIN.top + 4}" text-anchor="end">${high.toFixed(3)}</text>`,
    `<text x="${MARGIN.left - 6}" y="${bottom}" text-anchor="end">${low.toFixed(3)}</text>`,
    `<text x="${MARGIN.left}" y="${bottom + 16}" text-anchor="middle">${minStep}</text>`,
    `<text x="${right}" y="${bottom + 16}" text-anchor="end">${maxStep}</text>`,
    `<text x="${(MARGIN.left + right) / 2}" y="${HEIGHT - 8}" text-anchor="middle">optimizer step</text>`,
    `<text x="14" y="${(MARGIN.top + bottom) / 2}" transform="rotate(-90 14 ${(MARGIN.top + bottom) / 2})" text-anchor="middle">loss</text>`,
    train.length
      ? `<polyline points="${train.map(at).join(' ')}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`
      : '',
    ...evaluations.map((point) => {
      const [cx, cy] = at(point).split(',');
      return `<circle cx="${cx}" cy="${cy}" r="3.5" fill="#d62728"><title>eval loss ${point[1].toFixed(4)} at step ${point[0]}</title></circle>`;
    }),
    `<text x="${right}" y="${MARGIN.top + 4}" text-anchor="end" fill="#1f77b4">train loss</text>`,
    evaluations.length
      ? `<text x="${right}" y="${MARGIN.top + 20}" text-anchor="end" fill="#d62728">eval loss</text>`
      : '',
    '</svg>',
    '',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
