/** How names fold on a side: what makes two spellings one name there. */
export interface Folding {
  /** Names equal but for case are one name (a side is case-insensitive). */
  caseFold: boolean;
  /** Names equal after NFC normalization are one name (a side normalizes, and --normalization is on). */
  nfc: boolean;
}

/** The one name a spelling stands for under `f` (a module of its own: cairn-apply needs it without the fold pass). */
export function foldName(name: string, f: Folding): string {
  const n = f.nfc ? name.normalize('NFC') : name;
  return f.caseFold ? n.toLowerCase() : n;
}
