/*
 * The fast path of `cairn-scan --reuse` (lib/scan/match-lines.ts holds the
 * same in JavaScript, and says what it is for): walks this scan's lines,
 * as the UTF-16 code units of a JavaScript string, and PREV's, as UTF-8
 * bytes, side by side while each PREV line is this scan's line, with a hex
 * hash and the file's ctime (given as numbers, written here as the records
 * write times) before its closing brace where the line is a file's.
 * Comparing UTF-16 with UTF-8 here costs less than making UTF-8 of the
 * string (0.03 s of a 100k-file re-scan: V8 writes a string as UTF-16 five
 * times faster), and a ctime written here costs less than one in every line.
 */
#include "napi-util.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Lower-case hex digits only: a hash of another form goes through the reader, which refuses it. No branch per digit: a table, and-ed. */
static const unsigned char HEX[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
};

static bool hex_digits(const unsigned char *p, size_t n) {
  unsigned char ok = 1;
  for (size_t i = 0; i < n; i++) ok &= HEX[p[i]];
  return ok;
}

/* Code unit i of UTF-16LE bytes. */
static inline uint32_t unit_at(const unsigned char *o, size_t i) {
  return (uint32_t)o[2 * i] | ((uint32_t)o[2 * i + 1] << 8);
}

struct match {
  const unsigned char *ours; /* UTF-16LE */
  size_t to;                 /* units */
  const unsigned char *prev; /* UTF-8 */
  size_t prev_end;
  const unsigned char *hash_key; /* `,"hash":"alg:` */
  size_t hash_key_len, hex_len;
};

/* The instants RFC 3339 can write: years 0000 to 9999 (lib/records/time.ts clamps to them the same way). */
#define MIN_SECS (-62167219200.0)
#define MAX_SECS 253402300799.0

static void digits(unsigned char *out, long long v, int n) {
  for (int k = n - 1; k >= 0; k--) {
    out[k] = (unsigned char)('0' + v % 10);
    v /= 10;
  }
}

/*
 * `","ctime":"YYYY-MM-DDTHH:MM:SS.NNNNNNNNNZ"}` of a ctime, as formatTime
 * writes it (H. Hinnant's days-to-civil); 0 when the numbers are no time.
 */
static size_t ctime_tail(double secs, double nsec, unsigned char *out) {
  if (!(nsec >= 0 && nsec < 1e9) || secs != secs || nsec != (double)(long long)nsec) return 0;
  if (secs < MIN_SECS) secs = MIN_SECS, nsec = 0;
  else if (secs > MAX_SECS) secs = MAX_SECS, nsec = 999999999;
  if (secs != (double)(long long)secs) return 0;
  long long s = (long long)secs, days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400), rem = s - days * 86400;
  long long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9, y = yoe + era * 400 + (m <= 2);
  static const char head[] = "\",\"ctime\":\"";
  size_t n = sizeof head - 1;
  memcpy(out, head, n);
  digits(out + n, y, 4), out[n + 4] = '-';
  digits(out + n + 5, m, 2), out[n + 7] = '-';
  digits(out + n + 8, d, 2), out[n + 10] = 'T';
  digits(out + n + 11, rem / 3600, 2), out[n + 13] = ':';
  digits(out + n + 14, rem % 3600 / 60, 2), out[n + 16] = ':';
  digits(out + n + 17, rem % 60, 2), out[n + 19] = '.';
  digits(out + n + 20, (long long)nsec, 9);
  memcpy(out + n + 29, "Z\"}", 3);
  return n + 32;
}

/*
 * Whether this scan's line at unit i is PREV's line at byte j; for a file
 * (tail: its hash key, digits and ctime to come before the closing brace)
 * with the hash and ctime spliced in. If so, *ni and *nj are where the
 * next lines start (prev's last line counting a newline it lacks).
 */
static bool match_line(const struct match *m, size_t i, size_t j, const unsigned char *tail, size_t tail_len, size_t *ni, size_t *nj) {
  const unsigned char *o = m->ours, *pv = m->prev;
  size_t to = m->to, pend = m->prev_end;
  for (;;) {
#ifdef __SSE2__
    /* Eight ASCII characters at a time, none of them a newline or a closing brace. */
    const __m128i zero = _mm_setzero_si128(), nl = _mm_set1_epi16('\n'), cb = _mm_set1_epi16('}');
    while (i + 8 <= to && j + 8 <= pend) {
      __m128i ov = _mm_loadu_si128((const __m128i *)(o + 2 * i));
      __m128i pb = _mm_loadl_epi64((const __m128i *)(pv + j));
      __m128i pw = _mm_unpacklo_epi8(pb, zero);
      int same = _mm_movemask_epi8(_mm_cmpeq_epi16(ov, pw));
      int special = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi16(ov, nl), _mm_cmpeq_epi16(ov, cb)));
      if (same != 0xffff || (_mm_movemask_epi8(pb) & 0xff) != 0 || special != 0) break;
      i += 8;
      j += 8;
    }
