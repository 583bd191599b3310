import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import {
  createHandler, createSdkCodeDeploy, handler as productionHandler,
  REPORT_MAX_ATTEMPTS, MAX_CALLBACK_DELAY_SECONDS, ECS_STAGE,
} from './index.mjs';

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

// ---------------------------------------------------------------------------
// Amazon ECS native blue/green: the Lambda lifecycle hook contract
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html).

const REVISION = 'arn:aws:ecs:eu-west-1:123456789012:service-revision/shop/web/4711000000000000001';
const ECS_EVENT = {
  executionId: '0c9f3b52-6a1e-4d0b-9a57-2f3e8c1d4b60',
  lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
  resourceArn: 'arn:aws:ecs:eu-west-1:123456789012:service-deployment/shop/web/Qw3rTy8UiOp1AsDfGh2Jk',
  executionDetails: {
    serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/shop/web',
    targetServiceRevisionArn: REVISION,
    testTrafficWeights: {},
    productionTrafficWeights: {},
  },
};
const ecsEvent = (extra = {}) => ({ ...ECS_EVENT, ...extra });

// A CodeDeploy client whose every use fails the test: under ECS the function's
// role has no CodeDeploy permission, so the ECS path must never reach it.
const forbiddenCodeDeploy = {
  async putLifecycleEventHookExecutionStatus() {
    assert.fail('the ECS path called CodeDeploy');
  },
};

// Runs the handler on an ECS event; every log line must be JSON, with exactly
// one summary tagged engine 'ecs' and one check line per check run.
async function runEcs(env, event = ECS_EVENT, { fetch } = {}) {
  const lines = [];
  const fetchCalls = [];
  const handler = createHandler({
    codedeploy: forbiddenCodeDeploy,
    env,
    log: (line) => lines.push(line),
    fetch: (...args) => { fetchCalls.push(args); return (fetch ?? globalThis.fetch)(...args); },
  });
  const result = await handler(event);
  const logs = lines.map((line) => JSON.parse(line));
  const summaries = logs.filter((l) => l.type === 'summary');
  assert.equal(summaries.length, 1, 'one summary');
  const summary = summaries[0];
  assert.equal(summary.engine, 'ecs');
  assert.equal(summary.executionId, event.executionId);
  assert.equal(summary.lifecycleStage, event.lifecycleStage);
  assert.equal(summary.targetServiceRevisionArn, event.executionDetails.targetServiceRevisionArn);
  assert.equal(summary.hookStatus, result.hookStatus);
  const checkLines = logs.filter((l) => l.type === 'check');
  assert.equal(checkLines.length, summary.checks);
  for (const line of checkLines) {
    assert.equal(line.engine, 'ecs');
    assert.equal(line.attempt, summary.attempt);
  }
  return { result, logs, summary, checkLines, fetchCalls };
}

async function closedPort() {
  const closed = http.createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const { port } = closed.address();
  closed.close();
  await once(closed, 'close');
  return port;
}

test('ECS: all checks good -> SUCCEEDED, nothing else in the answer', async () => {
  const { result, summary, checkLines } = await runEcs({
    TEST_URL: baseUrl,
    CHECKS: checks({ path: '/', status: 200 }, { path: '/health' }, { path: '/moved', status: 301 }),
  });
  assert.deepEqual(result, { hookStatus: 'SUCCEEDED' });
  assert.deepEqual(Object.fromEntries(hits), { '/': 5, '/health': 5, '/moved': 5 });
  assert.equal(summary.attempt, 1);
  assert.equal(summary.maxAttempts, 3, 'MAX_ATTEMPTS defaults to 3');
  assert.equal(summary.serviceArn, ECS_EVENT.executionDetails.serviceArn);
  assert.equal(summary.resourceArn, ECS_EVENT.resourceArn);
  assert.equal(summary.checks, 3);
  assert.deepEqual(checkLines.map((l) => [l.path, l.ok, l.status]), [['/', true, 200], ['/health', true, 200], ['/moved', true, 301]]);
});

test('ECS: wrong status -> FAILED at once, no retry, stops at the first failure', async (t) => {
  for (const [name, path] of [['404', '/missing'], ['500', '/boom']]) {
    await t.test(name, async () => {
      hits.clear();
      const { result, summary } = await runEcs({
        TEST_URL: baseUrl,
        CHECKS: checks({ path: '/health' }, { path, status: 200 }, { path: '/' }),
        REQUESTS: '2',
        MAX_ATTEMPTS: '10',
      });
      assert.deepEqual(result, { hookStatus: 'FAILED' });
      assert.equal(summary.checks, 2);
      assert.equal(hits.get(path), 1);
      assert.equal(hits.get('/'), undefined);
      assert.equal(summary.retryInSeconds, undefined);
    });
  }
});

