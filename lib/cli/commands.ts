/**
 * The commands that exist, for `cairn help` and the dispatcher. A command is
 * listed here (and in package.json's bin) only once it really works.
 */
export const COMMANDS: ReadonlyArray<{ name: string; summary: string; module: string }> = [
  { name: 'scan', summary: 'walk a tree and write its entries stream', module: '../cmd/scan' },
  { name: 'diff', summary: 'compare two trees and write a changes stream', module: '../cmd/diff' },
  { name: 'plan', summary: 'turn changes into a plan of actions (--mirror, --copy)', module: '../cmd/plan' },
  { name: 'apply', summary: 'carry out a plan, safely, and write the results', module: '../cmd/apply' },
];
