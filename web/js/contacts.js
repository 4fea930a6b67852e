// Contacts: the list with full-text search (GET /api/search), and a contact's page with its
// timeline.
import { get, query } from './api.js';
import { fill, h } from './dom.js';
import { renderTimeline } from './drawer.js';

export async function showContacts(root, directory, q = '') {
  const results = h('div', { id: 'contact-results', 'aria-live': 'polite' });
  const input = h('input', { id: 'contact-search', type: 'search', value: q, placeholder: 'Name, e-mail, phone, company…', 'aria-label': 'Search contacts' });
  let timer;
  let seq = 0;
  const run = async () => {
    const mine = ++seq;
    const text = input.value.trim();
    try {
      const rows = text
        ? (await get(`/api/search${query({ q: text, kinds: 'contact', limit: 50 })}`)).items.map((r) => ({ id: r.id, name: r.title, detail: r.subtitle }))
        : (await get(`/api/contacts${query({ limit: 100, sort: 'name' })}`)).items.map((c) => ({
            id: c.id,
            name: `${c.first_name} ${c.last_name}`.trim(),
            detail: [c.title, c.emails?.[0]?.address ?? c.emails?.[0]].filter((x) => typeof x === 'string' && x).join(' · '),
          }));
      if (mine !== seq) return;
      fill(results, rows.length
        ? h('ul', { class: 'list', id: 'contact-list' }, rows.map((r) => h('li', {},
            h('a', { href: `#/contacts/${r.id}`, text: r.name }), r.detail ? h('span', { class: 'muted', text: ` ${r.detail}` }) : null)))
        : h('p', { class: 'muted', text: 'No contact matches.' }));
    } catch (e) {
      if (mine === seq) fill(results, h('p', { role: 'alert', text: e.message }));
    }
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  });
  fill(root, h('h1', { text: 'Contacts' }), h('div', { class: 'toolbar' }, input), results);
  input.focus();
  await run();
}

export async function showContact(root, directory, id) {
  fill(root, h('p', { class: 'muted', text: 'Loading…' }));
  const [c, timeline] = await Promise.all([get(`/api/contacts/${id}`), get(`/api/contacts/${id}/timeline?limit=100`)]);
  const company = c.company_id ? await get(`/api/companies/${c.company_id}`).catch(() => null) : null;
  const emails = (c.emails || []).map((e) => (typeof e === 'string' ? e : e.address)).join(', ');
  const phones = (c.phones || []).map((p) => (typeof p === 'string' ? p : p.number)).join(', ');
  fill(
    root,
    h('p', {}, h('a', { href: '#/contacts', text: '← Contacts' })),
    h('h1', { id: 'contact-name', text: `${c.first_name} ${c.last_name}`.trim() }),
    h('dl', { class: 'details' },
      h('dt', {}, 'Title'), h('dd', {}, c.title || '—'),
      h('dt', {}, 'Company'), h('dd', {}, company?.name ?? '—'),
      h('dt', {}, 'E-mail'), h('dd', {}, emails || '—'),
      h('dt', {}, 'Phone'), h('dd', {}, phones || '—'),
      h('dt', {}, 'Owner'), h('dd', {}, directory.users.get(c.owner_id)?.display_name ?? '—')),
    h('h2', { text: 'Timeline' }),
    renderTimeline(timeline.items, (s) => s, (u) => directory.users.get(u)?.display_name ?? u),
  );
}
