/*
 * The fast path of `cairn-scan --reuse` (lib/scan/match-lines.ts holds the
 * same in JavaScript, and says what it is for): walks this scan's lines,
 * as the UTF-16 code units of a JavaScript string, and PREV's, as UTF-8
 * bytes, side by side while each PREV line is this scan's line with a hex
 * hash where this scan's line holds the placeholder. Comparing UTF-16 with
 * UTF-8 here costs less than making UTF-8 of the string (0.03 s of a
 * 100k-file re-scan: V8 writes a string as UTF-16 five times faster).
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
  const unsigned char *marker; /* `,"hash":"alg:?"` */
  size_t marker_len, hex_len;
};

/*
 * Whether this scan's line at unit i is PREV's line at byte j (the
 * placeholder's `?` standing for hex_len digits); if so, *ni and *nj are
 * where the next lines start (prev's last line counting a newline it lacks).
 */
static bool match_line(const struct match *m, size_t i, size_t j, size_t *ni, size_t *nj) {
  const unsigned char *o = m->ours, *pv = m->prev;
  size_t to = m->to, pend = m->prev_end, line_start = j;
  for (;;) {
#ifdef __SSE2__
    /* Eight ASCII characters at a time, none of them a newline or a `?`. */
    const __m128i zero = _mm_setzero_si128(), nl = _mm_set1_epi16('\n'), qm = _mm_set1_epi16('?');
    while (i + 8 <= to && j + 8 <= pend) {
      __m128i ov = _mm_loadu_si128((const __m128i *)(o + 2 * i));
      __m128i pb = _mm_loadl_epi64((const __m128i *)(pv + j));
      __m128i pw = _mm_unpacklo_epi8(pb, zero);
      int same = _mm_movemask_epi8(_mm_cmpeq_epi16(ov, pw));
      int special = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi16(ov, nl), _mm_cmpeq_epi16(ov, qm)));
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
    /* The placeholder: a `?` after the rest of the marker (compared equal in both already), then `"`; in PREV, the digits and `"`. */
    size_t before = m->marker_len - 2;
    if (u == '?' && i + 1 < to && unit_at(o, i + 1) == '"' && j - line_start >= before && memcmp(pv + j - before, m->marker, before) == 0) {
      if (j + m->hex_len >= pend || !hex_digits(pv + j, m->hex_len) || pv[j + m->hex_len] != '"') return false;
      i += 2;
      j += m->hex_len + 1;
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
 * matchLines(ours, from, to, prev, prevFrom, prevEnd, marker, hexLength, result):
 * ours holds UTF-16LE code units, [from, to) of them whole lines, each
 * ending with a newline; prev[prevFrom, prevEnd) is UTF-8, whole lines,
 * the last one maybe without its newline; marker is `,"hash":"alg:?"`,
 * whose `?` stands for hexLength digits. result gets [lines taken, code
 * units of ours taken, bytes of prev taken with their newlines (prev's last
 * line counting one), the code unit where the last line taken starts].
 */
static napi_value match_lines(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!args_of(env, info, 9, argv, "matchLines(ours, from, to, prev, prevFrom, prevEnd, marker, hexLength, result)")) return NULL;
  unsigned char *ours, *prev, *marker;
  size_t ours_len, prev_len, marker_len;
  uint32_t from, to, prev_from, prev_end, hex_len;
  napi_typedarray_type t;
  size_t result_len;
  double *result;
  if (napi_get_buffer_info(env, argv[0], (void **)&ours, &ours_len) != napi_ok) return throw_bad(env, "ours must be a Buffer");
  if (napi_get_buffer_info(env, argv[3], (void **)&prev, &prev_len) != napi_ok) return throw_bad(env, "prev must be a Buffer");
  if (napi_get_buffer_info(env, argv[6], (void **)&marker, &marker_len) != napi_ok) return throw_bad(env, "marker must be a Buffer");
  CHECK(napi_get_value_uint32(env, argv[1], &from));
  CHECK(napi_get_value_uint32(env, argv[2], &to));
  CHECK(napi_get_value_uint32(env, argv[4], &prev_from));
  CHECK(napi_get_value_uint32(env, argv[5], &prev_end));
  CHECK(napi_get_value_uint32(env, argv[7], &hex_len));
  if (napi_get_typedarray_info(env, argv[8], &t, &result_len, (void **)&result, NULL, NULL) != napi_ok || t != napi_float64_array || result_len < 4) {
    return throw_bad(env, "result must be a Float64Array of 4");
  }
  if (from > to || (size_t)to * 2 > ours_len || prev_from > prev_end || prev_end > prev_len || marker_len < 3 || marker[marker_len - 2] != '?' || hex_len == 0) {
    return throw_bad(env, "ranges out of bounds, or no placeholder in the marker");
  }
  struct match m = {ours, to, prev, prev_end, marker, marker_len, hex_len};
  size_t lines = 0, i = from, j = prev_from, last = from;
  while (i < to && j < prev_end) {
    size_t ni, nj;
    if (!match_line(&m, i, j, &ni, &nj)) break;
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
