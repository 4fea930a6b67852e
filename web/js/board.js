// The pipeline board: columns per stage with count, total and weighted value; cards moved by drag
// and drop or by keyboard, optimistically, rolled back with the server's state when refused; live
// moves from colleagues over /ws; presence; filters and search.
import { ApiError, all, can, get, me, post, query, written } from './api.js';
import { announce, fill, h, money, moneyList } from './dom.js';
import { dealChanged, openDrawer } from './drawer.js';

export class Board {
  constructor(root, live, directory) {
    this.root = root;
    this.live = live;
    this.directory = directory; // users and teams by id
    this.pipelines = [];
    this.pipelineId = null;
    this.stages = []; // {id, name, probability, count, total, weighted, list, header}
    this.cards = new Map(); // deal id → {deal, stageId, node, pending}
    this.filters = { owner: '', team: '', search: '' };
    this.present = new Set();
    this.reloadTimer = null;
    this.grabbed = null; // keyboard move in progress: {id, target}
    this.leave = null;
  }

  async show(pipelineId) {
    // With the pipeline named in the address, its board is asked for at once, beside the list.
    this.pipelineId = pipelineId;
    const [pipelines, board] = await Promise.all([all('/api/pipelines'), pipelineId ? get(this.boardUrl()) : null]);
    this.pipelines = pipelines;
    this.pipelineId = pipelineId || this.pipelines[0]?.id;
    this.renderFrame();
    if (!this.pipelineId) {
      fill(this.columns, h('p', { text: 'No pipeline yet.' }));
      return;
    }
    if (board) this.adopt(board);
    else await this.load();
    this.follow();
  }

  hide() {
    delete document.body.dataset.boardReady;
    if (this.leave) this.leave();
    this.leave = null;
    clearTimeout(this.reloadTimer);
  }

  renderFrame() {
    const pipelineSelect = h(
      'select',
      { id: 'pipeline-select', 'aria-label': 'Pipeline', onchange: (e) => this.switchTo(e.target.value) },
      this.pipelines.map((p) => h('option', { value: p.id, selected: p.id === this.pipelineId }, p.name)),
    );
    const users = [...this.directory.users.values()].filter((u) => u.role !== 'analyst' && u.role !== 'auditor').sort((a, b) => a.display_name.localeCompare(b.display_name));
    const owner = h(
      'select',
      { id: 'owner-filter', 'aria-label': 'Owner', onchange: (e) => this.setFilter('owner', e.target.value) },
      h('option', { value: '' }, 'Every owner'),
      users.map((u) => h('option', { value: u.id, selected: u.id === this.filters.owner }, u.display_name)),
    );
    const team = h(
      'select',
      { id: 'team-filter', 'aria-label': 'Team', onchange: (e) => this.setFilter('team', e.target.value) },
      h('option', { value: '' }, 'Every team'),
      [...this.directory.teams.values()].map((t) =>
        h('option', { value: t.id, selected: t.id === this.filters.team }, t.name),
      ),
    );
    const search = h('input', {
      id: 'board-search',
      type: 'search',
      placeholder: 'Search cards',
      'aria-label': 'Search cards',
      value: this.filters.search,
      oninput: (e) => {
        this.filters.search = e.target.value;
        this.applySearch();
      },
    });
    this.presence = h('ul', { id: 'presence', class: 'presence', 'aria-label': 'Also viewing this board' });
    this.totals = h('span', { class: 'board-summary', id: 'board-summary' });
    this.columns = h('div', { class: 'columns', id: 'board', role: 'list', 'aria-label': 'Pipeline stages' });
    this.listen();
    fill(
      this.root,
      h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Board filters' }, pipelineSelect, owner, team, search, this.totals),
      h('div', { class: 'presence-row' }, h('span', { class: 'muted', text: 'Also here:' }), this.presence),
      h('p', { class: 'help muted', id: 'board-help' },
        'Drag a card to another stage, or focus it and press Space, then ← or → and Space again to drop it (Escape cancels). Enter opens the deal.'),
      this.columns,
    );
    this.renderPresence();
  }

