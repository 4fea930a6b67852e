// The page: sign-in, navigation between the board, analytics and contacts (hash routes, so that
// the server serves one document), the live connection and the directory of users and teams.
import { ApiError, all, can, login, logout, me } from './api.js';
import { announce, fill, h } from './dom.js';
import { Board } from './board.js';
import { closeDrawer } from './drawer.js';
import { Live } from './live.js';
import { showAnalytics } from './analytics.js';
import { showContact, showContacts } from './contacts.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const live = new Live();
const directory = { users: new Map(), teams: new Map() };
let board = null;

live.onState((state) => {
  const node = document.getElementById('connection');
  node.dataset.state = state;
  node.textContent = {
    open: 'Live',
    connecting: 'Connecting…',
    reconnecting: 'Reconnecting…',
    offline: 'Offline: changes will appear when the connection is back',
    closed: '',
  }[state];
});

function showSignIn(message) {
  nav.hidden = true;
  document.body.dataset.signedIn = 'false';
  // No board is on screen any more: a stale marker would tell the next user's wait it is ready.
  delete document.body.dataset.boardReady;
  const email = h('input', { id: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { id: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert', hidden: !message, text: message || '' });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title', text: 'Sign in to RealmKit' }),
    h('label', { for: 'email' }, 'E-mail'), email,
    h('label', { for: 'password' }, 'Password'), password,
    error, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    error.hidden = true;
    try {
      await login(email.value.trim(), password.value);
      await start();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? 'Wrong e-mail or password.'
        : err instanceof ApiError && err.status === 429
          ? 'Too many attempts: wait a moment and try again.'
          : `Could not sign in: ${err.message}`;
      error.hidden = false;
      password.select();
    } finally {
      button.disabled = false;
    }
  });
  fill(main, form);
  email.focus();
}

async function start() {
  const [users, teams] = await Promise.all([all('/api/users'), all('/api/teams')]);
  directory.users = new Map(users.map((u) => [u.id, u]));
  directory.teams = new Map(teams.map((t) => [t.id, t]));
  const self = me();
  fill(document.getElementById('who'), `${self.user.display_name} (${self.role.replace('_', ' ')})`);
  document.getElementById('nav-analytics').hidden = !can('analytics:view');
  nav.hidden = false;
  document.body.dataset.signedIn = 'true';
  live.start();
  if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = '#/board';
  else route();
}

async function route() {
  if (!me()) return;
  closeDrawer();
  const [, page, id] = location.hash.split('/');
  for (const link of nav.querySelectorAll('a[data-page]')) {
    link.toggleAttribute('aria-current', link.dataset.page === page);
    if (link.dataset.page === page) link.setAttribute('aria-current', 'page');
  }
  if (page !== 'board' && board) {
    board.hide();
    board = null;
  }
  try {
    if (page === 'analytics') await showAnalytics(main, directory, id);
    else if (page === 'contacts' && id) await showContact(main, directory, id);
    else if (page === 'contacts') await showContacts(main, directory);
    else {
      if (board) board.hide();
      board = new Board(main, live, directory);
      await board.show(id);
    }
    main.focus({ preventScroll: true });
  } catch (e) {
    fill(main, h('p', { role: 'alert', class: 'error', text: e.message }));
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('realmkit:signed-out', () => {
  live.stop();
  showSignIn('Your session ended: sign in again.');
});
document.getElementById('sign-out').addEventListener('click', async () => {
  live.stop();
  board?.hide();
  board = null;
  await logout();
  announce('');
  location.hash = '';
  showSignIn();
});

showSignIn();
