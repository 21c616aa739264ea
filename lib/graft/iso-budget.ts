// iso-budget.ts — upper bound of the size of an ISO 9660 image produced by
//   genisoimage 1.1.11        -R -J -joliet-long -D -iso-level 3 -graft-points -path-list - (default -pad)
//   xorriso 1.5.4 -as mkisofs -R -J -joliet-long -D -iso-level 3 -graft-points -path-list - (default -pad)
// Derived from the on-disk layout of both tools (dumped with a small ISO parser) and
// validated on random trees (see /tmp/notes/iso.md, section 3).
//
// total = FIXED + sum(costDir) + sum(costFile) + sum(costSymlink)   (pure, conservative)
// IsoBudget.total() <= that sum (it shares the Rock Ridge continuation-area
// rounding between entries of the same image, see ceSharing below).
//
// nameLen = byte length (UTF-8) of the last path component (1..255; the tools
// silently truncate Rock Ridge names to 255 bytes, so callers must refuse longer).
// Every directory in the image except the root is passed to addDir/costDir,
// including implied parents. Sizes are in bytes.

export const SECTOR = 2048;

/** Largest single ISO 9660 extent (xorriso splits bigger files into extents of this size). */
export const MAX_EXTENT = 0xffffffff - 2047; // 4294965248 = 4 GiB - 2048

/** genisoimage 1.1.11 cannot store files larger than this (no multi-extent support;
 *  -allow-limited-size stores the size modulo 2^32 in ISO/RR = corrupt). */
export const GENISOIMAGE_MAX_FILE = 4294967294;

/** Fixed part: 16 system-area sectors, volume descriptors, the 4 path tables' first
 *  sector, the root directory (ISO + its Rock Ridge CE area with the ER entry + Joliet),
 *  the tools' gaps, and the default padding of 150 sectors (300 KiB) both tools add.
 *  Measured: 181 sectors (genisoimage) / 183 sectors (xorriso) for one empty file;
 *  8 sectors of margin. */
export const FIXED = 192 * SECTOR;

// Directory records never cross a sector boundary: a sector is closed when the next
// record does not fit, so every full sector carries more than (2048 - maxRecord) bytes.
const ISO_MAX_REC = 255; // record incl. Rock Ridge SUSP fields (longer SU goes to a CE area)
const JOLIET_MAX_REC = 34 + 2 * 103; // 240: 103 UCS-2 chars with -joliet-long
const F_ISO = SECTOR / (SECTOR - ISO_MAX_REC + 1); // 1.1416
const F_JOL = SECTOR / (SECTOR - JOLIET_MAX_REC + 1); // 1.1327

// Rock Ridge System Use bytes common to every record:
//   RR (5, genisoimage only) + PX (36) + TF (26: modify, access, attributes)
const RR_COMMON = 5 + 36 + 26;
// ISO 9660 identifier length upper bound with -iso-level 3: 30 chars + ".;1" for files
// (31 for directories); short names may grow by the mangling digits on collisions.
function isoIdLen(nameLen: number, isDir: boolean): number {
  return Math.min(isDir ? 31 : 33, nameLen + 7);
}
// NM entry: 5-byte header per piece (<= 250 name bytes per piece), +5 when the name
// is split between the record and a continuation area.
function nmBytes(nameLen: number): number {
  return nameLen + 5 * Math.ceil(Math.max(nameLen, 1) / 250) + 5;
}
// SL entry for a symlink target of targetLen bytes: component records cost 2 + len,
// "/", ".", ".." cost 2; long targets are split into several SL entries (5-byte header).
function slBytes(targetLen: number): number {
  return Math.ceil(1.5 * targetLen) + 12 + 10 * Math.ceil(Math.max(targetLen, 1) / 200);
}

interface RecCost {
  /** bytes in directory extents (ISO + Joliet), already scaled for sector packing */
  dirBytes: number;
  /** bytes in a Rock Ridge continuation (CE) area, or 0 */
  ceBytes: number;
}

/** One directory record in the ISO tree plus its Joliet record. */
function recordCost(nameLen: number, isDir: boolean, extraSU: number): RecCost {
  const id = isoIdLen(nameLen, isDir);
  const base = 33 + id + ((id & 1) === 0 ? 1 : 0);
  const su = RR_COMMON + nmBytes(nameLen) + extraSU;
  const jol = 34 + 2 * Math.min(nameLen, 103);
  if (base + su <= ISO_MAX_REC) {
    return { dirBytes: (base + su) * F_ISO + jol * F_JOL, ceBytes: 0 };
  }
  // record filled up to 255 bytes (incl. a 28-byte CE entry); all SU may be moved to the CE area
  return { dirBytes: ISO_MAX_REC * F_ISO + jol * F_JOL, ceBytes: su + 33 };
}

