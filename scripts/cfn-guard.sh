#!/usr/bin/env bash
# Validates the synthesized templates with cfn-guard against the AWS Control
# Tower proactive-control rules that apply to the resource types they use.
# Every failure must be listed, with its reason, in guard-exceptions.yaml;
# the run fails on any other failure and on any listed exception that no
# longer matches a failure (stale).
#
#   scripts/cfn-guard.sh [template.json ...]   (default: cdk.out/*.template.json)
#
# cfn-guard and the rules come from @cdklabs/cdk-validator-cfnguard in
# package.json (npm ci); its binary is run directly.
set -euo pipefail
cd "$(dirname "$0")/.."

pkg=node_modules/@cdklabs/cdk-validator-cfnguard
rules=$pkg/rules/control-tower/cfn-guard
exceptions=guard-exceptions.yaml

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64 | Linux/amd64) guard=$pkg/bin/ubuntu/x86_64/cfn-guard ;;
  Linux/aarch64 | Linux/arm64) guard=$pkg/bin/ubuntu/aarch64/cfn-guard ;;
  Darwin/arm64) guard=$pkg/bin/macos/aarch64/cfn-guard ;;
  Darwin/x86_64) guard=$pkg/bin/macos/x86_64/cfn-guard ;;
  *) echo "cfn-guard.sh: no cfn-guard binary for $(uname -s)/$(uname -m)" >&2; exit 2 ;;
esac
if [ ! -f "$guard" ] || [ ! -d "$rules" ]; then
  echo "cfn-guard.sh: $pkg is missing; run 'make tools' (npm ci)" >&2
  exit 2
fi
# npm does not always keep the executable bit of a package's binaries.
[ -x "$guard" ] || chmod +x "$guard"

if [ "$#" -eq 0 ]; then
  set -- cdk.out/*.template.json
fi
if [ ! -e "$1" ]; then
  echo "cfn-guard.sh: no templates given; run 'make synth' first" >&2
  exit 2
fi

# The pinned Node.js when installed, else the one on PATH.
node=node_modules/.bin/node
[ -x "$node" ] || node=node

"$guard" --version
exec "$node" - "$guard" "$rules" "$exceptions" "$@" <<'NODE'
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const [guard, rulesDir, exceptionsFile, ...templates] = process.argv.slice(2);
const fail = (msg) => { console.error(`cfn-guard: ${msg}`); process.exit(2); };

// --- the exceptions file: a list of {rule, resources, reason} -------------
// A small reader for the YAML this file uses (a list of maps; flow lists;
// plain, quoted or folded ">-" scalars), so that no YAML package is needed.
function readExceptions(file) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const entries = [];
  let entry = null;
  const scalar = (v) => {
    v = v.trim();
    if (/^".*"$/.test(v)) return JSON.parse(v);
    if (/^'.*'$/.test(v)) return v.slice(1, -1).replace(/''/g, "'");
    return v;
  };
  const flowList = (v, n) => {
    const m = v.trim().match(/^\[(.*)\]$/);
    if (!m) fail(`${file}:${n}: resources must be a list such as ["Stack/LogicalId*"]`);
    return m[1].split(',').map((s) => scalar(s)).filter((s) => s !== '');
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const n = i + 1;
    if (/^\s*(#.*)?$/.test(line)) continue;
    const m = line.match(/^(- |  )([a-z]+):(?:\s+(.*))?$/);
    if (!m) fail(`${file}:${n}: cannot read "${line.trim()}"`);
    if (m[1] === '- ') {
      entry = { line: n };
      entries.push(entry);
    } else if (!entry) {
      fail(`${file}:${n}: a key outside of a list entry`);
    }
    const [key, raw] = [m[2], m[3] ?? ''];
    let value;
    if (raw === '>-' || raw === '>') {
      const folded = [];
      while (i + 1 < lines.length && (/^\s{4,}\S/.test(lines[i + 1]) || /^\s*$/.test(lines[i + 1]) && /^\s{4,}\S/.test(lines[i + 2] ?? ''))) {
        folded.push(lines[++i].trim());
      }
      value = folded.join(' ');
    } else if (key === 'resources') {
      value = flowList(raw, n);
    } else {
      value = scalar(raw);
    }
    if (!['rule', 'resources', 'reason'].includes(key)) fail(`${file}:${n}: unknown key "${key}" (rule, resources, reason)`);
    if (key in entry) fail(`${file}:${n}: "${key}" given twice`);
    entry[key] = value;
  }
  for (const e of entries) {
    if (!e.rule || !/^[\w.-]+\.guard\/\w+$/.test(e.rule)) fail(`${file}:${e.line}: rule must be "<rule file>/<rule name>", got "${e.rule ?? ''}"`);
    if (!e.reason || e.reason.length < 40) fail(`${file}:${e.line}: ${e.rule}: give a reason a reviewer would accept`);
    e.resources = e.resources ?? ['*'];
    e.patterns = e.resources.map((p) => ({
      text: p,
      re: new RegExp('^' + p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*') + '$'),
      used: 0,
    }));
  }
  return entries;
}
const exceptions = readExceptions(exceptionsFile);

// --- the rule files that apply: those naming a resource type in use ---------
const stackOf = (t) => path.basename(t).replace(/\.template\.json$/, '');
const typesInUse = new Set();
for (const t of templates) {
  const doc = JSON.parse(fs.readFileSync(t, 'utf8'));
  for (const r of Object.values(doc.Resources ?? {})) typesInUse.add(r.Type);
}
const ruleFiles = [];
const covered = new Set();
const walk = (dir) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.guard')) {
      // The types a rule checks: those it declares (let X = "AWS::...") or
      // selects (Type == "AWS::..."), not those it only follows references to.
      const text = fs.readFileSync(p, 'utf8');
      const types = [...text.matchAll(/let\s+\w+\s*=\s*"(AWS::\w+::\w+)"/g), ...text.matchAll(/Type\s*==\s*"(AWS::\w+::\w+)"/g)].map((m) => m[1]);
      const used = types.filter((t) => typesInUse.has(t));
      used.forEach((t) => covered.add(t));
      // A rule file that names no type cannot be matched to one: run it.
      if (used.length > 0 || types.length === 0) ruleFiles.push(p);
    }
  }
};
walk(rulesDir);
if (ruleFiles.length === 0) fail(`no rule file in ${rulesDir} applies to ${[...typesInUse].join(', ')}`);
const uncovered = [...typesInUse].filter((t) => t.startsWith('AWS::') && !covered.has(t) && t !== 'AWS::CDK::Metadata').sort();

// --- run every rule file over every template --------------------------------
const counts = { PASS: 0, FAIL: 0, SKIP: 0 };
const failures = []; // {key, stack, logicalId, message}
for (const file of ruleFiles) {
  const args = ['validate', '--structured', '--show-summary', 'none', '--output-format', 'json', '--rules', file];
  for (const t of templates) args.push('--data', t);
  const run = spawnSync(guard, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  // cfn-guard exits 0 when every rule passes or is skipped, 19 on a failure.
  if (run.status !== 0 && run.status !== 19) {
    fail(`${path.relative(rulesDir, file)}: cfn-guard exited ${run.status ?? run.signal}: ${run.stderr || run.stdout}`);
  }
  let results;
  try {
    results = JSON.parse(run.stdout);
  } catch (e) {
    fail(`${path.relative(rulesDir, file)}: unreadable cfn-guard output: ${e.message}`);
  }
  for (const result of results) {
    const stack = stackOf(result.name);
    const status = result.not_compliant.length ? 'FAIL' : result.compliant.length ? 'PASS' : 'SKIP';
    counts[status]++;
    for (const nc of result.not_compliant) {
      const rule = nc.Rule?.name ?? 'unknown';
      const text = JSON.stringify(nc);
      const ids = new Set([...text.matchAll(/\/Resources\/([A-Za-z0-9]+)/g)].map((m) => m[1]));
      if (ids.size === 0) ids.add('(template)');
      const message = (text.match(/\[CT\.[A-Z0-9.]+\]:[^\\]*/) ?? [''])[0];
      for (const id of ids) failures.push({ key: `${path.basename(file)}/${rule}`, stack, logicalId: id, message });
    }
  }
}

