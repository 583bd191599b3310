// Smoke test of the new revision through the test listener, for either of two
// blue/green engines. It sends GET requests to TEST_URL while only the test
// listener routes to the new revision, and tells the engine to go on or to
// roll back before production traffic moves. One function serves both; the
// event's shape says which engine is calling.
//
// 1. CodeDeploy ECS blue/green, AfterAllowTestTraffic hook. The event carries
//    DeploymentId and LifecycleEventHookExecutionId; the function reports
//    Succeeded or Failed with codedeploy:PutLifecycleEventHookExecutionStatus
//    (Failed rolls back). Every such invocation reports exactly once, invalid
//    configuration included, so CodeDeploy never waits for the hook to time out.
//
// 2. Amazon ECS native blue/green, Lambda lifecycle hook at the
//    POST_TEST_TRAFFIC_SHIFT stage (the test listener sends all test traffic
//    to the green revision). Contract, from "Lambda hooks for Amazon ECS
//    service deployments"
//    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html
//    and "Lifecycle hooks for Amazon ECS service deployments"
//    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html
//    - Event: executionId, lifecycleStage, resourceArn (the service
//      deployment), executionDetails { serviceArn, targetServiceRevisionArn,
//      testTrafficWeights, productionTrafficWeights } and, when configured on
//      the service or returned by an earlier IN_PROGRESS answer, hookDetails.
//      Recognised by a non-empty string executionId and lifecycleStage and an
//      executionDetails object with non-empty string serviceArn and
//      targetServiceRevisionArn.
//    - Answer: the return value, never a CodeDeploy call (under ECS the
//      function's role has no CodeDeploy permission). { hookStatus } with
//      SUCCEEDED (go on), FAILED (roll back to the last good revision) or
//      IN_PROGRESS (ECS invokes again after callBackDelay seconds, 30 by
//      default, passing back the hookDetails returned, merged into the
//      configured ones). A thrown error or a missing hookStatus also rolls back.
//    - All checks pass: SUCCEEDED. A check answered with a wrong HTTP status:
//      FAILED at once. A check that got no answer (network error, timeout):
//      IN_PROGRESS with callBackDelay RETRY_DELAY_SECONDS and hookDetails
//      { attempt: n }, n being the attempts made so far; the attempt that
//      reaches MAX_ATTEMPTS answers FAILED instead. Invalid configuration:
//      FAILED, never IN_PROGRESS.
//    - ECS also invokes hooks at other stages when a service registers them
//      there (TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT again during a
//      rollback); see ecsHook for why those answer SUCCEEDED untested.
//
// A daily EventBridge scheduled event also invokes the function so that Lambda
// keeps the VPC network interfaces of an otherwise idle function (an Inactive
// function fails its next invocation while they are recreated). That event
// carries no hook fields: it is answered at once, with no request and no report.
// Any other event is an error and throws, before any request; so does an event
// that carries both CodeDeploy hook ids and ECS hook fields, rather than guess
// which contract to answer.
//
// Environment:
//   TEST_URL             base URL of the test listener, e.g. http://my-alb.example.com:8080
//   CHECKS               JSON array of {"path": "/", "status": 200}; no status = any 200-399
//   REQUESTS             requests per check, integer >= 1 (default 5)
//   TIMEOUT_MS           per-request timeout in milliseconds, integer >= 1 (default 3000)
//   MAX_ATTEMPTS         ECS only: invocations that may each find the listener
//                        unanswering before FAILED, integer >= 1 (default 3)
//   RETRY_DELAY_SECONDS  ECS only: callBackDelay of an IN_PROGRESS answer, integer
//                        1-86400 (default 30, ECS's own default; see MAX_CALLBACK_DELAY_SECONDS)

function positiveInt(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`${name} must be an integer >= 1, got ${JSON.stringify(raw)}`);
  }
  return n;
}

