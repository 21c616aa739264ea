/** What a three-way diff (--base) needs beyond a two-way one: loaded only by such a run. */
export { diffThreeWay } from './three-way';
export { openBase } from './open-base';
export { findFoldGroups } from './fold-groups';
