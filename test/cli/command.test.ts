import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const COMMAND = path.resolve(__dirname, '..', '..', 'lib', 'cli', 'command.js');

/** Runs a command whose run() is `body`, through runCommand, in a process of its own. */
function runDef(body: string): { code: number | null; stdout: string; stderr: string } {
  const script = `require(${JSON.stringify(COMMAND)}).runCommand({ name: 'x', synopsis: '', summary: '', flags: {}, run: ${body} }, [])`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a command whose work is left waiting on a promise nothing settles fails (exit 3), never passes for success', () => {
  const r = runDef('() => new Promise(() => {})');
  assert.equal(r.code, 3);
  assert.equal(r.stderr, 'cairn-x: internal error: stopped before finishing: work was left waiting on nothing\n');
});

test('a command that finishes exits with its own status, after its output', () => {
  const r = runDef('async () => { process.stdout.write("out\\n"); await new Promise((ok) => setTimeout(ok, 20)); return 1; }');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, '');
});