test('ECS: no answer (refused, timeout) -> IN_PROGRESS with callBackDelay and hookDetails.attempt 1', async (t) => {
  await t.test('refused connection, default delay 30 s', async () => {
    const port = await closedPort();
    const { result, summary, checkLines } = await runEcs({ TEST_URL: `http://127.0.0.1:${port}`, CHECKS: checks({ path: '/' }) });
    assert.deepEqual(result, { hookStatus: 'IN_PROGRESS', callBackDelay: 30, hookDetails: { attempt: 1 } });
    assert.equal(checkLines[0].error, 'ECONNREFUSED');
    assert.equal(summary.retryInSeconds, 30);
  });
  await t.test('timeout, RETRY_DELAY_SECONDS honoured', async () => {
    const { result, checkLines } = await runEcs({
      TEST_URL: baseUrl, CHECKS: checks({ path: '/' }, { path: '/hang' }), TIMEOUT_MS: '200', RETRY_DELAY_SECONDS: '45',
    });
    assert.deepEqual(result, { hookStatus: 'IN_PROGRESS', callBackDelay: 45, hookDetails: { attempt: 1 } });
    assert.match(checkLines[1].error, /timeout after 200 ms/);
  });
  await t.test('fetch rejecting (DNS failure and the like)', async () => {
    const { result } = await runEcs(
      { TEST_URL: baseUrl, CHECKS: checks({ path: '/' }) },
      ECS_EVENT,
      { fetch: async () => { throw new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }); } },
    );
    assert.deepEqual(result, { hookStatus: 'IN_PROGRESS', callBackDelay: 30, hookDetails: { attempt: 1 } });
  });
});

test('ECS: the attempt in hookDetails increments, other hookDetails keys do not matter', async () => {
  const port = await closedPort();
  const env = { TEST_URL: `http://127.0.0.1:${port}`, CHECKS: checks({ path: '/' }), MAX_ATTEMPTS: '5' };
  const { result, summary } = await runEcs(env, ecsEvent({ hookDetails: { attempt: 2, S3_BUCKET: 'configured-on-the-service' } }));
  assert.deepEqual(result, { hookStatus: 'IN_PROGRESS', callBackDelay: 30, hookDetails: { attempt: 3 } });
  assert.equal(summary.attempt, 3);
});

test('ECS: the attempt that reaches MAX_ATTEMPTS answers FAILED', async (t) => {
  const port = await closedPort();
  const env = { TEST_URL: `http://127.0.0.1:${port}`, CHECKS: checks({ path: '/' }) };
  const cases = [
    ['default 3, third attempt', env, { attempt: 2 }, 3],
    ['MAX_ATTEMPTS 1, first attempt', { ...env, MAX_ATTEMPTS: '1' }, undefined, 1],
    ['count already past the maximum', env, { attempt: 7 }, 8],
  ];
  for (const [name, caseEnv, hookDetails, attempt] of cases) {
    await t.test(name, async () => {
      const { result, summary } = await runEcs(caseEnv, ecsEvent(hookDetails ? { hookDetails } : {}));
      assert.deepEqual(result, { hookStatus: 'FAILED' });
      assert.equal(summary.attempt, attempt);
      assert.equal(summary.retryInSeconds, undefined);
    });
  }
});

test('ECS: a later attempt that gets answers -> SUCCEEDED', async () => {
  const { result, summary } = await runEcs(
    { TEST_URL: baseUrl, CHECKS: checks({ path: '/' }), REQUESTS: '1' },
    ecsEvent({ hookDetails: { attempt: 2 } }),
  );
  assert.deepEqual(result, { hookStatus: 'SUCCEEDED' });
  assert.equal(summary.attempt, 3);
});

test('ECS: fed its own answers back, as ECS does, it makes exactly MAX_ATTEMPTS attempts', async () => {
  const port = await closedPort();
  const env = { TEST_URL: `http://127.0.0.1:${port}`, CHECKS: checks({ path: '/' }), REQUESTS: '1', MAX_ATTEMPTS: '4' };
  const answers = [];
  let hookDetails = { S3_BUCKET: 'configured-on-the-service' };
  for (let i = 0; i < 10; i++) {
    const { result } = await runEcs(env, ecsEvent({ hookDetails }));
    answers.push(result);
    if (result.hookStatus !== 'IN_PROGRESS') break;
    hookDetails = { ...hookDetails, ...result.hookDetails }; // ECS merges them
  }
  assert.deepEqual(answers.map((a) => [a.hookStatus, a.hookDetails?.attempt]), [
    ['IN_PROGRESS', 1], ['IN_PROGRESS', 2], ['IN_PROGRESS', 3], ['FAILED', undefined],
  ]);
});

