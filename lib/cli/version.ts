import * as fs from 'node:fs';
import * as path from 'node:path';

let cached: string | undefined;

/** The package version, read once from package.json next to dist/. */
export function version(): string {
  if (cached === undefined) {
    const file = path.join(__dirname, '..', '..', '..', 'package.json');
    cached = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return cached;
}
