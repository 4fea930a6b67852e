// The analytics page: forecast per month, value per stage, the lead funnel, time in stage and win
// rate per owner, from /api/analytics (docs/analysts.md), drawn by charts.js.
import { all, get, query } from './api.js';
import { fill, h, money } from './dom.js';
import { barChart, columnChart } from './charts.js';

export async function showAnalytics(root, directory, pipelineId) {
  fill(root, h('h1', { text: 'Analytics' }), h('p', { class: 'muted', text: 'Loading…' }));
  const pipelines = await all('/api/pipelines');
  const pipeline = pipelines.find((x) => x.id === pipelineId)?.id ?? pipelines[0]?.id;
  const name = pipelines.find((x) => x.id === pipeline)?.name ?? '';
  const p = query({ pipeline });
  const [forecast, stages, funnel, durations, wins] = await Promise.all([
    get(`/api/analytics/forecast${p}`),
    get(`/api/analytics/pipeline${p}`),
    get('/api/analytics/funnel'),
    get(`/api/analytics/stage-durations${p}`),
    get(`/api/analytics/win-rates${query({ by: 'owner', pipeline })}`),
  ]);
  const currency = stages.items[0]?.currency || forecast.items[0]?.currency || 'EUR';
  const short = (minor) => compact(minor / 100, currency);

  const months = new Map();
  for (const r of forecast.items.filter((x) => x.currency === currency)) {
    const m = months.get(r.month) || { value: 0, weighted: 0 };
    m.value += r.value_minor;
    m.weighted += r.weighted_minor;
    months.set(r.month, m);
  }
  const forecastRows = [...months].sort(([a], [b]) => a.localeCompare(b)).map(([month, m]) => ({
    label: month.slice(0, 7),
    value: m.value,
    text: money(m.value, currency),
    short: short(m.value),
    second: m.weighted,
    secondText: `weighted ${money(m.weighted, currency)}`,
  }));

  const stageRows = stages.items
    .filter((r) => r.currency === currency)
    .sort((a, b) => a.stage_position - b.stage_position)
    .map((r) => ({ label: r.stage_name, value: r.value_minor, text: `${money(r.value_minor, currency)} (${r.deals})` }));

  const funnelRows = funnel.items.map((r) => ({
    label: r.step,
    value: r.count,
    text: `${r.count}${r.rate === null ? '' : ` · ${Math.round(r.rate * 100)}%`}`,
  }));

  const durationRows = durations.items
    .sort((a, b) => a.stage_position - b.stage_position)
    .map((r) => ({ label: r.stage_name, value: r.avg_seconds, text: days(r.avg_seconds) }));

  const owners = new Map();
  for (const r of wins.items) {
    const o = owners.get(r.owner_id) || { won: 0, lost: 0 };
    o.won += r.won;
    o.lost += r.lost;
    owners.set(r.owner_id, o);
  }
  const winRows = [...owners].map(([id, o]) => {
    const rate = o.won + o.lost ? o.won / (o.won + o.lost) : 0;
    return { label: directory.users.get(id)?.display_name ?? 'no owner', value: rate, text: `${Math.round(rate * 100)}% (${o.won} won, ${o.lost} lost)` };
  });

  fill(
    root,
    h('h1', { text: 'Analytics' }),
    h('div', { class: 'toolbar' },
      h('select', { id: 'analytics-pipeline', 'aria-label': 'Pipeline', onchange: (e) => { location.hash = `#/analytics/${e.target.value}`; } },
        pipelines.map((x) => h('option', { value: x.id, selected: x.id === pipeline }, x.name))),
      h('span', { class: 'muted', text: `${name} · figures in ${currency} · as of position ${stages.position}` })),
    h('div', { class: 'charts' },
      columnChart({ id: 'chart-forecast', title: 'Forecast per month (value, weighted in front)', rows: forecastRows }),
      barChart({ id: 'chart-stages', title: 'Open value per stage', rows: stageRows }),
      barChart({ id: 'chart-funnel', title: 'Funnel: leads to won deals', rows: funnelRows, centered: true }),
      barChart({ id: 'chart-durations', title: 'Average time in stage', rows: durationRows }),
      barChart({ id: 'chart-win-rates', title: 'Win rate per owner', rows: winRows, max: 1 })),
  );
}

function days(seconds) {
  if (seconds >= 86400) return `${(seconds / 86400).toFixed(1)} days`;
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)} hours`;
  if (seconds >= 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds)} s`;
}

function compact(value, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 }).format(value);
  } catch {
    return String(Math.round(value));
  }
}