  switchTo(id) {
    this.hide();
    this.present.clear();
    location.hash = `#/board/${id}`;
  }

  setFilter(name, value) {
    this.filters[name] = value;
    this.load().catch((e) => announce(e.message, 'error'));
  }

  boardUrl(minPosition) {
    const { owner, team } = this.filters;
    return `/api/pipelines/${this.pipelineId}/board${query({ owner, team, limit: 200, min_position: minPosition })}`;
  }

  async load(minPosition) {
    this.adopt(await get(this.boardUrl(minPosition)));
  }

  adopt(board) {
    this.position = board.position;
    this.render(board);
    this.live.advance(this.room(), board.position);
    document.body.dataset.boardReady = String(board.position);
  }

  room() {
    return `pipeline:${this.pipelineId}`;
  }

  follow() {
    if (this.leave) this.leave();
    this.leave = this.live.follow(this.room(), this.position, (m) => this.onMessage(m));
  }

  render(board) {
    this.cards.clear();
    this.stages = board.stages.map((s) => ({ ...s }));
    const columns = this.stages.map((s) => this.renderColumn(s));
    fill(this.columns, columns);
    for (const s of this.stages) {
      const fragment = document.createDocumentFragment();
      for (const d of s.deals) fragment.append(this.renderCard(d, s.id));
      s.list.append(fragment);
      if (s.next_cursor) s.more.hidden = false;
      delete s.deals;
    }
    this.applySearch();
    this.updateSummary();
  }

  renderColumn(stage) {
    const titleId = `stage-${stage.id}`;
    stage.countNode = h('span', { class: 'count', 'data-role': 'count' });
    stage.totalNode = h('span', { class: 'total', 'data-role': 'total' });
    stage.weightedNode = h('span', { class: 'weighted', 'data-role': 'weighted' });
    stage.list = h('ol', { class: 'cards', 'aria-labelledby': titleId });
    stage.more = h('button', { type: 'button', class: 'more', hidden: true, onclick: () => this.more(stage) }, 'Show more');
    const column = h(
      'section',
      { class: 'column', role: 'listitem', 'aria-labelledby': titleId, dataset: { stageId: stage.id, stageName: stage.name } },
      h('header', {},
        h('h2', { id: titleId }, stage.name, ' ', stage.countNode),
        h('p', { class: 'sums' }, stage.totalNode, h('span', { class: 'muted', text: ' · weighted ' }), stage.weightedNode,
          h('span', { class: 'muted', text: ` (${stage.probability}%)` }))),
      stage.list,
      stage.more,
    );
    column.addEventListener('dragover', (e) => {
      if (!this.dragging) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
      column.classList.add('drop-target');
    });
    column.addEventListener('dragleave', (e) => {
      if (!column.contains(e.relatedTarget)) column.classList.remove('drop-target');
    });
    column.addEventListener('drop', (e) => {
      e.preventDefault();
      column.classList.remove('drop-target');
      const id = e.dataTransfer.getData('text/plain') || this.dragging;
      this.dragging = null;
      if (id) this.move(id, stage.id);
    });
    stage.node = column;
    this.paintSums(stage);
    return column;
  }

  // The stage's next page of cards (its count and totals are the whole stage's already).
  async more(stage) {
    const cursor = stage.next_cursor;
    if (!cursor) return;
    stage.more.disabled = true;
    try {
      const page = await get(`/api/pipelines/${this.pipelineId}/board${query({ ...this.filters, search: undefined, cursor, limit: 200 })}`);
      const fresh = page.stages.find((x) => x.id === stage.id);
      const fragment = document.createDocumentFragment();
      for (const d of fresh?.deals ?? []) if (!this.cards.has(d.id)) fragment.append(this.renderCard(d, stage.id));
      stage.list.append(fragment);
      stage.next_cursor = fresh?.next_cursor ?? null;
      stage.more.hidden = !stage.next_cursor;
      this.applySearch();
    } catch (e) {
      announce(e.message, 'error');
    } finally {
      stage.more.disabled = false;
    }
  }

