/**
 * The measuring half of bench/run.sh: run.sh says what to compare, this
 * times it.
 *
 *   node dist/bench/measure.js group --runs N --warmup W --timer hyperfine|own --log PREFIX KEY=CMD...
 *       Each CMD is one string, split into words like hyperfine -N does (quotes
 *       and backslashes, no shell); KEY names it in the output. Every command is first run once on its own
 *       with output to /dev/null: that warms the cache (run.sh passes
 *       --warmup 0 for that reason) and finds commands that fail, which are
 *       left out (a failing reference must not sink the group). The rest are timed in one go, so all figures come from the
 *       same run: by `hyperfine -N --warmup W --runs N --export-json
 *       PREFIX.json` (its report goes to PREFIX.txt), or by the loop below,
 *       which runs W warm-ups per command and then N rounds taking each
 *       command in turn, so a noisy neighbour slows all of them alike.
 *       Prints one line per command, in order: `KEY ok MEDIAN_SECONDS` or
 *       `KEY error WHY`.
 *       --prepare CMD (split the same way) runs, untimed, before every run of
 *       every command, the first one included (hyperfine --prepare): for
 *       commands that need a fresh destination each time. --no-first-run
 *       skips the first run on its own, when run.sh has already run and
 *       checked the commands (a 40 s first mirror need not run twice); the
 *       own loop then leaves out, from that round on, a command that fails.
 *
 *   node dist/bench/measure.js rss --via gnu-time|proc --runs N CMD
 *       Runs CMD N times (output to /dev/null) and prints the medians of its
 *       peak RSS and wall time, then the smallest and largest peak:
 *       `KIB SECONDS MIN_KIB MAX_KIB`. Peak RSS is read
 *       by `/usr/bin/time -f '%M %e'` (exact: the kernel's ru_maxrss), or by
 *       polling VmHWM in /proc/PID/status every 5 ms while it runs (the
 *       high-water mark only grows, so the last reading misses at most the
 *       last few ms).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Splits a command line the way hyperfine -N does: quotes and backslashes, no expansion. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      inWord = true;
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && '"\\$`'.includes(line[i + 1] ?? '')) i++;
        word += line[i];
      }
      if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function median(xs: readonly number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs argv with output to /dev/null; the wall time in seconds, or why it failed. */
function runOnce(argv: readonly string[], prepare?: readonly string[]): number | string {
  if (prepare !== undefined) {
    const p = spawnSync(prepare[0]!, prepare.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    if (p.error || p.status !== 0) return `--prepare ${prepare.join(' ')}: ${p.error?.message ?? `exit ${p.status ?? p.signal}: ${p.stderr.toString().trim().split('\n').pop() ?? ''}`}`;
  }
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 24 });
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) return `${argv[0]}: ${r.error.message}`;
  if (r.status !== 0) {
    const why = (r.stderr?.toString('utf8') ?? '').split('\n').filter((l) => l.trim() !== '').pop() ?? '';
    return `exit ${r.status ?? r.signal}${why ? `: ${why.slice(0, 160)}` : ''}`;
  }
  return dt;
}

interface Options {
  runs: number;
  warmup: number;
  timer: 'hyperfine' | 'own';
  log: string;
  prepare: string | undefined;
  firstRun: boolean;
  keys: string[];
  commands: string[];
}

function parseGroup(args: readonly string[]): Options {
  const o: Options = { runs: 5, warmup: 1, timer: 'own', log: '', prepare: undefined, firstRun: true, keys: [], commands: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--runs') o.runs = Number(args[++i]);
    else if (a === '--warmup') o.warmup = Number(args[++i]);
    else if (a === '--timer') o.timer = args[++i] === 'hyperfine' ? 'hyperfine' : 'own';
    else if (a === '--log') o.log = args[++i] ?? '';
    else if (a === '--prepare') o.prepare = args[++i];
    else if (a === '--no-first-run') o.firstRun = false;
    else {
      const m = /^(\w+)=(.+)$/s.exec(a);
      if (!m) throw new Error(`expected KEY=COMMAND, got ${JSON.stringify(a)}`);
      o.keys.push(m[1]!);
      o.commands.push(m[2]!);
    }
  }
  if (!(o.runs >= 1) || !(o.warmup >= 0) || o.log === '' || o.commands.length === 0) {
    throw new Error('usage: measure.js group --runs N --warmup W --timer hyperfine|own --log PREFIX [--prepare CMD] [--no-first-run] KEY=CMD...');
  }
  return o;
}

