// A small SVG line plot (log2 x axis, linear y axis) for `margay sweep`:
// enough to see flat grow linearly and trees grow in steps.

export interface Series {
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

const COLOURS = ['#d62728', '#ff7f0e', '#2ca02c', '#1f77b4', '#9467bd', '#8c564b'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function svgPlot(title: string, xLabel: string, yLabel: string, series: readonly Series[]): string {
  const W = 760;
  const H = 460;
  const L = 70;
  const R = 170;
  const T = 40;
  const B = 50;
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(2, ...all.map((p) => p.x));
  const yMax = Math.max(1e-9, ...all.map((p) => p.y)) * 1.05;
  const lx = (x: number) => L + (Math.log2(Math.max(1, x)) / Math.log2(xMax)) * (W - L - R);
  const ly = (y: number) => H - B - (y / yMax) * (H - T - B);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  out.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`);
  for (let x = 1; x <= xMax; x *= 2) out.push(`<line x1="${lx(x)}" y1="${H - B}" x2="${lx(x)}" y2="${H - B + 5}" stroke="black"/><text x="${lx(x)}" y="${H - B + 18}" text-anchor="middle">${x}</text>`);
  for (let i = 0; i <= 5; i++) {
    const y = (yMax / 5) * i;
    out.push(`<line x1="${L - 5}" y1="${ly(y)}" x2="${W - R}" y2="${ly(y)}" stroke="#ddd"/><text x="${L - 8}" y="${ly(y) + 4}" text-anchor="end">${y.toPrecision(3)}</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x).map((p) => `${lx(p.x).toFixed(1)},${ly(p.y).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.join(' ')}"/>`);
    out.push(`<rect x="${W - R + 15}" y="${T + 20 * i}" width="14" height="4" fill="${c}"/><text x="${W - R + 35}" y="${T + 20 * i + 6}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