#endif
    if (i >= to) return false;
    uint32_t u = unit_at(o, i);
    if (u == '\n') {
      if (j == pend || (j < pend && pv[j] == '\n')) {
        *ni = i + 1;
        *nj = j + 1;
        return true;
      }
      return false;
    }
    /* A file's closing brace: in PREV, the hash key, the digits, and the ctime with its own brace. */
    if (u == '}' && tail_len > 0 && i + 1 < to && unit_at(o, i + 1) == '\n') {
      size_t k = m->hash_key_len, h = m->hex_len;
      if (j + k + h + tail_len > pend || memcmp(pv + j, m->hash_key, k) != 0 || !hex_digits(pv + j + k, h) || memcmp(pv + j + k + h, tail, tail_len) != 0) return false;
      i += 1;
      j += k + h + tail_len;
      continue;
    }
    /* One character, as UTF-8. A lone surrogate is never PREV's (JSON.stringify escapes one): no match. */
    uint32_t cp = u;
    size_t used = 1;
    if (u >= 0xd800 && u <= 0xdfff) {
      if (u >= 0xdc00 || i + 1 >= to) return false;
      uint32_t lo = unit_at(o, i + 1);
      if (lo < 0xdc00 || lo > 0xdfff) return false;
      cp = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
      used = 2;
    }
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
      b[0] = (unsigned char)cp;
      n = 1;
    } else if (cp < 0x800) {
      b[0] = (unsigned char)(0xc0 | (cp >> 6));
      b[1] = (unsigned char)(0x80 | (cp & 0x3f));
      n = 2;
    } else if (cp < 0x10000) {
      b[0] = (unsigned char)(0xe0 | (cp >> 12));
      b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
      b[2] = (unsigned char)(0x80 | (cp & 0x3f));
      n = 3;
    } else {
      b[0] = (unsigned char)(0xf0 | (cp >> 18));
      b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
      b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
      b[3] = (unsigned char)(0x80 | (cp & 0x3f));
      n = 4;
    }
    if (j + n > pend || memcmp(pv + j, b, n) != 0) return false;
    i += used;
    j += n;
  }
}

/*
 * matchLines(ours, from, to, prev, prevFrom, prevEnd, hashKey, hexLength, ctimes, firstLine, result):
 * ours holds UTF-16LE code units, [from, to) of them whole lines, each
 * ending with a newline; prev[prevFrom, prevEnd) is UTF-8, whole lines,
 * the last one maybe without its newline; hashKey is `,"hash":"alg:`, to
 * be followed by hexLength digits; ctimes holds two numbers per line of
 * ours (seconds, nanoseconds; NaN: not a file whose hash is wanted), the
 * line at `from` being number firstLine. result gets [lines taken, code
 * units of ours taken, bytes of prev taken with their newlines (prev's last
 * line counting one), the code unit where the last line taken starts].
 */
static napi_value match_lines(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!args_of(env, info, 11, argv, "matchLines(ours, from, to, prev, prevFrom, prevEnd, hashKey, hexLength, ctimes, firstLine, result)")) return NULL;
  unsigned char *ours, *prev, *key;
  size_t ours_len, prev_len, key_len;
  uint32_t from, to, prev_from, prev_end, hex_len, first_line;
  napi_typedarray_type t;
  size_t result_len, ctimes_len;
  double *result, *ctimes;
  if (napi_get_buffer_info(env, argv[0], (void **)&ours, &ours_len) != napi_ok) return throw_bad(env, "ours must be a Buffer");
  if (napi_get_buffer_info(env, argv[3], (void **)&prev, &prev_len) != napi_ok) return throw_bad(env, "prev must be a Buffer");
  if (napi_get_buffer_info(env, argv[6], (void **)&key, &key_len) != napi_ok) return throw_bad(env, "hashKey must be a Buffer");
  CHECK(napi_get_value_uint32(env, argv[1], &from));
  CHECK(napi_get_value_uint32(env, argv[2], &to));
  CHECK(napi_get_value_uint32(env, argv[4], &prev_from));
  CHECK(napi_get_value_uint32(env, argv[5], &prev_end));
  CHECK(napi_get_value_uint32(env, argv[7], &hex_len));
  CHECK(napi_get_value_uint32(env, argv[9], &first_line));
  if (napi_get_typedarray_info(env, argv[8], &t, &ctimes_len, (void **)&ctimes, NULL, NULL) != napi_ok || t != napi_float64_array) return throw_bad(env, "ctimes must be a Float64Array");
  if (napi_get_typedarray_info(env, argv[10], &t, &result_len, (void **)&result, NULL, NULL) != napi_ok || t != napi_float64_array || result_len < 4) {
    return throw_bad(env, "result must be a Float64Array of 4");
  }
  if (from > to || (size_t)to * 2 > ours_len || prev_from > prev_end || prev_end > prev_len || key_len == 0 || hex_len == 0) return throw_bad(env, "ranges out of bounds");
  struct match m = {ours, to, prev, prev_end, key, key_len, hex_len};
  size_t lines = 0, i = from, j = prev_from, last = from;
  unsigned char tail[64];
  while (i < to && j < prev_end) {
    size_t line = (size_t)first_line + lines, tail_len = 0;
    /* A line with no numbers (past the array) is no file: it must be PREV's as it is. */
    if (2 * line + 1 < ctimes_len && ctimes[2 * line] == ctimes[2 * line]) {
      tail_len = ctime_tail(ctimes[2 * line], ctimes[2 * line + 1], tail);
      if (tail_len == 0) break;
    }
    size_t ni, nj;
    if (!match_line(&m, i, j, tail, tail_len, &ni, &nj)) break;
    last = i;
    lines++;
    i = ni;
    j = nj;
  }
  result[0] = (double)lines;
  result[1] = (double)(i - from);
  result[2] = (double)(j - prev_from);
  result[3] = (double)last;
  return NULL;
}

void match_lines_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"matchLines", NULL, match_lines, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 1, props);
}
