/** Exit codes shared by every command (DESIGN.md, "Exit codes"). */
export const EXIT = {
  ok: 0,
  attention: 1,
  usage: 2,
  io: 3,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
