// Starts `realmkit serve` on the embedded default (SQLite in a temporary folder, a free port) with
// the demo organisation, and drives the HTTP API for tests and benchmarks.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEMO_PASSWORD = 'demo-password-for-tests';
export const users = {
  admin: 'admin@demo.realmkit.test',
  nora: 'nora.manager@demo.realmkit.test', // manager, team North
  ned: 'ned.rep@demo.realmkit.test', // sales rep, team North
  sam: 'sam.manager@demo.realmkit.test', // manager, team South
  sia: 'sia.rep@demo.realmkit.test', // sales rep, team South
  ana: 'ana.analyst@demo.realmkit.test',
};

export async function startServer(binary, { logFile } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'realmkit-web-'));
  const seeded = spawnSync(binary, ['demo', '--data-dir', dir, '--password', DEMO_PASSWORD, '--log-level', 'warn'], {
    encoding: 'utf8',
  });
  if (seeded.status !== 0) throw new Error(`realmkit demo failed: ${seeded.stderr}`);
  const child = spawn(
    binary,
    ['serve', '--data-dir', dir, '--host', '127.0.0.1', '--port', '0', '--log-format', 'text',
     // Every test signs in several users from one address: the login bucket must not refuse them.
     '--rate-login', '10000:1000/1s', '--rate-per-address', '100000:10000/1s',
     '--rate-per-user', '100000:10000/1s'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start:\n${log}`)), 60000);
    const onData = (chunk) => {
      log += chunk;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${log}`));
    });
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
      if (logFile) (await import('node:fs')).writeFileSync(logFile, log);
    },
  };
}

// A signed-in API client for one user.
export async function apiAs(base, email) {
  const r = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: DEMO_PASSWORD }),
  });
  if (!r.ok) throw new Error(`login of ${email}: ${r.status} ${await r.text()}`);
  const { access_token: token } = await r.json();
  const call = async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw Object.assign(new Error(`${method} ${path}: ${res.status} ${text}`), { status: res.status, data });
    return data;
  };
  return { get: (p) => call('GET', p), post: (p, b) => call('POST', p, b), patch: (p, b) => call('PATCH', p, b) };
}

// Playwright gives every launch a fresh profile of its own (it refuses --user-data-dir here).
export function chromiumOptions() {
  return {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
    ],
  };
}
