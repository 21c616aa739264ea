import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { records, sh } from './run';

/** A string quoted for sh. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** diff | plan --mirror | apply, returning the plan's actions and the pipeline's exit code. */
export function mirror(src: string, dst: string, planFlags = '--max-delete=off'): { actions: Record<string, unknown>[]; code: number | null; stderr: string } {
  const plan = path.join(path.dirname(dst), 'plan.ndjson');
  const r = sh(`set -o pipefail; cairn-diff ${q(src)} ${q(dst)} | cairn-plan --mirror ${planFlags} > ${q(plan)} && cairn-apply ${q(plan)} > /dev/null`);
  const actions = records(fs.readFileSync(plan, 'utf8')).filter((x) => typeof x.op === 'string');
  return { actions, code: r.code, stderr: r.stderr };
}

/** What rsync, the oracle, still finds to do: nothing after a good mirror. */
export function rsyncSays(src: string, dst: string): string {
  const r = sh(`rsync -aniH --delete --checksum ${q(src)}/ ${q(dst)}/`);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

