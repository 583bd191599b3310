import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { createHandler } from './index.mjs';

const EVENT = { DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'eyJlbmNyeXB0ZWREYXRhIjoi' };

// Local stand-in for the test listener. Every request is counted per path.
const hits = new Map();
const routes = {
  '/': (res) => res.end('ok'),
  '/health': (res) => res.end('{"status":"up"}'),
  '/moved': (res) => res.writeHead(301, { location: '/' }).end(),
  '/found': (res) => res.writeHead(302, { location: '/' }).end(),
  '/missing': (res) => res.writeHead(404).end('nope'),
  '/boom': (res) => res.writeHead(500).end('error'),
  '/hang': () => {}, // never answers
};
const server = http.createServer((req, res) => {
  hits.set(req.url, (hits.get(req.url) ?? 0) + 1);
  (routes[req.url] ?? ((r) => r.writeHead(404).end()))(res);
});
let baseUrl;

before(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => hits.clear());

// Runs the handler with a recording CodeDeploy stand-in and asserts that it
// reported exactly once, passing the event's ids through unchanged.
async function run(env, { report } = {}) {
  const calls = [];
  const lines = [];
  const codedeploy = {
    async putLifecycleEventHookExecutionStatus(input) {
      calls.push(input);
      if (report) await report(input);
    },
  };
  const handler = createHandler({ codedeploy, env, log: (line) => lines.push(line) });
  const result = await handler(EVENT);
  assert.equal(calls.length, 1, 'reported exactly once');
  assert.deepEqual(calls[0], {
    deploymentId: EVENT.DeploymentId,
    lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId,
    status: result.status,
  });
  const logs = lines.map((line) => JSON.parse(line)); // every line is JSON
  assert.equal(logs.filter((l) => l.type === 'summary').length, 1);
  assert.equal(logs.filter((l) => l.type === 'check').length, result.results.length);
  return { result, logs };
}

const checks = (...list) => JSON.stringify(list);

test('all checks good -> Succeeded, 5 requests per check by default', async () => {
  const { result } = await run({
    TEST_URL: `${baseUrl}/`, // trailing slash is tolerated
    CHECKS: checks({ path: '/', status: 200 }, { path: '/health' }, { path: '/moved', status: 301 }),
  });
  assert.equal(result.status, 'Succeeded');
  assert.deepEqual(result.results.map((r) => [r.path, r.ok, r.status]), [
    ['/', true, 200],
    ['/health', true, 200],
    ['/moved', true, 301], // redirect not followed
  ]);
  assert.deepEqual(Object.fromEntries(hits), { '/': 5, '/health': 5, '/moved': 5 });
});

test('wrong status on one path -> Failed, stops at the first failure', async () => {
  const { result } = await run({
    TEST_URL: baseUrl,
    CHECKS: checks({ path: '/health' }, { path: '/missing', status: 200 }, { path: '/' }),
    REQUESTS: '2',
  });
  assert.equal(result.status, 'Failed');
  assert.equal(result.results.length, 2);
  assert.equal(result.results[1].status, 404);
  assert.match(result.results[1].error, /unexpected status 404/);
  assert.equal(hits.get('/missing'), 1);
  assert.equal(hits.get('/'), undefined);
});

test('path that never answers within TIMEOUT_MS -> Failed', async () => {
  const started = Date.now();
  const { result } = await run({
    TEST_URL: baseUrl,
    CHECKS: checks({ path: '/hang' }),
    TIMEOUT_MS: '200',
  });
  assert.equal(result.status, 'Failed');
  assert.match(result.results[0].error, /timeout after 200 ms/);
  assert.ok(Date.now() - started < 2000, 'timed out promptly');
});

test('refused connection -> Failed', async () => {
  const closed = http.createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const { port } = closed.address();
  closed.close();
  await once(closed, 'close');
  const { result } = await run({ TEST_URL: `http://127.0.0.1:${port}`, CHECKS: checks({ path: '/' }) });
  assert.equal(result.status, 'Failed');
  assert.equal(result.results[0].error, 'ECONNREFUSED');
});

test('default status range accepts 302 and rejects 500', async () => {
  const ok = await run({ TEST_URL: baseUrl, CHECKS: checks({ path: '/found' }), REQUESTS: '1' });
  assert.equal(ok.result.status, 'Succeeded');
  assert.equal(ok.result.results[0].status, 302);
  assert.equal(ok.result.results[0].expected, '200-399');

  const bad = await run({ TEST_URL: baseUrl, CHECKS: checks({ path: '/boom' }), REQUESTS: '1' });
  assert.equal(bad.result.status, 'Failed');
  assert.equal(bad.result.results[0].status, 500);
});

test('REQUESTS is honoured per check', async () => {
  const { result } = await run({
    TEST_URL: baseUrl,
    CHECKS: checks({ path: '/' }, { path: '/health', status: 200 }),
    REQUESTS: '3',
  });
  assert.equal(result.status, 'Succeeded');
  assert.deepEqual(Object.fromEntries(hits), { '/': 3, '/health': 3 });
  assert.deepEqual(result.results.map((r) => r.requests), [3, 3]);
});

test('invalid configuration -> Failed reported, no throw, no requests', async (t) => {
  const good = { TEST_URL: baseUrl, CHECKS: checks({ path: '/' }) };
  const cases = {
    'no TEST_URL': { CHECKS: good.CHECKS },
    'TEST_URL not http(s)': { ...good, TEST_URL: 'ftp://example.com' },
    'CHECKS not json': { ...good, CHECKS: 'not json' },
    'CHECKS missing': { TEST_URL: baseUrl },
    'CHECKS not an array': { ...good, CHECKS: '{"path":"/"}' },
    'CHECKS empty': { ...good, CHECKS: '[]' },
    'check without path': { ...good, CHECKS: '[{"status":200}]' },
    'check with bad status': { ...good, CHECKS: '[{"path":"/","status":"200"}]' },
    'REQUESTS zero': { ...good, REQUESTS: '0' },
    'REQUESTS not a number': { ...good, REQUESTS: 'five' },
    'TIMEOUT_MS fractional': { ...good, TIMEOUT_MS: '1.5' },
    'TIMEOUT_MS negative': { ...good, TIMEOUT_MS: '-100' },
  };
  for (const [name, env] of Object.entries(cases)) {
    await t.test(name, async () => {
      const { result, logs } = await run(env);
      assert.equal(result.status, 'Failed');
      assert.deepEqual(result.results, []);
      assert.ok(logs.at(-1).error, 'summary explains the failure');
      assert.equal(hits.size, 0);
    });
  }
});

test('a failing report is logged and propagated', async () => {
  const lines = [];
  const handler = createHandler({
    codedeploy: { putLifecycleEventHookExecutionStatus: async () => { throw new Error('AccessDenied'); } },
    env: { TEST_URL: baseUrl, CHECKS: checks({ path: '/' }), REQUESTS: '1' },
    log: (line) => lines.push(line),
  });
  await assert.rejects(handler(EVENT), /AccessDenied/);
  const last = JSON.parse(lines.at(-1));
  assert.equal(last.type, 'report-error');
  assert.equal(last.status, 'Succeeded');
});
