import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { createHandler, createSdkCodeDeploy, REPORT_MAX_ATTEMPTS } from './index.mjs';

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

test('a failing report is logged with its attempts and propagated', async () => {
  const lines = [];
  const handler = createHandler({
    codedeploy: {
      async putLifecycleEventHookExecutionStatus() {
        throw Object.assign(new Error('Rate exceeded'), { $metadata: { attempts: 4 } });
      },
    },
    env: { TEST_URL: baseUrl, CHECKS: checks({ path: '/' }), REQUESTS: '1' },
    log: (line) => lines.push(line),
  });
  await assert.rejects(handler(EVENT), /Rate exceeded/);
  const last = JSON.parse(lines.at(-1));
  assert.equal(last.type, 'report-error');
  assert.equal(last.status, 'Succeeded');
  assert.equal(last.attempts, 4);
});

// The keep-warm invocation, exactly as an EventBridge schedule sends it.
const SCHEDULED = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2025-03-01T06:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/pretraffic-keep-warm'],
  detail: {},
};

// A handler whose CodeDeploy and fetch stand-ins record every use; the
// configuration is valid, so only the event decides what it does.
function recordingHandler() {
  const calls = { report: [], fetch: [], lines: [] };
  const handler = createHandler({
    codedeploy: { async putLifecycleEventHookExecutionStatus(input) { calls.report.push(input); } },
    fetch: async (...args) => { calls.fetch.push(args); return new Response('ok'); },
    env: { TEST_URL: baseUrl, CHECKS: checks({ path: '/' }), REQUESTS: '1' },
    log: (line) => calls.lines.push(line),
  });
  return { handler, calls };
}

test('scheduled keep-warm event -> returns at once, no request, no report', async () => {
  const { handler, calls } = recordingHandler();
  const result = await handler(SCHEDULED);
  assert.deepEqual(result, { status: 'Warm', results: [] });
  assert.equal(calls.report.length, 0, 'nothing reported to CodeDeploy');
  assert.equal(calls.fetch.length, 0, 'no request sent');
  assert.equal(hits.size, 0);
  assert.equal(calls.lines.length, 1, 'one log line');
  const line = JSON.parse(calls.lines[0]);
  assert.equal(line.type, 'keep-warm');
  assert.match(line.message, /warm/);
  assert.equal(line.rule, SCHEDULED.resources[0]);
});

test('events without both hook ids throw before any request or report', async (t) => {
  const cases = {
    'empty object': {},
    'null': null,
    'undefined': undefined,
    'a string': 'DeploymentId',
    'DeploymentId only': { DeploymentId: EVENT.DeploymentId },
    'LifecycleEventHookExecutionId only': { LifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId },
    'empty ids': { DeploymentId: '', LifecycleEventHookExecutionId: '' },
    'non-string id': { DeploymentId: 123, LifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId },
    'another EventBridge event': { ...SCHEDULED, 'detail-type': 'ECS Task State Change', source: 'aws.ecs' },
    'scheduled event from another source': { ...SCHEDULED, source: 'custom.app' },
    'scheduled event with one hook id': { ...SCHEDULED, DeploymentId: EVENT.DeploymentId },
  };
  for (const [name, event] of Object.entries(cases)) {
    await t.test(name, async () => {
      const { handler, calls } = recordingHandler();
      await assert.rejects(handler(event), /neither a CodeDeploy lifecycle hook/);
      assert.equal(calls.report.length, 0);
      assert.equal(calls.fetch.length, 0);
      assert.equal(JSON.parse(calls.lines.at(-1)).type, 'invalid-event');
    });
  }
});

test('a hook event that also looks scheduled is still a hook: tested and reported', async () => {
  const { handler, calls } = recordingHandler();
  const result = await handler({ ...SCHEDULED, ...EVENT });
  assert.equal(result.status, 'Succeeded');
  assert.equal(calls.fetch.length, 1);
  assert.deepEqual(calls.report, [{
    deploymentId: EVENT.DeploymentId,
    lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId,
    status: 'Succeeded',
  }]);
});

test('SDK adapter: one client, explicit standard retries, loaded on first report', async () => {
  const made = [];
  const sent = [];
  let loads = 0;
  const fakeSdk = {
    CodeDeployClient: class {
      constructor(config) { made.push(config); }
      async send(command) { sent.push(command); return { lifecycleEventHookExecutionId: command.input.lifecycleEventHookExecutionId }; }
    },
    PutLifecycleEventHookExecutionStatusCommand: class {
      constructor(input) { this.input = input; }
    },
  };
  const codedeploy = createSdkCodeDeploy(async () => { loads++; return fakeSdk; });
  assert.equal(loads, 0, 'nothing loaded before the first report');
  const input = { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'x', status: 'Succeeded' };
  await codedeploy.putLifecycleEventHookExecutionStatus(input);
  await codedeploy.putLifecycleEventHookExecutionStatus({ ...input, status: 'Failed' });
  assert.equal(loads, 1);
  assert.deepEqual(made, [{ maxAttempts: REPORT_MAX_ATTEMPTS, retryMode: 'standard' }]);
  assert.ok(REPORT_MAX_ATTEMPTS > 3, 'more attempts than the SDK default of 3');
  assert.deepEqual(sent.map((c) => c.input.status), ['Succeeded', 'Failed']);
});