  renderCard(deal, stageId) {
    const node = cardTemplate().cloneNode(true);
    const [title, value, meta, days] = node.children;
    node.dataset.dealId = deal.id;
    if (!can('deal:edit')) {
      node.draggable = false;
      node.setAttribute('aria-roledescription', 'deal');
    }
    title.textContent = deal.title;
    value.textContent = money(deal.value.amount_minor, deal.value.currency);
    meta.firstChild.textContent = deal.owner_name || this.directory.users.get(deal.owner_id)?.display_name || '';
    meta.lastChild.textContent = deal.company_name ? ` · ${deal.company_name}` : '';
    days.textContent = dayText(deal.days_in_stage);
    this.cards.set(deal.id, { deal, stageId, node, pending: false, days });
    return node;
  }

  // One set of listeners for every card: a board of a thousand cards stays cheap to draw.
  listen() {
    const idOf = (e) => e.target.closest?.('.card')?.dataset.dealId;
    this.columns.addEventListener('dragstart', (e) => {
      const id = idOf(e);
      if (!id) return;
      this.dragging = id;
      e.dataTransfer.setData('text/plain', id);
      e.dataTransfer.effectAllowed = 'move';
      e.target.classList.add('dragging');
    });
    this.columns.addEventListener('dragend', (e) => {
      e.target.classList?.remove('dragging');
      this.dragging = null;
    });
    this.columns.addEventListener('click', (e) => {
      const id = idOf(e);
      if (id) this.open(id);
    });
    this.columns.addEventListener('keydown', (e) => {
      const id = idOf(e);
      if (id && e.target.classList.contains('card')) this.onCardKey(e, id);
    });
  }

  open(id) {
    const card = this.cards.get(id);
    if (!card) return;
    openDrawer(id, {
      stages: this.stages,
      directory: this.directory,
      returnFocus: card.node,
      onChanged: () => this.scheduleReload(written()),
    });
  }