test('ECS: hookDetails without a positive integer attempt starts at attempt 1', async (t) => {
  const port = await closedPort();
  const env = { TEST_URL: `http://127.0.0.1:${port}`, CHECKS: checks({ path: '/' }), MAX_ATTEMPTS: '2' };
  const cases = {
    'hookDetails null': null,
    'hookDetails a string': '{"attempt":1}',
    'hookDetails an array': [1],
    'hookDetails a number': 1,
    'attempt a string': { attempt: '1' },
    'attempt zero': { attempt: 0 },
    'attempt negative': { attempt: -3 },
    'attempt fractional': { attempt: 1.5 },
    'attempt unsafe integer': { attempt: 2 ** 60 },
    'attempt Infinity': { attempt: Infinity },
    'attempt an object': { attempt: { n: 1 } },
    'no attempt key': { S3_BUCKET: 'b' },
  };
  for (const [name, hookDetails] of Object.entries(cases)) {
    await t.test(name, async () => {
      const { result, summary } = await runEcs(env, ecsEvent({ hookDetails }));
      assert.deepEqual(result, { hookStatus: 'IN_PROGRESS', callBackDelay: 30, hookDetails: { attempt: 1 } });
      assert.equal(summary.attempt, 1);
    });
  }
});

test('ECS: invalid configuration -> FAILED, never IN_PROGRESS, no requests, error logged', async (t) => {
  const port = await closedPort();
  const good = { TEST_URL: baseUrl, CHECKS: checks({ path: '/' }) };
  const cases = {
    'no TEST_URL': { CHECKS: good.CHECKS },
    'TEST_URL not http(s)': { ...good, TEST_URL: 'ftp://example.com' },
    'CHECKS not json': { ...good, CHECKS: 'not json' },
    'CHECKS empty': { ...good, CHECKS: '[]' },
    'REQUESTS zero': { ...good, REQUESTS: '0' },
    'TIMEOUT_MS fractional': { ...good, TIMEOUT_MS: '1.5' },
    'MAX_ATTEMPTS zero': { ...good, MAX_ATTEMPTS: '0' },
    'MAX_ATTEMPTS not a number': { ...good, MAX_ATTEMPTS: 'three' },
    'MAX_ATTEMPTS negative': { ...good, MAX_ATTEMPTS: '-1' },
    'RETRY_DELAY_SECONDS zero': { ...good, RETRY_DELAY_SECONDS: '0' },
    'RETRY_DELAY_SECONDS fractional': { ...good, RETRY_DELAY_SECONDS: '2.5' },
    'RETRY_DELAY_SECONDS over the hook timeout': { ...good, RETRY_DELAY_SECONDS: String(MAX_CALLBACK_DELAY_SECONDS + 1) },
    // The listener would not answer, yet a broken configuration is no reason to wait.
    'bad MAX_ATTEMPTS, unanswering listener': { TEST_URL: `http://127.0.0.1:${port}`, CHECKS: good.CHECKS, MAX_ATTEMPTS: 'x' },
    'bad RETRY_DELAY_SECONDS, unanswering listener': { TEST_URL: `http://127.0.0.1:${port}`, CHECKS: good.CHECKS, RETRY_DELAY_SECONDS: '-5' },
  };
  for (const [name, env] of Object.entries(cases)) {
    await t.test(name, async () => {
      hits.clear();
      const { result, summary, fetchCalls } = await runEcs(env, ecsEvent({ hookDetails: { attempt: 1 } }));
      assert.deepEqual(result, { hookStatus: 'FAILED' });
      assert.ok(summary.error, 'summary explains the failure');
      assert.equal(summary.checks, 0);
      assert.equal(fetchCalls.length, 0, 'no request sent');
      assert.equal(hits.size, 0);
    });
  }
});

