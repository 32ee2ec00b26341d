// The page: login, a hash router over five views, and one live stream (SSE) feeding the mounted view.
import { api, setCsrf, setUnauthorizedHandler } from './api.js';
import * as overview from './overview.js';
import * as chargers from './chargers.js';
import * as sessions from './sessions.js';
import * as history from './history.js';
import * as settings from './settings.js';

const VIEWS = { overview, chargers, sessions, history, settings };
const $ = (id) => document.getElementById(id);

let state = null;
let current = null;
let live = null;

function showLogin() {
  live?.close();
  live = null;
  current?.unmount?.();
  current = null;
  $('topbar').hidden = true;
  $('view').hidden = true;
  $('login').hidden = false;
  $('login-username').focus();
}

function connectLive() {
  live?.close();
  live = new EventSource('/api/live');
  live.addEventListener('state', (ev) => {
    state = JSON.parse(ev.data);
    $('live-dot').className = 'dot on';
    current?.update?.(state);
  });
  live.addEventListener('error', () => { $('live-dot').className = 'dot off'; });
}

function route() {
  if (!$('login').hidden) return;
  const name = (location.hash.replace(/^#\//, '') || 'overview').split('?')[0];
  const view = VIEWS[name] ?? overview;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  current?.unmount?.();
  const root = $('view');
  root.replaceChildren();
  current = view.mount(root, { getState: () => state });
  if (state) current.update?.(state);
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · Site Controller`;
}

function enter(session) {
  setCsrf(session.csrfToken);
  $('username').textContent = session.username;
  $('login').hidden = true;
  $('topbar').hidden = false;
  $('view').hidden = false;
  connectLive();
  route();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = $('login-error');
  err.hidden = true;
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  if (!username || !password) {
    err.textContent = 'Enter your username and password.';
    err.hidden = false;
    return;
  }
  $('login-submit').disabled = true;
  try {
    const session = await api('POST', '/api/login', { username, password });
    $('login-password').value = '';
    enter(session);
  } catch (e) {
    err.textContent = e.status === 401 ? 'Wrong username or password.' : e.status === 429 ? 'Too many attempts; wait a minute and try again.' : e.message;
    err.hidden = false;
    $('login-password').select();
  } finally {
    $('login-submit').disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  try { await api('POST', '/api/logout'); } catch { /* the session is gone either way */ }
  setCsrf(null);
  state = null;
  showLogin();
});

setUnauthorizedHandler(showLogin);
// A new view moves focus to the content, so keyboard and screen-reader users start there (not on the nav link).
window.addEventListener('hashchange', () => { route(); $('main').focus({ preventScroll: true }); });

const session = await api('GET', '/api/session');
if (session.authenticated) enter(session);
else showLogin();
