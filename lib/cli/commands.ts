/**
 * The commands that exist, for `cairn help` and the dispatcher. A command is
 * listed here (and in package.json's bin) only once it really works.
 */
export const COMMANDS: ReadonlyArray<{ name: string; summary: string; module: string }> = [
  { name: 'scan', summary: 'walk a tree and write its entries stream', module: '../cmd/scan' },
  { name: 'diff', summary: 'compare two trees and write a changes stream', module: '../cmd/diff' },
  { name: 'plan', summary: 'turn changes into a plan of actions (--mirror, --copy, --bisync), or entries into the next archive volume (--archive)', module: '../cmd/plan' },
  { name: 'apply', summary: 'carry out a plan, safely, and write the results; lay an archive volume out as a directory', module: '../cmd/apply' },
  { name: 'pack', summary: 'write an archive volume (or an entries stream) as a pax tar', module: '../cmd/pack' },
  { name: 'graft', summary: 'print the graft-points list of an archive volume for xorriso or genisoimage', module: '../cmd/graft' },
  { name: 'restore', summary: 'restore, safely, from tar streams, archive media with their catalog, or a mirror', module: '../cmd/restore' },
];
