/**
 * The commands that exist, for `cairn help` and the dispatcher. A command is
 * listed here (and in package.json's bin) only once it really works.
 */
export const COMMANDS: ReadonlyArray<{ name: string; summary: string; module: string }> = [
  { name: 'scan', summary: 'walk a tree and write its entries stream', module: '../cmd/scan' },
];
