import { RENAME_PREFIX, TEMP_PREFIX, VERSIONS_DIR } from './types';

/** An object a change of case was moving when the run was stopped: the user's own, never a leftover to remove. */
export function isRenaming(path: string): boolean {
  return path.startsWith(RENAME_PREFIX, path.lastIndexOf('/') + 1);
}

/** A temporary object of cairn-apply (a leftover, if a plan sees it): its last component has the prefix. */
export function isTemp(path: string): boolean {
  return path.startsWith(TEMP_PREFIX, path.lastIndexOf('/') + 1);
}

/** The versions directory at the destination root, or anything in it. */
export function inVersions(path: string): boolean {
  return path === VERSIONS_DIR || (path.startsWith(VERSIONS_DIR) && path.charCodeAt(VERSIONS_DIR.length) === 0x2f);
}
