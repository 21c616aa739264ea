/*
 * The addon cairn builds with make (dist/lib/native/cairn.node): the walk's
 * lister (dirstat.c), the batch reader of small files (read-files.c) and
 * the line matcher of re-scans (match-lines.c).
 * lib/native/addon.ts loads it; without it every caller uses Node's calls.
 */
#include "napi-util.h"

static napi_value init(napi_env env, napi_value exports) {
  dirstat_register(env, exports);
  read_files_register(env, exports);
  match_lines_register(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
