// Inline SVG charts for report.html, written by hand so the report is one offline file (no CDN,
// no chart library). Pure string builders; every label passes through `escapeXml`.

import { escapeXml } from './junit.js';

export interface LineSeries {
  name: string;
  color: string;
  /** [x, y] in data units, x ascending. */
  points: Array<[number, number]>;
  /** Break the line where consecutive x are further apart than this (missing data). */
  maxGap?: number;
  dashed?: boolean;
  width?: number;
}

export interface Band {
  x0: number;
  x1: number;
  label: string;
  color?: string;
}

export interface Axis {
  min: number;
  max: number;
  ticks: number[];
  format: (v: number) => string;
}

export interface LineChartSpec {
  series: LineSeries[];
  bands?: Band[];
  x: Axis;
  y: Axis;
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  /** Extra class on the <svg>, used by tests and CSS. */
  className?: string;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max <= min) max = min + 1;
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step, i = 0; v <= max + step * 1e-9 && i < 50; v += step, i++) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

/** A y axis from 0 to a round value above `max`. */
export function zeroBasedAxis(max: number, format: (v: number) => string, count = 4): Axis {
  const top = max > 0 && Number.isFinite(max) ? max * 1.08 : 1;
  const ticks = niceTicks(0, top, count);
  return { min: 0, max: Math.max(top, ticks[ticks.length - 1] ?? top), ticks, format };
}

function fmt(n: number): string {
  return Number(n.toFixed(1)).toString();
}

export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 460;
  const height = spec.height ?? 230;
  const m = { top: 22, right: 14, bottom: 34, left: 58 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const sx = (x: number): number => m.left + ((x - spec.x.min) / (spec.x.max - spec.x.min || 1)) * plotW;
  const sy = (y: number): number =>
    m.top + plotH - ((y - spec.y.min) / (spec.y.max - spec.y.min || 1)) * plotH;
  const clampX = (x: number): number => Math.min(m.left + plotW, Math.max(m.left, sx(x)));
  const parts: string[] = [];
  parts.push(
    `<svg class="chart ${escapeXml(spec.className ?? '')}" viewBox="0 0 ${width} ${height}" role="img" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">`,
  );
  // Fault windows first, so lines are drawn over them.
  // Labels of overlapping or adjacent windows would collide: put each on the first free row.
  const rowEnds: number[] = [];
  for (const band of spec.bands ?? []) {
    const x0 = clampX(band.x0);
    const x1 = Math.max(clampX(band.x1), x0 + 1.5);
    const labelEnd = x0 + 3 + band.label.length * 5.6;
    let row = rowEnds.findIndex((end) => end < x0);
    if (row === -1) row = rowEnds.length;
    rowEnds[row] = labelEnd;
    parts.push(
      `<rect class="fault-band" x="${fmt(x0)}" y="${m.top}" width="${fmt(x1 - x0)}" height="${plotH}" fill="${band.color ?? '#ef4444'}" fill-opacity="0.13"><title>${escapeXml(band.label)}</title></rect>`,
      `<text x="${fmt(x0 + 3)}" y="${row === 0 ? m.top - 6 : m.top + 2 + row * 11}" font-size="10" fill="#b91c1c" ${FONT}>${escapeXml(band.label)}</text>`,
    );
  }
  for (const t of spec.y.ticks) {
    const y = sy(t);
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${fmt(y)}" y2="${fmt(y)}" stroke="#e5e7eb" stroke-width="1"/>`,
      `<text x="${m.left - 6}" y="${fmt(y + 3.5)}" font-size="10" text-anchor="end" fill="#6b7280" ${FONT}>${escapeXml(spec.y.format(t))}</text>`,
    );
  }
  for (const t of spec.x.ticks) {
    const x = sx(t);
    if (x < m.left - 0.5 || x > m.left + plotW + 0.5) continue;
    parts.push(
      `<line x1="${fmt(x)}" x2="${fmt(x)}" y1="${m.top + plotH}" y2="${m.top + plotH + 4}" stroke="#9ca3af"/>`,
      `<text x="${fmt(x)}" y="${m.top + plotH + 15}" font-size="10" text-anchor="middle" fill="#6b7280" ${FONT}>${escapeXml(spec.x.format(t))}</text>`,
    );
  }
  parts.push(
    `<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#9ca3af"/>`,
  );
  if (spec.xLabel) {
    parts.push(
      `<text x="${m.left + plotW / 2}" y="${height - 4}" font-size="10" text-anchor="middle" fill="#6b7280" ${FONT}>${escapeXml(spec.xLabel)}</text>`,
    );
  }
  if (spec.yLabel) {
    parts.push(
      `<text transform="translate(12 ${m.top + plotH / 2}) rotate(-90)" font-size="10" text-anchor="middle" fill="#6b7280" ${FONT}>${escapeXml(spec.yLabel)}</text>`,
    );
  }
  let drawn = 0;
  for (const s of spec.series) {
    const d: string[] = [];
    let prevX: number | undefined;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        prevX = undefined;
        continue;
      }
      const gap = prevX !== undefined && s.maxGap !== undefined && x - prevX > s.maxGap;
      d.push(`${prevX === undefined || gap ? 'M' : 'L'}${fmt(sx(x))} ${fmt(sy(Math.min(y, spec.y.max)))}`);
      prevX = x;
    }
    if (d.length === 0) continue;
    drawn += 1;
    // A single point would be an invisible path: give it a dot.
    if (d.length === 1 && s.points[0]) {
      const [x, y] = s.points[0];
      parts.push(
        `<circle class="series-dot" cx="${fmt(sx(x))}" cy="${fmt(sy(y))}" r="2.5" fill="${s.color}"><title>${escapeXml(s.name)}</title></circle>`,
      );
    }
    parts.push(
      `<path class="series" data-series="${escapeXml(s.name)}" d="${d.join(' ')}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.6}" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="4 3"' : ''}><title>${escapeXml(s.name)}</title></path>`,
    );
  }
  if (drawn === 0) {
    parts.push(
      `<text x="${m.left + plotW / 2}" y="${m.top + plotH / 2}" font-size="12" text-anchor="middle" fill="#9ca3af" ${FONT}>no samples</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

export function legend(items: Array<{ name: string; color: string; dashed?: boolean }>): string {
  return `<div class="legend">${items
    .map(
      (i) =>
        `<span class="legend-item"><span class="swatch${i.dashed ? ' dashed' : ''}" style="--c:${escapeXml(i.color)}"></span>${escapeXml(i.name)}</span>`,
    )
    .join('')}</div>`;
}
