/** A horizontal bar chart as SVG, no dependencies. */
export function barChart(
  title: string,
  unit: string,
  bars: Array<{ label: string; value: number }>,
): string {
  const width = 760;
  const barHeight = 26;
  const left = 260;
  const top = 40;
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  const height = top + bars.length * (barHeight + 8) + 20;
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const rows = bars
    .map((b, i) => {
      const y = top + i * (barHeight + 8);
      const w = Math.max(1, ((width - left - 120) * b.value) / max);
      return `<text x="${left - 8}" y="${y + 18}" text-anchor="end" font-size="13">${esc(b.label)}</text>
<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="#3b82f6"/>
<text x="${left + w + 6}" y="${y + 18}" font-size="13">${b.value.toLocaleString('en-US', { maximumFractionDigits: 2 })} ${esc(unit)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="24" font-size="16" font-weight="bold">${esc(title)}</text>
${rows}
</svg>
`;
}
