// The board of 1,000 deals in headless Chromium: first contentful paint of a cold page load, the
// time from submitting the sign-in form to the painted board, and the time from opening the board
// (the page already loaded and signed in) to its 1,000 cards painted. Medians of several runs.
//   node bench/web_board_bench.mjs --binary build/release/app/realmkit --out build/bench/web.json
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { apiAs, chromiumOptions, DEMO_PASSWORD, startServer, users } from '../tests/web/server.mjs';

// playwright-core is installed with the browser tests (scripts/bootstrap).
const require = createRequire(new URL('../tests/web/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const DEALS = Number(args.deals ?? 1000);
const RUNS = Number(args.runs ?? 7);
const STAGES = 5;
if (!args.binary || !args.out) {
  console.error('usage: web_board_bench.mjs --binary PATH --out FILE [--deals N] [--runs N]');
  process.exit(2);
}

const server = await startServer(args.binary);
try {
  // A pipeline of its own, so the board holds exactly DEALS cards (200 per stage, the page size).
  const admin = await apiAs(server.base, users.admin);
  const owners = (await admin.get('/api/users?limit=200')).items.filter((u) => ['manager', 'sales_rep'].includes(u.role));
  const pipeline = await admin.post('/api/pipelines', {
    name: 'Bench pipeline',
    stages: [10, 25, 50, 75, 90].map((p, i) => ({ name: `Stage ${i + 1}`, probability: p })),
  });
  let next = 0;
  let position = 0;
  const seedStart = Date.now();
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < DEALS) {
      const i = next++;
      const done = await admin.post('/api/deals', {
        pipeline_id: pipeline.id,
        stage_id: pipeline.stages[i % STAGES].id,
        title: `Bench deal ${i + 1} for a customer with a long name`,
        value: { amount_minor: 100_000 + ((i * 7919) % 5_000_000), currency: 'EUR' },
        owner_id: owners[i % owners.length].id,
      });
      position = Math.max(position, done.position);
    }
  }));
  await admin.get(`/api/pipelines/${pipeline.id}/board?limit=200&min_position=${position}`);
  console.log(`seeded ${DEALS} deals in ${Date.now() - seedStart} ms`);

  const browser = await chromium.launch(chromiumOptions());
  const fcp = [];
  const signInToBoard = [];
  const boardReady = [];
  const boardRequest = [];
  for (let run = 0; run < RUNS; run++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${server.base}/#/board/${pipeline.id}`);
    await page.waitForSelector('#email');
    fcp.push(await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN));

    await page.fill('#email', users.admin);
    await page.fill('#password', DEMO_PASSWORD);
    const t0 = await page.evaluate(() => performance.now());
    await page.click('button[type=submit]');
    signInToBoard.push((await painted(page, DEALS)) - t0);

    // Away and back: the board's own cost, the page and session already there.
    await page.evaluate(() => {
      location.hash = '#/contacts';
    });
    await page.waitForSelector('#contact-search');
    const t1 = await page.evaluate((id) => {
      delete document.body.dataset.boardReady;
      const t = performance.now();
      location.hash = `#/board/${id}`;
      return t;
    }, pipeline.id);
    boardReady.push((await painted(page, DEALS)) - t1);
    // Of which the board's HTTP request (server and transfer), the rest being the page's work.
    boardRequest.push(await page.evaluate(() => {
      const boards = performance.getEntriesByType('resource').filter((e) => e.name.includes('/board'));
      return boards[boards.length - 1].duration;
    }));
    await context.close();
  }
  await browser.close();

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    benchmark: 'web',
    deals: DEALS,
    runs: RUNS,
    browser: 'chromium (headless)',
    first_contentful_paint_ms: Math.round(median(fcp)),
    sign_in_to_board_painted_ms: Math.round(median(signInToBoard)),
    board_ready_ms: Math.round(median(boardReady)),
    board_ready_max_ms: Math.round(Math.max(...boardReady)),
    board_request_ms: Math.round(median(boardRequest)),
    samples_ms: {
      first_contentful_paint: fcp.map(Math.round),
      sign_in_to_board_painted: signInToBoard.map(Math.round),
      board_ready: boardReady.map(Math.round),
      board_request: boardRequest.map(Math.round),
    },
  };
  console.log(`board of ${DEALS} deals, median of ${RUNS} runs`);
  console.log(`  first contentful paint (cold load)      ${result.first_contentful_paint_ms} ms`);
  console.log(`  sign-in submitted → board painted       ${result.sign_in_to_board_painted_ms} ms (includes the password hash)`);
  console.log(`  board opened → ${DEALS} cards painted     ${result.board_ready_ms} ms (max ${result.board_ready_max_ms} ms)`);
  console.log(`    of which the board request            ${result.board_request_ms} ms`);
  writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
  console.log(`wrote ${args.out}`);
} finally {
  await server.stop();
}

// Waits until the board shows `count` cards, then for the frame that paints them; returns that
// time on the page's clock.
async function painted(page, count) {
  await page.waitForFunction((n) => document.body.dataset.boardReady && document.querySelectorAll('.card').length >= n, count, {
    timeout: 60000,
    polling: 'raf',
  });
  return page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0))));
}
