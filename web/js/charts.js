// Bar charts drawn as SVG by the page itself: no library, no canvas, readable by screen readers
// (each chart is an image with a label, each bar carries its figure as a title).
import { h, svg } from './dom.js';

const WIDTH = 560;
const BAR = 22;
const GAP = 8;
const LABEL = 130;

// Horizontal bars: rows [{label, value, text}]; `max` defaults to the largest value.
export function barChart({ id, title, rows, max, centered = false }) {
  const top = Math.max(1, max ?? Math.max(0, ...rows.map((r) => r.value)));
  const height = rows.length * (BAR + GAP) + GAP;
  const span = WIDTH - LABEL - 180; // room for the figure after the longest bar
  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${Math.max(height, 40)}`, role: 'img', 'aria-label': `${title}: ${rows.map((r) => `${r.label} ${r.text}`).join(', ') || 'no data'}`, class: 'chart' });
  rows.forEach((r, i) => {
    const y = GAP + i * (BAR + GAP);
    const w = Math.max(r.value > 0 ? 2 : 0, (r.value / top) * span);
    const x = centered ? LABEL + (span - w) / 2 : LABEL;
    chart.append(
      svg('text', { x: LABEL - 8, y: y + BAR * 0.7, 'text-anchor': 'end', class: 'label', text: r.label }),
      svg('rect', { x, y, width: w, height: BAR, rx: 3, class: 'bar' }, svg('title', { text: `${r.label}: ${r.text}` })),
      svg('text', { x: (centered ? LABEL + span : x + w) + 6, y: y + BAR * 0.7, class: 'figure', text: r.text }),
    );
  });
  if (!rows.length) chart.append(svg('text', { x: 10, y: 24, class: 'label', text: 'No data yet' }));
  return figure(id, title, chart);
}

// Vertical bars per period with a second, lighter series in front (e.g. value and weighted).
export function columnChart({ id, title, rows }) {
  const height = 220;
  const base = height - 40;
  const top = Math.max(1, ...rows.map((r) => r.value));
  const step = rows.length ? Math.min(80, (WIDTH - 40) / rows.length) : 80;
  const chart = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': `${title}: ${rows.map((r) => `${r.label} ${r.text}`).join(', ') || 'no data'}`, class: 'chart' });
  chart.append(svg('line', { x1: 20, y1: base, x2: WIDTH - 10, y2: base, class: 'axis' }));
  rows.forEach((r, i) => {
    const x = 30 + i * step;
    const bh = (r.value / top) * (base - 20);
    const wh = ((r.second ?? 0) / top) * (base - 20);
    chart.append(
      svg('rect', { x, y: base - bh, width: step * 0.6, height: bh, rx: 2, class: 'bar' }, svg('title', { text: `${r.label}: ${r.text}` })),
      svg('rect', { x, y: base - wh, width: step * 0.6, height: wh, rx: 2, class: 'bar second' }, svg('title', { text: `${r.label}: ${r.secondText ?? ''}` })),
      svg('text', { x: x + step * 0.3, y: base + 16, 'text-anchor': 'middle', class: 'label', text: r.label }),
      svg('text', { x: x + step * 0.3, y: base - bh - 4, 'text-anchor': 'middle', class: 'figure small', text: r.short ?? '' }),
    );
  });
  if (!rows.length) chart.append(svg('text', { x: 30, y: 40, class: 'label', text: 'No data yet' }));
  return figure(id, title, chart);
}

function figure(id, title, chart) {
  return h('figure', { class: 'card-panel', id }, h('figcaption', { text: title }), chart);
}
