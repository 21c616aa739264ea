import mri from 'mri';
import { UsageError } from './errors';
import { nearest } from './suggest';

export type FlagType = 'boolean' | 'string' | 'list';

export interface FlagDef {
  readonly type: FlagType;
  /** One-letter alias, without the dash. */
  readonly short?: string;
  /** Name of the value in --help, e.g. GLOB. */
  readonly arg?: string;
  readonly help: string;
  /** A string flag whose value is optional: this is its value when given bare (`--checksum` vs `--checksum=all`). */
  readonly optional?: string;
  /** A flag users reach for that this command must not take: refused with this reason, not listed in --help. */
  readonly refused?: string;
}

export type FlagSpec = Readonly<Record<string, FlagDef>>;

export type FlagValues<S extends FlagSpec> = {
  -readonly [K in keyof S]: S[K]['type'] extends 'boolean'
    ? boolean
    : S[K]['type'] extends 'list'
      ? string[]
      : string | undefined;
};

export interface Parsed<S extends FlagSpec> {
  flags: FlagValues<S>;
  /** Flags that appeared on the command line (also as --no-NAME), for defaults that depend on it. */
  given: ReadonlySet<string>;
  /** Positional arguments; `-` is kept as `-` (stdin). */
  args: string[];
}

/** Flags every command understands. */
export const COMMON_FLAGS = {
  help: { type: 'boolean', short: 'h', help: 'show a summary of usage and exit' },
  version: { type: 'boolean', help: 'show the version and exit' },
  debug: { type: 'boolean', help: 'print stack traces with errors' },
} as const satisfies FlagSpec;

// mri drops a bare "-" (DESIGN.md traps), and reads `--name=` as "take the next
// word", so both travel under names no real value can have.
const STDIN = '\u0000stdin';
const EMPTY = '\u0000empty';
const encode = (v: string) => (v === '-' ? STDIN : v === '' ? EMPTY : v);
const decode = (v: string) => (v === STDIN ? '-' : v === EMPTY ? '' : v);

/**
 * Parse argv against a spec. Everything is normalised to `--name=value` before
 * mri sees it: that sidesteps mri's habit of swallowing the word after a
 * boolean flag and of casting numeric-looking values, and lets us report a
 * missing value or an unknown flag as one clear line.
 */
export function parseFlags<S extends FlagSpec>(argv: readonly string[], spec: S): Parsed<S> {
  const byShort = new Map<string, string>();
  for (const [name, def] of Object.entries(spec)) if (def.short) byShort.set(def.short, name);
  const names = Object.keys(spec).filter((n) => !spec[n]!.refused);

  const normal: string[] = [];
  const given = new Set<string>();
  let i = 0;
  const takeValue = (flag: string): string => {
    const next = argv[i + 1];
    if (next === undefined || (next.startsWith('-') && next !== '-')) {
      throw new UsageError(flag, 'option needs a value');
    }
    i++;
    return encode(next);
  };
  for (; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') {
      normal.push(...argv.slice(i));
      break;
    }
    if (tok === '-') {
      normal.push(STDIN);
      continue;
    }
    if (!tok.startsWith('-')) {
      normal.push(tok);
      continue;
    }
    if (tok.startsWith('--')) {
      const eq = tok.indexOf('=');
      let name = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
      let def = spec[name];
      let negated = false;
      if (!def && name.startsWith('no-') && spec[name.slice(3)]?.type === 'boolean') {
        name = name.slice(3);
        def = spec[name];
        negated = true;
      }
      if (!def) throw unknownFlag(`--${name}`, names);
      if (def.refused) throw new UsageError(`--${name}`, def.refused);
      given.add(name);
      if (def.type === 'boolean') {
        let value = !negated;
        if (eq >= 0) {
          const v = tok.slice(eq + 1);
          if (negated || (v !== 'true' && v !== 'false')) throw new UsageError(`--${name}`, 'option takes no value');
          value = v === 'true';
        }
        normal.push(`--${name}=${value}`);
      } else {
        const value = eq >= 0 ? encode(tok.slice(eq + 1)) : def.optional !== undefined ? def.optional : takeValue(`--${name}`);
        normal.push(`--${name}=${value}`);
      }
      continue;
    }
    // A cluster of short flags: -hv, or -x VALUE with the valued flag last.
    const letters = tok.slice(1);
    for (let k = 0; k < letters.length; k++) {
      const name = byShort.get(letters[k]!);
      if (!name) throw unknownFlag(`-${letters[k]}`, names);
      given.add(name);
      if (spec[name]!.type === 'boolean') {
        normal.push(`--${name}=true`);
      } else if (spec[name]!.optional !== undefined) {
        normal.push(`--${name}=${spec[name]!.optional}`);
      } else {
        if (k !== letters.length - 1) throw new UsageError(`-${letters[k]}`, 'option needs a value');
        normal.push(`--${name}=${takeValue(`-${letters[k]}`)}`);
      }
    }
  }

  const alias: Record<string, string[]> = {};
  const string: string[] = [];
  const boolean: string[] = [];
  for (const [name, def] of Object.entries(spec)) {
    alias[name] = [];
    (def.type === 'boolean' ? boolean : string).push(name);
  }
  const out = mri(normal, {
    alias,
    string,
    boolean,
    unknown: (flag: string) => {
      throw unknownFlag(flag, names);
    },
  });

  const flags: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(spec)) {
    const raw = out[name] as unknown;
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    if (def.type === 'boolean') flags[name] = list.length ? Boolean(list[list.length - 1]) : false;
    else if (def.type === 'list') flags[name] = list.map((v) => decode(String(v)));
    else flags[name] = list.length ? decode(String(list[list.length - 1])) : undefined;
  }
  const args = (out._ as unknown[]).map((v) => decode(String(v)));
  return { flags: flags as FlagValues<S>, given, args };
}

function unknownFlag(flag: string, names: readonly string[]): UsageError {
  const bare = flag.replace(/^-+/, '');
  const guess = nearest(bare, names);
  return new UsageError(flag, guess ? `unknown option (did you mean --${guess}?)` : 'unknown option');
}

/** Usage text for the flags of a spec, one per line, aligned. */
export function describeFlags(spec: FlagSpec): string {
  const rows = Object.entries(spec).filter(([, def]) => !def.refused).map(([name, def]) => {
    const value = def.arg ? (def.optional !== undefined ? `[=${def.arg}]` : ` ${def.arg}`) : '';
    const left = `${def.short ? `-${def.short}, ` : '    '}--${name}${value}`;
    return [left, def.help] as const;
  });
  const width = Math.min(32, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([l, h]) => `  ${l.padEnd(width)}${h}`).join('\n');
}