// Neither ECS page gives a range for callBackDelay (only the 30 s default and
// a 60 s example). The hook itself times out, though: timeoutConfiguration.
// timeoutInMinutes is 1 to 1,440 and 1,440 (24 h) by default, and ECS takes
// the timeout action (ROLLBACK by default) when no SUCCEEDED or FAILED came
// by then. A longer delay could only ever end in that timeout, so it is refused.
export const MAX_CALLBACK_DELAY_SECONDS = 24 * 60 * 60;

// The ECS path's retry settings, read only there: the CodeDeploy path never
// retries, so these variables cannot change what it does.
export function parseRetryConfig(env) {
  const maxAttempts = positiveInt(env, 'MAX_ATTEMPTS', 3);
  const retryDelaySeconds = positiveInt(env, 'RETRY_DELAY_SECONDS', 30);
  if (retryDelaySeconds > MAX_CALLBACK_DELAY_SECONDS) {
    throw new Error(`RETRY_DELAY_SECONDS must be at most ${MAX_CALLBACK_DELAY_SECONDS}, got ${retryDelaySeconds}`);
  }
  return { maxAttempts, retryDelaySeconds };
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

// Resolves to { result, unanswered }: result is what is logged and returned,
// unanswered is true when the check failed on a request that got no HTTP
// answer at all (the ECS path retries those, never a wrong status).
async function runCheck(fetchFn, config, { path, status: expected }) {
  const accepts = (s) => (expected === undefined ? s >= 200 && s <= 399 : s === expected);
  const result = { path, expected: expected ?? '200-399', requests: 0, ok: true };
  for (let i = 0; i < config.requests; i++) {
    const { status, error } = await probe(fetchFn, config.baseUrl + path, config.timeoutMs);
    result.requests++;
    if (status !== undefined) result.status = status;
    if (error !== undefined || !accepts(status)) {
      return {
        result: { ...result, ok: false, error: error ?? `unexpected status ${status}` },
        unanswered: error !== undefined,
      };
    }
  }
  return { result, unanswered: false };
}

const present = (id) => typeof id === 'string' && id !== '';
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Whether the event carries either CodeDeploy hook id, or any field that
// identifies an ECS hook event: only to refuse events that mix the two.
const CODEDEPLOY_FIELDS = ['DeploymentId', 'LifecycleEventHookExecutionId'];
const ECS_FIELDS = ['executionId', 'lifecycleStage', 'executionDetails'];
const hasAny = (event, fields) => isObject(event) && fields.some((f) => event[f] !== undefined);

function isCodeDeployHook(event) {
  return present(event?.DeploymentId) && present(event?.LifecycleEventHookExecutionId);
}

// The ECS Lambda hook event as lambda-lifecycle-hooks.html documents it.
function isEcsHook(event) {
  const details = event?.executionDetails;
  return (
    isObject(event) &&
    present(event.executionId) &&
    present(event.lifecycleStage) &&
    isObject(details) &&
    present(details.serviceArn) &&
    present(details.targetServiceRevisionArn)
  );
}

// EventBridge's scheduled event, and only when it carries no hook field.
function isKeepWarm(event) {
  return (
    event?.source === 'aws.events' &&
    event?.['detail-type'] === 'Scheduled Event' &&
    !hasAny(event, CODEDEPLOY_FIELDS) &&
    !hasAny(event, ECS_FIELDS)
  );
}

// The stage whose meaning this test has: all test traffic on the new revision.
export const ECS_STAGE = 'POST_TEST_TRAFFIC_SHIFT';

// hookDetails.attempt is the number of attempts already made, as this function
// returned it with IN_PROGRESS. Anything but a positive integer (absent, a
// string, 0, 1.5, a hookDetails that is no object) starts the count afresh.
function attemptOf(hookDetails) {
  const previous = isObject(hookDetails) ? hookDetails.attempt : undefined;
  return Number.isSafeInteger(previous) && previous >= 1 ? previous + 1 : 1;
}

async function ecsHook(event, { fetchFn, env, log }) {
  const { executionId, lifecycleStage, resourceArn } = event;
  const { serviceArn, targetServiceRevisionArn } = event.executionDetails;
  const attempt = attemptOf(event.hookDetails);
  const ids = { engine: 'ecs', executionId, lifecycleStage, targetServiceRevisionArn, attempt };

  // Another stage: SUCCEEDED without a request. The checks only mean something
  // once the test listener sends all test traffic to the new revision; earlier
  // they would test the old revision or nothing. FAILED would be no safer:
  // ECS invokes TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT hooks again
  // during a rollback, where a FAILED answer could only get in the rollback's
  // way, and every other stage already has its own guards (health checks,
  // alarms). The construct registers the hook at POST_TEST_TRAFFIC_SHIFT only,
  // where it always tests; a stage that is not that one is a registration
  // mistake, made visible by the summary line's skipped field.
  if (lifecycleStage !== ECS_STAGE) {
    const hookStatus = 'SUCCEEDED';
    log(JSON.stringify({
      type: 'summary',
      ...ids,
      serviceArn,
      resourceArn,
      hookStatus,
      checks: 0,
      skipped: `stage ${lifecycleStage} is not ${ECS_STAGE}: nothing tested`,
    }));
    return { hookStatus };
  }

  const results = [];
  let hookStatus = 'FAILED';
  let error;
  let retry;
  try {
    const config = parseConfig(env);
    retry = parseRetryConfig(env);
    let unanswered = false;
    for (const check of config.checks) {
      const outcome = await runCheck(fetchFn, config, check);
      results.push(outcome.result);
      log(JSON.stringify({ type: 'check', engine: 'ecs', executionId, attempt, ...outcome.result }));
      if (!outcome.result.ok) {
        unanswered = outcome.unanswered;
        break;
      }
    }
    if (results.every((r) => r.ok)) hookStatus = 'SUCCEEDED';
    else if (unanswered && attempt < retry.maxAttempts) hookStatus = 'IN_PROGRESS';
  } catch (err) {
    // Only configuration errors are expected here; any error answers FAILED
    // (never IN_PROGRESS: waiting cannot fix it).
    hookStatus = 'FAILED';
    error = err?.message ?? String(err);
  }
  const retrying = hookStatus === 'IN_PROGRESS';
  log(JSON.stringify({
    type: 'summary',
    ...ids,
    serviceArn,
    resourceArn,
    maxAttempts: retry?.maxAttempts,
    hookStatus,
    checks: results.length,
    retryInSeconds: retrying ? retry.retryDelaySeconds : undefined,
    error,
  }));
  if (retrying) {
    return { hookStatus, callBackDelay: retry.retryDelaySeconds, hookDetails: { attempt } };
  }
  return { hookStatus };
}

export function createHandler({
  codedeploy,
  fetch: fetchFn = globalThis.fetch,
  env = process.env,
  log = (line) => console.log(line), // looked up per line, so tests can silence it
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
    // Nothing to answer: fail the invocation itself, before any request.
    const invalid = (error) => {
      const keys = event !== null && typeof event === 'object' ? Object.keys(event) : typeof event;
      log(JSON.stringify({ type: 'invalid-event', error, keys }));
      return new Error(error);
    };
    if (hasAny(event, CODEDEPLOY_FIELDS) && hasAny(event, ECS_FIELDS)) {
      throw invalid('event mixes CodeDeploy hook ids (DeploymentId, LifecycleEventHookExecutionId) with Amazon ECS hook fields (executionId, lifecycleStage, executionDetails): refusing to guess which contract to answer');
    }
    if (!isCodeDeployHook(event)) {
      if (isEcsHook(event)) return ecsHook(event, { fetchFn, env, log });
      throw invalid('event is neither a CodeDeploy lifecycle hook (DeploymentId and LifecycleEventHookExecutionId), an Amazon ECS lifecycle hook (executionId, lifecycleStage, executionDetails.serviceArn and executionDetails.targetServiceRevisionArn) nor the scheduled keep-warm event');
    }
    const deploymentId = event.DeploymentId;
    const lifecycleEventHookExecutionId = event.LifecycleEventHookExecutionId;
    const results = [];
    let status = 'Failed';
    let error;
    try {
      const config = parseConfig(env);
      for (const check of config.checks) {
        const { result } = await runCheck(fetchFn, config, check);
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
