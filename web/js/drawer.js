// The deal drawer: details, edits (value, owner, close date), win / lose with a reason, and the
// deal's whole timeline (docs/crm-api.md, timelines).
import { ApiError, all, can, get, patch, post, query, written } from './api.js';
import { announce, fill, h, money, when } from './dom.js';

let current = null; // {id, node, returnFocus, onKey}

export function closeDrawer() {
  if (!current) return;
  const { id, node, returnFocus, onKey } = current;
  current = null;
  document.removeEventListener('keydown', onKey);
  node.remove();
  document.getElementById('scrim')?.remove();
  // A live reload may have drawn the card anew meanwhile: focus goes to the deal's card as it is now.
  const card = returnFocus && document.contains(returnFocus) ? returnFocus : document.querySelector(`.card[data-deal-id="${id}"]`);
  card?.focus();
}

export async function openDrawer(id, context) {
  closeDrawer();
  const body = h('div', { class: 'drawer-body' }, h('p', { class: 'muted', text: 'Loading…' }));
  const title = h('h2', { id: 'drawer-title', text: 'Deal' });
  const close = h('button', { type: 'button', class: 'icon', 'aria-label': 'Close', onclick: closeDrawer }, '×');
  const node = h(
    'aside',
    { class: 'drawer', id: 'drawer', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'drawer-title', dataset: { dealId: id } },
    h('header', {}, title, close),
    body,
  );
  const onKey = (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      closeDrawer();
    } else if (e.key === 'Tab') {
      // Keeps focus inside the dialog.
      const focusable = [...node.querySelectorAll('button, input, select, textarea, [tabindex="0"]')].filter((n) => !n.disabled);
      if (!focusable.length) return;
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    }
  };
  document.addEventListener('keydown', onKey);
  document.body.append(h('div', { id: 'scrim', class: 'scrim', onclick: closeDrawer }), node);
  current = { id, node, returnFocus: context.returnFocus, onKey, redraw: () => renderDeal(id, context, title, body, { keepTyped: true }) };
  close.focus();
  await renderDeal(id, context, title, body);
}

// A colleague changed the deal: the open drawer shows it, unless the user is typing in it.
export function dealChanged(id, position) {
  if (current?.id !== id) return;
  // The echo of the user's own write: the action that made it redraws the drawer already.
  if (position <= (written() ?? 0)) return;
  current.seen = Math.max(current.seen ?? 0, position);
  if (current.node.contains(document.activeElement) && document.activeElement.matches('input, select')) return;
  current.redraw();
}

// Text a user typed and not yet sent (a field whose value is not the one it was drawn with).
function typedFields(body) {
  return new Map([...body.querySelectorAll('input[id]')].filter((el) => el.value !== el.defaultValue).map((el) => [el.id, el.value]));
}