test('ECS: RETRY_DELAY_SECONDS accepts its bounds', async () => {
  const port = await closedPort();
  for (const delay of [1, MAX_CALLBACK_DELAY_SECONDS]) {
    const { result } = await runEcs({ TEST_URL: `http://127.0.0.1:${port}`, CHECKS: checks({ path: '/' }), RETRY_DELAY_SECONDS: String(delay) });
    assert.deepEqual(result, { hookStatus: 'IN_PROGRESS', callBackDelay: delay, hookDetails: { attempt: 1 } });
  }
});

test('ECS: the CodeDeploy SDK is never loaded, even by the production adapter', async () => {
  const handler = createHandler({
    codedeploy: createSdkCodeDeploy(async () => assert.fail('the ECS path loaded the CodeDeploy SDK')),
    env: { TEST_URL: baseUrl, CHECKS: checks({ path: '/' }), REQUESTS: '1' },
    log: () => {},
  });
  assert.deepEqual(await handler(ECS_EVENT), { hookStatus: 'SUCCEEDED' });
  const port = await closedPort();
  const failing = createHandler({
    codedeploy: createSdkCodeDeploy(async () => assert.fail('the ECS path loaded the CodeDeploy SDK')),
    env: { TEST_URL: `http://127.0.0.1:${port}`, CHECKS: checks({ path: '/' }), MAX_ATTEMPTS: '1' },
    log: () => {},
  });
  assert.deepEqual(await failing(ECS_EVENT), { hookStatus: 'FAILED' });
});

test('ECS: the exported handler answers from process.env without CodeDeploy', async (t) => {
  const names = ['TEST_URL', 'CHECKS', 'REQUESTS', 'TIMEOUT_MS', 'MAX_ATTEMPTS', 'RETRY_DELAY_SECONDS'];
  const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));
  t.after(() => {
    for (const n of names) {
      if (saved[n] === undefined) delete process.env[n];
      else process.env[n] = saved[n];
    }
  });
  t.mock.method(console, 'log', () => {});
  Object.assign(process.env, { TEST_URL: baseUrl, CHECKS: checks({ path: '/health' }), REQUESTS: '2' });
  for (const n of ['TIMEOUT_MS', 'MAX_ATTEMPTS', 'RETRY_DELAY_SECONDS']) delete process.env[n];
  assert.deepEqual(await productionHandler(ECS_EVENT), { hookStatus: 'SUCCEEDED' });
  assert.equal(hits.get('/health'), 2);
});

test('ECS: another lifecycle stage -> SUCCEEDED with no request, logged as skipped', async (t) => {
  const stages = ['RECONCILE_SERVICE', 'PRE_SCALE_UP', 'POST_SCALE_UP', 'TEST_TRAFFIC_SHIFT', 'PRE_PRODUCTION_TRAFFIC_SHIFT',
    'PRODUCTION_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT', 'SOME_FUTURE_STAGE'];
  assert.equal(ECS_STAGE, 'POST_TEST_TRAFFIC_SHIFT');
  for (const lifecycleStage of stages) {
    await t.test(lifecycleStage, async () => {
      // The configuration is broken on purpose: a skipped stage never reads it.
      const { result, summary, fetchCalls } = await runEcs({ CHECKS: 'not json' }, ecsEvent({ lifecycleStage }));
      assert.deepEqual(result, { hookStatus: 'SUCCEEDED' });
      assert.equal(fetchCalls.length, 0);
      assert.equal(summary.checks, 0);
      assert.match(summary.skipped, new RegExp(`${lifecycleStage} is not POST_TEST_TRAFFIC_SHIFT`));
    });
  }
  await t.test('rollback payload at PRODUCTION_TRAFFIC_SHIFT', async () => {
    const old = 'arn:aws:ecs:eu-west-1:123456789012:service-revision/shop/web/4711000000000000000';
    const event = ecsEvent({
      lifecycleStage: 'PRODUCTION_TRAFFIC_SHIFT',
      executionDetails: { ...ECS_EVENT.executionDetails, productionTrafficWeights: { [REVISION]: 0, [old]: 100 } },
    });
    const { result, fetchCalls } = await runEcs({ TEST_URL: baseUrl, CHECKS: checks({ path: '/' }) }, event);
    assert.deepEqual(result, { hookStatus: 'SUCCEEDED' });
    assert.equal(fetchCalls.length, 0);
  });
});

