// Prints, one tab-separated record a line, what the operator scripts
// (scripts/connect.sh, scripts/destroy.sh) need to know about the app's
// stacks, so that the shell scripts parse no JSON themselves.
//
//   node scripts/lib/stacks.js assembly <dir>   from a synthesized cloud assembly
//   node scripts/lib/stacks.js context <file>   from cdk.json, when nothing was synthesized
//
// Records:
//   stack   <construct id> <stack name> <region or ->
//   lb      <construct id> <load balancer name>
//   retain  <construct id> <logical id> <resource type> <literal name or ->
//
// "context" prints only stack records, named as config.StackName names them
// (<project>-<environmentSuffix>-<part>); a synthesized assembly is the
// authority and is preferred whenever there is one.
'use strict';
const fs = require('fs');
const path = require('path');

const ids = { Staging: 'staging', Production: 'production', Pipeline: 'pipeline' };
const fail = (msg) => {
  process.stderr.write(`stacks.js: ${msg}\n`);
  process.exit(2);
};
const readJSON = (file) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    fail(`cannot read ${file}: ${e.message}`);
  }
};
const out = (...fields) => process.stdout.write(fields.join('\t') + '\n');

// The properties that hold a resource's physical name, for the types a
// stack of this app retains; a name CloudFormation generates is printed as "-".
const nameProperty = {
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::ECR::Repository': 'RepositoryName',
};

function assembly(dir) {
  const manifest = readJSON(path.join(dir, 'manifest.json'));
  const artifacts = manifest.artifacts ?? {};
  for (const id of Object.keys(ids)) {
    const a = artifacts[id];
    if (!a || a.type !== 'aws:cloudformation:stack') fail(`${dir}/manifest.json has no stack artifact ${id}`);
    const props = a.properties ?? {};
    const region = (a.environment ?? '').split('/')[3] ?? '';
    out('stack', id, props.stackName ?? id, region && region !== 'unknown-region' ? region : '-');
    const template = readJSON(path.join(dir, props.templateFile ?? `${id}.template.json`));
    const resources = template.Resources ?? {};
    for (const r of Object.values(resources)) {
      if (r.Type === 'AWS::ElasticLoadBalancingV2::LoadBalancer' && typeof r.Properties?.Name === 'string') {
        out('lb', id, r.Properties.Name);
      }
    }
    for (const [logicalId, r] of Object.entries(resources)) {
      if (r.DeletionPolicy !== 'Retain' && r.DeletionPolicy !== 'RetainExceptOnCreate') continue;
      const name = r.Properties?.[nameProperty[r.Type]];
      out('retain', id, logicalId, r.Type, typeof name === 'string' ? name : '-');
    }
  }
}

function context(file) {
  const ctx = readJSON(file).context ?? {};
  const missing = ['project', 'environmentSuffix'].filter((k) => typeof ctx[k] !== 'string' || ctx[k] === '');
  if (missing.length) fail(`${file} sets no ${missing.join(' or ')}; run make synth and retry`);
  const region = typeof ctx.region === 'string' && ctx.region !== '' ? ctx.region : '-';
  for (const [id, part] of Object.entries(ids)) out('stack', id, `${ctx.project}-${ctx.environmentSuffix}-${part}`, region);
}

const [mode, arg] = process.argv.slice(2);
if (mode === 'assembly' && arg) assembly(arg);
else if (mode === 'context' && arg) context(arg);
else fail('usage: stacks.js assembly <cdk.out> | context <cdk.json>');
