/**
 * Draws one attention map as a heat map: a row per query token, a column per key token, white for 0
 * and dark blue for 1, the tokens written along the left and top edges.
 */
export function drawAttention(
  canvas: HTMLCanvasElement,
  map: Float32Array,
  queryLabels: readonly string[],
  keyLabels: readonly string[],
): void {
  const context = canvas.getContext('2d');
  if (context === null) return;
  const margin = 110;
  const cell = Math.max(4, Math.min(28, Math.floor(560 / Math.max(queryLabels.length, keyLabels.length))));
  canvas.width = margin + cell * keyLabels.length + 4;
  canvas.height = margin + cell * queryLabels.length + 4;
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  for (let query = 0; query < queryLabels.length; query++) {
    for (let key = 0; key < keyLabels.length; key++) {
      const value = map[query * keyLabels.length + key] ?? 0;
      const shade = Math.round(255 * (1 - value));
      context.fillStyle = `rgb(${shade}, ${Math.round(shade * 0.9 + 20)}, 255)`;
      context.fillRect(margin + key * cell, margin + query * cell, cell, cell);
    }
  }
  context.fillStyle = '#223';
  context.font = `${Math.min(12, cell)}px ui-monospace, monospace`;
  context.textBaseline = 'middle';
  context.textAlign = 'right';
  queryLabels.forEach((label, query) => {
    context.fillText(clip(label), margin - 4, margin + query * cell + cell / 2);
  });
  keyLabels.forEach((label, key) => {
    context.save();
    context.translate(margin + key * cell + cell / 2, margin - 4);
    context.rotate(-Math.PI / 2);
    context.textAlign = 'left';
    context.fillText(clip(label), 0, 0);
    context.restore();
  });
}

function clip(label: string): string {
  return label.length > 14 ? `${label.slice(0, 13)}…` : label;
}
