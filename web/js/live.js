// The /ws connection (docs/realtime.md): one socket, rooms resumed from the last position seen
// after any drop, a heartbeat that notices a dead connection, and the token renewed in place.
import { accessToken, onToken, refresh, tokenExpiring } from './api.js';

const PING_EVERY = 15000;
const PONG_WITHIN = 5000;
const MAX_BACKOFF = 5000;

export class Live {
  constructor() {
    this.rooms = new Map(); // room → {since, handler}
    this.socket = null;
    this.state = 'closed';
    this.backoff = 250;
    this.timer = null;
    this.pongDue = null;
    this.stateListeners = new Set();
    this.stopped = false;
    onToken((token) => this.send({ op: 'auth', token }));
    // The browser knows before any timeout: drop at once and come back as soon as it is online.
    window.addEventListener('offline', () => this.drop('offline'));
    window.addEventListener('online', () => this.connect());
  }

  onState(fn) {
    this.stateListeners.add(fn);
    fn(this.state);
  }

  setState(state) {
    this.state = state;
    for (const fn of this.stateListeners) fn(state);
  }

  // Follows a room from `since` (a global position); handler(message) gets update, presence,
  // resync and error frames of that room. Returns a function that leaves the room.
  follow(room, since, handler) {
    this.rooms.set(room, { since, handler });
    if (this.state === 'open') this.send({ op: 'subscribe', room, since });
    else this.connect();
    return () => {
      if (this.rooms.get(room)?.handler !== handler) return;
      this.rooms.delete(room);
      this.send({ op: 'unsubscribe', room });
    };
  }

  // Moves a room's resume point forward (after a reload over HTTP).
  advance(room, position) {
    const r = this.rooms.get(room);
    if (r && position > r.since) r.since = position;
  }

  connect() {
    if (this.stopped || !accessToken()) return;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return;
    if (!navigator.onLine) {
      this.setState('offline');
      return;
    }
    clearTimeout(this.timer);
    if (tokenExpiring()) {
      // After a long sleep or a long time offline: a fresh token first, else the upgrade is refused.
      refresh().then(() => this.connect(), () => {});
      return;
    }
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const socket = new WebSocket(url, ['realmkit.v1', `access_token.${accessToken()}`]);
    this.socket = socket;
    this.setState('connecting');
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.backoff = 250;
      this.setState('open');
      for (const [room, r] of this.rooms) this.send({ op: 'subscribe', room, since: r.since });
      this.heartbeat();
    };
    socket.onmessage = (e) => {
      if (socket !== this.socket) return;
      this.pongDue = null;
      this.lastHeard = Date.now();
      let m;
      try {
        m = JSON.parse(e.data);
      } catch {
        return;
      }
      if (m.op === 'pong' || m.op === 'authenticated') return;
      const r = m.room ? this.rooms.get(m.room) : null;
      if (m.op === 'update' && r && m.position > r.since) r.since = m.position;
      if (r) r.handler(m);
      else if (m.op === 'resync') for (const [, x] of this.rooms) x.handler(m);
    };
    socket.onclose = () => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.retry();
    };
  }

  // Pings when the line has been quiet, and drops a connection that does not answer in time.
  heartbeat() {
    clearTimeout(this.timer);
    this.lastHeard = Date.now();
    const tick = () => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return;
      const now = Date.now();
      if (this.pongDue && now > this.pongDue) {
        this.drop('no answer');
        return;
      }
      if (!this.pongDue && now - this.lastHeard > PING_EVERY) {
        this.pongDue = now + PONG_WITHIN;
        this.send({ op: 'ping' });
      }
      this.timer = setTimeout(tick, 1000);
    };
    this.timer = setTimeout(tick, 1000);
  }

  drop(why) {
    const s = this.socket;
    this.socket = null;
    this.pongDue = null;
    if (s) s.close(4000, why);
    this.retry();
  }

  retry() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    if (!navigator.onLine) {
      this.setState('offline');
      return;
    }
    this.setState('reconnecting');
    this.timer = setTimeout(() => this.connect(), this.backoff);
    this.backoff = Math.min(MAX_BACKOFF, this.backoff * 2);
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    const s = this.socket;
    this.socket = null;
    if (s) s.close(1000, 'signed out');
    this.rooms.clear();
    this.setState('closed');
  }

  start() {
    this.stopped = false;
    this.connect();
  }
}