// --- hold the failures against the exceptions ---------------------------------
const unexpected = [];
let excepted = 0;
for (const f of failures) {
  const target = `${f.stack}/${f.logicalId}`;
  let matched = false;
  for (const e of exceptions) {
    if (e.rule !== f.key) continue;
    for (const p of e.patterns) {
      if (p.re.test(target)) {
        p.used++;
        matched = true;
      }
    }
  }
  if (matched) excepted++;
  else unexpected.push(f);
}
const stale = [];
for (const e of exceptions) {
  for (const p of e.patterns) if (p.used === 0) stale.push(`${e.rule} ${p.text} (${exceptionsFile}:${e.line})`);
}

const dirs = [...new Set(ruleFiles.map((f) => path.relative(rulesDir, path.dirname(f))))].sort();
console.log(`cfn-guard: ${ruleFiles.length} Control Tower rule files (${dirs.join(', ')})`);
console.log(`cfn-guard: ${templates.length} templates (${templates.map(stackOf).join(', ')})`);
if (uncovered.length) console.log(`cfn-guard: no Control Tower rules for ${uncovered.join(', ')}`);
console.log(`cfn-guard: ${counts.PASS + counts.FAIL + counts.SKIP} checks (rule file x template): ${counts.PASS} pass, ${counts.FAIL} fail, ${counts.SKIP} not applicable`);
console.log(`cfn-guard: ${failures.length} failing resources, ${excepted} excepted by ${exceptions.length} entries of ${exceptionsFile}`);
for (const e of exceptions) {
  const n = e.patterns.reduce((s, p) => s + p.used, 0);
  console.log(`  excepted  ${e.rule}  ${e.resources.join(' ')}  (${n})`);
}
for (const f of unexpected) {
  console.error(`  FAIL      ${f.key}  ${f.stack}/${f.logicalId}\n            ${f.message}`);
}
for (const s of stale) console.error(`  STALE     ${s}: matches no failure; remove it`);
if (unexpected.length || stale.length) {
  console.error(`cfn-guard: ${unexpected.length} failures not in ${exceptionsFile}, ${stale.length} stale exceptions`);
  process.exit(1);
}
console.log('cfn-guard: no failures beyond the listed exceptions');
NODE