  onCardKey(e, id) {
    const card = this.cards.get(id);
    if (!card) return;
    const index = (stageId) => this.stages.findIndex((s) => s.id === stageId);
    if (!this.grabbed) {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.open(id);
      } else if ((e.key === ' ' || e.key === 'Spacebar') && can('deal:edit')) {
        e.preventDefault();
        this.grabbed = { id, target: card.stageId };
        card.node.classList.add('grabbed');
        card.node.setAttribute('aria-grabbed', 'true');
        announce(`Picked up ${card.deal.title}. ← and → choose a stage, Space drops, Escape cancels.`);
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const sibling = e.key === 'ArrowDown' ? card.node.nextElementSibling : card.node.previousElementSibling;
        if (sibling) sibling.focus();
      } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
        e.preventDefault();
        const next = this.stages[index(card.stageId) + (e.key === 'ArrowRight' ? 1 : -1)];
        next?.list.querySelector('.card')?.focus();
      }
      return;
    }
    if (this.grabbed.id !== id) return;
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      const i = index(this.grabbed.target) + (e.key === 'ArrowRight' ? 1 : -1);
      if (i < 0 || i >= this.stages.length) return;
      this.markTarget(this.stages[i].id);
      announce(`Drop ${card.deal.title} in ${this.stages[i].name}?`);
    } else if (e.key === ' ' || e.key === 'Spacebar' || e.key === 'Enter') {
      e.preventDefault();
      const target = this.grabbed.target;
      this.release();
      this.move(id, target).then(() => this.cards.get(id)?.node.focus());
    } else if (e.key === 'Escape') {
      e.preventDefault();
      this.release();
      announce('Move cancelled.');
    }
  }

  markTarget(stageId) {
    this.grabbed.target = stageId;
    for (const s of this.stages) s.node.classList.toggle('drop-target', s.id === stageId && s.id !== this.cards.get(this.grabbed.id)?.stageId);
  }

  release() {
    const card = this.cards.get(this.grabbed?.id);
    if (card) {
      card.node.classList.remove('grabbed');
      card.node.removeAttribute('aria-grabbed');
    }
    for (const s of this.stages) s.node.classList.remove('drop-target');
    this.grabbed = null;
  }

  // The optimistic move: the card goes at once; the server's answer confirms it or puts it back.
  async move(id, toStageId) {
    const card = this.cards.get(id);
    if (!card || card.stageId === toStageId || card.pending) return;
    const from = card.stageId;
    const expected = card.deal.version;
    card.pending = true;
    card.node.classList.add('pending');
    this.place(id, toStageId);
    try {
      const done = await post(`/api/deals/${id}/stage`, { stage_id: toStageId, expected_version: expected });
      card.deal.version = Math.max(card.deal.version, done.version);
      announce(`${card.deal.title} moved to ${this.stageName(toStageId)}.`);
    } catch (e) {
      await this.rollBack(id, from, e);
    } finally {
      card.pending = false;
      card.node.classList.remove('pending');
    }
  }

  async rollBack(id, from, error) {
    const card = this.cards.get(id);
    if (!card) return;
    let message;
    if (error instanceof ApiError && error.status === 409) {
      // Someone changed the deal first: show where it really is now.
      try {
        const current = await get(`/api/deals/${id}`);
        card.deal.version = current.version;
        if (current.status === 'open' && current.pipeline_id === this.pipelineId && this.stage(current.stage_id)) {
          this.place(id, current.stage_id);
          message = `${card.deal.title} was changed by someone else meanwhile: it is in ${this.stageName(current.stage_id)} now. Your move was undone.`;
        } else {
          this.remove(id);
          message = `${card.deal.title} was closed or moved off this board by someone else. Your move was undone.`;
        }
      } catch {
        this.place(id, from);
        message = `${card.deal.title} was changed by someone else meanwhile. Your move was undone.`;
      }
    } else {
      this.place(id, from);
      message =
        error instanceof ApiError && (error.status === 403 || error.status === 404)
          ? `You may not move ${card.deal.title}. Your move was undone.`
          : `${card.deal.title} could not be moved (${error.message}). Your move was undone.`;
    }
    card.node.classList.add('rolled-back');
    card.node.addEventListener('animationend', () => card.node.classList.remove('rolled-back'), { once: true });
    announce(message, 'error');
  }

  stage(id) {
    return this.stages.find((s) => s.id === id);
  }

  stageName(id) {
    return this.stage(id)?.name ?? 'another stage';
  }

  // Moves a card's node and the column sums; no request.
  place(id, toStageId) {
    const card = this.cards.get(id);
    const to = this.stage(toStageId);
    if (!card || !to) return;
    const from = this.stage(card.stageId);
    if (from && from !== to) {
      this.addToSums(from, card.deal.value, -1);
      this.addToSums(to, card.deal.value, +1);
      card.days.textContent = dayText(0);
    }
    card.stageId = toStageId;
    // Moving a node takes focus away from it: a keyboard user keeps the card they moved.
    const focused = document.activeElement === card.node;
    to.list.append(card.node);
    if (focused) card.node.focus();
    this.updateSummary();
  }

  remove(id) {
    const card = this.cards.get(id);
    if (!card) return;
    const from = this.stage(card.stageId);
    if (from) this.addToSums(from, card.deal.value, -1);
    card.node.remove();
    this.cards.delete(id);
    this.updateSummary();
  }

  addToSums(stage, value, sign) {
    stage.count += sign;
    let entry = stage.total.find((m) => m.currency === value.currency);
    if (!entry) {
      entry = { amount_minor: 0, currency: value.currency };
      stage.total.push(entry);
      stage.total.sort((a, b) => a.currency.localeCompare(b.currency));
    }
    entry.amount_minor += sign * value.amount_minor;
    stage.total = stage.total.filter((m) => m.amount_minor !== 0);
    // As the server computes it: total × probability / 100, rounded half away from zero.
    stage.weighted = stage.total.map((m) => {
      const scaled = Math.abs(m.amount_minor) * stage.probability;
      return { currency: m.currency, amount_minor: Math.sign(m.amount_minor) * Math.floor((scaled + 50) / 100) };
    });
    this.paintSums(stage);
  }

  paintSums(stage) {
    stage.countNode.textContent = String(stage.count);
    stage.countNode.setAttribute('aria-label', `${stage.count} deals`);
    stage.totalNode.textContent = moneyList(stage.total);
    stage.weightedNode.textContent = moneyList(stage.weighted);
  }

  updateSummary() {
    const count = this.stages.reduce((n, s) => n + s.count, 0);
    this.totals.textContent = `${count} open deals`;
  }

  applySearch() {
    const words = this.filters.search.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length && !this.searched) return;
    this.searched = words.length > 0;
    for (const card of this.cards.values()) {
      const text = card.node.textContent.toLowerCase();
      card.node.hidden = !words.every((w) => text.includes(w));
    }
  }

  onMessage(m) {
    if (m.op === 'update') this.onUpdate(m);
    else if (m.op === 'resync') this.scheduleReload(0, m.position);
    else if (m.op === 'presence') this.onPresence(m);
    else if (m.op === 'subscribed') this.present.clear();
    else if (m.op === 'error') announce(`Live updates: ${m.detail || m.code}`, 'error');
  }

  onUpdate(m) {
    const data = m.data || {};
    const id = data.stream_id?.startsWith('deal-') ? data.stream_id.slice(5) : data.event?.deal_id || data.stream_id;
    const card = id ? this.cards.get(id) : null;
    if (id) dealChanged(id, m.position);
    if (m.kind === 'deal.stage_moved' && card) {
      if (data.version <= card.deal.version) return; // already shown (our own move)
      card.deal.version = data.version;
      if (card.pending) return; // our request's answer decides
      const to = data.event?.to_stage_id;
      if (!this.stage(to)) {
        this.scheduleReload(m.position);
        return;
      }
      if (to !== card.stageId) {
        this.place(id, to);
        flash(card.node);
        const who = this.directory.users.get(data.actor)?.display_name;
        announce(`${card.deal.title} moved to ${this.stageName(to)}${who ? ` by ${who}` : ''}.`);
      }
      return;
    }
    // Anything else (a new deal, a value, an owner, won or lost): read the board again.
    this.scheduleReload(m.position);
  }

  scheduleReload(position, minPosition) {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(async () => {
      if ([...this.cards.values()].some((c) => c.pending) || this.grabbed || this.dragging) {
        this.scheduleReload(position, minPosition);
        return;
      }
      const before = new Map([...this.cards].map(([id, c]) => [id, c.stageId]));
      try {
        await this.load(minPosition ?? (position || undefined));
      } catch (e) {
        announce(e.message, 'error');
        return;
      }
      for (const [id, c] of this.cards) if (before.get(id) !== c.stageId) flash(c.node);
    }, 100);
  }

  onPresence(m) {
    const self = me()?.user.id;
    if (m.action === 'here') {
      this.present = new Set(m.users.filter((u) => u !== self));
    } else if (m.action === 'join' && m.user_id !== self) {
      this.present.add(m.user_id);
    } else if (m.action === 'leave') {
      this.present.delete(m.user_id);
    }
    this.renderPresence();
  }

  renderPresence() {
    if (!this.presence) return;
    const people = [...this.present].map((id) => this.directory.users.get(id)?.display_name || 'someone');
    fill(
      this.presence,
      people.length
        ? people.sort().map((name) => h('li', { class: 'person', title: name }, h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials(name)), name))
        : h('li', { class: 'muted', text: 'nobody else' }),
    );
  }
}

let template = null;
function cardTemplate() {
  if (!template) {
    template = h('li', { class: 'card', tabindex: '0', draggable: 'true', 'aria-roledescription': 'movable deal' },
      h('p', { class: 'title' }),
      h('p', { class: 'value' }),
      h('p', { class: 'meta' }, h('span', { class: 'owner' }), h('span', { class: 'company' })),
      h('p', { class: 'meta muted days', 'data-role': 'days' }));
  }
  return template;
}

function dayText(days) {
  return days === 1 ? '1 day in stage' : `${days} days in stage`;
}

function initials(name) {
  return name
    .split(/\s+/)
    .map((w) => w[0])
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

function flash(node) {
  node.classList.remove('flash');
  void node.offsetWidth; // restarts the animation
  node.classList.add('flash');
  node.addEventListener('animationend', () => node.classList.remove('flash'), { once: true });
}