async function renderDeal(id, context, title, body, { keepTyped = false } = {}) {
  let deal;
  let timeline;
  try {
    const fresh = { min_position: Math.max(written() ?? 0, current?.seen ?? 0) || undefined };
    [deal, timeline] = await Promise.all([get(`/api/deals/${id}${query(fresh)}`), all(`/api/deals/${id}/timeline`, fresh)]);
  } catch (e) {
    fill(body, h('p', { role: 'alert', text: e.message }));
    return;
  }
  if (current?.id !== id) return;
  const stageName = (sid) => context.stages.find((s) => s.id === sid)?.name ?? sid;
  const userName = (uid) => context.directory.users.get(uid)?.display_name ?? uid;
  const company = deal.company_id ? await get(`/api/companies/${deal.company_id}`).catch(() => null) : null;
  title.textContent = deal.title;
  const editable = can('deal:edit') && deal.status === 'open';
  const refresh = () => renderDeal(id, context, title, body).then(() => context.onChanged?.());
  const act = (fn) => async (e) => {
    e.preventDefault();
    try {
      await fn();
      await refresh();
    } catch (err) {
      const message = err instanceof ApiError && err.status === 409
        ? 'Someone changed this deal meanwhile: here is its current state. Try again.'
        : err.message;
      await renderDeal(id, context, title, body);
      announce(message, 'error');
    }
  };

  const details = h('dl', { class: 'details' },
    h('dt', {}, 'Value'), h('dd', { 'data-field': 'value' }, money(deal.value.amount_minor, deal.value.currency)),
    h('dt', {}, 'Stage'), h('dd', { 'data-field': 'stage' }, stageName(deal.stage_id)),
    h('dt', {}, 'Status'), h('dd', { 'data-field': 'status' }, deal.status + (deal.lost_reason ? ` — ${deal.lost_reason}` : '')),
    h('dt', {}, 'Owner'), h('dd', { 'data-field': 'owner' }, userName(deal.owner_id)),
    h('dt', {}, 'Company'), h('dd', {}, company?.name ?? '—'),
    h('dt', {}, 'Expected close'), h('dd', { 'data-field': 'close-date' }, deal.expected_close_date ?? '—'),
    h('dt', {}, 'Version'), h('dd', {}, String(deal.version)),
  );

  const forms = [];
  if (editable) {
    const amount = h('input', { id: 'edit-value', type: 'number', min: '0', step: '0.01', required: true, value: (deal.value.amount_minor / 100).toFixed(2) });
    forms.push(h('form', { class: 'edit', onsubmit: act(() => post(`/api/deals/${id}/value`, {
      value: { amount_minor: Math.round(Number(amount.value) * 100), currency: deal.value.currency },
      expected_version: deal.version,
    })) }, h('label', { for: 'edit-value' }, `Value (${deal.value.currency})`), amount, h('button', { type: 'submit' }, 'Save value')));

    const owner = h('select', { id: 'edit-owner' },
      [...context.directory.users.values()].filter((u) => u.role !== 'analyst' && u.role !== 'auditor' && u.active)
        .map((u) => h('option', { value: u.id, selected: u.id === deal.owner_id }, u.display_name)));
    forms.push(h('form', { class: 'edit', onsubmit: act(() => post(`/api/deals/${id}/owner`, { owner_id: owner.value, expected_version: deal.version })) },
      h('label', { for: 'edit-owner' }, 'Owner'), owner, h('button', { type: 'submit' }, 'Assign')));

    const close = h('input', { id: 'edit-close', type: 'date', value: deal.expected_close_date ?? '' });
    forms.push(h('form', { class: 'edit', onsubmit: act(() => patch(`/api/deals/${id}`, { expected_close_date: close.value || null, expected_version: deal.version })) },
      h('label', { for: 'edit-close' }, 'Expected close'), close, h('button', { type: 'submit' }, 'Save date')));

    const reason = h('input', { id: 'lose-reason', type: 'text', placeholder: 'Why was it lost?', maxlength: '500' });
    forms.push(h('div', { class: 'outcome' },
      h('button', { type: 'button', class: 'win', id: 'win-deal', onclick: act(() => post(`/api/deals/${id}/win`, { expected_version: deal.version })) }, 'Mark won'),
      h('form', { class: 'edit', onsubmit: act(async () => {
        if (!reason.value.trim()) throw new Error('Say why the deal was lost.');
        await post(`/api/deals/${id}/lose`, { reason: reason.value.trim(), expected_version: deal.version });
      }) }, h('label', { for: 'lose-reason' }, 'Lost because'), reason, h('button', { type: 'submit', class: 'lose' }, 'Mark lost'))));
  }

  // A colleague's change redraws the drawer while the user may be typing: what they typed stays.
  const typed = keepTyped ? typedFields(body) : new Map();
  const focused = body.contains(document.activeElement) ? document.activeElement.id : null;
  fill(body, details, forms, h('h3', { text: 'Timeline' }), renderTimeline(timeline, stageName, userName));
  for (const [fieldId, value] of typed) {
    const field = body.querySelector(`#${CSS.escape(fieldId)}`);
    if (field) field.value = value;
  }
  if (focused) body.querySelector(`#${CSS.escape(focused)}`)?.focus();
}

export function renderTimeline(items, stageName = (s) => s, userName = (u) => u) {
  if (!items.length) return h('p', { class: 'muted', text: 'Nothing yet.' });
  return h('ol', { class: 'timeline', id: 'timeline' }, items.map((item) => {
    const who = item.actor_name || (item.actor_id ? userName(item.actor_id) : 'system');
    return h('li', { dataset: { type: item.type, entry: item.entry } },
      h('p', { class: 'what' }, describe(item, stageName, userName)),
      h('p', { class: 'muted' }, h('span', { class: 'who', text: who }), ' · ', h('time', { datetime: item.at, text: when(item.at) })));
  }));
}

function describe(item, stageName, userName) {
  const d = item.data || {};
  if (item.entry === 'activity') return `${item.type === 'sms' ? 'SMS' : capital(item.type)}: ${item.summary}${item.duration_minutes ? ` (${item.duration_minutes} min)` : ''}`;
  if (item.entry === 'task') return `Task: ${item.summary} (${item.status}${item.due_at ? `, due ${when(item.due_at)}` : ''})`;
  switch (item.type.replace(/\.v\d+$/, '')) {
    case 'deal.stage_moved':
      return `Stage: ${stageName(d.from_stage_id)} → ${stageName(d.to_stage_id)}`;
    case 'deal.created':
      return `Created in ${stageName(d.stage_id)}`;
    case 'deal.value_changed':
      return `Value: ${fmt(d.from)} → ${fmt(d.to)}`;
    case 'deal.owner_assigned':
      return `Owner: ${d.from_owner_id ? userName(d.from_owner_id) + ' → ' : ''}${userName(d.to_owner_id)}`;
    case 'deal.close_date_changed':
      return `Expected close: ${d.from ?? 'none'} → ${d.to ?? 'none'}`;
    case 'deal.won':
      return 'Won';
    case 'deal.lost':
      return `Lost: ${d.reason ?? ''}`;
    default: {
      // "contact.email_added.v1" → "Contact: email added"
      const [kind, what = ''] = item.type.replace(/\.v\d+$/, '').split('.');
      return `${capital(kind)}: ${what.replace(/_/g, ' ')}`;
    }
  }
}

function capital(word) {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function fmt(m) {
  return m && m.amount_minor !== undefined ? money(m.amount_minor, m.currency) : '?';
}