// A CE area lives in sectors of its own after its directory's records (both tools),
// so the first entry of a directory that needs one may open a new sector. The pure
// functions charge that sector to every entry that needs a CE area; IsoBudget shares it.
const CE_ROUND = SECTOR;
// CE pieces are not split across sectors (name CE pieces <= ~330 bytes); pack factor:
const F_CE = SECTOR / (SECTOR - 400);

function ceCharge(ceBytes: number): number {
  return ceBytes === 0 ? 0 : ceBytes * F_CE;
}

function dataBytes(size: number): number {
  return Math.ceil(size / SECTOR) * SECTOR;
}

function extents(size: number): number {
  return Math.max(1, Math.ceil(size / MAX_EXTENT));
}

const DOT_RECS = 2 * (34 + RR_COMMON) * F_ISO + 2 * 34 * F_JOL; // "." and ".." in both trees

// ---- pure cost functions (conservative: total <= FIXED + sum of these) ----

export function costDir(nameLen: number): number {
  const r = recordCost(nameLen, true, 0);
  const isoId = Math.min(31, nameLen + 7);
  const pathTables = 2 * (8 + isoId + (isoId & 1)) + 2 * (8 + 2 * Math.min(nameLen, 103));
  return Math.ceil(
    2 * SECTOR + // partial last sector of the directory's ISO extent and Joliet extent
      DOT_RECS +
      r.dirBytes +
      ceCharge(r.ceBytes) + (r.ceBytes ? CE_ROUND : 0) +
      pathTables,
  );
}

export function costFile(nameLen: number, size: number): number {
  const r = recordCost(nameLen, false, 0);
  const x = extents(size); // one ISO + one Joliet record per extent
  return Math.ceil(
    dataBytes(size) +
      x * r.dirBytes +
      x * ceCharge(r.ceBytes) + (r.ceBytes ? CE_ROUND : 0),
  );
}

export function costSymlink(nameLen: number, targetLen: number): number {
  const r = recordCost(nameLen, false, slBytes(targetLen));
  // long targets make chained CE areas: charge them twice plus one sector
  return Math.ceil(r.dirBytes + (r.ceBytes ? 2 * r.ceBytes + CE_ROUND : 0));
}

// ---- incremental accountant ----

export class IsoBudget {
  private sum = FIXED; // everything except the shared CE-area sectors
  private dirs = 0;
  private ceEntries = 0; // entries that need a Rock Ridge CE area

  addDir(nameLen: number): void {
    this.sum += this.costNoCeRound(nameLen, 0, 'dir');
    this.dirs++;
  }
  addFile(nameLen: number, size: number): void {
    this.sum += this.costNoCeRound(nameLen, size, 'file');
  }
  addSymlink(nameLen: number, targetLen: number): void {
    const c = costSymlink(nameLen, targetLen);
    if (recordCost(nameLen, false, slBytes(targetLen)).ceBytes > 0) {
      this.ceEntries++;
      this.sum += c - CE_ROUND; // CE-area sector shared per directory, see total()
    } else {
      this.sum += c;
    }
  }
  /** Upper bound of the image size in bytes. */
  total(): number {
    // at most one CE-area sector per directory (incl. root) that holds a CE-using entry
    return this.sum + CE_ROUND * Math.min(this.ceEntries, this.dirs + 1);
  }
  /** total() after a hypothetical addFile, without changing the state. */
  totalWithFile(nameLen: number, size: number): number {
    const ce = recordCost(nameLen, false, 0).ceBytes > 0 ? 1 : 0;
    return this.sum + this.costNoCeRoundPeek(nameLen, size, 'file') +
      CE_ROUND * Math.min(this.ceEntries + ce, this.dirs + 1);
  }

  private costNoCeRoundPeek(nameLen: number, size: number, kind: 'dir' | 'file'): number {
    const needsCe = recordCost(nameLen, kind === 'dir', 0).ceBytes > 0;
    const c = kind === 'dir' ? costDir(nameLen) : costFile(nameLen, size);
    return needsCe ? c - CE_ROUND : c;
  }
  private costNoCeRound(nameLen: number, size: number, kind: 'dir' | 'file'): number {
    if (recordCost(nameLen, kind === 'dir', 0).ceBytes > 0) this.ceEntries++;
    return this.costNoCeRoundPeek(nameLen, size, kind);
  }
}
