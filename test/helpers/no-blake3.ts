import Module = require('node:module');

/*
 * Preloaded by tests (NODE_OPTIONS=--require) to make a machine for which
 * @napi-rs/blake-hash has no build: neither it nor any of its platform
 * packages can be found.
 */
const M = Module as unknown as { _resolveFilename: (this: unknown, request: string, ...rest: unknown[]) => string };
const resolve = M._resolveFilename;
M._resolveFilename = function (request: string, ...rest: unknown[]): string {
  if (request.startsWith('@napi-rs/blake-hash')) throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
