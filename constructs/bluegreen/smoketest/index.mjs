// CodeDeploy ECS blue/green AfterAllowTestTraffic hook: while only the test
// listener routes to the new task set, send GET requests to it and report
// Succeeded or Failed (Failed rolls back before production traffic moves).
// Every invocation reports exactly once, invalid configuration included, so
// CodeDeploy never waits for the hook to time out.
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

export function createHandler({
  codedeploy,
  fetch: fetchFn = globalThis.fetch,
  env = process.env,
  log = console.log,
} = {}) {
  return async (event) => {
    const deploymentId = event?.DeploymentId;
    const lifecycleEventHookExecutionId = event?.LifecycleEventHookExecutionId;
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
      log(JSON.stringify({ type: 'report-error', deploymentId, status, error: err?.message ?? String(err) }));
      throw err;
    }
    return { status, results };
  };
}

// Production adapter. The SDK ships with the nodejs22.x runtime and is loaded on
// first use only, so tests never need it.
let client;
const sdkCodeDeploy = {
  async putLifecycleEventHookExecutionStatus(input) {
    const sdk = await import('@aws-sdk/client-codedeploy');
    client ??= new sdk.CodeDeployClient({});
    return client.send(new sdk.PutLifecycleEventHookExecutionStatusCommand(input));
  },
};

export const handler = createHandler({ codedeploy: sdkCodeDeploy });
