import { COMMANDS } from '../cli/commands';
import { EXIT } from '../cli/exit-codes';
import { nearest } from '../cli/suggest';
import { version } from '../cli/version';

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return (
    'usage: cairn COMMAND [ARGS...]   (same as cairn-COMMAND [ARGS...])\n\ncommands:\n' +
    COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n') +
    '\n\ncairn help COMMAND shows a command\'s options; see cairn(7) for the overview.\n'
  );
}

/** `cairn scan ...` runs cairn-scan in this process (no second node start-up). */
export function main(argv: string[] = process.argv.slice(2)): void {
  const [first, ...rest] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic === undefined) {
      process.stdout.write(usage());
      return;
    }
    return dispatch(topic, ['--help']);
  }
  if (first === '--version') {
    process.stdout.write(`cairn ${version()}\n`);
    return;
  }
  dispatch(first, rest);
}

function dispatch(name: string, argv: string[]): void {
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    const guess = nearest(name, COMMANDS.map((c) => c.name));
    process.stderr.write(`cairn: ${name}: unknown command${guess ? ` (did you mean ${guess}?)` : ''}; try cairn help\n`);
    process.exit(EXIT.usage);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(cmd.module) as { main(argv: string[]): unknown }).main(argv);
}
