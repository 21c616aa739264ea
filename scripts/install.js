#!/usr/bin/env node
// make install: copies the built package (dist/lib, bin, package.json and the
// runtime dependencies named by package-lock.json) to LIBDIR, links every
// command into BINDIR and the man pages into MANDIR. No npm at run time.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [libdir, bindir, mandir] = process.argv.slice(2);
if (!libdir || !bindir || !mandir) {
  console.error('usage: install.js LIBDIR BINDIR MANDIR');
  process.exit(2);
}
const top = path.resolve(__dirname, '..');
const pkg = require(path.join(top, 'package.json'));
const lock = require(path.join(top, 'package-lock.json'));

const copy = (rel) => fs.cpSync(path.join(top, rel), path.join(libdir, rel), { recursive: true, dereference: false });

fs.rmSync(libdir, { recursive: true, force: true });
fs.mkdirSync(libdir, { recursive: true });
for (const rel of ['package.json', 'bin', path.join('dist', 'lib')]) copy(rel);
// Runtime dependencies only: package-lock.json marks the others "dev".
for (const [where, info] of Object.entries(lock.packages)) {
  // An optional dependency for another platform is simply not there.
  if (where.startsWith('node_modules/') && !info.dev && fs.existsSync(path.join(top, where))) copy(where);
}
fs.mkdirSync(bindir, { recursive: true });
for (const [name, rel] of Object.entries(pkg.bin)) {
  const link = path.join(bindir, name);
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.relative(bindir, path.join(libdir, rel)), link);
}
for (const page of fs.readdirSync(path.join(top, 'man'))) {
  const section = page.split('.').pop();
  if (!/^[1-8]$/.test(section)) continue;
  const dir = path.join(mandir, `man${section}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(top, 'man', page), path.join(dir, page));
}
console.log(`installed ${Object.keys(pkg.bin).join(' ')} into ${bindir}`);
