// CodeDeploy ECS blue/green AfterAllowTestTraffic hook: while only the test
// listener routes to the new task set, send GET requests to it and report
// Succeeded or Failed (Failed rolls back before production traffic moves).
// Every hook invocation reports exactly once, invalid configuration included,
// so CodeDeploy never waits for the hook to time out.
//
// A daily EventBridge scheduled event also invokes the function so that Lambda
// keeps the VPC network interfaces of an otherwise idle function (an Inactive
// function fails its next invocation while they are recreated). That event
// carries no hook ids: it is answered at once, with no request and no report.
// Any other event without the hook ids is an error and throws.
//
// Environment:
//   TEST_URL    base URL of the test listener, e.g. http://my-alb.example.com:8080
//   CHECKS      JSON array of {"path": "/", "status": 200}; no status = any 200-399
//   REQUESTS    requests per check, integer >= 1 (default 5)
//   TIMEOUT_MS  per-request timeout in milliseconds, integer >= 1 (default 3000)

function positiveInt(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`${name} must be an integer >= 1, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function parseChecks(raw) {
  let checks;
  try {
    checks = JSON.parse(raw ?? '');
  } catch {
    throw new Error('CHECKS is not valid JSON');
  }
  if (!Array.isArray(checks) || checks.length === 0) {
    throw new Error('CHECKS must be a non-empty JSON array');
  }
  return checks.map((check, i) => {
    const { path, status } = check ?? {};
    if (typeof path !== 'string') throw new Error(`CHECKS[${i}].path must be a string`);
    if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
      throw new Error(`CHECKS[${i}].status must be an HTTP status code`);
    }
    return { path: path.startsWith('/') ? path : `/${path}`, status };
  });
}

export function parseConfig(env) {
  const url = URL.parse(env.TEST_URL ?? '');
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new Error('TEST_URL must be an absolute http(s) URL');
  }
  return {
    baseUrl: url.href.replace(/\/+$/, ''),
    checks: parseChecks(env.CHECKS),
    requests: positiveInt(env, 'REQUESTS', 5),
    timeoutMs: positiveInt(env, 'TIMEOUT_MS', 3000),
  };
}

// One GET without following redirects; the body is cancelled so the connection
// is released. Resolves to { status } or { error }, never rejects.
async function probe(fetchFn, url, timeoutMs) {
  try {
    const res = await fetchFn(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel().catch(() => {});
    return { status: res.status };
  } catch (err) {
    if (err?.name === 'TimeoutError') return { error: `timeout after ${timeoutMs} ms` };
    return { error: err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(err) };
  }
}

async function runCheck(fetchFn, config, { path, status: expected }) {
  const accepts = (s) => (expected === undefined ? s >= 200 && s <= 399 : s === expected);
  const result = { path, expected: expected ?? '200-399', requests: 0, ok: true };
  for (let i = 0; i < config.requests; i++) {
    const { status, error } = await probe(fetchFn, config.baseUrl + path, config.timeoutMs);
    result.requests++;
    if (status !== undefined) result.status = status;
    if (error !== undefined || !accepts(status)) {
      return { ...result, ok: false, error: error ?? `unexpected status ${status}` };
    }
  }
  return result;
}

// EventBridge's scheduled event, and only when it carries neither hook id.
function isKeepWarm(event) {
  return (
    event?.source === 'aws.events' &&
    event?.['detail-type'] === 'Scheduled Event' &&
    event?.DeploymentId === undefined &&
    event?.LifecycleEventHookExecutionId === undefined
  );
}

const present = (id) => typeof id === 'string' && id !== '';

export function createHandler({
  codedeploy,
  fetch: fetchFn = globalThis.fetch,
  env = process.env,
  log = console.log,
} = {}) {
  return async (event) => {
    if (isKeepWarm(event)) {
      log(JSON.stringify({
        type: 'keep-warm',
        message: 'scheduled invocation: stayed warm, nothing tested or reported',
        rule: event.resources?.[0],
        time: event.time,
      }));
      return { status: 'Warm', results: [] };
    }
    const deploymentId = event?.DeploymentId;
    const lifecycleEventHookExecutionId = event?.LifecycleEventHookExecutionId;
    if (!present(deploymentId) || !present(lifecycleEventHookExecutionId)) {
      // Nothing to report to: fail the invocation itself, before any request.
      const error = 'event is neither a CodeDeploy lifecycle hook (DeploymentId and LifecycleEventHookExecutionId) nor the scheduled keep-warm event';
      const keys = event !== null && typeof event === 'object' ? Object.keys(event) : typeof event;
      log(JSON.stringify({ type: 'invalid-event', error, keys }));
      throw new Error(error);
    }
    const results = [];
    let status = 'Failed';
    let error;
    try {
      const config = parseConfig(env);
      for (const check of config.checks) {
        const result = await runCheck(fetchFn, config, check);
        results.push(result);
        log(JSON.stringify({ type: 'check', deploymentId, ...result }));
        if (!result.ok) break;
      }
      if (results.every((r) => r.ok)) status = 'Succeeded';
    } catch (err) {
      error = err?.message ?? String(err);
    }
    log(JSON.stringify({ type: 'summary', deploymentId, status, checks: results.length, error }));
    try {
      await codedeploy.putLifecycleEventHookExecutionStatus({
        deploymentId,
        lifecycleEventHookExecutionId,
        status,
      });
    } catch (err) {
      log(JSON.stringify({
        type: 'report-error',
        deploymentId,
        status,
        error: err?.message ?? String(err),
        attempts: err?.$metadata?.attempts,
      }));
      throw err;
    }
    return { status, results };
  };
}

// Production adapter. The SDK ships with the nodejs22.x runtime and is loaded on
// first use only, so tests never need it.
//
// The report is the one call that must get through: the client retries
// throttling and transient failures (5xx, timeouts, connection resets) with
// the SDK's standard strategy, exponential backoff with full jitter, up to
// REPORT_MAX_ATTEMPTS attempts in all (the SDK default is 3). Errors that
// retrying cannot fix, such as AccessDenied or a validation error, are thrown
// after the first attempt. Three throttled retries back off at most 3.5 s in
// all (7 s with the SDK's newer 1 s throttling base), well inside the 30 s
// the function's timeout keeps beyond the smoke requests.
export const REPORT_MAX_ATTEMPTS = 4;

export function createSdkCodeDeploy(loadSdk = () => import('@aws-sdk/client-codedeploy')) {
  let sdk;
  let client;
  return {
    async putLifecycleEventHookExecutionStatus(input) {
      sdk ??= await loadSdk();
      client ??= new sdk.CodeDeployClient({ maxAttempts: REPORT_MAX_ATTEMPTS, retryMode: 'standard' });
      return client.send(new sdk.PutLifecycleEventHookExecutionStatusCommand(input));
    },
  };
}

export const handler = createHandler({ codedeploy: createSdkCodeDeploy() });