function withHyperfine(o: Options, commands: readonly string[]): number[] {
  const json = `${o.log}.json`;
  const out = fs.openSync(`${o.log}.txt`, 'w');
  const prepare = o.prepare !== undefined ? ['--prepare', o.prepare] : [];
  const args = ['-N', '--style', 'basic', '--runs', String(o.runs), '--warmup', String(o.warmup), ...prepare, '--export-json', json, ...commands];
  const r = spawnSync('hyperfine', args, { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (r.error || r.status !== 0) throw new Error(`hyperfine failed (exit ${r.status ?? r.error?.message}); see ${o.log}.txt`);
  const data = JSON.parse(fs.readFileSync(json, 'utf8')) as { results: { median: number }[] };
  return data.results.map((x) => x.median);
}

/** The median time of each command, or why it failed (a failing command is left out of later rounds). */
function withOwnLoop(o: Options, commands: readonly string[]): (number | string)[] {
  const argvs = commands.map(splitWords);
  const prepare = o.prepare !== undefined ? splitWords(o.prepare) : undefined;
  const failed: (string | undefined)[] = commands.map(() => undefined);
  const times: number[][] = argvs.map(() => []);
  const once = (k: number, timed: boolean): void => {
    if (failed[k] !== undefined) return;
    const t = runOnce(argvs[k]!, prepare);
    if (typeof t === 'string') failed[k] = t;
    else if (timed) times[k]!.push(t);
  };
  argvs.forEach((_, k) => {
    for (let w = 0; w < o.warmup; w++) once(k, false);
  });
  for (let r = 0; r < o.runs; r++) argvs.forEach((_, k) => once(k, true));
  const results = commands.map((command, k) => ({ command, median: failed[k] === undefined ? median(times[k]!) : null, failed: failed[k] ?? null, times: times[k]! }));
  fs.writeFileSync(`${o.log}.json`, JSON.stringify({ prepare: o.prepare ?? null, results }, null, 2));
  fs.writeFileSync(
    `${o.log}.txt`,
    (o.prepare !== undefined ? `prepare (untimed, before every run): ${o.prepare}\n` : '') +
      results
        .map((x) => `${x.command}\n  ${x.median !== null ? `median ${x.median.toFixed(4)} s` : `FAILED: ${x.failed}`}  runs ${x.times.map((t) => t.toFixed(4)).join(' ')}\n`)
        .join(''),
  );
  return results.map((x, k) => x.median ?? `${commands[k]}: ${x.failed}`);
}

function group(args: readonly string[]): void {
  const o = parseGroup(args);
  const prepare = o.prepare !== undefined ? splitWords(o.prepare) : undefined;
  const status = o.commands.map((c) => (o.firstRun ? runOnce(splitWords(c), prepare) : 0));
  const ok = o.commands.filter((_, k) => typeof status[k] === 'number');
  let medians: (number | string)[] = [];
  let failure = '';
  if (ok.length > 0) {
    try {
      if (o.timer === 'hyperfine') {
        try {
          medians = withHyperfine(o, ok);
        } catch (err) {
          // An old hyperfine (no -N before 1.13) should not lose the run: time it ourselves.
          process.stderr.write(`bench/measure: ${(err as Error).message}; timing with the own loop instead\n`);
          medians = withOwnLoop(o, ok);
        }
      } else medians = withOwnLoop(o, ok);
    } catch (err) {
      failure = (err as Error).message;
    }
  }
  let j = 0;
  status.forEach((s, k) => {
    const key = o.keys[k]!;
    if (typeof s === 'string') process.stdout.write(`${key} error ${s}\n`);
    else if (failure) process.stdout.write(`${key} error ${failure}\n`);
    else {
      const m = medians[j++]!;
      process.stdout.write(typeof m === 'number' ? `${key} ok ${m}\n` : `${key} error ${m.replace(/\s+/g, ' ').slice(0, 300)}\n`);
    }
  });
}

function hwm(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function rssByProc(argv: readonly string[]): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    let peak = 0;
    const timer = setInterval(() => {
      const kb = child.pid !== undefined ? hwm(child.pid) : undefined;
      if (kb !== undefined && kb > peak) peak = kb;
    }, 5);
    child.on('error', (err) => {
      clearInterval(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) reject(new Error(`exit ${code ?? signal}: ${argv.join(' ')}`));
      else if (peak === 0) reject(new Error(`no reading of /proc/PID/status (ran too briefly?): ${argv.join(' ')}`));
      else resolve([peak, seconds]);
    });
  });
}

function rssByGnuTime(argv: readonly string[]): [number, number] {
  const out = path.join(os.tmpdir(), `cairn-bench-time.${process.pid}`);
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%M %e', '-o', out, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`exit ${r.status ?? r.signal}: ${argv.join(' ')}: ${r.stderr.toString().trim().split('\n').pop() ?? ''}`);
    const m = /^(\d+) ([\d.]+)\s*$/m.exec(fs.readFileSync(out, 'utf8'));
    if (!m) throw new Error(`/usr/bin/time wrote no "%M %e" line`);
    return [Number(m[1]), Number(m[2])];
  } finally {
    fs.rmSync(out, { force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const [what, ...rest] = argv;
  if (what === 'group') group(rest);
  else if (what === 'rss' && rest[0] === '--via' && rest[2] === '--runs' && Number(rest[3]) >= 1 && rest.length === 5) {
    const cmd = splitWords(rest[4]!);
    const kib: number[] = [];
    const secs: number[] = [];
    for (let r = 0; r < Number(rest[3]); r++) {
      const [k, t] = rest[1] === 'gnu-time' ? rssByGnuTime(cmd) : await rssByProc(cmd);
      kib.push(k);
      secs.push(t);
    }
    process.stdout.write(`${median(kib)} ${median(secs)} ${Math.min(...kib)} ${Math.max(...kib)}\n`);
  } else throw new Error('usage: measure.js group --runs N --warmup W --timer hyperfine|own --log PREFIX KEY=CMD... | rss --via gnu-time|proc --runs N CMD');
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`bench/measure: ${err.message}\n`);
  process.exit(1);
});
