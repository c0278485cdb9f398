// A small SVG line plot for `margay sweep`: enough to see flat grow linearly
// and trees grow in steps. Ticks are "nice" (1, 2 or 5 times a power of ten,
// powers of two on a log-2 x axis) and printed as plain numbers; every
// measured point has a marker, and a jump of more than a factor of two in x
// is drawn dashed, so 64 to 1024 does not look measured in between.

export interface Series {
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
}

export interface PlotOptions {
  /** Log-2 x axis (default: when the x values span a factor of 10 or more). */
  readonly logX?: boolean;
  /** Log-10 y axis (default false). */
  readonly logY?: boolean;
}

const COLOURS = ['#d62728', '#ff7f0e', '#2ca02c', '#1f77b4', '#9467bd', '#8c564b'];
const CHAR_PX = 7; // width of a 12px sans-serif digit, near enough to lay out labels

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A tick label: a plain number with no more decimals than the step needs. */
function tickLabel(v: number, step: number): string {
  const decimals = step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  const s = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/** Linear ticks from 0 (or below, for negative data) to at least `max`, about `count` of them, at 1-2-5 steps. */
export function niceTicks(min: number, max: number, count = 5): { ticks: number[]; step: number } {
  const lo = Math.min(0, min);
  const hi = max > lo ? max : lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9))!;
  const ticks: number[] = [];
  for (let v = Math.floor(lo / step) * step; v < hi + step - step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return { ticks, step };
}

/** Log-10 ticks: 1-2-5 within each decade when the data span at most two decades, else decades. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const per = hi - lo <= 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) for (const m of per) out.push(+(m * 10 ** e).toPrecision(12));
  const first = out.filter((v) => v <= min).pop() ?? out[0];
  const last = out.find((v) => v >= max) ?? out[out.length - 1];
  return out.filter((v) => v >= first && v <= last);
}

export function svgPlot(title: string, xLabel: string, yLabel: string, series: readonly Series[], o: PlotOptions = {}): string {
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  const xMin = Math.max(1, Math.min(1, ...xs));
  const xMax = Math.max(2, ...xs);
  const logX = o.logX ?? xMax / Math.max(1, Math.min(...xs, xMax)) >= 10;
  const logY = o.logY ?? false;
  const positive = ys.filter((y) => y > 0);

  // y ticks and the mapping into the plot.
  let yTicks: number[];
  let yStep = 1;
  if (logY) {
    yTicks = positive.length === 0 ? [1, 10] : logTicks(Math.min(...positive), Math.max(...positive) * 1.0001);
  } else {
    const t = niceTicks(Math.min(0, ...ys), Math.max(1e-9, ...ys));
    yTicks = t.ticks;
    yStep = t.step;
  }
  const yLabels = yTicks.map((v) => (logY ? tickLabel(v, Math.min(1, v)) : tickLabel(v, yStep)));
  const labelPx = Math.max(...yLabels.map((l) => l.length)) * CHAR_PX;

  const W = 800;
  const H = 480;
  const L = 36 + labelPx + 14; // room for the rotated title, the labels and the tick marks
  const R = 170;
  const T = 40;
  const B = 56;
  const y0 = yTicks[0];
  const y1 = yTicks[yTicks.length - 1];
  const ly = logY
    ? (y: number) => H - B - ((Math.log10(Math.max(y, y0)) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * (H - T - B)
    : (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const xTicks: number[] = [];
  let lx: (x: number) => number;
  if (logX) {
    for (let x = 1; x < xMax * 2; x *= 2) if (x >= xMin / 2) xTicks.push(x);
    const top = xTicks[xTicks.length - 1];
    lx = (x) => L + (Math.log2(Math.max(1, x)) / Math.log2(top)) * (W - L - R);
  } else {
    const t = niceTicks(0, xMax);
    xTicks.push(...t.ticks);
    const top = t.ticks[t.ticks.length - 1];
    lx = (x) => L + (x / top) * (W - L - R);
  }
  // On a log-2 axis with many ticks, label every other one so labels do not collide.
  const xEvery = logX && xTicks.length > 12 ? 2 : 1;

  const f = (n: number) => n.toFixed(1);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  yTicks.forEach((v, i) => {
    out.push(`<line x1="${L - 5}" y1="${f(ly(v))}" x2="${W - R}" y2="${f(ly(v))}" stroke="${i === 0 ? 'black' : '#ddd'}"/><text x="${L - 8}" y="${f(ly(v) + 4)}" text-anchor="end">${yLabels[i]}</text>`);
  });
  xTicks.forEach((x, i) => {
    out.push(`<line x1="${f(lx(x))}" y1="${H - B}" x2="${f(lx(x))}" y2="${H - B + 5}" stroke="black"/>`);
    if (i % xEvery === 0) out.push(`<text x="${f(lx(x))}" y="${H - B + 19}" text-anchor="middle">${x}</text>`);
  });
  out.push(`<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`);
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 14}" text-anchor="middle">${esc(xLabel)}${logX ? ' (log scale)' : ''}</text>`);
  out.push(`<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}${logY ? ', log scale' : ''}</text>`);
  series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    const pts = [...s.points].filter((p) => !logY || p.y > 0).sort((a, b) => a.x - b.x);
    for (let k = 1; k < pts.length; k++) {
      const a = pts[k - 1];
      const b = pts[k];
      const gap = b.x > 2 * a.x;
      out.push(`<line x1="${f(lx(a.x))}" y1="${f(ly(a.y))}" x2="${f(lx(b.x))}" y2="${f(ly(b.y))}" stroke="${c}" stroke-width="2"${gap ? ' stroke-dasharray="5 4"' : ''}/>`);
    }
    for (const p of pts) out.push(`<circle cx="${f(lx(p.x))}" cy="${f(ly(p.y))}" r="2.5" fill="${c}"/>`);
    out.push(`<line x1="${W - R + 15}" y1="${T + 20 * i + 4}" x2="${W - R + 35}" y2="${T + 20 * i + 4}" stroke="${c}" stroke-width="2"/><circle cx="${W - R + 25}" cy="${T + 20 * i + 4}" r="2.5" fill="${c}"/><text x="${W - R + 42}" y="${T + 20 * i + 8}">${esc(s.name)}</text>`);
  });
  out.push(`<text x="${W - R + 15}" y="${T + 20 * series.length + 16}" fill="#555">dashed: not measured</text>`);
  out.push(`<text x="${W - R + 15}" y="${T + 20 * series.length + 30}" fill="#555">between the points</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