test('ECS: events that are not quite the documented hook event throw before any request', async (t) => {
  const { executionDetails } = ECS_EVENT;
  const cases = {
    'no executionDetails': ecsEvent({ executionDetails: undefined }),
    'executionDetails an array': ecsEvent({ executionDetails: [executionDetails] }),
    'executionDetails null': ecsEvent({ executionDetails: null }),
    'no targetServiceRevisionArn': ecsEvent({ executionDetails: { ...executionDetails, targetServiceRevisionArn: undefined } }),
    'empty targetServiceRevisionArn': ecsEvent({ executionDetails: { ...executionDetails, targetServiceRevisionArn: '' } }),
    'no serviceArn': ecsEvent({ executionDetails: { ...executionDetails, serviceArn: undefined } }),
    'no lifecycleStage': ecsEvent({ lifecycleStage: undefined }),
    'lifecycleStage not a string': ecsEvent({ lifecycleStage: ['POST_TEST_TRAFFIC_SHIFT'] }),
    'no executionId': ecsEvent({ executionId: undefined }),
    'flat payload without executionDetails': { ...executionDetails, lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' },
    'scheduled event with a lifecycleStage only': { ...SCHEDULED, lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' },
  };
  for (const [name, event] of Object.entries(cases)) {
    await t.test(name, async () => {
      const { handler, calls } = recordingHandler();
      await assert.rejects(handler(event), /neither a CodeDeploy lifecycle hook .*, an Amazon ECS lifecycle hook/);
      assert.equal(calls.report.length, 0);
      assert.equal(calls.fetch.length, 0);
      assert.equal(JSON.parse(calls.lines.at(-1)).type, 'invalid-event');
    });
  }
});

test('events that mix CodeDeploy ids with ECS hook fields are rejected, whatever else they carry', async (t) => {
  const cases = {
    'ECS event with both CodeDeploy ids': { ...ECS_EVENT, ...EVENT },
    'ECS event with DeploymentId only': { ...ECS_EVENT, DeploymentId: EVENT.DeploymentId },
    'ECS event with an empty LifecycleEventHookExecutionId': { ...ECS_EVENT, LifecycleEventHookExecutionId: '' },
    'CodeDeploy event with lifecycleStage': { ...EVENT, lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' },
    'CodeDeploy event with executionDetails': { ...EVENT, executionDetails: ECS_EVENT.executionDetails },
    'CodeDeploy event with executionId': { ...EVENT, executionId: ECS_EVENT.executionId },
    'scheduled event with both shapes': { ...SCHEDULED, ...EVENT, ...ECS_EVENT },
  };
  for (const [name, event] of Object.entries(cases)) {
    await t.test(name, async () => {
      const { handler, calls } = recordingHandler();
      await assert.rejects(handler(event), /mixes CodeDeploy hook ids .* with Amazon ECS hook fields/);
      assert.equal(calls.report.length, 0, 'nothing reported to CodeDeploy');
      assert.equal(calls.fetch.length, 0, 'no request sent');
      assert.equal(JSON.parse(calls.lines.at(-1)).type, 'invalid-event');
    });
  }
});

test('an ECS hook event that also looks scheduled is still an ECS hook: tested, not reported', async () => {
  const { handler, calls } = recordingHandler();
  const result = await handler({ ...SCHEDULED, ...ECS_EVENT });
  assert.deepEqual(result, { hookStatus: 'SUCCEEDED' });
  assert.equal(calls.fetch.length, 1);
  assert.equal(calls.report.length, 0);
});

test('keep-warm is unaffected by the ECS settings: no request, no report, no answer to ECS', async () => {
  const calls = { report: [], fetch: [], lines: [] };
  const handler = createHandler({
    codedeploy: { async putLifecycleEventHookExecutionStatus(input) { calls.report.push(input); } },
    fetch: async (...args) => { calls.fetch.push(args); return new Response('ok'); },
    env: { TEST_URL: baseUrl, CHECKS: checks({ path: '/' }), MAX_ATTEMPTS: 'x', RETRY_DELAY_SECONDS: '0' },
    log: (line) => calls.lines.push(line),
  });
  const result = await handler(SCHEDULED);
  assert.deepEqual(result, { status: 'Warm', results: [] });
  assert.equal(result.hookStatus, undefined);
  assert.equal(calls.fetch.length, 0);
  assert.equal(calls.report.length, 0);
  assert.equal(JSON.parse(calls.lines[0]).type, 'keep-warm');
});

test('CodeDeploy path ignores the ECS-only settings', async () => {
  const { result } = await run({
    TEST_URL: baseUrl, CHECKS: checks({ path: '/' }), REQUESTS: '1', MAX_ATTEMPTS: 'x', RETRY_DELAY_SECONDS: '0',
  });
  assert.equal(result.status, 'Succeeded');
});
